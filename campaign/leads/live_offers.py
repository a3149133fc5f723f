"""The offers families see: the content files' offers with the partners' approved
edits laid over them.

An approved edit (``portal.offer_edits`` through the agency's review) is stored in
``published_pages`` with kind ``offer`` and the offer's slug as target; its payload
is the whole offer. It replaces the seed offer of that slug, or adds a new offer.
Every page, the application forms and routing read offers through ``merged`` on
each request, so every instance agrees as soon as the agency approves; validity
dates still rule through ``current_offers``.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..content.model import Text, TextList
from ..content.offers import Offer, Offers
from ..core.db import Database
from ..core.schema import published_pages

KIND = "offer"  # published_pages.kind of an approved offer
_DATES = ("valid_from", "valid_until", "stay_from", "stay_until", "starts", "ends")


def to_payload(offer: Offer) -> dict[str, Any]:
    """The offer as JSON (dates as ISO text, texts as language -> text)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(offer):
        value = getattr(offer, f.name)
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, Text):
            value = dict(value.values)
        elif isinstance(value, TextList):
            value = {lang: list(items) for lang, items in value.values.items()}
        out[f.name] = value
    return out


def from_payload(data: dict[str, Any]) -> Offer:
    """The offer of a payload ``to_payload`` made (unknown keys are ignored)."""
    names = {f.name for f in dataclasses.fields(Offer)}
    values: dict[str, Any] = {k: v for k, v in data.items() if k in names}
    for key in _DATES:
        if values.get(key):
            values[key] = date.fromisoformat(str(values[key]))
        elif key in values:
            values[key] = None
    for key in ("title", "summary"):
        values[key] = Text(MappingProxyType({k: str(v) for k, v in
                                             dict(values.get(key) or {}).items() if v}))
    values["programme"] = TextList(MappingProxyType(
        {k: tuple(str(i) for i in v) for k, v in dict(values.get("programme") or {}).items()
         if v}))
    return Offer(**values)


def _merge(base: Offers, rows: Any) -> Offers:
    out = dict(base.by_slug)
    for row in rows:
        out[row.target] = from_payload(dict(row.payload))
    return Offers(MappingProxyType(out))


_PUBLISHED = (sa.select(published_pages.c.target, published_pages.c.payload)
              .where(published_pages.c.kind == KIND)
              .order_by(published_pages.c.published_at, published_pages.c.target))


async def merged(db: Database, base: Offers) -> Offers:
    """The seed offers with every approved edit applied (new offers after the seed's)."""
    return _merge(base, await db.all(_PUBLISHED))


async def merged_in(conn: AsyncConnection, base: Offers) -> Offers:
    """``merged`` inside the caller's transaction (routing while confirming)."""
    return _merge(base, (await conn.execute(_PUBLISHED)).all())
