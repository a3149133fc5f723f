"""``/quittung/{token}``: "Anfrage erhalten" from a routed lead mail.

The link only shows a page; its one button records the receipt. Mail filters
of municipalities open every link of an incoming mail before a person sees it,
so a GET (or HEAD) never acts. The button's POST needs no CSRF cookie: the
signed token in the path is the proof (whoever could forge the POST holds the
link already), so a first visit straight from the mail works without cookies.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ...core.tokens import TokenExpired, TokenInvalid
from ...leads import records
from ...leads.forwarding import acknowledge, receipt_state
from ...leads.mails import read_receipt_token
from ..templating import path_for
from .base import PRIVATE, content, render, see_other, services


def _invalid(request: Request, reason: str, status: int) -> Response:
    return render(request, "delivery/receipt_invalid.html", {"reason": reason},
                  status_code=status, headers=PRIVATE)


def _read(request: Request) -> tuple[str, str] | Response:
    """(lead's public id, organisation) from the path, or the page explaining a bad link."""
    try:
        return read_receipt_token(services(request).settings.secret_key,
                                  request.path_params["token"])
    except TokenExpired:
        return _invalid(request, "expired", 410)
    except TokenInvalid:
        return _invalid(request, "invalid", 400)


def _refusal(request: Request, state: str) -> Response | None:
    """A withdrawn or erased lead is gone for good (410); no such recipient is a 404."""
    if state == "gone":
        return _invalid(request, "gone", 410)
    if state == "unknown":
        return _invalid(request, "unknown", 404)
    return None


async def receipt(request: Request) -> Response:
    """The button while the receipt is open; afterwards only that it is recorded."""
    found = _read(request)
    if isinstance(found, Response):
        return found
    public_id, org_slug = found
    state = await receipt_state(services(request).db, public_id, org_slug)
    refusal = _refusal(request, state)
    if refusal is not None:
        return refusal
    return render(request, "delivery/receipt.html", {
        "ask": state == "open",
        "already": request.query_params.get("erfasst") != "1",
        "here": path_for(request, "receipt_act", token=request.path_params["token"]),
        "org": content(request).region.organisations.get(org_slug),
        "lead": await records.by_public_id(services(request).db, public_id),
    }, headers=PRIVATE)


async def receipt_act(request: Request) -> Response:
    """Records the acknowledgement for (lead, organisation) once; a second press
    changes nothing. Bad links get a page, never a 500."""
    found = _read(request)
    if isinstance(found, Response):
        return found
    public_id, org_slug = found
    svc = services(request)
    outcome = await acknowledge(svc.db, public_id, org_slug, svc.clock.now())
    refusal = _refusal(request, outcome)
    if refusal is not None:
        return refusal
    return see_other(request, "receipt", {"erfasst": "1"} if outcome == "recorded" else None,
                     token=request.path_params["token"])
