"""A lead's life: pending → confirmed → withdrawn / erased / anonymised.

Every state change and the mails it causes commit in one transaction (the
outbox pattern), and each change is guarded by its ``WHERE status …`` so a
double click or two instances can only ever apply it once.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..core import jobs
from ..core.db import insert
from ..core.jobs import Limit, LimitReached
from ..core.schema import (
    consent_events,
    lead_interests,
    lead_municipalities,
    lead_notes,
    leads,
    outbox,
    used_form_stamps,
)
from ..core.settings import Settings
from ..delivery.transport import remove_mail_files
from ..reach import funnel
from . import applications, booking, events, followup, stamps
from .form import LeadData
from .forwarding import queue_routed_lead
from .mails import (
    FAMILY_KINDS,
    NOTICE_KINDS,
    queue_family_mail,
    queue_family_recipe,
    queue_new_link_recipe,
    queue_recipient_notices,
)
from .records import HAS_DATA, Lead, load
from .services import Services


class StampUsed(Exception):
    """The form's start stamp was used by a lead already (nothing is stored)."""


@dataclass(frozen=True)
class NewLead:
    """A checked submission plus what the page knew about where it came from."""

    data: LeadData
    language: str
    attribution: Mapping[str, str] = field(default_factory=dict)
    quiz: str = ""
    quiz_outcome: Sequence[Any] | None = None
    submission: str | None = None  # submission_key(): the same POST again is the same lead
    stamp: str | None = None  # digest of the form's start stamp: used by one lead only
    offer: applications.Choice | None = None  # made by an offer's form


def submission_key(body: bytes) -> str:
    """What makes two POSTs one submission: the same bytes of the same filled-in
    form (its signed start time is part of them). A person who corrects a field
    and sends again makes a new submission; a retry after a lost answer does not."""
    return hashlib.sha256(body).hexdigest()[:32]


async def create_pending(svc: Services, new: NewLead, limit: Limit | None = None) -> str:
    """Store a pending lead, its 'given' consent events and the confirmation mail.

    A submission already stored (same ``new.submission``) stores nothing more
    and sends no second mail; its lead's public id is returned. With ``limit``
    the submission is counted first, in the same transaction: over the limit
    nothing is stored and ``LimitReached`` is raised. A ``new.stamp`` another
    lead used already raises ``StampUsed`` and stores nothing; the stamp is
    recorded in the transaction that stores the lead, so of two submissions
    with one stamp exactly one is stored (on PostgreSQL the second waits on the
    first's key, then finds it)."""
    now = svc.clock.now()
    d = new.data
    consent = svc.content.consent
    a = new.attribution
    public_id = secrets.token_urlsafe(18)
    async with svc.db.transaction() as conn:
        if limit is not None and not await jobs.hit_in(conn, limit, now):
            raise LimitReached(limit.key)
        lead_id = (await conn.execute(
            insert(conn, leads).values(
                public_id=public_id, status="pending", created_at=now,
                language=new.language, name=d.name, email=d.email, phone=d.phone,
                message=d.message, adults=d.adults, children=d.children,
                child_ages=list(d.child_ages), consents=list(d.consents),
                timeframe=d.timeframe, consent_version=consent.version,
                consent_hash=consent.hash_of(d.consents, new.language),
                utm_source=a.get("utm_source"), utm_medium=a.get("utm_medium"),
                utm_campaign=a.get("utm_campaign"), place_code=a.get("place"),
                quiz=new.quiz or None,
                quiz_outcome=list(new.quiz_outcome) if new.quiz_outcome is not None else None,
                submission_key=new.submission)
            .on_conflict_do_nothing(index_elements=["submission_key"])
            .returning(leads.c.id))).scalar()
        if lead_id is None:  # this submission is stored already
            return str(await conn.scalar(sa.select(leads.c.public_id).where(
                leads.c.submission_key == new.submission)))
        if new.stamp is not None and not await _use_stamp(conn, new.stamp, now):
            raise StampUsed(new.stamp)
        if d.municipalities:
            await conn.execute(lead_municipalities.insert(), [
                {"lead_id": lead_id, "slug": s, "position": i}
                for i, s in enumerate(d.municipalities)])
        if d.interests:
            await conn.execute(lead_interests.insert(),
                               [{"lead_id": lead_id, "code": c} for c in d.interests])
        if new.offer is not None:
            await applications.record(conn, lead_id, new.offer, now)
        if d.consents:
            await conn.execute(consent_events.insert(), [
                {"lead_id": lead_id, "grp": g, "version": consent.version, "event": "given",
                 "text_hash": consent.group_hash(g, new.language), "at": now}
                for g in d.consents])
        await queue_family_recipe(conn, svc, lead_id=lead_id, public_id=public_id,
                                  email=d.email, lang=new.language, now=now)
        await funnel.count(conn, new.quiz, "lead_submitted", a)
    return public_id


