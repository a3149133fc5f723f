"""How-tos (Wissenspool): short articles any organisation writes for all, with tags,
attachments and "hilfreich" marks (one per person), found with the database's
own full-text search (``core.db.article_matches``).

Bodies are plain text (the page escapes everything and keeps paragraphs).
Attachments are taken as PDF, PNG, JPEG or WebP only, judged by their content
(not the name), at most ``MAX_UPLOAD`` bytes together, and stored in the
database so that every instance serves them, to signed-in staff only.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from PIL import Image, UnidentifiedImageError

from ..core.db import Database, article_matches
from ..core.schema import article_files, article_marks, articles

MAX_UPLOAD = 5 * 1024 * 1024
MAX_FILES = 3
TITLE_MAX, BODY_MAX, TAGS_MAX, TAG_MAX = 160, 20_000, 8, 30
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg",
              "image/webp": ".webp"}
PAGE = 50


class FileRefused(Exception):
    """An attachment we do not take; the message is a German msgid."""


@dataclass(frozen=True)
class Draft:
    title: str = ""
    body: str = ""
    tags: str = ""


@dataclass(frozen=True)
class Attachment:
    id: int
    name: str
    media_type: str
    size: int


@dataclass(frozen=True)
class Article:
    id: int
    org: str
    title: str
    body: str
    tags: tuple[str, ...]
    created_at: datetime
    helpful: int
    marked: bool  # by the person who looks
    files: tuple[Attachment, ...] = ()

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in re.split(r"\n\s*\n", self.body) if p.strip()]


def tags_of(text: str) -> tuple[str, ...]:
    """Tags as typed ("Kita, Wohnen") → ("kita", "wohnen"): words, lower case, once."""
    found = re.findall(r"[\w-]+", text.lower())
    return tuple(dict.fromkeys(found))


def problems(draft: Draft) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not draft.title:
        errors["title"] = "Bitte geben Sie einen Titel ein."
    elif len(draft.title) > TITLE_MAX:
        errors["title"] = "Der Titel darf höchstens 160 Zeichen lang sein."
    if not draft.body:
        errors["body"] = "Bitte schreiben Sie einen Text."
    elif len(draft.body) > BODY_MAX:
        errors["body"] = "Der Text darf höchstens 20000 Zeichen lang sein."
    tags = tags_of(draft.tags)
    if len(tags) > TAGS_MAX or any(len(t) > TAG_MAX for t in tags):
        errors["tags"] = "Höchstens 8 Schlagwörter mit je höchstens 30 Zeichen."
    return errors


def media_type(data: bytes) -> str:
    """The type of an attachment by its content (CPU-bound for images: run in a thread)."""
    if len(data) > MAX_UPLOAD:
        raise FileRefused("Anhänge dürfen zusammen höchstens 5 MB groß sein.")
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-2048:]:
        return "application/pdf"
    try:
        with Image.open(io.BytesIO(data), formats=tuple(IMAGE_TYPES)) as image:
            kind = str(image.format)
            image.verify()
        return IMAGE_TYPES[kind]
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError,
            SyntaxError, KeyError) as exc:
        raise FileRefused("Anhänge nur als PDF, PNG, JPEG oder WebP.") from exc


def file_name(name: str, kind: str) -> str:
    """A plain name for the download: letters, digits, dot, dash; the right ending."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", name.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    return (stem.strip("-")[:80] or "anhang") + EXTENSIONS[kind]


async def create(db: Database, user_id: int, org: str, draft: Draft,
                 files: list[tuple[str, str, bytes]], now: datetime) -> int:
    """Store an article and its checked attachments (name, type, bytes); its id."""
    async with db.transaction() as conn:
        article_id = int((await conn.execute(articles.insert().values(
            org=org, title=draft.title, body=draft.body, tags=" ".join(tags_of(draft.tags)),
            created_by=user_id, created_at=now, updated_at=now)
            .returning(articles.c.id))).scalar_one())
        for name, kind, data in files:
            await conn.execute(article_files.insert().values(
                article_id=article_id, name=name, media_type=kind, size=len(data), data=data,
                created_at=now))
    return article_id


