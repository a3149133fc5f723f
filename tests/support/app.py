"""Running the app's coroutines from a test, and reading what it stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from starlette.testclient import TestClient

from campaign.content import Content, load_content
from campaign.core.db import Database
from campaign.core.settings import Settings
from campaign.delivery.worker import deliver_once
from campaign.leads.services import Services
from campaign.portal.mails import recipes

_CONTENT: list[Content] = []


def shipped_content() -> Content:
    """The shipped content, loaded once per test session (it is immutable)."""
    if not _CONTENT:
        _CONTENT.append(load_content(Settings().content_dir))
    return _CONTENT[0]


def services(client: TestClient) -> Services:
    return client.app.state.services  # type: ignore[attr-defined,no-any-return]


def run(client: TestClient, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a coroutine function on the app's event loop (the portal of the TestClient)."""
    async def call() -> Any:
        return await fn(*args, **kwargs)

    return client.portal.call(call)


def deliver(client: TestClient, settings: Settings | None = None, **kwargs: Any) -> dict[str, int]:
    """One run of the outbox worker against the app's database."""
    svc = services(client)
    kwargs.setdefault("render", recipes(svc))
    return run(client, deliver_once, svc.db, settings or svc.settings, **kwargs)  # type: ignore[no-any-return]


async def count(db: Database, table: sa.Table, *where: Any) -> int:
    """How many rows of ``table`` match (for tables no store function counts)."""
    return int(await db.scalar(sa.select(sa.func.count()).select_from(table).where(*where)))


async def rows(db: Database, table: sa.Table, *where: Any) -> list[Any]:
    return list(await db.all(sa.select(table).where(*where)))


def count_in(client: TestClient, table: sa.Table, *where: Any) -> int:
    return run(client, count, services(client).db, table, *where)  # type: ignore[no-any-return]


def rows_in(client: TestClient, table: sa.Table, *where: Any) -> list[Any]:
    return run(client, rows, services(client).db, table, *where)  # type: ignore[no-any-return]


async def _all_leads(db: Database) -> list[Any]:
    from campaign.leads.records import load

    async with db.reading() as conn:
        return await load(conn, sa.true())


def all_leads(client: TestClient) -> list[Any]:
    """Every stored lead as the store reads it (typed records, oldest first)."""
    return run(client, _all_leads, services(client).db)  # type: ignore[no-any-return]


async def _funnel(db: Database) -> dict[tuple[str, str, str], int]:
    from campaign.core.schema import funnel_counts as f

    found = await db.all(sa.select(f.c.quiz, f.c.step, f.c.utm_source, f.c.count))
    return {(r.quiz, r.step, r.utm_source): r.count for r in found}


def funnel_in(client: TestClient) -> dict[tuple[str, str, str], int]:
    """(quiz, step, utm_source) → count, summed over days."""
    return run(client, _funnel, services(client).db)  # type: ignore[no-any-return]
