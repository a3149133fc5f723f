"""The history of the work on a lead, per organisation: stage changes, assignments,
logged calls and notes, each with who and when (``lead_history``).

Writing a history row is also the organisation's receipt of the lead
(``leads.forwarding.mark_received``): whoever works on a lead has received it,
so no reminder follows. A logged call or a stage change past "neu" is also the
first contact that the response target asks for (``portal.targets``), and so is a
reply sent to the family from the portal (``portal.replies``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..core.schema import lead_history, users
from ..leads import events
from ..leads.forwarding import mark_received
from .accounts import User
from .targets import mark_contacted


@dataclass(frozen=True)
class HistoryEntry:
    org: str
    event: str  # stage, assign, call, note, reply
    from_stage: str | None
    to_stage: str | None
    reason: str | None  # close reason, or a call's outcome
    detail: str  # whom a lead was assigned to
    actor: str
    at: datetime


async def actor_name(conn: AsyncConnection, user: User | None) -> str:
    """How the history names a person: their profile name, else their login."""
    if user is None:
        return "system"
    name = await conn.scalar(sa.select(users.c.display_name).where(users.c.id == user.id))
    return str(name) if name else user.email


async def record(conn: AsyncConnection, user: User | None, lead_id: int, org: str, event: str,
                 now: datetime, *, from_stage: str | None = None, to_stage: str | None = None,
                 reason: str | None = None, detail: str = "") -> None:
    """One history row in the caller's transaction. Work by a member of ``org`` is
    also that organisation's receipt of the lead."""
    await conn.execute(lead_history.insert().values(
        lead_id=lead_id, org=org, event=event, from_stage=from_stage, to_stage=to_stage,
        reason=reason, detail=detail, user_id=user.id if user else None,
        actor=await actor_name(conn, user), at=now))
    if user is not None and user.org == org:
        await mark_received(conn, lead_id, org, now)
    if event in ("call", "reply") or (event == "stage" and to_stage != "neu"):
        await mark_contacted(conn, lead_id, org, now)
    if event == "stage":
        await events.stage_changed(conn, lead_id, org, from_stage, to_stage, reason, now)


async def entries(conn: AsyncConnection, lead_id: int, org: str | None) -> list[HistoryEntry]:
    """The history of a lead, oldest first: one organisation's, or (``None``) everyone's."""
    h = lead_history
    where = [h.c.lead_id == lead_id] + ([] if org is None else [h.c.org == org])
    rows = await conn.execute(sa.select(h).where(*where).order_by(h.c.at, h.c.id))
    return [HistoryEntry(r.org, r.event, r.from_stage, r.to_stage, r.reason, r.detail,
                         r.actor, r.at) for r in rows]
