"""The agency's queue of partners' proposals: each with a diff of what families see
now against what is proposed, the new pictures, and approve/reject with a comment
that goes back to the author."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ...core.i18n import gettext as _
from ...leads import live_offers
from ...portal import offer_edits, pages, review
from ...portal.cases import Viewer
from .base import content, see_other, services
from .pictures import figures
from .portal_auth import portal, render


async def _items(request: Request) -> list[dict[str, object]]:
    db = services(request).db
    region = content(request).region
    items = []
    for p in await review.queue(db):
        item: dict[str, object] = {"p": p, "label": review.KINDS[p.kind].label,
                                   "version": review.version(p.payload),
                                   "diff": review.diff(p.kind, await review.published(
                                       db, p.kind, p.target), p.payload), "pictures": []}
        if p.kind == pages.KIND and p.target in region.municipalities:
            m = region.municipalities[p.target]
            item["name"] = m.name
            item["diff"] = review.diff(p.kind, (await pages.current(db, m)).payload(),
                                       p.payload)
            item["pictures"] = await figures(request,
                                             pages.PageEdit.from_payload(p.payload).pictures)
        elif p.kind == offer_edits.KIND:  # against the offer families see now, if any
            now = (await live_offers.merged(db, content(request).offers)).by_slug.get(p.target)
            item["name"] = str(live_offers.from_payload(p.payload).title)
            item["diff"] = review.diff(p.kind, live_offers.to_payload(now) if now else None,
                                       p.payload)
        if "name" not in item and p.target in region.municipalities:
            item["name"] = region.municipalities[p.target].name
        items.append(item)
    return items


async def _page(request: Request, viewer: Viewer, errors: dict[int, str] | None = None,
                status: int = 200) -> Response:
    return render(request, "partner/review.html", {
        "items": await _items(request), "errors": errors or {}, "nav": "review",
        "done": request.query_params.get("done", ""),
    }, status_code=status, viewer=viewer)


@portal(admin=True)
async def queue_page(request: Request, viewer: Viewer) -> Response:
    return await _page(request, viewer)


@portal(admin=True)
async def decide(request: Request, viewer: Viewer) -> Response:
    assert viewer.user is not None
    svc = services(request)
    form = request.state.form
    proposal_id = request.path_params["proposal_id"]
    # One button each (a button's value would be read aloud, so it is only "1").
    decision = "approve" if form.get("approve") else "reject" if form.get("reject") else ""
    comment = str(form.get("comment", "")).strip()
    if decision not in ("approve", "reject"):
        raise HTTPException(400, _("Bitte wählen Sie „Freigeben“ oder „Ablehnen“."))
    if decision == "reject" and not comment:
        return await _page(request, viewer, {proposal_id: _(
            "Bitte schreiben Sie der Autorin oder dem Autor, warum Sie ablehnen.")}, 400)
    if len(comment) > review.COMMENT_MAX:
        return await _page(request, viewer, {proposal_id: _(
            "Der Kommentar darf höchstens 2000 Zeichen lang sein.")}, 400)
    seen = str(form.get("seen", "")) or None  # the version of the proposal the reviewer read
    try:
        decided = await review.decide(svc, proposal_id, decision == "approve", comment,
                                      viewer.user, svc.clock.now(), seen=seen)
    except review.Changed:
        return see_other(request, "partner_review", {"done": "changed"})
    if decided is None:
        return see_other(request, "partner_review", {"done": "gone"})
    return see_other(request, "partner_review", {"done": decided.status})
