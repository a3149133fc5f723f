"""Applications to offers: what a lead made by an offer's form asked for, and the
seats of visit days.

An application is a lead like any other (double opt-in, consent events, routing
through the outbox, erasure); ``offer_requests`` adds the offer and, for a trial
stay, the dates. A visit-day registration gets its place when the family confirms,
in the confirming transaction: a seat while seats are left, else the waiting list.
The offer's row in ``offer_counters`` is updated first, which makes concurrent
confirmations count one after the other (a row lock on PostgreSQL, the single
writer on SQLite), so no more seats are given than the offer has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..content.model import Region
from ..content.offers import Offers
from ..core.db import Database, increment
from ..core.schema import leads, offer_counters, offer_requests
from ..delivery.message import addr_spec, new_message_id
from ..delivery.outbox import enqueue_recipe

SEAT, WAITING = "seat", "waiting"


@dataclass(frozen=True)
class Choice:
    """What the family chose on an offer's form."""

    offer: str
    kind: str
    starts: date | None = None
    weeks: int | None = None


@dataclass(frozen=True)
class Request:
    lead_id: int
    offer: str
    kind: str
    starts: date | None
    weeks: int | None
    place: str | None
    position: int  # on the waiting list (1 = next); 0 with a seat or no place yet


async def record(conn: AsyncConnection, lead_id: int, choice: Choice, now: datetime) -> None:
    """Store the choice with its new (pending) lead, in the caller's transaction."""
    await conn.execute(offer_requests.insert().values(
        lead_id=lead_id, offer=choice.offer, kind=choice.kind, starts=choice.starts,
        weeks=choice.weeks, created_at=now))


async def request_of(conn: AsyncConnection, lead_id: int) -> Request | None:
    r = offer_requests.c
    row = (await conn.execute(sa.select(offer_requests).where(r.lead_id == lead_id))).first()
    if row is None:
        return None
    position = 0
    if row.place == WAITING:
        ahead = sa.or_(r.placed_at < row.placed_at,
                       sa.and_(r.placed_at == row.placed_at, r.lead_id <= row.lead_id))
        position = int(await conn.scalar(
            sa.select(sa.func.count()).select_from(offer_requests)
            .where(r.offer == row.offer, r.place == WAITING, ahead)) or 0)
    return Request(row.lead_id, row.offer, row.kind, row.starts, row.weeks, row.place, position)


async def _lock(conn: AsyncConnection, offer: str) -> None:
    """Take the offer's counter row for this transaction (see the module's note)."""
    await increment(conn, offer_counters, {"offer": offer})


async def _seats_taken(conn: AsyncConnection, offer: str) -> int:
    r = offer_requests.c
    return int(await conn.scalar(sa.select(sa.func.count()).select_from(offer_requests)
                                 .where(r.offer == offer, r.place == SEAT)) or 0)


async def place(conn: AsyncConnection, lead_id: int, offer: str, seats: int,
                now: datetime) -> str:
    """Give a confirmed registration a seat or a place on the waiting list, once."""
    await _lock(conn, offer)
    current = await conn.scalar(sa.select(offer_requests.c.place)
                                .where(offer_requests.c.lead_id == lead_id))
    if current is not None:
        return str(current)
    where = SEAT if await _seats_taken(conn, offer) < seats else WAITING
    await conn.execute(offer_requests.update().where(offer_requests.c.lead_id == lead_id)
                       .values(place=where, placed_at=now))
    return where


SEAT_MAIL = "seat"  # templates/mail/seat.*: "a seat is free for you"


async def release(conn: AsyncConnection, lead_id: int, now: datetime,
                  mail_from: str | None = None) -> int | None:
    """Forget a lead's application (withdrawn, erased, anonymised). A seat it held
    goes to the first on the waiting list, whose lead id is returned; with
    ``mail_from`` that family's mail is queued in the same transaction (a recipe the
    worker renders in the family's language), so a seat never passes on unannounced."""
    r = offer_requests.c
    row = (await conn.execute(sa.select(r.offer, r.place).where(r.lead_id == lead_id))).first()
    if row is None:
        return None
    if row.place == SEAT:
        await _lock(conn, row.offer)
    await conn.execute(offer_requests.delete().where(r.lead_id == lead_id))
    if row.place != SEAT:  # the seat it frees is the one the next family gets
        return None
    following = await conn.scalar(
        sa.select(r.lead_id).join(leads, leads.c.id == r.lead_id)
        .where(r.offer == row.offer, r.place == WAITING, leads.c.status == "confirmed")
        .order_by(r.placed_at, r.lead_id).limit(1))
    if following is None:
        return None
    await conn.execute(offer_requests.update().where(r.lead_id == following)
                       .values(place=SEAT, placed_at=now))
    family = (await conn.execute(sa.select(leads.c.public_id, leads.c.email, leads.c.language)
                                 .where(leads.c.id == following))).first()
    if mail_from is not None and family is not None and family.email:
        await enqueue_recipe(
            conn, kind="selfservice", recipient=addr_spec(family.email),
            message_id=new_message_id(mail_from), lead_id=int(following), now=now,
            recipe={"mail": "family", "template": SEAT_MAIL, "lang": family.language,
                    "lead": family.public_id})
    return int(following)


async def standing(db: Database, lead_id: int) -> Request | None:
    """The application of a lead as the family's page shows it."""
    async with db.reading() as conn:
        return await request_of(conn, lead_id)


KIND_LABELS_DE = {"probewohnen": "Probewohnen", "kennenlerntage": "Kennenlerntage",
                  "jobs": "Stelle", "bauen-wohnen": "Bauplätze und Wohnungen"}


def describe(request: Request, offers: Offers, region: Region) -> list[str]:
    """Lines about the application for the German mail to the organisations."""
    offer = offers.by_slug.get(request.offer)
    title = str(offer.title) if offer else request.offer
    town = region.municipalities.get(offer.municipality) if offer else None
    lines = [f"Angebot ({KIND_LABELS_DE.get(request.kind, request.kind)}): {title}"
             + (f", {town.name}" if town else "")]
    if request.starts is not None and request.weeks:
        end = request.starts + timedelta(weeks=request.weeks) - timedelta(days=1)
        lines.append(f"Gewünschter Zeitraum: {request.starts:%d.%m.%Y} bis {end:%d.%m.%Y} "
                     f"({request.weeks} {'Woche' if request.weeks == 1 else 'Wochen'})")
    if request.place == SEAT:
        lines.append("Platz: angemeldet (ein Platz ist frei gehalten)")
    elif request.place == WAITING:
        lines.append(f"Platz: Warteliste (Position {request.position})")
    if offer is not None and offer.kind == "jobs":
        lines.append(f"Arbeitgeber: {offer.employer}")
    return lines