async def _use_stamp(conn: AsyncConnection, digest: str, now: datetime) -> bool:
    """Record a form stamp as used; False when a lead used it before."""
    inserted = await conn.execute(
        insert(conn, used_form_stamps).values(digest=digest,
                                              expires_at=now + stamps.MAX_AGE)
        .on_conflict_do_nothing())
    return bool(inserted.rowcount)


async def forget_used_stamps(conn: AsyncConnection, now: datetime) -> int:
    """Expired stamps are refused anyway: their record can go (the purge does it)."""
    return int((await conn.execute(used_form_stamps.delete().where(
        used_form_stamps.c.expires_at < now))).rowcount)


async def confirm(svc: Services, public_id: str) -> str:
    """'confirmed' (this call did it), 'already', 'gone' (withdrawn/erased) or 'unknown'.

    The guarded UPDATE decides: of two concurrent clicks only one changes a
    row, and only that one routes the lead, in the same transaction.
    """
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        changed = await conn.execute(
            leads.update().where(leads.c.public_id == public_id, leads.c.status == "pending")
            .values(status="confirmed", confirmed_at=now))
        found = await load(conn, leads.c.public_id == public_id)
        if not found:
            return "unknown"
        lead = found[0]
        if not changed.rowcount:
            return "already" if lead.status == "confirmed" else "gone"
        await _consent_events(conn, lead, "confirmed", now)
        await queue_routed_lead(conn, svc, lead, now)
        await queue_family_mail(conn, svc, lead, "selfservice_confirmed")
        await funnel.count(conn, lead.quiz or "", "lead_confirmed", lead.attribution)
    return "confirmed"


async def _consent_events(conn: AsyncConnection, lead: Lead, event: str, at: datetime) -> None:
    """One anonymous event per consented group, with the hash shown at submission."""
    given = dict((await conn.execute(
        sa.select(consent_events.c.grp, consent_events.c.text_hash)
        .where(consent_events.c.lead_id == lead.id, consent_events.c.event == "given"))).all())
    if lead.consents:
        await conn.execute(consent_events.insert(), [
            {"lead_id": lead.id, "grp": g, "version": lead.consent_version or "",
             "text_hash": given.get(g, lead.consent_hash or ""), "event": event, "at": at}
            for g in lead.consents])


async def request_new_mail(svc: Services, email: str, limit: Limit) -> bool:
    """Count the request (``limit``, per client address) and queue a "new link"
    recipe for the address as typed; False when over the limit (nothing queued).

    Whether the address belongs to a lead is decided by the outbox worker, not
    here: a known and an unknown address cost the request the same statements,
    so its answer and its timing tell nothing (see ``mails.render_recipe``)."""
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        if not await jobs.hit_in(conn, limit, now):
            return False
        await queue_new_link_recipe(conn, svc, email, now)
    return True


