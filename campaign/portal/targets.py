"""The response target of a lead per organisation: due, met, late or overdue.

``due_at`` is set when the lead is routed (``leads.forwarding``, with the
organisation's ``response_days`` in NRW working days); the first contact is
the first stage change past "neu" or the first logged call, whoever of the
organisation (or the agency for it) records it (``portal.history``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..core.schema import lead_recipients


async def mark_contacted(conn: AsyncConnection, lead_id: int, org: str, now: datetime) -> None:
    """Record the first contact of (lead, org) in the caller's transaction, once."""
    r = lead_recipients
    await conn.execute(r.update().where(r.c.lead_id == lead_id, r.c.org == org,
                                        r.c.first_contact_at.is_(None))
                       .values(first_contact_at=now))


def is_overdue(r: Any, now: datetime) -> sa.ColumnElement[bool]:
    """SQL: the recipients row ``r`` (a table or alias) is past its due time without
    a first contact (a lead still "neu"; one closed or moved on needs no reminder)."""
    return sa.and_(r.c.due_at.isnot(None), r.c.due_at <= now, r.c.first_contact_at.is_(None),
                   r.c.status == "neu")


@dataclass(frozen=True)
class Target:
    """What the portal shows about a lead's target: ``state`` is one of
    open (due later), overdue, met (contact in time), late (contact after due), none."""

    state: str
    due_at: datetime | None


def target(due_at: datetime | None, first_contact_at: datetime | None, status: str | None,
           now: datetime) -> Target:
    """The target's state from the row's values (pure)."""
    if due_at is None:
        return Target("none", None)
    if first_contact_at is not None:
        return Target("met" if first_contact_at <= due_at else "late", due_at)
    if status not in (None, "neu"):
        return Target("met", due_at)  # moved on without a recorded contact time
    return Target("overdue" if now >= due_at else "open", due_at)
