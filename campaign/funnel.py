"""Cookie-free funnel counting: one row per day, quiz, step and campaign source.

No visitor identifier is stored anywhere: each event only adds one to an
aggregate counter, so the figures cannot be traced back to a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

UPSERT = ("INSERT INTO funnel_counts (day, quiz, step, utm_source, utm_medium, utm_campaign,"
          " count) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (day, quiz, step, utm_source,"
          " utm_medium, utm_campaign) DO UPDATE SET count = count + excluded.count")


async def count(db: Any, quiz: str, step: str, attribution: Mapping[str, str] | None = None,
                day: date | None = None, tx: Any = None) -> None:
    """Add one to (day, quiz, step, utm_*). Pass ``tx`` to count inside a transaction.

    The count is a tally of the write group (``Tx.tally``): it is written with
    the group's commit, and only if its unit went through."""
    a = attribution or {}
    key = ((day or date.today()).isoformat(), quiz, step, a.get("utm_source", ""),
           a.get("utm_medium", ""), a.get("utm_campaign", ""))
    if tx is not None:
        tx.tally(UPSERT, key)
    else:
        async with db.transaction() as t:
            t.tally(UPSERT, key)