async def withdraw(svc: Services, public_id: str) -> bool:
    """Stop forwarding: status withdrawn, unsent mails dropped, recipients told."""
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        changed = await conn.execute(
            leads.update().where(leads.c.public_id == public_id,
                                 leads.c.status.in_(("pending", "confirmed")))
            .values(status="withdrawn", withdrawn_at=now))
        if not changed.rowcount:
            return False
        (lead,) = await load(conn, leads.c.public_id == public_id)
        await conn.execute(outbox.delete().where(outbox.c.lead_id == lead.id,
                                                 outbox.c.status == "queued"))
        # Notes are personal data about the family: they go with the forwarding.
        await conn.execute(lead_notes.delete().where(lead_notes.c.lead_id == lead.id))
        await _consent_events(conn, lead, "withdrawn", now)
        await queue_recipient_notices(conn, svc, lead, "withdrawn")
        await booking.cancel_future(conn, lead, lead.id, now, by="withdrawal")
        await applications.release(conn, lead.id, now, svc.settings.mail_from)
    return True


async def erase(svc: Services, public_id: str) -> bool:
    """Remove every personal field; the anonymous consent events stay, recipients are told."""
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        found = await load(conn, sa.and_(leads.c.public_id == public_id,
                                          leads.c.status.in_(HAS_DATA)))
        if not found:
            return False
        lead = found[0]
        mails = await scrub(conn, lead, status="erased", at=now,
                            mail_from=svc.settings.mail_from)
        await _consent_events(conn, lead, "erased", now)
        await queue_recipient_notices(conn, svc, lead, "erased")
    await svc.db.checkpoint()  # the erased values must not linger in the WAL file
    await forget_mail_files(svc.settings, mails)
    return True


async def forget_mail_files(settings: Settings, outbox_ids: Sequence[int]) -> int:
    """Delete the ``.eml`` copies (file transport) of mails an erasure cleared."""
    if not outbox_ids:
        return 0
    return await asyncio.to_thread(remove_mail_files, settings.mail_dir, outbox_ids)


async def scrub(conn: AsyncConnection, lead: Lead, *, status: str, at: datetime,
                mail_from: str | None = None) -> list[int]:
    """Null the personal fields of a lead and clear every mail that carried them.

    Unsent mails of the lead are deleted (they must not go out any more);
    sent ones keep only their metadata: body emptied, the family's address
    blanked. Notes go too, and an offer application (its seat to the next family).
    Used by erase ('erased') and retention ('anonymised').
    Returns the ids of the mails cleared: after the commit the caller deletes
    their files (``forget_mail_files``). Future bookings are cancelled for the
    organisations and the numbers given for calls removed (``booking.forget``).
    """
    email = (lead.email or "").lower()
    o = outbox.c
    mine = sa.and_(
        sa.or_(o.lead_id == lead.id,
               sa.and_(sa.literal(email) != "", sa.func.lower(o.recipient) == email)),
        o.kind.not_in(NOTICE_KINDS))
    cleared = list((await conn.scalars(sa.select(o.id).where(mine))).all())
    await conn.execute(outbox.delete().where(o.status != "sent", mine))
    family = sa.or_(sa.func.lower(o.recipient) == email, o.kind.in_(FAMILY_KINDS))
    await conn.execute(outbox.update().where(mine).values(
        message=b"", last_error=None,
        recipient=sa.case((family, sa.literal("")), else_=o.recipient)))
    await conn.execute(lead_notes.delete().where(lead_notes.c.lead_id == lead.id))
    await followup.forget(conn, lead.id, at, erased=status == "erased")
    values: dict[str, Any] = {"status": status, "name": None, "email": None, "phone": None,
                              "message": None, "submission_key": None}
    if status == "erased":
        values["erased_at"] = at
    await conn.execute(leads.update().where(leads.c.id == lead.id).values(**values))
    await booking.forget(conn, lead.id, at)
    await applications.release(conn, lead.id, at, mail_from)  # the next family is told
    if status != "pending":  # a pending lead was never routed to anyone
        await events.erased(conn, lead.id, lead.created_at, at)
    return cleared
