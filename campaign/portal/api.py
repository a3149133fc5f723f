"""The JSON API of an organisation: its tokens, and its leads as the CSV has them.

A token is 32 random bytes shown once; only its SHA-256 is stored and a
presented token is found by its hash and compared in constant time. A token
sees exactly the leads the portal lists for its organisation's staff (routed
to it, confirmed: never an erased or withdrawn one), with the CSV export's
values (``export.lead_rows``) under stable English keys.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..content import Content
from ..core.db import Database
from ..core.schema import api_tokens, leads
from ..leads.records import MAX_LEAD_ID, lead_number
from .cases import Case, Filters, Viewer, mine, read_cases, scope
from .export import LEAD_HEADER, lead_rows

TOKEN_PREFIX = "cmp_"
MAX_LIMIT = 100
DEFAULT_LIMIT = 25
USE_NOTED_EVERY = timedelta(minutes=5)  # "last used" without a write per request
# The CSV's columns (``export.LEAD_HEADER``) in the same order, as JSON keys.
FIELDS = ("number", "received_on", "received_time", "confirmed_on", "name", "email", "phone",
          "adults", "children", "age_groups", "interests", "timeframe", "municipalities",
          "stage", "acknowledged_on", "utm_source", "utm_medium", "utm_campaign",
          "place_code", "quiz", "language", "message")
INTEGER_FIELDS = ("adults", "children")
assert len(FIELDS) == len(LEAD_HEADER)
_NUMBER = re.compile(r"L-(\d{4})-(\d{4,10})")


@dataclass(frozen=True)
class ApiToken:
    id: int
    org: str
    name: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


async def create_token(db: Database, org: str, *, name: str = "", now: datetime,
                       created_by: str = "") -> str:
    """A new token for ``org``; the returned text is its only copy."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with db.transaction() as conn:
        await conn.execute(api_tokens.insert().values(
            org=org, name=name, token_hash=_digest(token), created_at=now,
            created_by=created_by))
    return token


async def authenticate(db: Database, token: str, now: datetime) -> str | None:
    """The organisation of a valid, unrevoked token, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = _digest(token)
    row = await db.one(sa.select(api_tokens.c.id, api_tokens.c.org, api_tokens.c.token_hash,
                                 api_tokens.c.last_used_at)
                       .where(api_tokens.c.token_hash == digest,
                              api_tokens.c.revoked_at.is_(None)))
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    if row.last_used_at is None or row.last_used_at < now - USE_NOTED_EVERY:
        async with db.transaction() as conn:
            await conn.execute(api_tokens.update().where(api_tokens.c.id == row.id)
                               .values(last_used_at=now))
    return str(row.org)


async def tokens(db: Database, org: str) -> list[ApiToken]:
    rows = await db.all(sa.select(api_tokens).where(api_tokens.c.org == org)
                        .order_by(api_tokens.c.revoked_at.isnot(None), api_tokens.c.id))
    return [ApiToken(r.id, r.org, r.name, r.created_at, r.created_by, r.last_used_at,
                     r.revoked_at) for r in rows]


async def revoke(db: Database, org: str, token_id: int, now: datetime) -> bool:
    async with db.transaction() as conn:
        changed = await conn.execute(api_tokens.update().where(
            api_tokens.c.id == token_id, api_tokens.c.org == org,
            api_tokens.c.revoked_at.is_(None)).values(revoked_at=now))
    return bool(changed.rowcount)


def as_json(case: Case, content: Content) -> dict[str, Any]:
    """One lead: the CSV row's values under ``FIELDS``, empty cells as null."""
    (row,) = lead_rows([case], content)
    item: dict[str, Any] = {"id": case.number,
                            "routed_at": case.routed_at.isoformat() if case.routed_at else None}
    for key, value in zip(FIELDS, row):
        item[key] = None if value is None or value == "" else value
    return item


async def page(db: Database, org: str, content: Content, *, limit: int, after: int = 0,
               since: datetime | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """Leads of ``org`` with an id above ``after`` (oldest first), and the cursor of
    the next page (the last id shown) or None. ``since``: routed to it since then."""
    viewer = Viewer(org, admin=False)
    where = scope(viewer, Filters()) + [leads.c.id > after]
    if since is not None:
        where.append(mine.c.routed_at >= since)
    found = await read_cases(db, viewer, where, order=(leads.c.id,), limit=limit + 1)
    more = len(found) > limit
    shown = found[:limit]
    return [as_json(c, content) for c in shown], (shown[-1].id if more else None)


async def one(db: Database, org: str, content: Content, number: str) -> dict[str, Any] | None:
    """The lead with this number (``L-2026-0042``, exactly) if ``org`` may see it."""
    match = _NUMBER.fullmatch(number)
    if match is None or not 0 < int(match[2]) <= MAX_LEAD_ID:
        return None
    viewer = Viewer(org, admin=False)
    found = await read_cases(db, viewer, scope(viewer, Filters()) + [
        leads.c.id == int(match[2])], order=(leads.c.id,), limit=1)
    if not found or lead_number(found[0].id, found[0].created_at) != number:
        return None
    return as_json(found[0], content)
