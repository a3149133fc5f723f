"""Bookable conversations: the slots an organisation offers a family, and its booking.

A slot is an organisation's free time; it may be offered to several families,
and the first to book it gets it: one guarded statement sets ``booked_by`` only
while it is still NULL, so of two families clicking at once exactly one changes
the row (on PostgreSQL the second waits for the first, then finds it taken).
Every change to one family's conversation with one organisation first locks
that pair's ``lead_recipients`` row, so a double click cannot book two slots.

A booking is one calendar event: its UID stays, its SEQUENCE rises with every
move and with the cancellation, and each change queues the invitations
(``invitations``) in the same transaction, for the family and the staff side
(the staff member who offered the slot, and the partner of a three-way slot).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..core.db import Database, insert
from ..core.schema import booking_slots, bookings, lead_recipients, leads, slot_offers
from . import invitations
from .records import Lead, load
from .services import Services
from .slots import Booking, NewSlot, Slot, offered_free, open_booking, slot_by_id, upcoming

REMIND_BEFORE = timedelta(hours=24)  # the reminder goes out a day before the conversation
MAX_REMINDERS_PER_RUN = 200


@dataclass(frozen=True)
class Conversation:
    """What the family's booking page shows: its appointment, and what it may pick."""

    lead: Lead
    org: str
    booking: Booking | None
    slot: Slot | None
    free: tuple[Slot, ...]


async def received(conn: AsyncConnection, lead_id: int, org: str, *, lock: bool) -> bool:
    """True while the lead is confirmed and ``org`` received it; with ``lock`` the pair's
    recipients row stays locked to this transaction (one change per conversation at a
    time; SQLite's single writer does the same for the whole file)."""
    r = lead_recipients
    query = (sa.select(r.c.lead_id).join(leads, leads.c.id == r.c.lead_id)
             .where(r.c.lead_id == lead_id, r.c.org == org, leads.c.status == "confirmed"))
    if lock:
        query = query.with_for_update(of=r)
    return (await conn.execute(query)).first() is not None


async def conversation(db: Database, public_id: str, org: str, now: datetime
                       ) -> Conversation | str:
    """The family's conversation with ``org``, or 'gone' (withdrawn, erased) / 'unknown'."""
    async with db.reading() as conn:
        found = await load(conn, leads.c.public_id == public_id)
        if not found:
            return "unknown"
        lead = found[0]
        if lead.status != "confirmed":
            return "gone"
        if not await received(conn, lead.id, org, lock=False):
            return "unknown"
        booking = await open_booking(conn, lead.id, org)
        slot = await slot_by_id(conn, booking.slot_id) if booking else None
        free = await offered_free(conn, lead.id, org, now)
    return Conversation(lead, org, booking, slot, tuple(free))


# -- booking, moving, cancelling -------------------------------------------------------------


async def book(svc: Services, public_id: str, org: str, slot_id: int, phone: str | None
               ) -> str:
    """The family picks an offered slot: 'booked', 'moved' (it had another), 'same',
    'taken' (another family was first), 'unavailable' (not offered, past, withdrawn),
    'phone' (a phone slot needs a number), 'gone' or 'unknown'."""
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        found = await load(conn, leads.c.public_id == public_id)
        if not found:
            return "unknown"
        return await take(conn, svc, found[0], org, slot_id, now, phone=phone)


