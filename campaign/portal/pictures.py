"""Pictures partners upload for their municipality's page.

An upload passes the checks of ``portal.photos`` (type by content, size and pixel
count before decoding, metadata stripped) and is re-encoded into responsive
widths, each as AVIF (when this Pillow can write it), WebP and a JPEG fallback.
The variants are stored as bytes in the database, so every instance serves
them; the original upload is not kept. A picture is addressed by a random key.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from PIL import Image, features

from ..core.db import Database
from ..core.schema import picture_variants, pictures
from .photos import bare_pixels

MAX_UPLOAD = 8 * 1024 * 1024
WIDTHS = (480, 960, 1440)
KEY_LEN = 32
# Best first: the browser takes the first <source> type it knows; JPEG is the <img>.
FORMATS: tuple[tuple[str, str], ...] = (
    *((("avif", "image/avif"),) if features.check("avif") else ()),
    ("webp", "image/webp"), ("jpeg", "image/jpeg"))
MIME = dict(FORMATS)
QUALITY = {"avif": 55, "webp": 72, "jpeg": 78}
AVIF_SPEED = 8  # faster encoding, files a little larger


@dataclass(frozen=True)
class Variant:
    width: int
    height: int
    format: str
    data: bytes


@dataclass(frozen=True)
class Picture:
    """A stored picture: its key, the size of its largest variant, and what exists."""

    key: str
    width: int
    height: int
    variants: tuple[tuple[int, str], ...]  # (width, format)

    def widths(self, fmt: str) -> list[int]:
        return sorted(w for w, f in self.variants if f == fmt)


def encode(data: bytes) -> list[Variant]:
    """Every variant of an upload (CPU-bound: run it in a thread); raises
    ``photos.PhotoRefused`` with a German msgid for what is not a picture we take."""
    bare = bare_pixels(data, max_bytes=MAX_UPLOAD, box=max(WIDTHS),
                       too_large="Das Bild darf höchstens 8 MB groß sein.")
    widths = [w for w in WIDTHS if w < bare.width] + [min(bare.width, max(WIDTHS))]
    out: list[Variant] = []
    for width in sorted(set(widths)):
        height = max(1, round(bare.height * width / bare.width))
        scaled = bare if width == bare.width else bare.resize((width, height),
                                                             Image.Resampling.LANCZOS)
        for fmt, _mime in FORMATS:
            buffer = io.BytesIO()
            options: dict[str, object] = {"quality": QUALITY[fmt]}
            if fmt == "jpeg":
                options.update(optimize=True, progressive=True)
            elif fmt == "webp":
                options["method"] = 4
            else:
                options["speed"] = AVIF_SPEED
            scaled.save(buffer, fmt.upper(), **options)
            out.append(Variant(width, height, fmt, buffer.getvalue()))
    return out


async def store(db: Database, target: str, variants: list[Variant], now: datetime) -> str:
    """Store the variants of a new picture for ``target``; returns its key."""
    key = secrets.token_hex(KEY_LEN // 2)
    largest = max(variants, key=lambda v: v.width)
    async with db.transaction() as conn:
        pid = (await conn.execute(pictures.insert().values(
            key=key, target=target, width=largest.width, height=largest.height,
            created_at=now).returning(pictures.c.id))).scalar_one()
        await conn.execute(picture_variants.insert(), [
            {"picture_id": pid, "width": v.width, "format": v.format, "height": v.height,
             "data": v.data} for v in variants])
    return key


async def described(db: Database, keys: list[str]) -> dict[str, Picture]:
    """The stored pictures among ``keys`` (unknown keys are left out)."""
    if not keys:
        return {}
    rows = await db.all(
        sa.select(pictures.c.key, pictures.c.width, pictures.c.height,
                  picture_variants.c.width.label("vw"), picture_variants.c.format)
        .join(picture_variants, picture_variants.c.picture_id == pictures.c.id)
        .where(pictures.c.key.in_(keys)))
    found: dict[str, Picture] = {}
    for r in rows:
        p = found.get(r.key) or Picture(r.key, r.width, r.height, ())
        found[r.key] = Picture(p.key, p.width, p.height, (*p.variants, (r.vw, r.format)))
    return found


async def target_of(db: Database, key: str) -> str | None:
    """What the picture was uploaded for (``kind:target``), or None when unknown."""
    value = await db.scalar(sa.select(pictures.c.target).where(pictures.c.key == key))
    return str(value) if value is not None else None


async def variant(db: Database, key: str, width: int, fmt: str) -> bytes | None:
    row = await db.one(
        sa.select(picture_variants.c.data)
        .join(pictures, pictures.c.id == picture_variants.c.picture_id)
        .where(pictures.c.key == key, picture_variants.c.width == width,
               picture_variants.c.format == fmt))
    return bytes(row.data) if row is not None else None


async def delete_unused(db: Database, target: str, keep: set[str]) -> int:
    """Delete the pictures of ``target`` no proposal or published page uses any more."""
    async with db.transaction() as conn:
        ids = [r.id for r in (await conn.execute(
            sa.select(pictures.c.id).where(pictures.c.target == target,
                                           pictures.c.key.not_in(keep or {""})))).all()]
        if ids:
            await conn.execute(picture_variants.delete()
                               .where(picture_variants.c.picture_id.in_(ids)))
            await conn.execute(pictures.delete().where(pictures.c.id.in_(ids)))
    return len(ids)
