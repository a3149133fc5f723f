"""The application factory: everything is assembled here, nothing at import time."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from . import i18n
from .content import Content, load_content
from .db import Database
from .edge import Edge
from .security import BodyTooLarge, RateLimiter
from .settings import Settings
from .templating import Renderer

log = logging.getLogger("campaign")

class CampaignApp(Starlette):
    """Starlette with the edge layer (campaign/edge.py) outside everything else.

    Starlette puts its server-error handling outermost, before any middleware;
    the edge goes around it here, so that a 500 page, too, carries the
    security headers."""

    def __init__(self, *, https: bool, max_body_bytes: int, **options: Any) -> None:
        self.https, self.max_body_bytes = https, max_body_bytes
        super().__init__(**options)

    def build_middleware_stack(self) -> Any:
        return Edge(super().build_middleware_stack(), https=self.https,
                    max_bytes=self.max_body_bytes)


def create_app(settings: Settings | None = None, content: Content | None = None) -> Starlette:
    """Build the app; raises ContentError (naming file and field) for broken content."""
    from .routes import build_routes

    settings = settings or Settings.from_env()
    content = content or load_content(settings.content_dir)
    i18n.load_catalogs()
    renderer = Renderer(settings)
    db = Database(settings.database)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        # Content, templates and catalogs live as long as the process: move them out
        # of the garbage collector's sight, so collections under load stay short.
        gc.collect()
        gc.freeze()
        tasks: list[asyncio.Task[None]] = []
        if settings.background:
            for job in _background_jobs():
                tasks.append(asyncio.create_task(job(app), name=job.__qualname__))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await db.close()

    app = CampaignApp(
        https=settings.https,
        max_body_bytes=settings.max_body_bytes,
        routes=build_routes(),
        exception_handlers={HTTPException: _http_error, BodyTooLarge: _too_large,
                            Exception: _server_error},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.content = content
    app.state.db = db
    app.state.render = renderer
    app.state.lead_limiter = RateLimiter(settings.rate_limit_per_hour, 3600)
    app.state.route_paths = {}  # memo of templating.route_path (filled on use)
    return app


def _background_jobs() -> list[Callable[[Starlette], Coroutine[Any, Any, None]]]:
    """Started by the lifespan when settings.background is on; each loops until cancelled."""
    from .mail.worker import run_in_app
    from .retention import run_daily

    return [run_in_app, run_daily]




async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return render_error(request, exc.status_code, exc.detail, exc.headers)


async def _too_large(request: Request, exc: Exception) -> Response:
    """A body that outgrew the limit while it was read (no Content-Length)."""
    return render_error(request, 413)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path)
    return render_error(request, 500)


def render_error(request: Request, status: int, detail: str | None = None,
                 headers: Any = None) -> Response:
    """Error page in the page's language, styled like the site."""
    from .i18n import gettext as _

    titles = {
        400: _("Diese Anfrage konnte nicht verarbeitet werden"),
        403: _("Kein Zugriff"),
        404: _("Diese Seite gibt es nicht"),
        405: _("Diese Aktion ist hier nicht möglich"),
        410: _("Dieser Link ist nicht mehr gültig"),
        413: _("Die Anfrage ist zu groß"),
        429: _("Zu viele Anfragen"),
        500: _("Da ist etwas schiefgelaufen"),
    }
    title = titles.get(status, titles[400] if status < 500 else titles[500])
    # Starlette fills detail with the English reason phrase by default; show
    # our own text then, and only pass through texts we wrote.
    from http import HTTPStatus

    try:
        default_phrase = HTTPStatus(status).phrase
    except ValueError:
        default_phrase = ""
    message = detail if detail and detail != default_phrase else None
    try:
        render = request.app.state.render
        return render(request, "errors/error.html",
                      {"status": status, "title": title, "message": message},
                      status_code=status, headers=headers)
    except Exception:  # the error page itself must never fail
        log.exception("error page failed")
        return PlainTextResponse(title, status_code=status)
