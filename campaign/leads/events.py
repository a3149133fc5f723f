"""The webhook events about a lead (``delivery.webhooks``), queued in the caller's
transaction. They name the lead by its number and carry codes, never the
family's data: the receiving system fetches that through the API."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..core.schema import lead_recipients, leads
from ..core.vocab import CLOSE_REASON_LABELS, STAGE_LABELS, german
from ..delivery import webhooks
from .records import lead_number


async def routed(conn: AsyncConnection, lead_id: int, created_at: datetime, org: str,
                 reason: str, now: datetime) -> None:
    """``lead.routed``: a confirmed lead was routed to ``org``."""
    await webhooks.queue(conn, org, "lead.routed", {
        "lead": {"id": lead_number(lead_id, created_at)}, "reason": reason,
        "routed_at": now.isoformat()}, now=now, lead_id=lead_id)


async def stage_changed(conn: AsyncConnection, lead_id: int, org: str, from_stage: str | None,
                        to_stage: str | None, reason: str | None, now: datetime) -> None:
    """``lead.stage_changed``: codes and the German words the portal shows."""
    created = await conn.scalar(sa.select(leads.c.created_at).where(leads.c.id == lead_id))
    if created is None:
        return
    await webhooks.queue(conn, org, "lead.stage_changed", {
        "lead": {"id": lead_number(lead_id, created)},
        "from_stage": from_stage, "to_stage": to_stage,
        "from_label": german(STAGE_LABELS, from_stage) if from_stage else None,
        "to_label": german(STAGE_LABELS, to_stage) if to_stage else None,
        "close_reason": reason,
        "close_reason_label": german(CLOSE_REASON_LABELS, reason) if reason else None,
    }, now=now, lead_id=lead_id)


async def erased(conn: AsyncConnection, lead_id: int, created_at: datetime, now: datetime
                 ) -> None:
    """``lead.erased`` to every organisation that received the lead: the id only, so
    the receiving system can delete its copy. Not tied to the lead's row, so the
    erasure that queues it does not drop it with the lead's other messages."""
    orgs = (await conn.scalars(sa.select(lead_recipients.c.org).where(
        lead_recipients.c.lead_id == lead_id).order_by(lead_recipients.c.org))).all()
    for org in orgs:
        await webhooks.queue(conn, org, "lead.erased",
                             {"lead": {"id": lead_number(lead_id, created_at)}}, now=now)
