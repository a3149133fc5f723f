"""The application factory: everything is assembled here, nothing at import time."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect
from starlette.routing import Mount, Route

from ..content import Content, load_content
from ..core import i18n, jobs
from ..core.clock import Clock
from ..core.db import Database, DatabaseUnavailable
from ..core.settings import Settings
from ..delivery.message import Mailer
from ..delivery.worker import run_forever
from ..leads import booking, followup
from ..leads.forwarding import queue_reminders
from ..leads.retention import purge
from ..leads.services import Services
from ..portal import howtos, photos, pictures
from ..portal.mails import recipes
from ..portal.overdue import queue_overdue_reminders
from ..reach.share import cache_dir, prune_cards
from . import errors
from .middleware import BodyLimit, BodyTooLarge, Language, SecurityHeaders
from .routes import ARTICLE_PATH, PHOTO_PATH, PICTURE_PATH, STORY_PATH, routes
from .templating import Renderer

log = logging.getLogger("campaign")
REMINDERS_EVERY = timedelta(minutes=5)
PURGE_EVERY = timedelta(days=1)
FOLLOWUPS_EVERY = timedelta(minutes=5)  # consent questions soon after "zugezogen"


class CampaignApp(Starlette):
    """Starlette with the security headers and the language outside everything else.

    Starlette puts its server-error handling outermost, before any middleware;
    these two go around it here, so that a 500 page carries the headers too and
    is in the page's language (the language is a context variable set around
    the app, and the prefix-free path is what the error page links from)."""

    def __init__(self, *, https: bool, **options: Any) -> None:
        self.https = https
        super().__init__(**options)

    def build_middleware_stack(self) -> Any:
        return SecurityHeaders(Language(super().build_middleware_stack()), https=self.https)


def build_services(settings: Settings, content: Content, env: Any) -> Services:
    db = Database(settings.database, pool_size=settings.db_pool_size,
                  statement_timeout=settings.db_statement_timeout)
    mailer = Mailer(env, settings.base_url, settings.mail_from)
    return Services(settings=settings, db=db, content=content, mailer=mailer, clock=Clock())


def background_jobs(svc: Services) -> list[Callable[[], Coroutine[Any, Any, Any]]]:
    """Work that runs beside the web requests: the outbox worker in every
    instance (leases keep them apart), the periodic jobs in one at a time."""

    async def reminders() -> None:
        await queue_reminders(svc, svc.clock.now())

    async def booking_reminders() -> None:
        await booking.queue_reminders(svc, svc.clock.now())
    async def overdue() -> None:
        await queue_overdue_reminders(svc, svc.clock.now())

    async def daily() -> None:
        await purge(svc.db, svc.settings, svc.clock.now())
        await jobs.forget_old_counts(svc.db, svc.clock.now())
        await asyncio.to_thread(prune_cards, cache_dir(svc.settings))

    async def followups() -> None:
        await followup.run_due(svc)

    return [
        lambda: run_forever(svc.db, svc.settings, render=recipes(svc)),
        lambda: jobs.run_periodically(svc.db, svc.clock, "reminders", REMINDERS_EVERY,
                                      reminders, poll=60.0),
        lambda: jobs.run_periodically(svc.db, svc.clock, "booking_reminders", REMINDERS_EVERY,
                                      booking_reminders, poll=60.0),
        lambda: jobs.run_periodically(svc.db, svc.clock, "overdue", REMINDERS_EVERY,
                                      overdue, poll=60.0),
        lambda: jobs.run_periodically(svc.db, svc.clock, "purge", PURGE_EVERY, daily,
                                      poll=600.0, first_delay=60.0),
        lambda: jobs.run_periodically(svc.db, svc.clock, "followups", FOLLOWUPS_EVERY,
                                      followups, poll=60.0, first_delay=30.0),
    ]


def keep_out_of_full_collections() -> None:
    """Move what start-up built (modules, content, templates, engines: about 150,000
    objects that live as long as the process) out of the garbage collector's view.

    Python's full collections walk every tracked object; on this heap each took
    about 100 ms and stalled every request in flight (bench/mixed.py: p99 106 ms
    against 4.6 ms for a plain app). After ``gc.freeze()`` they walk only what
    was made since. Garbage is collected first so that nothing dead is kept."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None, content: Content | None = None) -> Starlette:
    """Build the app; raises ContentError (naming file and field) for broken content."""
    settings = settings or Settings.from_env()
    content = content or load_content(settings.content_dir)
    i18n.load_catalogs()
    renderer = Renderer(settings)
    svc = build_services(settings, content, renderer.env)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await svc.db.open()  # applies migrations under a lock
        tasks: list[asyncio.Task[Any]] = [
            asyncio.create_task(job()) for job in background_jobs(svc)] \
            if settings.background else []
        keep_out_of_full_collections()
        try:
            yield
        finally:
            gc.unfreeze()  # what was frozen at start-up may be collected again
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await svc.db.close()

    table = routes()
    app = CampaignApp(
        https=settings.https,
        routes=table,
        middleware=[Middleware(BodyLimit, max_bytes=settings.max_body_bytes,
                               larger={PHOTO_PATH: photos.MAX_UPLOAD + 64 * 1024,
                                       PICTURE_PATH: pictures.MAX_UPLOAD + 64 * 1024,
                                       STORY_PATH: pictures.MAX_UPLOAD + 64 * 1024,
                                       ARTICLE_PATH: howtos.MAX_UPLOAD + 64 * 1024})],
        exception_handlers={HTTPException: errors.http_error, BodyTooLarge: errors.too_large,
                            ClientDisconnect: errors.client_gone,
                            DatabaseUnavailable: errors.unavailable,
                            Exception: errors.server_error},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.services = svc
    app.state.render = renderer
    app.state.named_routes = {r.name: r for r in table if isinstance(r, Route | Mount)}
    return app