async def take(conn: AsyncConnection, svc: Services, lead: Lead, org: str, slot_id: int,
               now: datetime, *, phone: str | None = None, offered_only: bool = True) -> str:
    """Book ``slot_id`` for the family (or move its booking there) in ``conn``; see
    ``book``. Staff may move a booking to any free slot (``offered_only=False``)."""
    if lead.status != "confirmed":
        return "gone"
    if not await received(conn, lead.id, org, lock=True):
        return "unknown"
    slot = await slot_by_id(conn, slot_id)
    if slot is None or slot.org != org or slot.removed_at is not None or slot.starts_at <= now:
        return "unavailable"
    if offered_only and await conn.scalar(sa.select(slot_offers.c.slot_id).where(
            slot_offers.c.slot_id == slot_id, slot_offers.c.lead_id == lead.id)) is None:
        return "unavailable"
    current = await open_booking(conn, lead.id, org)
    if current is not None and current.slot_id == slot_id:
        return "same"
    number = (phone or (current.phone if current else None) or lead.phone) \
        if slot.kind == "phone" else None
    if slot.kind == "phone" and not number:
        return "phone"
    s = booking_slots.c
    took = await conn.execute(booking_slots.update()
                              .where(s.id == slot_id, s.booked_by.is_(None),
                                     s.removed_at.is_(None))
                              .values(booked_by=lead.id))
    if not took.rowcount:
        return "taken"
    await conn.execute(insert(conn, slot_offers).values(
        slot_id=slot_id, lead_id=lead.id, offered_at=now).on_conflict_do_nothing())
    if current is None:
        uid = f"termin-{secrets.token_hex(12)}@{svc.mailer.domain()}"
        booking_id = (await conn.execute(bookings.insert().values(
            uid=uid, lead_id=lead.id, org=org, slot_id=slot_id, phone=number, booked_at=now,
            changed_at=now).returning(bookings.c.id))).scalar_one()
        await invitations.queue_change(conn, "request", booking_id=booking_id, lead_id=lead.id,
                                       org=org, uid=uid, seq=0, slot=slot, lead=lead, now=now)
        return "booked"
    old = await slot_by_id(conn, current.slot_id)
    await conn.execute(booking_slots.update().where(s.id == current.slot_id,
                                                    s.booked_by == lead.id)
                       .values(booked_by=None))
    seq = current.sequence + 1
    await conn.execute(bookings.update().where(bookings.c.id == current.id).values(
        slot_id=slot_id, sequence=seq, phone=number, changed_at=now, reminded_at=None))
    await invitations.queue_change(conn, "request", booking_id=current.id, lead_id=lead.id,
                                   org=org, uid=current.uid, seq=seq, slot=slot, lead=lead,
                                   now=now, moved=True)
    dropped = [a for a in (old.staff_side if old else []) if a not in slot.staff_side]
    if old is not None and dropped:  # no longer part of it (another host or partner)
        await invitations.queue_change(conn, "cancel", booking_id=current.id, lead_id=lead.id,
                                       org=org, uid=current.uid, seq=seq, slot=old, lead=None,
                                       staff=dropped, now=now)
    return "moved"


async def cancel(svc: Services, public_id: str, org: str) -> str:
    """The family cancels: 'cancelled', 'none' (nothing booked), 'gone' or 'unknown'."""
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        found = await load(conn, leads.c.public_id == public_id)
        if not found:
            return "unknown"
        return await cancel_in(conn, found[0], org, now, by="family")


async def cancel_in(conn: AsyncConnection, lead: Lead, org: str, now: datetime, *, by: str
                    ) -> str:
    """Cancel the open booking of (lead, org) in ``conn``; see ``cancel``."""
    if lead.status != "confirmed":
        return "gone"
    if not await received(conn, lead.id, org, lock=True):
        return "unknown"
    current = await open_booking(conn, lead.id, org)
    if current is None:
        return "none"
    await _cancel(conn, current, lead, now, by=by)
    return "cancelled"


async def _cancel(conn: AsyncConnection, booking: Booking, lead: Lead | None, now: datetime,
                  *, by: str) -> None:
    """Free the slot, close the booking with a higher SEQUENCE and send METHOD:CANCEL to
    both sides (the family only when ``lead`` is given and still has an address)."""
    s = booking_slots.c
    await conn.execute(booking_slots.update().where(s.id == booking.slot_id,
                                                    s.booked_by == booking.lead_id)
                       .values(booked_by=None))
    seq = booking.sequence + 1
    await conn.execute(bookings.update().where(bookings.c.id == booking.id).values(
        status="cancelled", sequence=seq, changed_at=now, cancelled_at=now, cancelled_by=by))
    slot = await slot_by_id(conn, booking.slot_id)
    if slot is not None:
        await invitations.queue_change(conn, "cancel", booking_id=booking.id,
                                       lead_id=booking.lead_id, org=booking.org,
                                       uid=booking.uid, seq=seq, slot=slot, lead=lead, now=now)


async def cancel_future(conn: AsyncConnection, lead: Lead | None, lead_id: int, now: datetime,
                        *, by: str) -> int:
    """Cancel every booking of a lead that has not begun (a withdrawal, an erasure):
    the organisations' calendars lose it, and so does the family's when ``lead`` (with
    its address) is given. Returns how many were cancelled."""
    rows = await conn.execute(
        sa.select(bookings).join(booking_slots, booking_slots.c.id == bookings.c.slot_id)
        .where(bookings.c.lead_id == lead_id, bookings.c.status == "booked",
               booking_slots.c.starts_at > now).order_by(bookings.c.id))
    found = [Booking.from_row(r) for r in rows]
    for booking in found:
        await _cancel(conn, booking, lead, now, by=by)
    return len(found)


