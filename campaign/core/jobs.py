"""Periodic jobs that run once across all instances, and counters for rate limits.

Both live in the database, so they hold however many instances serve the
campaign: an instance runs a job only after it moved the job's next-run time
forward in one guarded UPDATE (only one instance can), and a limit is checked
and counted in one atomic upsert.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .clock import Clock
from .db import Database, DatabaseUnavailable, increment, insert
from .schema import UTCDateTime, job_leases, rate_counts, throttles

log = logging.getLogger("campaign.jobs")
INSTANCE = f"{socket.gethostname()}:{os.getpid()}"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


async def claim_run(db: Database, name: str, every: timedelta, now: datetime,
                    owner: str = INSTANCE) -> bool:
    """True when this instance may run job ``name`` now (then no other may for ``every``)."""
    async with db.transaction() as conn:
        await conn.execute(insert(conn, job_leases).values(
            name=name, owner=owner, until=EPOCH).on_conflict_do_nothing())
        changed = await conn.execute(
            job_leases.update()
            .where(job_leases.c.name == name, job_leases.c.until <= now)
            .values(owner=owner, until=now + every, last_run_at=now))
        return bool(changed.rowcount)


Job = Callable[[], Awaitable[Any]]


async def run_periodically(db: Database, clock: Clock, name: str, every: timedelta, job: Job,
                           *, poll: float = 60.0, first_delay: float = 0.0) -> None:
    """Background loop: whichever instance claims a due run of ``job`` runs it."""
    await asyncio.sleep(first_delay)
    while True:
        try:
            if await claim_run(db, name, every, clock.now()):
                await job()
        except asyncio.CancelledError:
            raise
        except DatabaseUnavailable as exc:
            log.warning("job %s skipped, database unavailable: %s", name, exc)
        except Exception:  # a failed run is retried at the next due time
            log.exception("job %s failed", name)
        await asyncio.sleep(poll)


# -- rate limits ------------------------------------------------------------------


def window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    stamp = int(now.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(stamp, UTC)


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` attempts per ``key`` in each ``window``."""

    key: str
    limit: int
    window: timedelta


class LimitReached(Exception):
    """Raised inside a transaction that must not go on (it rolls back, count and all)."""


async def hit_in(conn: AsyncConnection, limit: Limit, now: datetime) -> bool:
    """Count one attempt inside the caller's transaction; False when over the limit.
    Counting in the transaction that then stores something makes both one step."""
    count = await increment(conn, rate_counts, {
        "key": limit.key[:200], "window_start": window_start(now, limit.window)})
    return count <= limit.limit


async def hit(db: Database, key: str, limit: int, window: timedelta, now: datetime) -> bool:
    """Count one attempt for ``key`` in its current window; False when over ``limit``."""
    async with db.transaction() as conn:
        return await hit_in(conn, Limit(key, limit, window), now)


async def attempts(db: Database, key: str, window: timedelta, now: datetime) -> int:
    return int(await db.scalar(sa.select(sa.func.coalesce(sa.func.sum(rate_counts.c.count), 0))
                               .where(rate_counts.c.key == key[:200],
                                      rate_counts.c.window_start == window_start(now, window))))


async def forget_old_counts(db: Database, now: datetime, keep: timedelta = timedelta(days=2)
                            ) -> int:
    async with db.transaction() as conn:
        counts = (await conn.execute(rate_counts.delete().where(
            rate_counts.c.window_start < now - keep))).rowcount
        return counts + (await conn.execute(throttles.delete().where(
            throttles.c.not_before < now - keep))).rowcount


# -- throttles by delay -------------------------------------------------------------


@dataclass(frozen=True)
class Backoff:
    """``free`` attempts per key at once; after that each attempt let through makes
    the next one wait, ``first`` and then twice as long each time, at most
    ``longest``. A key left alone for ``forget`` after its wait starts afresh.
    A delay, unlike a lock-out, always ends, however many attempts were refused."""

    free: int
    first: timedelta
    longest: timedelta
    forget: timedelta

    def delay(self, count: int) -> timedelta:
        """The wait after the ``count``-th attempt let through."""
        if count < self.free:
            return timedelta(0)
        growing: timedelta = self.first * 2 ** min(count - self.free, 30)
        return min(self.longest, growing)

    def steps(self) -> int:
        """Counts after which the delay no longer grows (it is ``longest`` from there)."""
        n = self.free
        while self.delay(n) < self.longest:
            n += 1
        return n


class Throttled(Exception):
    """Raised inside a transaction that must not go on: try again at ``until``."""

    def __init__(self, key: str, until: datetime) -> None:
        super().__init__(key)
        self.until = until


async def admit(conn: AsyncConnection, key: str, rule: Backoff, now: datetime) -> None:
    """Let one attempt for ``key`` through (counting it and setting the next wait) in
    one atomic statement, or raise ``Throttled`` when its wait is not over yet.
    Refused attempts are not counted: they neither lengthen the wait nor pass."""
    t = throttles.c
    key = key[:200]
    fresh = t.not_before <= now - rule.forget  # quiet long enough: start afresh
    count = sa.case((fresh, 1), else_=t.count + 1)
    waits = {n: sa.literal(now + rule.delay(n), UTCDateTime)
             for n in range(1, rule.steps() + 1)}
    not_before = sa.case(waits, value=count, else_=sa.literal(now + rule.longest, UTCDateTime))
    stmt = insert(conn, throttles).values(key=key, count=1, not_before=now + rule.delay(1))
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.key], set_={"count": count, "not_before": not_before},
        where=t.not_before <= now).returning(t.count)
    if (await conn.execute(stmt)).first() is None:
        until = await conn.scalar(sa.select(t.not_before).where(t.key == key))
        raise Throttled(key, until or now)


async def refund(conn: AsyncConnection, key: str) -> None:
    """Take back one counted attempt (a sign-in that succeeded)."""
    await conn.execute(throttles.update().where(throttles.c.key == key[:200],
                                                throttles.c.count > 0)
                       .values(count=throttles.c.count - 1))


async def clear(conn: AsyncConnection, key: str) -> None:
    """Forget every attempt for ``key`` (a successful sign-in, a new password)."""
    await conn.execute(throttles.delete().where(throttles.c.key == key[:200]))
