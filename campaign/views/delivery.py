"""``/quittung/{token}``: the one-click "Anfrage erhalten" from a routed lead mail."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..delivery import acknowledge, read_receipt_token
from ..tokens import TokenExpired, TokenInvalid

_NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


async def receipt(request: Request) -> Response:
    """Records the acknowledgement for (lead, organisation) once; later clicks
    only say that it is already recorded. Bad links get a page, never a 500."""
    render = request.app.state.render
    try:
        public_id, org_slug = read_receipt_token(request.app.state.settings.secret_key,
                                                 request.path_params["token"])
    except TokenExpired:
        return render(request, "delivery/receipt_invalid.html", {"reason": "expired"},
                      status_code=410, headers=_NO_STORE)
    except TokenInvalid:
        return render(request, "delivery/receipt_invalid.html", {"reason": "invalid"},
                      status_code=400, headers=_NO_STORE)
    outcome = await acknowledge(request.app.state.db, public_id, org_slug)
    if outcome == "unknown":  # the lead was erased or withdrawn meanwhile
        return render(request, "delivery/receipt_invalid.html", {"reason": "unknown"},
                      status_code=404, headers=_NO_STORE)
    org = request.app.state.content.region.organisations.get(org_slug)
    return render(request, "delivery/receipt.html",
                  {"already": outcome == "already", "org": org}, headers=_NO_STORE)


routes = [Route("/quittung/{token}", receipt, name="receipt", methods=["GET"])]
