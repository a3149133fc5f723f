"""The outbox table: queue messages in the caller's transaction; lease, record
and re-queue them for the worker.

A message is sent only after the transaction that queued it commits, so a
rolled-back state change never sends anything and a committed one always
will (the transactional-outbox pattern). Workers claim due rows with a lease:
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the single writer on SQLite; a row
is leased to one worker at a time, and a crashed worker's rows come back
when its lease runs out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from ..core.clock import utcnow
from ..core.db import Database
from ..core.schema import outbox

LEASE = timedelta(minutes=5)  # far longer than a batch takes


@dataclass(frozen=True)
class Queued:
    """A row the worker holds: what to send, to whom, and how often it was tried."""

    id: int
    recipient: str
    message_id: str
    message: bytes
    attempts: int
    recipe: dict[str, Any] | None = None  # built by the worker when ``message`` is empty
    webhook_id: int | None = None  # a webhook event (``hooks_http``), not a mail

    @classmethod
    def from_row(cls, row: Row[Any]) -> Queued:
        return cls(row.id, row.recipient, row.message_id, bytes(row.message), row.attempts,
                   row.recipe if isinstance(row.recipe, dict) else None, row.webhook_id)


@dataclass(frozen=True)
class OutboxEntry:
    """A row as the portal and the command line list it."""

    id: int
    kind: str
    lead_id: int | None
    org: str | None
    recipient: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> OutboxEntry:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


async def enqueue(conn: AsyncConnection, message: EmailMessage, *, kind: str,
                  lead_id: int | None = None, org: str | None = None,
                  not_before: datetime | None = None) -> int:
    """Insert one outbox row in the open transaction ``conn``; returns its id."""
    now = utcnow()
    recipient = parseaddr(str(message["To"]))[1]
    result = await conn.execute(outbox.insert().values(
        kind=kind, lead_id=lead_id, org=org, recipient=recipient,
        message_id=str(message["Message-ID"]), message=message.as_bytes(),
        next_attempt_at=not_before or now, created_at=now).returning(outbox.c.id))
    return int(result.scalar_one())


async def enqueue_recipe(conn: AsyncConnection, *, kind: str, recipient: str, message_id: str,
                         recipe: dict[str, Any], lead_id: int | None = None,
                         org: str | None = None, now: datetime | None = None) -> int:
    """Queue a mail the worker builds right before sending it (see ``Queued.recipe``):
    rendering a mail costs milliseconds of CPU the request need not spend, and the
    worker may still decide that nothing is to be sent (the lead is gone)."""
    now = now or utcnow()
    result = await conn.execute(outbox.insert().values(
        kind=kind, lead_id=lead_id, org=org, recipient=recipient, message_id=message_id,
        message=b"", recipe=recipe, next_attempt_at=now, created_at=now)
        .returning(outbox.c.id))
    return int(result.scalar_one())


async def note_recipe(conn: AsyncConnection, message_id: str, *, kind: str | None = None,
                      lead_id: int | None = None, org: str | None = None) -> None:
    """What a recipe turned out to be, found by the worker (a new link for this lead, a
    reset for this organisation's account): noted on its queued row, which is then
    counted, listed and erased like a mail queued as such from the start."""
    values = {name: value for name, value in
              {"kind": kind, "lead_id": lead_id, "org": org}.items() if value is not None}
    await conn.execute(outbox.update().where(outbox.c.message_id == message_id,
                                             outbox.c.status == "queued").values(**values))


async def drop(db: Database, worker_id: str, row_id: int) -> None:
    """A recipe with nothing to send (the lead is gone, the address unknown): delete it."""
    async with db.transaction() as conn:
        await conn.execute(outbox.delete().where(_own(row_id, worker_id),
                                                 outbox.c.status == "queued"))


async def claim(db: Database, worker_id: str, *, now: datetime, batch: int,
                lease: timedelta = LEASE) -> list[Queued]:
    """Lease up to ``batch`` due rows to ``worker_id`` and return them."""
    due = db.for_update(
        sa.select(outbox.c.id)
        .where(outbox.c.status == "queued", outbox.c.next_attempt_at <= now,
               sa.or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now))
        .order_by(outbox.c.next_attempt_at, outbox.c.id).limit(batch))
    async with db.transaction() as conn:
        ids = list((await conn.execute(due)).scalars())
        if not ids:
            return []
        rows = await conn.execute(
            outbox.update().where(outbox.c.id.in_(ids))
            .values(lease_owner=worker_id, lease_until=now + lease)
            .returning(outbox.c.id, outbox.c.recipient, outbox.c.message_id, outbox.c.message,
                       outbox.c.attempts, outbox.c.recipe, outbox.c.webhook_id))
        claimed = sorted((Queued.from_row(r) for r in rows), key=lambda q: ids.index(q.id))
    return claimed


def _own(row_id: int, worker_id: str) -> Any:
    # Only our own lease: never overwrite a row another worker holds now.
    return sa.and_(outbox.c.id == row_id, outbox.c.lease_owner == worker_id)


async def held(db: Database, worker_id: str, row_id: int) -> bool:
    """True while the row is still queued and leased to ``worker_id``. Erasing or
    withdrawing a lead deletes its unsent mails, also those a worker holds."""
    found = await db.scalar(sa.select(outbox.c.id).where(_own(row_id, worker_id),
                                                         outbox.c.status == "queued"))
    return found is not None


async def exists(db: Database, row_id: int) -> bool:
    """False once an erasure or withdrawal deleted the row."""
    return await db.scalar(sa.select(outbox.c.id).where(outbox.c.id == row_id)) is not None


async def record(db: Database, worker_id: str, outcomes: Sequence[tuple[str, Queued, str]],
                 *, now: datetime, max_attempts: int, backoff: Callable[[int], float]
                 ) -> dict[str, int]:
    """Write the outcomes of sent rows in one transaction: sent, retried later, dead.

    ``backoff(attempts)`` gives the seconds until the next attempt; the last
    attempt turns a temporary failure into a dead letter. A row built from its
    recipe in this run keeps the built bytes, so a retry sends exactly them."""
    counts = {"sent": 0, "retried": 0, "dead": 0}
    unlease = {"lease_owner": None, "lease_until": None}
    async with db.transaction() as conn:
        for outcome, row, error in outcomes:
            attempts = row.attempts + 1
            if outcome == "temporary" and attempts >= max_attempts:
                outcome, error = "dead", f"{error} (gave up after {attempts} attempts)"
            if outcome == "sent":
                values = {"status": "sent", "sent_at": utcnow(), "last_error": None}
            elif outcome == "dead":
                values = {"status": "dead", "last_error": error[:500]}
            else:
                outcome = "retried"
                values = {"last_error": error[:500],
                          "next_attempt_at": now + timedelta(seconds=backoff(attempts))}
            if row.recipe is not None and row.message:
                values.update(message=row.message, recipe=None)
            await conn.execute(outbox.update().where(_own(row.id, worker_id))
                               .values(attempts=attempts, **values, **unlease))
            counts[outcome] += 1
    return counts


async def release(db: Database, worker_id: str, ids: Sequence[int]) -> None:
    """Hand leased rows back untouched (the lease is nearly over)."""
    if not ids:
        return
    async with db.transaction() as conn:
        await conn.execute(outbox.update().where(outbox.c.id.in_(ids),
                                                 outbox.c.lease_owner == worker_id)
                           .values(lease_owner=None, lease_until=None))


async def requeue(db: Database, outbox_id: int | None = None, *, all_dead: bool = False) -> int:
    """Make a dead (or waiting) row due now with fresh attempts; returns rows changed."""
    query = outbox.update().values(status="queued", attempts=0, next_attempt_at=utcnow(),
                                   lease_owner=None, lease_until=None)
    if all_dead:
        query = query.where(outbox.c.status == "dead")
    elif outbox_id is None:
        return 0
    else:
        query = query.where(outbox.c.id == outbox_id, outbox.c.status.in_(("dead", "queued")))
    async with db.transaction() as conn:
        return (await conn.execute(query)).rowcount


async def lease_owners(db: Database) -> list[str]:
    rows = await db.all(sa.select(outbox.c.lease_owner).distinct().where(
        outbox.c.status == "queued", outbox.c.lease_owner.isnot(None)))
    return [r.lease_owner for r in rows]


async def release_owner(db: Database, owner: str) -> int:
    async with db.transaction() as conn:
        return (await conn.execute(
            outbox.update().where(outbox.c.lease_owner == owner, outbox.c.status == "queued")
            .values(lease_owner=None, lease_until=None))).rowcount


async def waiting(db: Database) -> list[OutboxEntry]:
    """Queued and dead rows, for the command line."""
    rows = await db.all(sa.select(outbox).where(outbox.c.status.in_(("queued", "dead")))
                        .order_by(outbox.c.status, outbox.c.id))
    return [OutboxEntry.from_row(r) for r in rows]


async def dead_letters(db: Database) -> list[OutboxEntry]:
    rows = await db.all(sa.select(outbox).where(outbox.c.status == "dead").order_by(outbox.c.id))
    return [OutboxEntry.from_row(r) for r in rows]


@dataclass(frozen=True)
class Backlog:
    queued: int
    dead: int
    oldest_queued: datetime | None


async def backlog(db: Database) -> Backlog:
    queued = sa.func.sum(sa.case((outbox.c.status == "queued", 1), else_=0))
    dead = sa.func.sum(sa.case((outbox.c.status == "dead", 1), else_=0))
    oldest = sa.func.min(sa.case((outbox.c.status == "queued", outbox.c.created_at)))
    row = await db.one(sa.select(queued.label("queued"), dead.label("dead"),
                                 oldest.label("oldest")))
    if row is None:
        return Backlog(0, 0, None)
    return Backlog(int(row.queued or 0), int(row.dead or 0), row.oldest)
