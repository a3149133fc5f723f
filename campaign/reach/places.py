"""Tracked print places: short codes for QR posters and cards, counted without cookies.

A place ("Ferienwohnung am See, Winterberg") has a code used in ``/q/{code}``;
a scan adds one to a daily counter for that place and redirects to the chosen
page with the campaign parameters, so the quiz and the lead form can carry the
place through to the lead (``leads.place_code``). Nothing about the visitor is
stored.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.engine import Row

from ..core.clock import local_today, utcnow
from ..core.db import Database, increment
from ..core.i18n import gettext as _
from ..core.schema import funnel_counts, leads, place_scans, places
from .attribution import campaign_slug, clean_attribution

TARGET_KINDS = ("landing", "quiz", "municipality", "lead_form")
MEDIA = ("qr", "print")
# No 0/o, 1/l/i: codes are typed off paper now and then.
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 6
FIGURES = ("visits", "finished", "leads", "confirmed")
_CONTROL = frozenset(chr(c) for c in [*range(32), *range(127, 160), 0x2028, 0x2029])


@dataclass(frozen=True)
class Place:
    code: str
    label: str
    org: str
    target_kind: str
    target_slug: str
    utm_medium: str
    utm_campaign: str
    pitch: str
    created_at: datetime

    @property
    def attribution(self) -> dict[str, str]:
        """The parameters a scan hands on; the place's code is also its utm_source."""
        return clean_attribution({
            "utm_source": self.code, "utm_medium": self.utm_medium,
            "utm_campaign": self.utm_campaign, "place": self.code,
        })

    @classmethod
    def from_row(cls, row: Row[Any]) -> Place:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str) -> str:
    """Codes are case-insensitive on paper; anything outside the alphabet is no code."""
    code = raw.strip().lower()
    return code if code and len(code) <= 16 and all(c in CODE_ALPHABET for c in code) else ""


def place_url(base_url: str, code: str) -> str:
    """The absolute URL printed into the QR code."""
    return f"{base_url.rstrip('/')}/q/{code}"


def target(place: Place) -> tuple[str, dict[str, str], dict[str, str]]:
    """(route name, path parameters, query) of the page a scan leads to."""
    names = {"landing": ("landing", {}), "quiz": ("quiz_start", {"quiz": place.target_slug}),
             "municipality": ("municipality", {"municipality": place.target_slug}),
             "lead_form": ("lead_form", {})}
    name, params = names[place.target_kind]
    return name, params, dict(place.attribution)


def target_query(place: Place) -> str:
    return urlencode(place.attribution)


def validate_place(label: str, target_kind: str, target_slug: str, medium: str,
                   campaign: str, pitch: str, quizzes: Mapping[str, Any],
                   municipalities: Mapping[str, Any]) -> dict[str, str]:
    """Field → error message for a new place; empty when it is fine (pure rule)."""
    errors: dict[str, str] = {}
    one_line = _("Bitte ohne Zeilenumbrüche oder Steuerzeichen eingeben.")
    if not label.strip():
        errors["label"] = _("Bitte geben Sie an, wo der Code hängt oder ausliegt.")
    elif _CONTROL & set(label):  # printed on a card and shown in the portal
        errors["label"] = one_line
    elif len(label) > 120:
        errors["label"] = _("Bitte höchstens 120 Zeichen.")
    if target_kind not in TARGET_KINDS:
        errors["target"] = _("Bitte wählen Sie eine Zielseite.")
    elif target_kind == "quiz" and target_slug not in quizzes:
        errors["target"] = _("Dieses Quiz gibt es nicht.")
    elif target_kind == "municipality" and target_slug not in municipalities:
        errors["target"] = _("Diesen Ort gibt es nicht.")
    if medium not in MEDIA:
        errors["medium"] = _("Bitte wählen Sie QR-Code oder Druck.")
    if not campaign_slug(campaign):
        errors["campaign"] = _("Bitte geben Sie einen Kampagnennamen an "
                               "(Buchstaben, Ziffern, Bindestrich).")
    if _CONTROL & set(pitch):
        errors["pitch"] = one_line
    elif len(pitch) > 140:
        errors["pitch"] = _("Bitte höchstens 140 Zeichen.")
    return errors


# -- store ---------------------------------------------------------------------------


async def create_place(db: Database, *, label: str, org: str, target_kind: str,
                       target_slug: str = "", medium: str = "qr", campaign: str,
                       pitch: str = "", created_by: str | None = None) -> Place:
    """Store a new place under a fresh code (retrying the rare collision)."""
    utm_campaign = campaign_slug(campaign)
    slug = target_slug if target_kind in ("quiz", "municipality") else ""
    for _attempt in range(10):
        code = new_code()
        async with db.transaction() as conn:
            taken = await conn.scalar(sa.select(places.c.code).where(places.c.code == code))
            if taken:
                continue
            await conn.execute(places.insert().values(
                code=code, label=label.strip(), org=org, target_kind=target_kind,
                target_slug=slug, utm_medium=medium, utm_campaign=utm_campaign,
                pitch=pitch.strip(), created_at=utcnow(), created_by=created_by))
        found = await get_place(db, code)
        assert found is not None
        return found
    raise RuntimeError("no free place code found")


async def get_place(db: Database, code: str) -> Place | None:
    row = await db.one(sa.select(places).where(places.c.code == code))
    return Place.from_row(row) if row else None


async def list_places(db: Database, org: str | None = None) -> list[Place]:
    """All places (agency) or those of one organisation, newest first."""
    query = sa.select(places).order_by(places.c.created_at.desc(), places.c.code)
    if org is not None:
        query = query.where(places.c.org == org)
    return [Place.from_row(r) for r in await db.all(query)]


async def count_scan(db: Database, code: str, day: date | None = None) -> None:
    """Add one scan for (place, day): an aggregate counter, nothing about the visitor."""
    async with db.transaction() as conn:
        await increment(conn, place_scans, {"place_code": code, "day": day or local_today()})


async def scans(db: Database, code: str) -> int:
    return int(await db.scalar(sa.select(sa.func.coalesce(sa.func.sum(place_scans.c.count), 0))
                               .where(place_scans.c.place_code == code)))


async def place_figures(db: Database, codes: list[str]) -> dict[str, dict[str, int]]:
    """Scans (as visits), quizzes finished, leads and confirmed leads per place code."""
    out = {c: dict.fromkeys(FIGURES, 0) for c in codes}
    if not codes:
        return out
    async with db.reading() as conn:
        for code, n in await conn.execute(
                sa.select(place_scans.c.place_code, sa.func.sum(place_scans.c.count))
                .where(place_scans.c.place_code.in_(codes))
                .group_by(place_scans.c.place_code)):
            out[code]["visits"] = int(n)
        for code, n in await conn.execute(
                sa.select(funnel_counts.c.utm_source, sa.func.sum(funnel_counts.c.count))
                .where(funnel_counts.c.step == "finished",
                       funnel_counts.c.utm_medium.in_(MEDIA),
                       funnel_counts.c.utm_source.in_(codes))
                .group_by(funnel_counts.c.utm_source)):
            out[code]["finished"] = int(n)
        confirmed = sa.func.sum(sa.case((leads.c.confirmed_at.isnot(None), 1), else_=0))
        for code, n, c in await conn.execute(
                sa.select(leads.c.place_code, sa.func.count(), confirmed)
                .where(leads.c.place_code.in_(codes)).group_by(leads.c.place_code)):
            out[code]["leads"], out[code]["confirmed"] = int(n), int(c or 0)
    return out
