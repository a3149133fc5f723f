"""The lead as stored: typed records and the reads every part of the workflow shares."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from ..core.clock import local
from ..core.db import Database
from ..core.schema import lead_interests, lead_municipalities, lead_recipients, leads
from ..core.vocab import INTERESTS

PERSONAL_FIELDS = ("name", "email", "phone", "message")
ACTIVE = ("pending", "confirmed")
HAS_DATA = ("pending", "confirmed", "withdrawn")
MAX_LEAD_ID = 2**31 - 1  # an INTEGER column; larger numbers name no lead

_NUMBER = re.compile(r"(?:L[\s-]*)?(?:(\d{4})[\s/-]+)?0*(\d{1,10})", re.IGNORECASE | re.ASCII)


def lead_number(lead_id: int, created_at: datetime) -> str:
    """The lead's number for people: ``L-2026-0042``, the year it came in (in
    Berlin) and its id. Derived, not stored: the id is unique and never changes,
    and so is the moment it came in, so the number is unique and stable without a
    column, a migration or a counter to keep in step on two backends. It is no
    secret (ids count up); the signed tokens in the family's and the
    organisations' links stay the only proof of access. Short enough to read
    out on the phone; the year tells a clerk at once how old a lead is."""
    return f"L-{local(created_at).year}-{lead_id:04d}"


def parse_lead_number(text: str) -> tuple[int | None, int] | None:
    """(year or None, id) of a typed number: ``L-2026-0042``, ``l 2026 42``,
    ``2026-42`` or ``42``; None when the text is no such number (or out of range)."""
    match = _NUMBER.fullmatch(text.strip())
    if not match:
        return None
    year = int(match[1]) if match[1] else None
    lead_id = int(match[2] or "0")
    if not 0 < lead_id <= MAX_LEAD_ID or (year is not None and not 2000 <= year <= 9998):
        return None
    return year, lead_id



@dataclass(frozen=True)
class OutcomeItem:
    """One place of the quiz outcome the family sent along (reasons in German)."""

    slug: str
    score: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Lead:
    id: int
    public_id: str
    status: str
    created_at: datetime
    confirmed_at: datetime | None
    withdrawn_at: datetime | None
    erased_at: datetime | None
    language: str
    name: str | None
    email: str | None
    phone: str | None
    message: str | None
    adults: int | None
    children: int | None
    child_ages: tuple[str, ...]
    interests: tuple[str, ...]
    timeframe: str | None
    municipalities: tuple[str, ...]
    consents: tuple[str, ...]
    consent_version: str | None
    consent_hash: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    place_code: str | None
    quiz: str | None
    quiz_outcome: tuple[OutcomeItem, ...]

    @property
    def attribution(self) -> dict[str, str]:
        return {"utm_source": self.utm_source or "", "utm_medium": self.utm_medium or "",
                "utm_campaign": self.utm_campaign or ""}

    @property
    def has_data(self) -> bool:
        return self.status in HAS_DATA

    @property
    def number(self) -> str:
        """The number people use for this lead (see ``lead_number``)."""
        return lead_number(self.id, self.created_at)


def outcome_items(value: Any) -> tuple[OutcomeItem, ...]:
    """The stored JSON outcome, keeping only well-formed entries."""
    items = []
    for item in value if isinstance(value, list) else ():
        if isinstance(item, dict) and isinstance(item.get("slug"), str):
            reasons = item.get("reasons")
            score = item.get("score")
            items.append(OutcomeItem(
                item["slug"], score if isinstance(score, int) else 0,
                tuple(str(r) for r in reasons if r) if isinstance(reasons, list) else ()))
    return tuple(items)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


async def load(conn: AsyncConnection, where: Any) -> list[Lead]:
    """Leads matching ``where`` (a condition on ``leads``), with their chosen lists."""
    rows = (await conn.execute(sa.select(leads).where(where).order_by(leads.c.id))).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    towns: dict[int, list[str]] = {i: [] for i in ids}
    for lead_id, slug in await conn.execute(
            sa.select(lead_municipalities.c.lead_id, lead_municipalities.c.slug)
            .where(lead_municipalities.c.lead_id.in_(ids))
            .order_by(lead_municipalities.c.lead_id, lead_municipalities.c.position)):
        towns[lead_id].append(slug)
    interests: dict[int, set[str]] = {i: set() for i in ids}
    for lead_id, code in await conn.execute(
            sa.select(lead_interests.c.lead_id, lead_interests.c.code)
            .where(lead_interests.c.lead_id.in_(ids))):
        interests[lead_id].add(code)
    return [_lead(r, towns[r.id], interests[r.id]) for r in rows]


def _lead(row: Row[Any], towns: Sequence[str], interests: set[str]) -> Lead:
    return Lead(
        id=row.id, public_id=row.public_id, status=row.status, created_at=row.created_at,
        confirmed_at=row.confirmed_at, withdrawn_at=row.withdrawn_at, erased_at=row.erased_at,
        language=row.language, name=row.name, email=row.email, phone=row.phone,
        message=row.message, adults=row.adults, children=row.children,
        child_ages=_strings(row.child_ages),
        interests=tuple(c for c in INTERESTS if c in interests) + tuple(
            sorted(c for c in interests if c not in INTERESTS)),
        timeframe=row.timeframe, municipalities=tuple(towns), consents=_strings(row.consents),
        consent_version=row.consent_version, consent_hash=row.consent_hash,
        utm_source=row.utm_source, utm_medium=row.utm_medium, utm_campaign=row.utm_campaign,
        place_code=row.place_code, quiz=row.quiz, quiz_outcome=outcome_items(row.quiz_outcome),
    )


async def by_public_id(db: Database, public_id: str) -> Lead | None:
    async with db.reading() as conn:
        found = await load(conn, leads.c.public_id == public_id)
    return found[0] if found else None


async def latest_by_email(conn: AsyncConnection, email: str) -> Lead | None:
    """The newest lead that still holds data for this address (case does not matter)."""
    latest = await conn.scalar(
        sa.select(leads.c.id)
        .where(sa.func.lower(leads.c.email) == email.strip().lower(),
               leads.c.email.isnot(None), leads.c.status.in_(HAS_DATA))
        .order_by(leads.c.created_at.desc(), leads.c.id.desc()).limit(1))
    found = await load(conn, leads.c.id == latest) if latest is not None else []
    return found[0] if found else None


async def by_id(db: Database, lead_id: int) -> Lead | None:
    async with db.reading() as conn:
        found = await load(conn, leads.c.id == lead_id)
    return found[0] if found else None


@dataclass(frozen=True)
class Delivery:
    """One organisation that received a lead."""

    lead_id: int
    org: str
    reason: str
    status: str
    routed_at: datetime
    acknowledged_at: datetime | None
    reminded_at: datetime | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> Delivery:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


async def deliveries(conn: AsyncConnection, lead_id: int) -> list[Delivery]:
    rows = await conn.execute(
        sa.select(lead_recipients).where(lead_recipients.c.lead_id == lead_id)
        .order_by(lead_recipients.c.routed_at, lead_recipients.c.org))
    return [Delivery.from_row(r) for r in rows]


async def recipients(db: Database, lead_id: int) -> list[Delivery]:
    async with db.reading() as conn:
        return await deliveries(conn, lead_id)
