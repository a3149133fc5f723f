"""Webhook receivers of an organisation and the events queued for them.

An event is one outbox row per active receiver of the organisation, written in
the caller's transaction (the change that causes it commits with its event or
not at all). ``message_id`` is the event id and ``(webhook_id, message_id)`` is
unique, so an event reaches each receiver at most once however often the code
that queues it runs. Bodies carry ids and codes only: the receiver fetches a
lead's data through the API (``/api/v1/leads/{id}``), so an erasure has no
personal data to chase in queued or sent events.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..core.db import Database
from ..core.schema import outbox, webhooks
from ..core.settings import Settings

EVENTS = ("lead.routed", "lead.stage_changed", "lead.erased", "ping")
SIGNATURE_HEADER = "X-Campaign-Signature"
URL_MAX = 2000
RECENT = 20


@dataclass(frozen=True)
class Webhook:
    id: int
    org: str
    url: str
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class HookDelivery:
    """One event sent (or to be sent) to one receiver, as the portal lists it."""

    id: int
    event_id: str
    event: str
    url: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=<hex HMAC-SHA256 of the raw body>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def url_problem(url: str, settings: Settings) -> str | None:
    """Why ``url`` cannot be a receiver (a German sentence), or None. Addresses are
    checked again at every delivery (``hooks_http``), when the name is resolved."""
    if not url or len(url) > URL_MAX or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return "Bitte eine vollständige Adresse angeben."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "Bitte eine vollständige Adresse angeben."
    allowed = ("https",) if settings.production else ("https", "http")
    if parts.scheme not in allowed:
        return "Nur https://-Adressen sind erlaubt."
    if not parts.hostname or parts.username or parts.password:
        return "Bitte eine Adresse ohne Zugangsdaten, mit Rechnername angeben."
    return None


async def add(db: Database, org: str, url: str, *, now: datetime, created_by: str = ""
              ) -> tuple[int, str]:
    """Register a receiver; returns its id and the secret (shown once)."""
    secret = "whsec_" + secrets.token_hex(32)
    async with db.transaction() as conn:
        result = await conn.execute(webhooks.insert().values(
            org=org, url=url, secret=secret, created_at=now, created_by=created_by)
            .returning(webhooks.c.id))
        return int(result.scalar_one()), secret


async def remove(db: Database, org: str, webhook_id: int, now: datetime) -> bool:
    """Stop sending to a receiver of ``org``; its queued events are dropped."""
    async with db.transaction() as conn:
        changed = await conn.execute(webhooks.update().where(
            webhooks.c.id == webhook_id, webhooks.c.org == org, webhooks.c.revoked_at.is_(None))
            .values(revoked_at=now))
        await conn.execute(outbox.delete().where(outbox.c.webhook_id == webhook_id,
                                                 outbox.c.status != "sent"))
        return bool(changed.rowcount)


async def active(db: Database, org: str) -> list[Webhook]:
    rows = await db.all(sa.select(webhooks).where(webhooks.c.org == org,
                                                  webhooks.c.revoked_at.is_(None))
                        .order_by(webhooks.c.id))
    return [Webhook(r.id, r.org, r.url, r.created_at, r.created_by) for r in rows]


async def receiver(db: Database, webhook_id: int) -> tuple[str, str] | None:
    """(url, secret) of an active receiver, for the worker."""
    row = await db.one(sa.select(webhooks.c.url, webhooks.c.secret).where(
        webhooks.c.id == webhook_id, webhooks.c.revoked_at.is_(None)))
    return None if row is None else (row.url, row.secret)


def body(event_id: str, event: str, org: str, data: dict[str, Any], now: datetime) -> bytes:
    return json.dumps({"id": event_id, "event": event, "organisation": org,
                       "created_at": now.isoformat(), "data": data},
                      ensure_ascii=False, separators=(",", ":")).encode()


async def queue(conn: AsyncConnection, org: str, event: str, data: dict[str, Any], *,
                now: datetime, lead_id: int | None = None, only: int | None = None,
                event_id: str | None = None) -> str | None:
    """Queue ``event`` for every active receiver of ``org`` (or receiver ``only``) in
    the open transaction; returns the event id, or None when nobody listens.
    ``lead_id`` ties the rows to a lead, so its erasure drops what is still queued."""
    assert event in EVENTS
    where = [webhooks.c.org == org, webhooks.c.revoked_at.is_(None)]
    if only is not None:
        where.append(webhooks.c.id == only)
    hooks = (await conn.execute(sa.select(webhooks.c.id, webhooks.c.url).where(*where))).all()
    if not hooks:
        return None
    event_id = event_id or "evt_" + uuid.uuid4().hex
    message = body(event_id, event, org, data, now)
    await conn.execute(outbox.insert(), [
        {"kind": "webhook", "lead_id": lead_id, "org": org, "recipient": h.url,
         "message_id": event_id, "message": message, "webhook_id": h.id,
         "next_attempt_at": now, "created_at": now} for h in hooks])
    return event_id


async def recent(db: Database, org: str, limit: int = RECENT) -> list[HookDelivery]:
    """The organisation's latest deliveries, newest first (no body, no secret)."""
    o = outbox.c
    rows = await db.all(sa.select(o.id, o.message_id, o.message, o.recipient, o.status,
                                  o.attempts, o.last_error, o.created_at, o.sent_at)
                        .where(o.org == org, o.webhook_id.isnot(None))
                        .order_by(o.id.desc()).limit(limit))
    return [HookDelivery(r.id, r.message_id, _event_of(bytes(r.message)), r.recipient,
                         r.status, r.attempts, r.last_error, r.created_at, r.sent_at)
            for r in rows]


def _event_of(message: bytes) -> str:
    try:
        return str(json.loads(message)["event"])
    except (ValueError, KeyError, TypeError):
        return ""
