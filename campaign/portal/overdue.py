"""Leads past their response target: two reminders, and the agency's overview.

A lead still "neu" and without a logged call after its due time reminds its
assignee (or, unassigned, the organisation's address); one working day after
that reminder, still without contact, the organisation's admins (or its
address). Each step is claimed by a guarded UPDATE in the transaction that
queues its mails, so each is sent once however many instances run the job.
The agency's list names organisation, lead number, municipalities, days
overdue and assignee, never the family's name or contact data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..content.model import Organisation, Region
from ..core.db import Database
from ..core.schema import lead_municipalities, lead_recipients, leads, users
from ..core.workdays import add_working_days, working_days_between
from ..delivery.outbox import enqueue
from ..leads.records import lead_number
from ..leads.services import Services
from .targets import is_overdue

MAX_PER_RUN = 200
LIST_LIMIT = 500
LEAD_PATH = "/partner/lead/{id}"  # the route "partner_lead"


@dataclass(frozen=True)
class OverdueLead:
    """One overdue (lead, organisation), as the agency sees it: no family data."""

    org: str
    lead_id: int
    municipalities: tuple[str, ...]
    due_at: datetime
    days_overdue: int  # whole working days past the due time
    assignee: str  # the profile name (or login), empty when unassigned
    number: str = ""  # the lead number people quote (L-year-id)


def _assignee_name() -> Any:
    return sa.func.coalesce(users.c.display_name, users.c.email)


async def _municipalities(conn: AsyncConnection, ids: list[int]) -> dict[int, tuple[str, ...]]:
    m = lead_municipalities
    rows = await conn.execute(sa.select(m.c.lead_id, m.c.slug).where(m.c.lead_id.in_(ids))
                              .order_by(m.c.lead_id, m.c.position))
    out: dict[int, list[str]] = {}
    for row in rows:
        out.setdefault(row.lead_id, []).append(row.slug)
    return {k: tuple(v) for k, v in out.items()}


async def overdue_leads(db: Database, now: datetime) -> list[OverdueLead]:
    """Every overdue (lead, organisation) across all organisations, longest overdue first."""
    r = lead_recipients
    async with db.reading() as conn:
        rows = (await conn.execute(
            sa.select(r.c.org, r.c.lead_id, r.c.due_at, _assignee_name().label("assignee"),
                      leads.c.created_at)
            .join(leads, leads.c.id == r.c.lead_id)
            .outerjoin(users, users.c.id == r.c.assignee_id)
            .where(leads.c.status == "confirmed", is_overdue(r, now))
            .order_by(r.c.due_at, r.c.lead_id, r.c.org).limit(LIST_LIMIT))).all()
        places = await _municipalities(conn, [row.lead_id for row in rows]) if rows else {}
    return [OverdueLead(row.org, row.lead_id, places.get(row.lead_id, ()), row.due_at,
                        working_days_between(row.due_at, now), row.assignee or "",
                        lead_number(row.lead_id, row.created_at))
            for row in rows]


async def _admins(conn: AsyncConnection, org: str) -> list[str]:
    return list(await conn.scalars(
        sa.select(users.c.email).where(users.c.org == org, users.c.role == "admin",
                                       users.c.active).order_by(users.c.email)))


async def _assignee_email(conn: AsyncConnection, lead_id: int, org: str) -> str | None:
    r = lead_recipients
    return await conn.scalar(
        sa.select(users.c.email).join(r, r.c.assignee_id == users.c.id)
        .where(r.c.lead_id == lead_id, r.c.org == org, users.c.active))


async def _queue(conn: AsyncConnection, svc: Services, kind: str, to: list[str], org:
                 Organisation, lead_id: int, due_at: datetime, now: datetime) -> None:
    region: Region = svc.content.region
    places = (await _municipalities(conn, [lead_id])).get(lead_id, ())
    assignee = await conn.scalar(
        sa.select(_assignee_name()).select_from(lead_recipients)
        .join(users, users.c.id == lead_recipients.c.assignee_id)
        .where(lead_recipients.c.lead_id == lead_id, lead_recipients.c.org == org.slug))
    created = (await conn.execute(
        sa.select(leads.c.created_at).where(leads.c.id == lead_id))).scalar_one()
    ctx = {"lead_id": lead_id, "number": lead_number(lead_id, created), "org": org.name,
           "due_at": due_at, "days": org.response_days,
           "overdue": working_days_between(due_at, now), "assignee": assignee or "",
           "municipalities": [region.municipalities[s].name for s in places
                              if s in region.municipalities],
           "link": svc.mailer.url(LEAD_PATH.format(id=lead_id))}
    subject, text, html = svc.mailer.render(kind, ctx, "de")
    for address in to:
        message = svc.mailer.build(to=address, subject=subject, text=text, html=html)
        await enqueue(conn, message, kind=kind, lead_id=lead_id, org=org.slug)


async def queue_overdue_reminders(svc: Services, now: datetime) -> int:
    """Queue the due reminders of this moment; returns how many steps were taken."""
    r = lead_recipients
    base = sa.select(r.c.lead_id, r.c.org, r.c.due_at, r.c.overdue_reminded_at) \
        .join(leads, leads.c.id == r.c.lead_id) \
        .where(leads.c.status == "confirmed", is_overdue(r, now))
    first = await svc.db.all(base.where(r.c.overdue_reminded_at.is_(None))
                             .order_by(r.c.due_at).limit(MAX_PER_RUN))
    second = await svc.db.all(base.where(r.c.overdue_reminded_at.isnot(None),
                                         r.c.overdue_reminded_at <= now - timedelta(days=1),
                                         r.c.overdue_escalated_at.is_(None))
                              .order_by(r.c.due_at).limit(MAX_PER_RUN))
    count = 0
    for item in first:
        count += await _step(svc, item, "overdue", r.c.overdue_reminded_at, now)
    for item in second:
        if add_working_days(item.overdue_reminded_at, 1) <= now:
            count += await _step(svc, item, "overdue_admin", r.c.overdue_escalated_at, now)
    return count


async def _step(svc: Services, item: Any, kind: str, column: Any, now: datetime) -> int:
    org = svc.content.region.organisations.get(item.org)
    if org is None:
        return 0
    r = lead_recipients
    async with svc.db.transaction() as conn:
        claimed = await conn.execute(
            r.update().where(r.c.lead_id == item.lead_id, r.c.org == item.org,
                             column.is_(None), is_overdue(r, now))
            .values({column.key: now}))
        if not claimed.rowcount:
            return 0
        if kind == "overdue":
            to = [await _assignee_email(conn, item.lead_id, org.slug) or org.email]
        else:
            to = await _admins(conn, org.slug) or [org.email]
        await _queue(conn, svc, kind, to, org, item.lead_id, item.due_at, now)
    return 1
