"""The named contact: which staff member of an organisation looks after a lead.

A staff member takes an unassigned lead ("first come"), or the organisation's
admin assigns it to an active colleague. Taking is one guarded UPDATE
(``… WHERE assignee_id IS NULL``): when two clerks click at once exactly one
row changes, and the other is told who has the lead. The first assignment
of a (lead, organisation) queues a short mail to the family that names its
contact person (``leads.contacts``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..core.db import Database
from ..core.schema import lead_history, lead_recipients, leads, users
from ..leads.contacts import queue_contact_mail
from ..leads.services import Services
from .accounts import audit
from .cases import Viewer
from .history import record
from .stages import Refused
from .work import DONE, MISSING, Outcome, own_row


@dataclass(frozen=True)
class Person:
    """A staff member as colleagues see them in the portal."""

    id: int
    name: str  # the profile name, or the login when none is set yet
    title: str
    email: str
    named: bool  # has a profile name: may be a family's contact


def _person(row: Any) -> Person:
    return Person(row.id, row.display_name or row.email, row.job_title or "", row.email,
                  bool(row.display_name))


async def person(conn: AsyncConnection, user_id: int | None) -> Person | None:
    if user_id is None:
        return None
    row = (await conn.execute(sa.select(users.c.id, users.c.display_name, users.c.job_title,
                                        users.c.email).where(users.c.id == user_id))).first()
    return _person(row) if row else None


async def colleagues(db: Database, org: str) -> list[Person]:
    """The active accounts of an organisation, by name: whom its admin may assign."""
    rows = await db.all(sa.select(users.c.id, users.c.display_name, users.c.job_title,
                                  users.c.email)
                        .where(users.c.org == org, users.c.active)
                        .order_by(sa.func.coalesce(users.c.display_name, users.c.email)))
    return [_person(r) for r in rows]


NO_NAME = Refused("Bitte tragen Sie zuerst Ihren Namen in Ihr Profil ein: die Familie "
                  "erfährt, wer ihre Ansprechperson ist.")


async def take(svc: Services, viewer: Viewer, lead_id: int, now: datetime) -> Outcome:
    """The viewer takes an unassigned lead of their organisation (first come)."""
    user = viewer.user
    if user is None:
        return MISSING
    r = lead_recipients
    async with svc.db.transaction() as conn:
        me = await person(conn, user.id)
        if me is None or not me.named:
            return Outcome(False, NO_NAME)
        row = await own_row(conn, lead_id, viewer.org)
        if row is None:
            return MISSING
        taken = await conn.execute(
            r.update().where(r.c.lead_id == lead_id, r.c.org == viewer.org,
                             r.c.assignee_id.is_(None))
            .values(assignee_id=user.id, assigned_at=now))
        if not taken.rowcount:
            holder = await person(conn, await conn.scalar(
                sa.select(r.c.assignee_id).where(r.c.lead_id == lead_id,
                                                 r.c.org == viewer.org)))
            if holder is not None and holder.id == user.id:
                return DONE  # a double click: it is the viewer's already
            return Outcome(False, Refused(
                "%(name)s hat diesen Interessenten schon übernommen.",
                {"name": holder.name if holder else "Jemand"}))
        await _assigned(conn, svc, viewer, lead_id, me, now)
    return DONE


async def assign(svc: Services, viewer: Viewer, lead_id: int, user_id: int,
                 now: datetime) -> Outcome:
    """The organisation's admin gives the lead to an active colleague (or takes it back)."""
    if viewer.user is None or not viewer.user.is_admin:
        return Outcome(False, Refused("Nur die Administration Ihrer Organisation kann "
                                      "Interessenten zuweisen."))
    r = lead_recipients
    async with svc.db.transaction() as conn:
        row = await own_row(conn, lead_id, viewer.org)
        if row is None:
            return MISSING
        chosen = (await conn.execute(
            sa.select(users.c.id, users.c.display_name, users.c.job_title, users.c.email)
            .where(users.c.id == user_id, users.c.org == viewer.org, users.c.active))).first()
        if chosen is None:
            return Outcome(False, Refused("Bitte wählen Sie eine aktive Kollegin oder einen "
                                          "aktiven Kollegen Ihrer Organisation."))
        colleague = _person(chosen)
        if not colleague.named:
            return Outcome(False, Refused(
                "%(name)s hat noch keinen Namen im Profil; die Familie erführe nicht, wer "
                "ihre Ansprechperson ist.", {"name": colleague.email}))
        if row.assignee_id == colleague.id:
            return DONE
        changed = await conn.execute(
            r.update().where(r.c.lead_id == lead_id, r.c.org == viewer.org,
                             r.c.assignee_id.is_(None) if row.assignee_id is None
                             else r.c.assignee_id == row.assignee_id)
            .values(assignee_id=colleague.id, assigned_at=now))
        if not changed.rowcount:
            return Outcome(False, Refused("Die Zuständigkeit wurde gerade geändert. Bitte "
                                          "prüfen Sie sie noch einmal."))
        await _assigned(conn, svc, viewer, lead_id, colleague, now)
    return DONE


async def _assigned(conn: AsyncConnection, svc: Services, viewer: Viewer, lead_id: int,
                    assignee: Person, now: datetime) -> None:
    """History, audit and, on the first assignment for this organisation, the family's mail."""
    h = lead_history
    first = not await conn.scalar(
        sa.select(sa.func.count()).select_from(h)
        .where(h.c.lead_id == lead_id, h.c.org == viewer.org, h.c.event == "assign"))
    await record(conn, viewer.user, lead_id, viewer.org, "assign", now, detail=assignee.name)
    await audit(conn, viewer.user, "assign", now, f"user #{assignee.id}", lead_id, viewer.org)
    if first:
        lead = (await conn.execute(sa.select(leads.c.public_id, leads.c.email, leads.c.language)
                                   .where(leads.c.id == lead_id))).one()
        if lead.email:
            await queue_contact_mail(conn, svc, lead_id=lead_id, public_id=lead.public_id,
                                     email=lead.email, lang=lead.language, org=viewer.org,
                                     now=now)
