"""Staff profiles: the name, function and work phone a family sees once the person
is its contact, and an optional photo with its alternative text.

Staff edit their own profile in the portal; ``create-user --name`` sets the
name. The rules are pure functions; the photo's bytes live in the data folder
(``portal.photos``), the database holds only its file name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..core.db import Database
from ..core.schema import users
from .accounts import User, audit

NAME_MAX = 80
TITLE_MAX = 80
PHONE_MAX = 30
ALT_MAX = 200
# Digits with the usual separators, an optional leading + (``0271 123-45``,
# ``+49 (0)2761 8090``): what a family can dial.
_PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()/.\-]{3,29}$")


@dataclass(frozen=True)
class Profile:
    display_name: str
    job_title: str
    phone: str
    photo: str | None = None
    photo_alt: str = ""


def clean(value: str) -> str:
    """One line of text: inner whitespace collapsed, ends trimmed."""
    return " ".join(value.split())


def problems(p: Profile) -> dict[str, str]:
    """Fields that are not acceptable, with German msgids."""
    errors: dict[str, str] = {}
    if not p.display_name:
        errors["display_name"] = "Bitte geben Sie Ihren Namen ein, wie Familien ihn lesen sollen."
    elif len(p.display_name) > NAME_MAX:
        errors["display_name"] = "Der Name darf höchstens 80 Zeichen lang sein."
    if len(p.job_title) > TITLE_MAX:
        errors["job_title"] = "Die Funktion darf höchstens 80 Zeichen lang sein."
    if p.phone and not _PHONE_RE.match(p.phone):
        errors["phone"] = ("Bitte geben Sie eine Telefonnummer aus Ziffern an, gern mit "
                           "Leerzeichen, Bindestrich oder + vorn, höchstens 30 Zeichen.")
    if len(p.photo_alt) > ALT_MAX:
        errors["photo_alt"] = "Die Bildbeschreibung darf höchstens 200 Zeichen lang sein."
    for name, value in (("display_name", p.display_name), ("job_title", p.job_title),
                        ("photo_alt", p.photo_alt)):
        if name not in errors and not value.isprintable():
            errors[name] = "Bitte verwenden Sie keine Steuerzeichen."
    return errors


async def get(db: Database, user_id: int) -> Profile:
    row = (await db.one(sa.select(users.c.display_name, users.c.job_title, users.c.phone,
                                  users.c.photo, users.c.photo_alt)
                        .where(users.c.id == user_id)))
    if row is None:
        return Profile("", "", "")
    return Profile(row.display_name or "", row.job_title or "", row.phone or "", row.photo,
                   row.photo_alt or "")


async def save(db: Database, user: User, p: Profile, now: datetime) -> None:
    """Store name, function, phone and the photo's text (not the photo: ``set_photo``)."""
    async with db.transaction() as conn:
        await conn.execute(users.update().where(users.c.id == user.id).values(
            display_name=p.display_name or None, job_title=p.job_title or None,
            phone=p.phone or None, photo_alt=p.photo_alt or None))
        await audit(conn, user, "profile", now)


async def set_name(db: Database, user_id: int, name: str) -> None:
    async with db.transaction() as conn:
        await conn.execute(users.update().where(users.c.id == user_id)
                           .values(display_name=clean(name) or None))


async def set_photo(db: Database, user: User, photo: str | None, now: datetime) -> str | None:
    """Point the profile at a new photo file (or none); returns the file it replaced."""
    async with db.transaction() as conn:
        old = await conn.scalar(sa.select(users.c.photo).where(users.c.id == user.id))
        await conn.execute(users.update().where(users.c.id == user.id).values(photo=photo))
        await audit(conn, user, "photo", now, "set" if photo else "removed")
    return str(old) if old else None


async def photo_in_use(db: Database, photo: str) -> bool:
    """Whether an active account shows this photo (only those are served)."""
    return bool(await db.scalar(sa.select(users.c.id).where(users.c.photo == photo,
                                                            users.c.active)))
