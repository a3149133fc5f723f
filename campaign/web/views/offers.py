"""Offer pages (list and detail per kind), the offer forms, and the offers and
stories that the landing, municipality and quiz pages show.

Offers are read through ``offers_now`` (the content's offers with the partners'
approved edits, ``leads.live_offers``) and ``current_offers`` with the service
clock: an offer that ended is gone from every page (its detail page answers 404).
An application is a lead (``lifecycle.create_pending``) with its own consent; the family confirms it
from the mail like an interest, and then it is routed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ...content.offers import KINDS, Offer, Offers, current_offer, current_offers
from ...core import i18n, jobs
from ...core.clock import local_today
from ...leads import lifecycle, live_offers, stamps
from ...leads.offer_form import OfferForm
from ...leads.routing import OFFER_PURPOSE
from ..csrf import CSRF_FIELD, csrf_valid
from .base import client_address, content, read_form, render, see_other, services
from .portal_stories import stories_shown

log = logging.getLogger("campaign.offers")
HOUR = timedelta(hours=1)


def _now(request: Request) -> Any:
    return services(request).clock.now()


async def offers_now(request: Request) -> Offers:
    """Every offer with the approved edits, read per request (every instance agrees)."""
    return await live_offers.merged(services(request).db, content(request).offers)


async def teasers(request: Request, municipalities: Iterable[str]) -> dict[str, list[Offer]]:
    """The current offers of each of these municipalities (quiz outcome)."""
    offers = current_offers(await offers_now(request), _now(request))
    return {slug: [o for o in offers if o.municipality == slug] for slug in municipalities}


async def showcase_context(request: Request, municipality: str | None = None
                           ) -> dict[str, Any]:
    """What ``showcase/_offers.html`` and ``showcase/_stories.html`` show: the offers
    of one municipality (or how many of each kind there are) and its stories."""
    offers = current_offers(await offers_now(request), _now(request),
                            municipality=municipality)
    return {
        "offers_here": offers,
        "offer_counts": {k: len([o for o in offers if o.kind == k]) for k in KINDS},
        "stories_here": await stories_shown(request, municipality),
    }


def _kind(request: Request) -> str:
    kind = request.path_params["kind"]
    if kind not in KINDS:
        raise HTTPException(404)
    return str(kind)


async def overview(request: Request) -> Response:
    offers = current_offers(await offers_now(request), _now(request))
    return render(request, "offers/overview.html", {
        "kinds": [(k, [o for o in offers if o.kind == k]) for k in KINDS],
        "region": content(request).region})


async def listing(request: Request) -> Response:
    kind = _kind(request)
    return render(request, "offers/list.html", {
        "kind": kind, "offers": current_offers(await offers_now(request), _now(request),
                                               kind=kind),
        "region": content(request).region})


async def _offer(request: Request) -> Offer:
    offer = current_offer(await offers_now(request), _now(request), _kind(request),
                          request.path_params["offer"])
    if offer is None:
        raise HTTPException(404)
    return offer


def _form(request: Request, offer: Offer, formdata: Any = None) -> OfferForm:
    return OfferForm(formdata, offer=offer, today=local_today(_now(request)))


def _stamp(request: Request, stamp: str | None) -> str | None:
    """The start stamp's digest ('' without a minimum fill time), None when too fast."""
    settings = services(request).settings
    if settings.min_fill_seconds <= 0:
        return ""
    return stamps.accepted(settings.secret_key, stamp or "", _now(request),
                           settings.min_fill_seconds)


def _page(request: Request, offer: Offer, form: OfferForm | None, *, status: int = 200,
          notice: str | None = None) -> Response:
    c = content(request)
    return render(request, "offers/detail.html", {
        "offer": offer, "kind": offer.kind, "region": c.region, "form": form,
        "errors": form.error_list() if form is not None else [], "notice": notice,
        "town": c.region.municipalities[offer.municipality],
        "partner": c.region.organisations.get(offer.tourism or offer.owner),
        "skilled": next(iter(c.region.orgs_of_kind("skilled_workers")), None),
        "purpose": c.consent.purposes.get(OFFER_PURPOSE.get(offer.kind, "")),
    }, status_code=status)


async def detail(request: Request) -> Response:
    offer = await _offer(request)
    form = None
    if offer.kind in OFFER_PURPOSE:
        form = _form(request, offer)
        form.started.data = stamps.make_stamp(services(request).settings.secret_key,
                                              _now(request))
        form.consent_version.data = content(request).consent.version
    return _page(request, offer, form)


async def apply(request: Request) -> Response:
    """CSRF, honeypot, the form's checks, the consent texts' version, fill time, rate
    limit, the stamp's single use: like the interest form, in the page's language."""
    svc = services(request)
    offer = await _offer(request)
    if offer.kind not in OFFER_PURPOSE:
        raise HTTPException(405)
    formdata = await read_form(request)
    form = _form(request, offer, formdata)

    def refuse(status: int, notice: str | None = None) -> Response:
        form.started.data = stamps.make_stamp(svc.settings.secret_key, _now(request))
        form.consent_version.data = svc.content.consent.version
        return _page(request, offer, form, status=status, notice=notice)

    if not csrf_valid(request, formdata.get(CSRF_FIELD)):
        return refuse(400, "csrf")
    if formdata.get("website"):
        log.info("offer form: honeypot filled, nothing stored")
        return see_other(request, "lead_thanks")
    if not form.validate():
        return refuse(400)
    if formdata.get("consent_version") != svc.content.consent.version:
        return refuse(400, "consent_changed")
    stamp = _stamp(request, formdata.get("started"))
    if stamp is None:
        return refuse(400, "too_fast")
    data, choice = form.cleaned()
    new = lifecycle.NewLead(data, i18n.current_language.get(),
                            submission=lifecycle.submission_key(await request.body()),
                            stamp=stamp or None, offer=choice)
    limit = jobs.Limit(f"lead:{client_address(request)}", svc.settings.rate_limit_per_hour, HOUR)
    try:
        await lifecycle.create_pending(svc, new, limit)
    except jobs.LimitReached:
        return refuse(429, "rate_limited")
    except lifecycle.StampUsed:
        return refuse(409, "already_sent")
    return see_other(request, "lead_thanks")
