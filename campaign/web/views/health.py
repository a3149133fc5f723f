"""``/healthz``: is the service up, and is mail getting out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...delivery.outbox import backlog
from .base import services


async def healthz(request: Request) -> Response:
    svc = services(request)
    ok = await svc.db.ping()
    body: dict[str, object] = {"database": "ok" if ok else "unreachable"}
    if ok:
        found = await backlog(svc.db)
        oldest = None
        if found.oldest_queued is not None:
            oldest = round((svc.clock.now() - found.oldest_queued).total_seconds(), 1)
        body.update({"outbox_backlog": found.queued, "oldest_unsent_age_seconds": oldest,
                     "dead_letters": found.dead})
    body["status"] = "ok" if ok else "error"
    return JSONResponse(body, status_code=200 if ok else 503)
