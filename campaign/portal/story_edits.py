"""A municipality's own story of a family who came, proposed by its staff: title,
text, the family as described (e.g. "Familie M., aus Dortmund") and an optional
photo with alt text and credit.

The shipped stories (``content.stories``) are examples; once the agency approves a
town's own story (``portal.review``) it replaces that town's examples on the
landing and municipality pages, and is not marked as an example. The rules here
are pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ..core.db import Database
from ..core.schema import published_pages
from . import pages, review
from .pages import PictureRef

KIND = "municipality_story"
LIMITS = {"title": 120, "family": 80, "came_from": 80, "text": 1200}
# A story may also be told in Dutch and English (title and text both, or neither);
# where a language is missing the German one is shown, marked as German.
OTHER_LANGUAGES = ("nl", "en")
TRANSLATED = ("title", "came_from", "text")


@dataclass(frozen=True)
class StoryEdit:
    title: str
    family: str  # how the family is named, e.g. "Familie M."
    came_from: str  # e.g. "aus Dortmund" (may be empty)
    text: str
    picture: PictureRef | None = None
    # language -> {"title", "came_from", "text"}; only languages the staff filled in
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        pic = self.picture
        return {"title": self.title, "family": self.family, "came_from": self.came_from,
                "text": self.text,
                "picture": {"key": pic.key, "alt": pic.alt, "credit": pic.credit} if pic
                else None,
                "translations": {lang: dict(t) for lang, t in self.translations.items()}}

    def in_language(self, lang: str, name: str) -> str:
        """The field in ``lang`` ('' when not translated)."""
        return str(self.translations.get(lang, {}).get(name, ""))

    @classmethod
    def from_payload(cls, data: Mapping[str, Any] | None) -> StoryEdit | None:
        if not data:
            return None
        pic = data.get("picture")
        given = data.get("translations")
        translations = {lang: {n: str(given[lang].get(n, "")) for n in TRANSLATED}
                        for lang in OTHER_LANGUAGES
                        if isinstance(given, dict) and isinstance(given.get(lang), dict)}
        return cls(str(data.get("title", "")), str(data.get("family", "")),
                   str(data.get("came_from", "")), str(data.get("text", "")),
                   PictureRef(str(pic["key"]), str(pic.get("alt", "")),
                              str(pic.get("credit", ""))) if isinstance(pic, dict) else None,
                   translations)


def owner(slug: str) -> str:
    """What the pictures of a town's story are stored under."""
    return f"{KIND}:{slug}"


def problems(edit: StoryEdit) -> dict[str, str]:
    """Fields that are not acceptable, with German msgids (the portal is German)."""
    errors: dict[str, str] = {}
    required = {"title": "Bitte geben Sie eine Überschrift ein.",
                "family": "Bitte beschreiben Sie die Familie, z. B. „Familie M.“.",
                "text": "Bitte erzählen Sie die Geschichte."}
    for name, limit in LIMITS.items():
        value: str = getattr(edit, name)
        if not value and name in required:
            errors[name] = required[name]
        elif len(value) > limit:
            errors[name] = f"Bitte höchstens {limit} Zeichen."
        elif not value.replace("\n", "").isprintable():
            errors[name] = "Bitte verwenden Sie keine Steuerzeichen."
    for lang, fields in edit.translations.items():
        for name in TRANSLATED:
            value = fields.get(name, "")
            if len(value) > LIMITS[name]:
                errors[f"{name}_{lang}"] = f"Bitte höchstens {LIMITS[name]} Zeichen."
            elif not value.replace("\n", "").isprintable():
                errors[f"{name}_{lang}"] = "Bitte verwenden Sie keine Steuerzeichen."
        for name, other in (("title", "text"), ("text", "title")):
            if not fields.get(name) and fields.get(other):
                errors.setdefault(f"{name}_{lang}", "Bitte geben Sie Überschrift und Text in "
                                  "dieser Sprache an, oder keins von beiden.")
    return errors


def lines(payload: dict[str, Any]) -> list[str]:
    """The story as text lines, for the reviewer's diff."""
    edit = StoryEdit.from_payload(payload)
    if edit is None:
        return []
    out = [f"Überschrift: {edit.title}", f"Familie: {edit.family} {edit.came_from}".rstrip()]
    out += [f"Text: {line}" for line in edit.text.split("\n")]
    for lang, fields in edit.translations.items():
        out += [f"Überschrift ({lang}): {fields.get('title', '')}",
                f"Woher ({lang}): {fields.get('came_from', '')}"]
        out += [f"Text ({lang}): {line}" for line in fields.get("text", "").split("\n")]
    if edit.picture:
        p = edit.picture
        out.append(f"Bild: {p.alt} (Foto: {p.credit}) [{p.key[:8]}]")
    return out


def _keys(payload: dict[str, Any]) -> set[str]:
    edit = StoryEdit.from_payload(payload)
    return {edit.picture.key} if edit and edit.picture else set()


review.register(review.Kind(KIND, "Geschichte einer Kommune", lines, _keys,
                            page="/partner/geschichte"))
clean_text = pages.clean_text


async def draft(db: Database, slug: str) -> StoryEdit | None:
    """What the staff edit: the pending proposal, else the approved story, else none."""
    waiting = await review.pending(db, KIND, slug)
    return StoryEdit.from_payload(waiting.payload if waiting
                                  else await review.published(db, KIND, slug))


async def published_all(db: Database) -> dict[str, StoryEdit]:
    """Every town's approved story (one query, read per request: every instance agrees)."""
    rows = await db.all(sa.select(published_pages.c.target, published_pages.c.payload)
                        .where(published_pages.c.kind == KIND))
    out = {}
    for row in rows:
        edit = StoryEdit.from_payload(dict(row.payload))
        if edit is not None and not problems(edit):
            out[str(row.target)] = edit
    return out
