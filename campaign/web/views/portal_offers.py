"""Partners keep their offers current (``/partner/angebote``): the owner organisation
edits or adds an offer as a proposal for the agency's review, or ends it at once.
Another organisation's offer answers 403; an unknown one 404."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ...content.offers import Offer, Offers
from ...core.clock import local_today
from ...core.i18n import gettext as _
from ...leads import live_offers
from ...portal import offer_edits, review
from ...portal.cases import Viewer
from .base import content, see_other, services
from .portal_auth import portal, render


async def _offers(request: Request) -> Offers:
    return await live_offers.merged(services(request).db, content(request).offers)


async def _pending_new(request: Request, viewer: Viewer, offers: Offers) -> list[Offer]:
    """New offers of the organisation that wait for the agency (not published yet)."""
    return [live_offers.from_payload(p.payload) for p in await review.queue(services(request).db)
            if p.kind == offer_edits.KIND and p.org == viewer.org and p.target not in
            offers.by_slug]


async def _own(request: Request, viewer: Viewer, slug: str) -> tuple[Offer, bool]:
    """The offer (as the draft the staff edit) and whether it is published already."""
    offers = await _offers(request)
    waiting = await review.pending(services(request).db, offer_edits.KIND, slug)
    offer = offers.by_slug.get(slug)
    owner = offer.owner if offer else waiting.org if waiting else None
    if owner is None:
        raise HTTPException(404, _("Dieses Angebot gibt es nicht."))
    if owner != viewer.org:
        raise HTTPException(403, _("Dieses Angebot gehört einer anderen Organisation. Nur sie "
                                   "kann es ändern."))
    if waiting is not None:
        return live_offers.from_payload(waiting.payload), offer is not None
    assert offer is not None
    return offer, True


@portal()
async def offers_page(request: Request, viewer: Viewer) -> Response:
    region = content(request).region
    offers = await _offers(request)
    today = local_today(services(request).clock.now())
    mine = offer_edits.owned(offers, viewer.org, today)
    waiting = {p.target for p in await review.queue(services(request).db)
               if p.kind == offer_edits.KIND and p.org == viewer.org}
    return render(request, "partner/offers.html", {
        "nav": "offers", "mine": mine, "new_waiting": await _pending_new(request, viewer, offers),
        "waiting": waiting, "kinds": offer_edits.kinds_for(region, viewer.org),
        "labels": offer_edits.KIND_LABELS, "today": today,
        "done": request.query_params.get("done", "")}, viewer=viewer)


def _form(request: Request, viewer: Viewer, offer: Offer, values: dict[str, str],
          errors: dict[str, str] | None = None, *, new: bool, status: int = 200,
          decision: Any = None, based_on: str | None = None,
          conflict: review.Conflict | None = None) -> Response:
    region = content(request).region
    towns = offer_edits.towns_for(region, viewer.org)
    return render(request, "partner/offer_edit.html", {
        "nav": "offers", "offer": offer, "values": values, "errors": errors or {},
        "fields": offer_edits.fields(offer.kind), "new": new,
        "label": offer_edits.KIND_LABELS[offer.kind], "decision": decision,
        "based_on": based_on, "conflict": conflict,
        "towns": [(slug, region.municipalities[slug].name) for slug in towns]},
        status_code=status, viewer=viewer)


def _kind(request: Request, viewer: Viewer) -> str:
    kind = str(request.path_params["kind"])
    if kind not in offer_edits.kinds_for(content(request).region, viewer.org):
        raise HTTPException(403, _("Angebote dieser Art kann Ihre Organisation nicht anlegen."))
    return kind


@portal()
async def offer_form(request: Request, viewer: Viewer) -> Response:
    offer, _published = await _own(request, viewer, str(request.path_params["slug"]))
    db = services(request).db
    decision = await review.latest_decision(db, offer_edits.KIND, offer.slug)
    return _form(request, viewer, offer, offer_edits.form_values(offer), new=False,
                 decision=decision, based_on=review.form_version(
                     await review.pending(db, offer_edits.KIND, offer.slug)))


@portal()
async def new_form(request: Request, viewer: Viewer) -> Response:
    region, kind = content(request).region, _kind(request, viewer)
    offer = offer_edits.blank(kind, viewer.org, region,
                              local_today(services(request).clock.now()))
    return _form(request, viewer, offer, offer_edits.form_values(offer), new=True)


async def _propose(request: Request, viewer: Viewer, base: Offer, *, new: bool) -> Response:
    assert viewer.user is not None
    svc = services(request)
    towns = offer_edits.towns_for(content(request).region, viewer.org)
    offer, values, errors = offer_edits.parse(base.kind, request.state.form, base, towns)
    based_on = None if new else review.posted_version(request.state.form)
    if errors:
        return _form(request, viewer, offer, values, {k: _(v) for k, v in errors.items()},
                     new=new, status=400, based_on=based_on)
    if new:
        taken = set((await _offers(request)).by_slug) | {
            p.target for p in await review.queue(svc.db) if p.kind == offer_edits.KIND}
        offer = dataclasses.replace(offer, slug=offer_edits.new_slug(offer, taken))
    try:
        await review.propose(svc.db, offer_edits.KIND, offer.slug,
                             live_offers.to_payload(offer), viewer.user, viewer.user.email,
                             svc.clock.now(), based_on=based_on)
    except review.Changed:
        conflict = await review.conflict(svc.db, offer_edits.KIND, offer.slug)
        waiting = await review.pending(svc.db, offer_edits.KIND, offer.slug)
        return _form(request, viewer, offer, values, new=False, status=409,
                     based_on=review.form_version(waiting), conflict=conflict)
    return see_other(request, "partner_offers", {"done": "proposed"})


@portal()
async def offer_save(request: Request, viewer: Viewer) -> Response:
    offer, _published = await _own(request, viewer, str(request.path_params["slug"]))
    return await _propose(request, viewer, offer, new=False)


@portal()
async def new_save(request: Request, viewer: Viewer) -> Response:
    region, kind = content(request).region, _kind(request, viewer)
    base = offer_edits.blank(kind, viewer.org, region, local_today(services(request).clock.now()))
    return await _propose(request, viewer, base, new=True)


@portal()
async def offer_end(request: Request, viewer: Viewer) -> Response:
    """End a published offer today (no review: it only takes something away)."""
    assert viewer.user is not None
    slug = str(request.path_params["slug"])
    await _own(request, viewer, slug)
    svc = services(request)
    offer = (await _offers(request)).by_slug.get(slug)
    if offer is None:
        raise HTTPException(409, _("Dieses Angebot ist noch nicht freigegeben und kann daher "
                                   "nicht beendet werden."))
    await offer_edits.end_now(svc.db, offer, viewer.user, svc.clock.now())
    return see_other(request, "partner_offers", {"done": "ended"})
