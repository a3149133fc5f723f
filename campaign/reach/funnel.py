"""Cookie-free funnel counting: one row per day, quiz, step and campaign source.

No visitor identifier is stored anywhere: each event only adds one to an
aggregate counter, so the figures cannot be traced back to a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..core.clock import local_today
from ..core.db import Database, increment
from ..core.schema import funnel_counts
from .attribution import OTHER, UTM_PARAMS

MAX_CHANNELS_PER_DAY = 200  # channels with rows of their own per day and table
STEPS = ("started", "finished", "lead_submitted", "lead_confirmed")  # and "answered:N"


async def count(conn: AsyncConnection, quiz: str, step: str,
                attribution: Mapping[str, str] | None = None, day: date | None = None) -> None:
    """Add one to (day, quiz, step, utm_*) inside the caller's transaction."""
    a = attribution or {}
    await add_daily(conn, funnel_counts, {
        "day": day or local_today(), "quiz": quiz, "step": step,
        **{key: a.get(key, "") for key in UTM_PARAMS}})


async def add_daily(conn: AsyncConnection, table: sa.Table, key: dict[str, Any]) -> None:
    """Add one to the daily counter ``key`` of ``table`` (funnel or channel visits).

    A channel (its ``utm_*`` values) not seen yet that day gets rows of its own
    only while the day has fewer than ``MAX_CHANNELS_PER_DAY`` channels; beyond
    that it is counted as ``other``, so made-up parameters cannot fill the table.
    The usual case, a row that exists, is one UPDATE."""
    c = table.c
    same = [c[name] == value for name, value in key.items()]
    if (await conn.execute(table.update().where(*same).values(count=c.count + 1))).rowcount:
        return
    channel = [c[name] == key[name] for name in UTM_PARAMS]
    that_day = c.day == key["day"]
    if any(key[name] for name in UTM_PARAMS) and await conn.scalar(
            sa.select(c.day).where(that_day, *channel).limit(1)) is None:
        channels = sa.select(*(c[name] for name in UTM_PARAMS)).where(that_day).distinct()
        seen = int(await conn.scalar(
            sa.select(sa.func.count()).select_from(channels.subquery())) or 0)
        if seen >= MAX_CHANNELS_PER_DAY:
            key = {**key, **dict.fromkeys(UTM_PARAMS, OTHER)}
    await increment(conn, table, key)


async def totals(db: Database, steps: tuple[str, ...] = STEPS) -> dict[str, int]:
    """Campaign-wide count per step, every step present (0 when none)."""
    rows = await db.all(
        sa.select(funnel_counts.c.step, sa.func.sum(funnel_counts.c.count).label("n"))
        .where(funnel_counts.c.step.in_(steps)).group_by(funnel_counts.c.step))
    found = {str(row.step): int(row.n or 0) for row in rows}
    return {step: found.get(step, 0) for step in steps}
