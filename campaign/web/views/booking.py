"""``/termin/{token}``: the family picks a time for a conversation with an organisation.

The link only shows a page: mail filters open every link before a person reads
the mail, so GET (and HEAD) change nothing. The page's form books, moves or
cancels with a POST. Like the confirmation button it needs no CSRF cookie: the
signed token in the path is the proof, and whoever could make a browser send the
POST holds the link already. When another family was a moment faster, the page
comes back (409) saying so, with the slots still free. Bad, expired or withdrawn
links get a page in the link's language (4xx), never an error.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from ...core.i18n import gettext as _
from ...core.tokens import TokenExpired, TokenInvalid
from ...leads import booking, rules
from ...leads.booking import Conversation
from ...leads.slots import KIND_LABELS, read_booking_token
from ..templating import path_for
from .base import PRIVATE, content, read_form, render, see_other, services

DONE = ("gebucht", "verlegt", "abgesagt")
_SLOT_ID = re.compile(r"[0-9]{1,9}")


def _problem(request: Request, reason: str, status: int) -> Response:
    return render(request, "booking/problem.html", {"reason": reason}, status_code=status,
                  headers=PRIVATE)


def _read(request: Request) -> tuple[str, str] | Response:
    """(lead's public id, organisation) from the path, or the page explaining a bad link."""
    try:
        return read_booking_token(services(request).settings.secret_key,
                                  request.path_params["token"])
    except TokenExpired:
        return _problem(request, "expired", 410)
    except TokenInvalid:
        return _problem(request, "invalid", 400)


async def _conversation(request: Request) -> Conversation | Response:
    found = _read(request)
    if isinstance(found, Response):
        return found
    svc = services(request)
    state = await booking.conversation(svc.db, *found, svc.clock.now())
    if state == "gone":
        return _problem(request, "gone", 410)
    if isinstance(state, str):
        return _problem(request, "unknown", 404)
    return state


def _page(request: Request, conv: Conversation, *, notice: str | None = None,
          errors: dict[str, str] | None = None, phone: str | None = None,
          status: int = 200) -> Response:
    orgs = content(request).region.organisations
    done = request.query_params.get("erledigt")
    return render(request, "booking/page.html", {
        "here": path_for(request, "booking_act", token=request.path_params["token"]),
        "org_name": orgs[conv.org].name if conv.org in orgs else conv.org,
        "partners": {o.slug: o.name for o in (
            orgs.get(s.partner_org or "") for s in (*conv.free, *([conv.slot] if conv.slot
                                                                    else []))) if o},
        "booking": conv.booking, "slot": conv.slot, "free": conv.free,
        "kind_labels": KIND_LABELS,
        "asks_phone": any(s.kind == "phone" for s in conv.free),
        "phone": (conv.lead.phone or "") if phone is None else phone,
        "done": done if done in DONE and notice is None else None,
        "notice": notice, "errors": errors or {},
    }, status_code=status, headers=PRIVATE)


async def page(request: Request) -> Response:
    """The family's appointment and the offered slots still free; changes nothing."""
    conv = await _conversation(request)
    if isinstance(conv, Response):
        return conv
    return _page(request, conv)


async def act(request: Request) -> Response:
    """Book the chosen slot (or move the booking there), or cancel; then show the page
    (post/redirect/get). A slot taken a moment before answers 409 with the rest."""
    conv = await _conversation(request)
    if isinstance(conv, Response):
        return conv
    svc = services(request)
    form = await read_form(request)
    public_id, org = conv.lead.public_id, conv.org
    token = request.path_params["token"]
    if form.get("action") == "cancel":
        outcome = await booking.cancel(svc, public_id, org)
        if outcome in ("gone", "unknown"):
            return _problem(request, outcome, 410 if outcome == "gone" else 404)
        return see_other(request, "booking", {"erledigt": "abgesagt"}
                         if outcome == "cancelled" else None, token=token)
    raw_slot, phone = str(form.get("slot", "")), str(form.get("phone", "")).strip()
    if form.get("action") != "book" or not _SLOT_ID.fullmatch(raw_slot):
        return _page(request, conv, notice="choose", phone=phone, status=400)
    problem = rules.line_problem([phone]) or rules.length_problem(phone, 40) \
        or rules.phone_problem(phone)
    if problem:
        return _page(request, conv, errors={"phone": problem}, phone=phone, status=400)
    outcome = await booking.book(svc, public_id, org, int(raw_slot), phone or None)
    if outcome in ("booked", "moved", "same"):
        return see_other(request, "booking", {"erledigt": "verlegt" if outcome == "moved"
                                              else "gebucht"}, token=token)
    if outcome in ("gone", "unknown"):
        return _problem(request, outcome, 410 if outcome == "gone" else 404)
    if outcome == "phone":
        return _page(request, conv, phone=phone, status=400, errors={"phone": _(
            "Für einen Telefontermin brauchen wir Ihre Telefonnummer.")})
    fresh = await _conversation(request)  # what is still free now
    if isinstance(fresh, Response):
        return fresh
    return _page(request, fresh, notice=outcome, phone=phone, status=409)
