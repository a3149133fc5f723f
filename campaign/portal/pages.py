"""A municipality's page as its staff edit it: the welcome text (German, optionally
Dutch and English), the contact person families see, and up to ``MAX_PICTURES``
pictures with alt text and credit.

The content files are the seed; an approved edit (``portal.review``) overrides
them field by field on the family page. The rules here are pure functions.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from ..content.model import Municipality, Text
from ..core.db import Database
from ..core.i18n import LANGUAGES
from . import review

KIND = "municipality_page"
MAX_PICTURES = 6
WELCOME_MAX = 1200
NAME_MAX = 80
ALT_MAX = 200
CREDIT_MAX = 120
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class PictureRef:
    key: str
    alt: str
    credit: str


@dataclass(frozen=True)
class PageEdit:
    welcome: dict[str, str]  # language -> text; German is required
    contact_name: str
    contact_email: str
    pictures: tuple[PictureRef, ...] = ()

    def payload(self) -> dict[str, Any]:
        return {"welcome": dict(self.welcome), "contact_name": self.contact_name,
                "contact_email": self.contact_email,
                "pictures": [dataclasses.asdict(p) for p in self.pictures]}

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> PageEdit:
        return cls({k: str(v) for k, v in dict(data.get("welcome") or {}).items()},
                   str(data.get("contact_name", "")), str(data.get("contact_email", "")),
                   tuple(PictureRef(str(p["key"]), str(p.get("alt", "")),
                                    str(p.get("credit", "")))
                         for p in data.get("pictures") or []))


def owner(slug: str) -> str:
    """What the pictures of a municipality's page are stored under."""
    return f"{KIND}:{slug}"


def seed(m: Municipality) -> PageEdit:
    """The page as the content files have it."""
    return PageEdit({lang: m.welcome.values.get(lang, "") for lang in LANGUAGES},
                    m.contact_name, m.contact_email)


def clean_text(value: str) -> str:
    """Paragraphs kept, other whitespace collapsed, ends trimmed."""
    lines = [" ".join(line.split()) for line in value.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip()


def problems(edit: PageEdit) -> dict[str, str]:
    """Fields that are not acceptable, with German msgids (the portal is German)."""
    errors: dict[str, str] = {}
    for lang in LANGUAGES:
        text = edit.welcome.get(lang, "")
        if len(text) > WELCOME_MAX:
            errors[f"welcome_{lang}"] = "Der Willkommenstext darf höchstens 1200 Zeichen lang sein."
        elif not text.replace("\n", "").isprintable():
            errors[f"welcome_{lang}"] = "Bitte verwenden Sie keine Steuerzeichen."
    if not edit.welcome.get("de"):
        errors["welcome_de"] = "Bitte geben Sie den deutschen Willkommenstext ein."
    if not edit.contact_name:
        errors["contact_name"] = "Bitte geben Sie die Ansprechperson für Familien an."
    elif len(edit.contact_name) > NAME_MAX or not edit.contact_name.isprintable():
        errors["contact_name"] = "Der Name darf höchstens 80 Zeichen lang sein."
    if not _EMAIL_RE.match(edit.contact_email) or len(edit.contact_email) > 254:
        errors["contact_email"] = "Bitte geben Sie eine gültige E-Mail-Adresse an."
    return errors


def picture_problems(alt: str, credit: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not alt:
        errors["alt"] = "Bitte beschreiben Sie, was auf dem Bild zu sehen ist."
    elif len(alt) > ALT_MAX or not alt.isprintable():
        errors["alt"] = "Die Bildbeschreibung darf höchstens 200 Zeichen lang sein."
    if not credit:
        errors["credit"] = "Bitte nennen Sie, wer das Bild gemacht hat."
    elif len(credit) > CREDIT_MAX or not credit.isprintable():
        errors["credit"] = "Die Bildrechte dürfen höchstens 120 Zeichen lang sein."
    return errors


def lines(payload: dict[str, Any]) -> list[str]:
    """The page as text lines, for the reviewer's diff."""
    edit = PageEdit.from_payload(payload)
    out = []
    for lang in LANGUAGES:
        for line in (edit.welcome.get(lang) or "").split("\n"):
            out.append(f"Willkommenstext ({lang}): {line}")
    out.append(f"Ansprechperson: {edit.contact_name} <{edit.contact_email}>")
    out += [f"Bild {n}: {p.alt} (Foto: {p.credit}) [{p.key[:8]}]"
            for n, p in enumerate(edit.pictures, 1)]
    return out


review.register(review.Kind(KIND, "Seite einer Kommune", lines,
                            lambda payload: {p.key for p in
                                             PageEdit.from_payload(payload).pictures},
                            # the texts; pictures are added and moved one by one
                            edited=lambda payload: {k: v for k, v in payload.items()
                                                    if k != "pictures"}))


async def current(db: Database, m: Municipality) -> PageEdit:
    """What families see now: the published edit, else the seed."""
    payload = await review.published(db, KIND, m.slug)
    return PageEdit.from_payload(payload) if payload else seed(m)


async def draft(db: Database, m: Municipality) -> PageEdit:
    """What the staff edit: the pending proposal, else what families see now."""
    waiting = await review.pending(db, KIND, m.slug)
    return PageEdit.from_payload(waiting.payload) if waiting else await current(db, m)


def shown(m: Municipality, edit: PageEdit) -> Municipality:
    """The municipality as the family page shows it, with the published edit applied;
    an empty translation falls back to the seed's, then to German."""
    welcome = {lang: edit.welcome.get(lang) or (m.welcome.values.get(lang, "")
                                                 if lang != "de" else "")
               for lang in LANGUAGES}
    if edit.welcome.get("de") != m.welcome.values.get("de"):
        # A new German text: a stale translation of the old one would mislead.
        welcome = {lang: edit.welcome.get(lang, "") for lang in LANGUAGES}
    return dataclasses.replace(m, welcome=Text({k: v for k, v in welcome.items() if v}),
                               contact_name=edit.contact_name,
                               contact_email=edit.contact_email)