async def forget(conn: AsyncConnection, lead_id: int, now: datetime) -> None:
    """An erasure or anonymisation (``lifecycle.scrub``): future bookings are cancelled
    for the organisations (the family's address is gone), the numbers given for calls
    are removed and the offers dropped. The slots stay: they are the staff's time.
    Runs after the scrub cleared the lead's mails, so the cancellations go out; they
    name the lead only by its number."""
    await cancel_future(conn, None, lead_id, now, by="erasure")
    await conn.execute(bookings.update().where(bookings.c.lead_id == lead_id)
                       .values(phone=None))
    await conn.execute(slot_offers.delete().where(slot_offers.c.lead_id == lead_id))


# -- offering -------------------------------------------------------------------------------


async def create_slot(conn: AsyncConnection, org: str, new: NewSlot, *, host_user_id: int | None,
                      host_email: str, partner_email: str | None, now: datetime) -> int:
    return int((await conn.execute(booking_slots.insert().values(
        org=org, starts_at=new.starts_at, minutes=new.minutes, kind=new.kind,
        location=new.location, partner_org=new.partner_org, host_user_id=host_user_id,
        host_email=host_email, partner_email=partner_email if new.partner_org else None,
        created_at=now).returning(booking_slots.c.id))).scalar_one())


async def offer(conn: AsyncConnection, svc: Services, lead_id: int, org: str,
                slot_ids: Sequence[int], now: datetime) -> int:
    """Offer free, future slots of ``org`` to the family and queue the mail with its link;
    returns how many slots were offered anew (no mail when none)."""
    if not await received(conn, lead_id, org, lock=True):
        return 0
    s = booking_slots.c
    usable = list((await conn.scalars(sa.select(s.id).where(
        s.id.in_(list(slot_ids)), *upcoming(org, now)))).all()) if slot_ids else []
    added = 0
    for slot_id in usable:
        added += (await conn.execute(insert(conn, slot_offers).values(
            slot_id=slot_id, lead_id=lead_id, offered_at=now).on_conflict_do_nothing())).rowcount
    (lead,) = await load(conn, leads.c.id == lead_id)
    if added and lead.email:
        await invitations.queue_offer(conn, svc, lead, org, now)
    return added


async def remove_slot(conn: AsyncConnection, org: str, slot_id: int, now: datetime) -> bool:
    """Withdraw a free slot of ``org`` from every family it was offered to; False when
    it is booked (or not ``org``'s): the same guard as booking, so only one wins."""
    s = booking_slots.c
    removed = await conn.execute(booking_slots.update().where(
        s.id == slot_id, s.org == org, s.booked_by.is_(None), s.removed_at.is_(None))
        .values(removed_at=now))
    return bool(removed.rowcount)


# -- the reminder the day before -----------------------------------------------------------


def reminder_due(starts_at: datetime, changed_at: datetime, now: datetime) -> bool:
    """From a day before the start; not for a booking made or moved within that day
    (its invitation has just gone out)."""
    window = starts_at - REMIND_BEFORE
    return window <= now < starts_at and changed_at < window


async def queue_reminders(svc: Services, now: datetime) -> int:
    """One reminder to both sides of each booking due (``reminder_due``); the guarded
    ``reminded_at`` makes it once, also with several instances. A move clears it."""
    b, s = bookings.c, booking_slots.c
    due = await svc.db.all(
        sa.select(b.id, b.sequence, b.changed_at, s.starts_at)
        .join(booking_slots, s.id == b.slot_id).join(leads, leads.c.id == b.lead_id)
        .where(b.status == "booked", b.reminded_at.is_(None), s.starts_at > now,
               s.starts_at <= now + REMIND_BEFORE, leads.c.status == "confirmed")
        .order_by(s.starts_at).limit(MAX_REMINDERS_PER_RUN))
    count = 0
    for item in due:
        if not reminder_due(item.starts_at, item.changed_at, now):
            continue
        async with svc.db.transaction() as conn:
            claimed = await conn.execute(bookings.update().where(
                b.id == item.id, b.reminded_at.is_(None), b.status == "booked",
                b.sequence == item.sequence).values(reminded_at=now))
            if not claimed.rowcount:
                continue
            booking = Booking.from_row((await conn.execute(
                sa.select(bookings).where(b.id == item.id))).one())
            slot = await slot_by_id(conn, booking.slot_id)
            (lead,) = await load(conn, leads.c.id == booking.lead_id)
            assert slot is not None
            await invitations.queue_change(conn, "reminder", booking_id=booking.id,
                                           lead_id=lead.id, org=booking.org, uid=booking.uid,
                                           seq=booking.sequence, slot=slot, lead=lead, now=now)
            count += 1
    return count
