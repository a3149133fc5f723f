"""What the commands share: running a coroutine, and the services from settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from ..content import load_content
from ..core.clock import Clock
from ..core.db import Database
from ..core.settings import Settings
from ..core.templates import make_environment
from ..delivery.message import Mailer
from ..leads.services import Services

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[Database]:
    """The database, migrated and open, for the length of a command."""
    db = Database(settings.database, pool_size=2,
                  statement_timeout=settings.db_statement_timeout)
    await db.open()
    try:
        yield db
    finally:
        await db.close()


@asynccontextmanager
async def services(settings: Settings) -> AsyncIterator[Services]:
    """Everything the lead workflow needs, as the web app builds it."""
    content = load_content(settings.content_dir)
    async with opened(settings) as db:
        mailer = Mailer(make_environment(), settings.base_url, settings.mail_from)
        yield Services(settings=settings, db=db, content=content, mailer=mailer, clock=Clock())
