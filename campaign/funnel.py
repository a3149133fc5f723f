"""Cookie-free funnel counting: one row per day, quiz, step and campaign source.

No visitor identifier is stored anywhere: each event only adds one to an
aggregate counter, so the figures cannot be traced back to a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any


async def count(db: Any, quiz: str, step: str, attribution: Mapping[str, str] | None = None,
                day: date | None = None, tx: Any = None) -> None:
    """Add one to (day, quiz, step, utm_*). Pass ``tx`` to count inside a transaction."""
    a = attribution or {}
    params = ((day or date.today()).isoformat(), quiz, step, a.get("utm_source", ""),
              a.get("utm_medium", ""), a.get("utm_campaign", ""))
    sql = ("INSERT INTO funnel_counts (day, quiz, step, utm_source, utm_medium, utm_campaign,"
           " count) VALUES (?, ?, ?, ?, ?, ?, 1) ON CONFLICT (day, quiz, step, utm_source,"
           " utm_medium, utm_campaign) DO UPDATE SET count = count + 1")
    if tx is not None:
        await tx.execute(sql, params)
    else:
        async with db.transaction() as t:
            await t.execute(sql, params)
