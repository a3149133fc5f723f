"""``/healthz``: is the service up (for anyone), and is mail getting out (for the
agency's admin in the portal, or a monitor on the host itself)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...delivery.outbox import backlog
from ...portal.cases import viewer_for
from ..clients import direct_from_loopback
from .base import services
from .portal_auth import signed_in


async def may_see_details(request: Request) -> bool:
    """Loopback by the connection's own peer (never X-Forwarded-For), or an agency admin."""
    svc = services(request)
    if direct_from_loopback(request.client.host if request.client else None,
                            request.headers, svc.settings.trusted_proxies):
        return True
    check = await signed_in(request)
    return check.user is not None and viewer_for(check.user, svc.content.region).admin


async def healthz(request: Request) -> Response:
    svc = services(request)
    ok = await svc.db.ping()
    body: dict[str, object] = {"status": "ok" if ok else "error"}
    if ok and await may_see_details(request):
        found = await backlog(svc.db)
        oldest = None
        if found.oldest_queued is not None:
            oldest = round((svc.clock.now() - found.oldest_queued).total_seconds(), 1)
        body.update({"database": "ok", "outbox_backlog": found.queued,
                     "oldest_unsent_age_seconds": oldest, "dead_letters": found.dead})
    return JSONResponse(body, status_code=200 if ok else 503,
                        headers={"Cache-Control": "no-store"})
