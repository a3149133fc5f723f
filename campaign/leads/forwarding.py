"""Forwarding a confirmed lead to its organisations, their receipts, and reminders.

Routing runs inside the transaction that confirms the lead: the lead's new
state, its ``lead_recipients`` rows and one outbox row per recipient commit
together or not at all, so a confirmed lead always has its mails queued.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..core.db import Database, insert
from ..core.schema import lead_recipients, leads
from ..core.workdays import add_working_days
from ..delivery.outbox import enqueue
from . import applications, events, live_offers
from .mails import lead_context, org_mail, queue_org_recipe
from .records import Lead, load
from .routing import Recipient, route, route_offer
from .services import Services

MAX_REMINDERS_PER_RUN = 200


async def queue_routed_lead(conn: AsyncConnection, svc: Services, lead: Lead,
                            now: datetime) -> list[Recipient]:
    """Route a lead being confirmed in ``conn``: a recipients row plus one mail each.

    Idempotent per (lead, org): an organisation that already has the lead is
    neither recorded nor mailed again, so a repeated confirmation is harmless.
    """
    region = svc.content.region
    recipients = await _offer_recipients(conn, svc, lead, now)
    if recipients is None:
        recipients = route(lead.municipalities, lead.interests, lead.consents, region)
    for rcpt in recipients:
        org = region.organisations[rcpt.org]
        inserted = await conn.execute(
            insert(conn, lead_recipients).values(
                lead_id=lead.id, org=rcpt.org, reason=rcpt.reason, routed_at=now,
                due_at=add_working_days(now, org.response_days))
            .on_conflict_do_nothing())
        if not inserted.rowcount:
            continue
        await queue_org_recipe(conn, svc, lead, org, rcpt.reason, now)
        await events.routed(conn, lead.id, lead.created_at, rcpt.org, rcpt.reason, now)
    return recipients


async def _offer_recipients(conn: AsyncConnection, svc: Services, lead: Lead,
                            now: datetime) -> list[Recipient] | None:
    """Recipients of an offer application (None for a lead of the interest form).
    A visit-day registration gets its seat or waiting place first."""
    request = await applications.request_of(conn, lead.id)
    if request is None:
        return None
    offers = await live_offers.merged_in(conn, svc.content.offers)
    offer = offers.by_slug.get(request.offer)
    if offer is not None and offer.kind == "kennenlerntage":
        await applications.place(conn, lead.id, offer.slug, offer.seats, now)
    partner = (offer.tourism if offer.kind == "probewohnen" else offer.owner) if offer else None
    town = offer.municipality if offer else next(iter(lead.municipalities), "")
    return route_offer(request.kind, town, lead.consents, svc.content.region, partner)


def _receipt_row(public_id: str, org: str) -> sa.Select[Any]:
    r = lead_recipients
    return (sa.select(r.c.lead_id, r.c.acknowledged_at, leads.c.status)
            .join(leads, leads.c.id == r.c.lead_id)
            .where(leads.c.public_id == public_id, r.c.org == org))


def _state(row: Any) -> str:
    if row is None:
        return "unknown"
    if row.status != "confirmed":  # withdrawn, erased or anonymised: nothing to confirm
        return "gone"
    return "open" if row.acknowledged_at is None else "already"


async def receipt_state(db: Database, public_id: str, org: str) -> str:
    """'open', 'already', 'gone' (the family withdrew or erased) or 'unknown'."""
    return _state(await db.one(_receipt_row(public_id, org)))


async def acknowledge(db: Database, public_id: str, org: str, now: datetime) -> str:
    """Record "Anfrage erhalten" once: 'recorded', 'already', 'gone' or 'unknown'."""
    async with db.transaction() as conn:
        row = (await conn.execute(_receipt_row(public_id, org))).first()
        state = _state(row)
        if state != "open":
            return state
        recorded = await mark_received(conn, row.lead_id, org, now)
    return "recorded" if recorded else "already"


async def mark_received(conn: AsyncConnection, lead_id: int, org: str, now: datetime) -> bool:
    """Record the receipt of (lead, org) in the caller's transaction, unless it is
    recorded already. Any work of the organisation on the lead (taking it, a stage,
    a note, a call) proves receipt as well as the link does, so no reminder follows."""
    r = lead_recipients
    changed = await conn.execute(
        r.update().where(r.c.lead_id == lead_id, r.c.org == org, r.c.acknowledged_at.is_(None))
        .values(acknowledged_at=now))
    return bool(changed.rowcount)


async def queue_reminders(svc: Services, now: datetime) -> int:
    """Leads unacknowledged after ``ack_reminder_days``: one reminder + one agency note.

    ``reminded_at`` is set in the same transaction as the two outbox rows, so
    each (lead, org) is reminded exactly once even with several workers.
    """
    region = svc.content.region
    r = lead_recipients
    cutoff = now - timedelta(days=region.ack_reminder_days)
    due = await svc.db.all(
        sa.select(r.c.lead_id, r.c.org, r.c.reason).join(leads, leads.c.id == r.c.lead_id)
        .where(r.c.acknowledged_at.is_(None), r.c.reminded_at.is_(None),
               r.c.routed_at <= cutoff, leads.c.status == "confirmed")
        .order_by(r.c.routed_at).limit(MAX_REMINDERS_PER_RUN))
    agency = region.agency()
    count = 0
    for item in due:
        org = region.organisations.get(item.org)
        if org is None:
            continue
        async with svc.db.transaction() as conn:
            claimed = await conn.execute(
                r.update().where(r.c.lead_id == item.lead_id, r.c.org == item.org,
                                 r.c.reminded_at.is_(None), r.c.acknowledged_at.is_(None))
                .values(reminded_at=now))
            if not claimed.rowcount:
                continue
            (lead,) = await load(conn, leads.c.id == item.lead_id)
            ctx = {**lead_context(svc, lead, org, item.reason), "days": region.ack_reminder_days}
            await enqueue(conn, org_mail(svc, "reminder", lead, org, org, ctx),
                          kind="reminder", lead_id=lead.id, org=org.slug)
            if agency is not None and agency.slug != org.slug:
                await enqueue(conn, org_mail(svc, "agency_note", lead, org, agency, ctx),
                              kind="agency_note", lead_id=lead.id, org=org.slug)
            count += 1
    return count
