"""Slots and bookings as stored: typed records, the family's signed link, and reads.

``booking`` changes them, ``invitations`` mails them; both read through here.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from ..core.i18n import lazy_gettext as _l
from ..core.i18n import with_language
from ..core.schema import booking_slots, bookings, slot_offers
from ..core.tokens import TokenInvalid, make_token, read_token
from ..delivery.message import Mailer

KINDS = ("phone", "video", "onsite")
KIND_LABELS = {"phone": _l("Telefon"), "video": _l("Video"), "onsite": _l("vor Ort")}

TOKEN_PURPOSE = "booking"
TOKEN_MAX_AGE = 90 * 24 * 3600  # every mail carries a fresh link
BOOKING_PATH = "/termin/{token}"  # the route "booking"


@dataclass(frozen=True)
class Slot:
    id: int
    org: str
    starts_at: datetime
    minutes: int
    kind: str
    location: str
    partner_org: str | None
    host_email: str
    partner_email: str | None
    booked_by: int | None
    removed_at: datetime | None

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.minutes)

    @property
    def staff_side(self) -> list[str]:
        """Who receives the organisations' invitations for this slot."""
        return list(dict.fromkeys(a for a in (self.host_email, self.partner_email) if a))

    @classmethod
    def from_row(cls, row: Row[Any]) -> Slot:
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class Booking:
    id: int
    uid: str
    lead_id: int
    org: str
    slot_id: int
    status: str
    sequence: int
    phone: str | None
    booked_at: datetime
    changed_at: datetime
    cancelled_at: datetime | None
    cancelled_by: str | None
    reminded_at: datetime | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> Booking:
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class NewSlot:
    """A slot as staff entered it, checked (``portal.slots``); times in UTC."""

    starts_at: datetime
    minutes: int
    kind: str
    location: str = ""
    partner_org: str | None = None


# -- the family's link --------------------------------------------------------------------


def booking_token(secret: str, public_id: str, org: str) -> str:
    return make_token(secret, TOKEN_PURPOSE, {"l": public_id, "o": org})


def read_booking_token(secret: str, token: str) -> tuple[str, str]:
    """(public_id, org); raises TokenInvalid / TokenExpired."""
    data = read_token(secret, TOKEN_PURPOSE, token, max_age=TOKEN_MAX_AGE)
    if not isinstance(data, dict) or not isinstance(data.get("l"), str) \
            or not isinstance(data.get("o"), str):
        raise TokenInvalid("malformed booking payload")
    return data["l"], data["o"]


def booking_url(mailer: Mailer, secret: str, public_id: str, org: str, lang: str) -> str:
    token = booking_token(secret, public_id, org)
    return mailer.url(with_language(BOOKING_PATH.format(token=token), lang))


# -- reads ----------------------------------------------------------------------------------


async def slot_by_id(conn: AsyncConnection, slot_id: int) -> Slot | None:
    row = (await conn.execute(sa.select(booking_slots)
                              .where(booking_slots.c.id == slot_id))).first()
    return Slot.from_row(row) if row else None


async def booking_by_id(conn: AsyncConnection, booking_id: int) -> Booking | None:
    row = (await conn.execute(sa.select(bookings).where(bookings.c.id == booking_id))).first()
    return Booking.from_row(row) if row else None


async def open_booking(conn: AsyncConnection, lead_id: int, org: str) -> Booking | None:
    row = (await conn.execute(sa.select(bookings).where(
        bookings.c.lead_id == lead_id, bookings.c.org == org,
        bookings.c.status == "booked"))).first()
    return Booking.from_row(row) if row else None


def upcoming(org: str, now: datetime) -> list[Any]:
    """Conditions for a slot of ``org`` that can still be booked."""
    s = booking_slots.c
    return [s.org == org, s.removed_at.is_(None), s.booked_by.is_(None), s.starts_at > now]


async def offered_free(conn: AsyncConnection, lead_id: int, org: str, now: datetime
                       ) -> list[Slot]:
    """The free, future slots ``org`` offered this family, soonest first."""
    rows = await conn.execute(
        sa.select(booking_slots).join(slot_offers, slot_offers.c.slot_id == booking_slots.c.id)
        .where(slot_offers.c.lead_id == lead_id, *upcoming(org, now))
        .order_by(booking_slots.c.starts_at, booking_slots.c.id))
    return [Slot.from_row(r) for r in rows]


async def free_slots(conn: AsyncConnection, org: str, now: datetime) -> list[Slot]:
    """Every free, future slot of ``org`` (offered to anyone or not yet)."""
    rows = await conn.execute(sa.select(booking_slots).where(*upcoming(org, now))
                              .order_by(booking_slots.c.starts_at, booking_slots.c.id))
    return [Slot.from_row(r) for r in rows]


async def offered_to(conn: AsyncConnection, lead_id: int, org: str) -> list[Slot]:
    """Every slot ``org`` ever offered this family (booked, taken or past too)."""
    rows = await conn.execute(
        sa.select(booking_slots).join(slot_offers, slot_offers.c.slot_id == booking_slots.c.id)
        .where(slot_offers.c.lead_id == lead_id, booking_slots.c.org == org)
        .order_by(booking_slots.c.starts_at, booking_slots.c.id))
    return [Slot.from_row(r) for r in rows]
