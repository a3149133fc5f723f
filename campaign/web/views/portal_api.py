"""``/partner/api``: the organisation's admin manages its API tokens and webhooks.

Tokens are made on the command line (``create-api-token``) and listed and
revoked here; a webhook is added here or with ``add-webhook``, and its secret
is shown once, on the page the adding POST answers with (never stored in a
URL, never shown again). Recent deliveries list status, attempts and the last
error, never a body or a secret; the test button queues a ``ping`` event.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ...core.i18n import gettext as _
from ...delivery import webhooks
from ...portal import api
from ...portal.cases import Viewer
from .base import see_other, services
from .portal_auth import portal, render


def _admin(viewer: Viewer) -> None:
    if viewer.user is None or not viewer.user.is_admin:
        raise HTTPException(403, _("Nur die Administration Ihrer Organisation verwaltet API "
                                   "und Webhooks."))


async def _page(request: Request, viewer: Viewer, *, status: int = 200,
                secret: str = "", error: str = "", url: str = "") -> Response:
    db = services(request).db
    ctx: dict[str, Any] = {
        "tokens": await api.tokens(db, viewer.org),
        "hooks": await webhooks.active(db, viewer.org),
        "deliveries": await webhooks.recent(db, viewer.org),
        "secret": secret, "error": error, "url": url,
        "saved": request.query_params.get("saved", ""),
    }
    return render(request, "partner/api.html", ctx, status_code=status, viewer=viewer)


def _id(request: Request) -> int:
    raw = str(request.state.form.get("id", ""))
    if not raw.isdigit() or len(raw) > 9:
        raise HTTPException(400, _("Dieser Eintrag ist unbekannt."))
    return int(raw)


@portal()
async def api_page(request: Request, viewer: Viewer) -> Response:
    _admin(viewer)
    return await _page(request, viewer)


@portal()
async def token_revoke(request: Request, viewer: Viewer) -> Response:
    _admin(viewer)
    svc = services(request)
    if not await api.revoke(svc.db, viewer.org, _id(request), svc.clock.now()):
        raise HTTPException(404, _("Diesen Zugang gibt es in Ihrer Organisation nicht."))
    return see_other(request, "partner_api", {"saved": "revoked"})


@portal()
async def hook_add(request: Request, viewer: Viewer) -> Response:
    _admin(viewer)
    assert viewer.user is not None
    svc = services(request)
    url = str(request.state.form.get("url", "")).strip()
    problem = webhooks.url_problem(url, svc.settings)
    if problem is not None:
        return await _page(request, viewer, status=400, error=_(problem), url=url[:2000])
    _hook, secret = await webhooks.add(svc.db, viewer.org, url, now=svc.clock.now(),
                                      created_by=viewer.user.email)
    return await _page(request, viewer, secret=secret)


@portal()
async def hook_remove(request: Request, viewer: Viewer) -> Response:
    _admin(viewer)
    svc = services(request)
    if not await webhooks.remove(svc.db, viewer.org, _id(request), svc.clock.now()):
        raise HTTPException(404, _("Diesen Webhook gibt es in Ihrer Organisation nicht."))
    return see_other(request, "partner_api", {"saved": "removed"})


@portal()
async def hook_ping(request: Request, viewer: Viewer) -> Response:
    _admin(viewer)
    svc = services(request)
    hook_id = _id(request)
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        queued = await webhooks.queue(conn, viewer.org, "ping", {}, now=now, only=hook_id)
    if queued is None:
        raise HTTPException(404, _("Diesen Webhook gibt es in Ihrer Organisation nicht."))
    return see_other(request, "partner_api", {"saved": "ping"})
