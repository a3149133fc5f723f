"""Cookie-free funnel counting: one row per day, quiz, step and campaign source.

No visitor identifier is stored anywhere: each event only adds one to an
aggregate counter, so the figures cannot be traced back to a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..core.clock import local_today
from ..core.db import Database, increment
from ..core.schema import funnel_counts

STEPS = ("started", "finished", "lead_submitted", "lead_confirmed")  # and "answered:N"


async def count(conn: AsyncConnection, quiz: str, step: str,
                attribution: Mapping[str, str] | None = None, day: date | None = None) -> None:
    """Add one to (day, quiz, step, utm_*) inside the caller's transaction."""
    a = attribution or {}
    await increment(conn, funnel_counts, {
        "day": day or local_today(), "quiz": quiz, "step": step,
        "utm_source": a.get("utm_source", ""), "utm_medium": a.get("utm_medium", ""),
        "utm_campaign": a.get("utm_campaign", "")})


async def totals(db: Database, steps: tuple[str, ...] = STEPS) -> dict[str, int]:
    """Campaign-wide count per step, every step present (0 when none)."""
    rows = await db.all(
        sa.select(funnel_counts.c.step, sa.func.sum(funnel_counts.c.count).label("n"))
        .where(funnel_counts.c.step.in_(steps)).group_by(funnel_counts.c.step))
    found = {str(row.step): int(row.n or 0) for row in rows}
    return {step: found.get(step, 0) for step in steps}
