"""Portal: conversation slots for one lead (``/partner/lead/{id}/termine``).

Staff offer up to three new slots at a time and any of their free ones; the family
gets one mail with its booking link. The booking can be moved to another free slot
or cancelled here too; both sides then get the updated calendar invitation.
What a viewer may do is decided in ``campaign.portal.slots`` (in SQL).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ...leads.slots import KIND_LABELS
from ...portal import cases, slots
from ...portal.cases import Case, Viewer
from .base import content, see_other, services
from .portal_auth import portal, render

_ID = re.compile(r"[0-9]{1,9}")
SAVED = ("angeboten", "verlegt", "gebucht", "abgesagt", "zurueckgezogen")
MOVE_PROBLEMS = {
    "taken": "Dieser Termin ist gerade vergeben worden. Bitte wählen Sie einen anderen.",
    "unavailable": "Dieser Termin ist nicht mehr frei. Bitte wählen Sie einen anderen.",
    "phone": "Für einen Telefontermin fehlt die Telefonnummer der Familie. Bitte bieten "
             "Sie den Termin an; die Familie gibt ihre Nummer beim Buchen an.",
    "same": "Die Familie hat diesen Termin schon.",
    "none": "Es ist kein Termin gebucht.",
}


async def _case(request: Request, viewer: Viewer) -> Case:
    found = await cases.get_lead(services(request).db, viewer, request.path_params["lead_id"],
                                 content(request).region)
    if found is None:
        raise HTTPException(404)
    return found


async def _page(request: Request, viewer: Viewer, case: Case, *, status: int = 200,
                rows: list[slots.SlotRow] | None = None, chosen: tuple[int, ...] = (),
                errors: dict[str, str] | None = None) -> Response:
    svc = services(request)
    region = content(request).region
    data = await slots.page(svc.db, viewer, case.id, svc.clock.now())
    offered = {s.id for s in data.offered}
    saved = request.query_params.get("saved", "")
    return render(request, "partner/slots.html", {
        "lead": case, "data": data, "errors": errors or {},
        "rows": rows or [slots.SlotRow() for _ in range(slots.ROWS)],
        "chosen": chosen, "to_offer": [s for s in data.free if s.id not in offered],
        "durations": slots.DURATIONS, "kind_labels": KIND_LABELS,
        "partners": slots.partner_choices(region, viewer.org),
        "saved": saved if saved in SAVED else "",
    }, status_code=status, viewer=viewer)


@portal()
async def page(request: Request, viewer: Viewer) -> Response:
    return await _page(request, viewer, await _case(request, viewer))


def _rows(form: Any) -> list[slots.SlotRow]:
    names = ("day", "time", "minutes", "kind", "location", "partner")
    return [slots.SlotRow(**{name: str(form.get(f"{name}-{n}", ""))[:1000] for name in names})
            for n in range(1, slots.ROWS + 1)]


@portal()
async def offer(request: Request, viewer: Viewer) -> Response:
    """Check every filled-in row; nothing is stored unless all are right."""
    form = request.state.form
    lead_id = request.path_params["lead_id"]
    svc = services(request)
    rows = _rows(form)
    chosen = tuple(int(v) for v in form.getlist("existing") if _ID.fullmatch(str(v)))
    partners = {o.slug: o for o in slots.partner_choices(content(request).region, viewer.org)}
    new, errors = [], {}
    for n, row in enumerate(rows, 1):
        if row.empty:
            continue
        checked, problems = slots.check_row(row, n, svc.clock.now(), partners)
        errors.update(problems)
        if checked is not None:
            new.append(checked)
    if not errors and not new and not chosen:
        errors["day-1"] = "Bitte tragen Sie einen Termin ein oder wählen Sie einen freien aus."
    if errors:
        return await _page(request, viewer, await _case(request, viewer), status=400,
                           rows=rows, chosen=chosen, errors=errors)
    if await slots.offer(svc, viewer, lead_id, new, chosen) is None:
        raise HTTPException(404)
    return see_other(request, "partner_slots", {"saved": "angeboten"}, lead_id=lead_id)


async def _change(request: Request, viewer: Viewer, slot_id: int | None) -> Response:
    lead_id = request.path_params["lead_id"]
    outcome = await slots.change(services(request), viewer, lead_id, slot_id)
    if outcome is None:
        raise HTTPException(404)
    if outcome in MOVE_PROBLEMS:
        return await _page(request, viewer, await _case(request, viewer), status=409,
                           errors={"slot": MOVE_PROBLEMS[outcome]})
    saved = {"booked": "gebucht", "moved": "verlegt", "cancelled": "abgesagt"}[outcome]
    return see_other(request, "partner_slots", {"saved": saved}, lead_id=lead_id)


@portal()
async def move(request: Request, viewer: Viewer) -> Response:
    raw = str(request.state.form.get("slot", ""))
    if not _ID.fullmatch(raw):
        return await _page(request, viewer, await _case(request, viewer), status=400,
                           errors={"slot": "Bitte wählen Sie einen freien Termin aus."})
    return await _change(request, viewer, int(raw))


@portal()
async def cancel(request: Request, viewer: Viewer) -> Response:
    return await _change(request, viewer, None)


@portal()
async def remove(request: Request, viewer: Viewer) -> Response:
    """Withdraw a free slot; one booked meanwhile stays (409)."""
    raw = str(request.state.form.get("slot", ""))
    lead_id = request.path_params["lead_id"]
    done = await slots.remove(services(request), viewer, lead_id, int(raw)) \
        if _ID.fullmatch(raw) else False
    if done is None:
        raise HTTPException(404)
    if not done:
        return await _page(request, viewer, await _case(request, viewer), status=409, errors={
            "slot": "Dieser Termin ist gebucht oder schon zurückgezogen."})
    return see_other(request, "partner_slots", {"saved": "zurueckgezogen"}, lead_id=lead_id)