async def update(db: Database, org: str, article_id: int, draft: Draft,
                 drop_files: set[int], now: datetime) -> bool:
    """Change the text and tags of one of ``org``'s articles and drop the attachments
    named; False when it is no article of theirs."""
    async with db.transaction() as conn:
        changed = await conn.execute(articles.update().where(
            articles.c.id == article_id, articles.c.org == org).values(
            title=draft.title, body=draft.body, tags=" ".join(tags_of(draft.tags)),
            updated_at=now))
        if changed.rowcount != 1:
            return False
        if drop_files:
            await conn.execute(article_files.delete().where(
                article_files.c.article_id == article_id, article_files.c.id.in_(drop_files)))
    return True


async def delete(db: Database, article_id: int, org: str | None) -> bool:
    """Delete an article of ``org`` (None: any, for the agency); its attachments and
    marks go with it (ON DELETE CASCADE). False when there is no such article."""
    where = [articles.c.id == article_id] + ([articles.c.org == org] if org else [])
    async with db.transaction() as conn:
        gone = await conn.execute(articles.delete().where(*where))
    return bool(gone.rowcount == 1)


def _listing(user_id: int) -> sa.Select[Any]:
    a, m = articles, article_marks
    helpful = sa.select(sa.func.count()).where(m.c.article_id == a.c.id).scalar_subquery()
    marked = sa.exists().where(m.c.article_id == a.c.id, m.c.user_id == user_id)
    return sa.select(a, helpful.label("helpful"), marked.label("marked"))


def _article(row: Any, files: tuple[Attachment, ...] = ()) -> Article:
    return Article(row.id, row.org, row.title, row.body, tuple(row.tags.split()),
                   row.created_at, int(row.helpful), bool(row.marked), files)


async def search(db: Database, user_id: int, query: str = "", tag: str = "") -> list[Article]:
    """The newest articles, or those matching ``query`` (words or word starts) and ``tag``."""
    statement = _listing(user_id)
    if query.strip():
        statement = statement.where(article_matches(db.backend, query))
    if tag:
        statement = statement.where((sa.literal(" ") + articles.c.tags + " ")
                                    .contains(f" {tag.lower()} ", autoescape=True))
    rows = await db.all(statement.order_by(articles.c.created_at.desc(), articles.c.id.desc())
                        .limit(PAGE))
    return [_article(row) for row in rows]


async def get(db: Database, user_id: int, article_id: int) -> Article | None:
    row = await db.one(_listing(user_id).where(articles.c.id == article_id))
    if row is None:
        return None
    f = article_files
    found = await db.all(sa.select(f.c.id, f.c.name, f.c.media_type, f.c.size)
                         .where(f.c.article_id == article_id).order_by(f.c.id))
    return _article(row, tuple(Attachment(r.id, r.name, r.media_type, r.size) for r in found))


async def mark(db: Database, user_id: int, article_id: int, now: datetime) -> bool:
    """Mark an article as helpful, once per person; False: no such article."""
    async with db.transaction() as conn:
        if await conn.scalar(sa.select(articles.c.id).where(articles.c.id == article_id)) is None:
            return False
        await conn.execute(db.insert(article_marks).values(
            article_id=article_id, user_id=user_id, at=now).on_conflict_do_nothing())
    return True


async def attachment(db: Database, article_id: int, file_id: int) -> tuple[str, str, bytes] | None:
    """(name, type, bytes) of one attachment of the article."""
    f = article_files
    row = await db.one(sa.select(f.c.name, f.c.media_type, f.c.data)
                       .where(f.c.id == file_id, f.c.article_id == article_id))
    return (row.name, row.media_type, bytes(row.data)) if row is not None else None
