"""``/quittung/{token}``: "Anfrage erhalten" from a routed lead mail."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ...core.tokens import TokenExpired, TokenInvalid
from ...leads.forwarding import acknowledge
from ...leads.mails import read_receipt_token
from .base import PRIVATE, content, render, services


async def receipt(request: Request) -> Response:
    """Records the acknowledgement for (lead, organisation) once; later clicks
    only say that it is already recorded. Bad links get a page, never a 500."""
    svc = services(request)
    try:
        public_id, org_slug = read_receipt_token(svc.settings.secret_key,
                                                 request.path_params["token"])
    except TokenExpired:
        return render(request, "delivery/receipt_invalid.html", {"reason": "expired"},
                      status_code=410, headers=PRIVATE)
    except TokenInvalid:
        return render(request, "delivery/receipt_invalid.html", {"reason": "invalid"},
                      status_code=400, headers=PRIVATE)
    outcome = await acknowledge(svc.db, public_id, org_slug, svc.clock.now())
    if outcome == "unknown":  # the lead was erased or withdrawn meanwhile
        return render(request, "delivery/receipt_invalid.html", {"reason": "unknown"},
                      status_code=404, headers=PRIVATE)
    org = content(request).region.organisations.get(org_slug)
    return render(request, "delivery/receipt.html",
                  {"already": outcome == "already", "org": org}, headers=PRIVATE)
