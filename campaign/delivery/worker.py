"""The outbox worker: claim due rows with a lease, send, record each outcome.

A row is marked sent only after the server accepted it, and each outcome is
written right after its message, so a crash sends at most the one message
in flight again (with the same Message-ID). Temporary failures come back
with exponential backoff and jitter; a 5xx or the last attempt makes a dead
letter, visible in ``/healthz``, ``python -m campaign outbox`` and the portal.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from ..core.clock import utcnow
from ..core.db import Database
from ..core.settings import Settings
from . import hooks_http, outbox
from .transport import (
    ConnectionLost,
    DeliveryFailure,
    PermanentFailure,
    Transport,
    transport_for,
)

log = logging.getLogger("campaign.mail")

LEASE_MARGIN = 30.0  # stop sending when the lease is this close to running out
BACKOFF_BASE = 60.0  # first retry after about a minute, then doubling …
BACKOFF_MAX = 6 * 3600.0  # … up to six hours between attempts
MAX_RECONNECTS = 20  # per batch, only after a connection delivered something
BATCH = 100


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff(attempts: int, rng: random.Random | None = None, first: float = BACKOFF_BASE
            ) -> float:
    """Seconds until the next attempt: exponential from ``first``, capped, with ±25 %
    jitter so rows that failed together do not all come back in the same second."""
    base = min(BACKOFF_MAX, first * 2.0 ** max(0, attempts - 1))
    return base * (rng or random).uniform(0.75, 1.25)


Render = Callable[[dict[str, Any], str], Awaitable[bytes | None]]


async def _build(db: Database, worker_id: str, rows: list[outbox.Queued],
                 render: Render | None) -> list[outbox.Queued]:
    """Build the messages of recipe rows; a recipe with nothing to send is dropped."""
    ready = []
    for row in rows:
        if row.message or row.recipe is None:
            ready.append(row)
            continue
        if render is None:  # this worker cannot build it: leave it for one that can
            await outbox.release(db, worker_id, [row.id])
            continue
        message = await render(row.recipe, row.message_id)
        if message is None:
            await outbox.drop(db, worker_id, row.id)
        else:  # the outcome stores the bytes with it (outbox.record)
            ready.append(replace(row, message=message))
    return ready


async def _discard_if_erased(db: Database, session: Any, row: outbox.Queued) -> None:
    """A file transport keeps what it sent: when the lead was erased while its
    mail was being written (the row is gone), the file goes too. An erasure
    after this check finds the row and deletes the file itself."""
    discard = getattr(session, "discard", None)
    if discard is not None and not await outbox.exists(db, row.id):
        discard(row.id, row.message_id)


async def deliver_once(db: Database, settings: Settings, *, worker_id: str | None = None,
                       now: datetime | None = None, batch: int = BATCH,
                       transport: Transport | None = None, render: Render | None = None
                       ) -> dict[str, int]:
    """Claim and send one batch over one connection; returns sent/retried/dead counts.
    Rows queued as a recipe are built with ``render`` first."""
    worker_id = worker_id or default_worker_id()
    now = now or utcnow()
    transport = transport or transport_for(settings)  # a bad URL fails before claiming
    claimed = await outbox.claim(db, worker_id, now=now, batch=batch)
    counts = {"sent": 0, "retried": 0, "dead": 0, "claimed": len(claimed)}
    rows = await _build(db, worker_id, claimed, render)

    def retry_in(attempts: int) -> float:
        return backoff(attempts, first=settings.outbox_retry_seconds)

    async def note(outcome: str, row: outbox.Queued, error: str = "") -> None:
        done = await outbox.record(db, worker_id, [(outcome, row, error)], now=now,
                                   max_attempts=settings.outbox_max_attempts, backoff=retry_in)
        for key, n in done.items():
            counts[key] += n

    # The lease is measured on the wall clock of this run, whatever ``now`` says.
    stop_at = time.monotonic() + outbox.LEASE.total_seconds() - LEASE_MARGIN
    # Webhook events share the queue, the retries and the dead letters, not the transport.
    hooks = [r for r in rows if r.webhook_id is not None]
    if hooks:
        rows = [r for r in rows if r.webhook_id is None]
        left = await hooks_http.deliver(db, settings, worker_id, hooks, note, stop_at=stop_at)
        await outbox.release(db, worker_id, left + [r.id for r in rows] if left else [])
        if left:
            return counts
    if not rows:
        return counts
    sender = parseaddr(settings.mail_from)[1]
    remaining = list(rows)
    reconnects = 0
    try:
        while remaining and time.monotonic() < stop_at:
            sent_here = 0
            try:
                async with transport.session() as session:
                    while remaining and time.monotonic() < stop_at:
                        row = remaining[0]
                        if not await outbox.held(db, worker_id, row.id):
                            remaining.pop(0)  # its lead was erased or withdrawn meanwhile
                            continue
                        try:
                            await session.send(row.id, sender, row.recipient, row.message_id,
                                               row.message)
                        except PermanentFailure as exc:
                            await note("dead", row, str(exc))
                        except ConnectionLost:
                            raise
                        except DeliveryFailure as exc:
                            await note("temporary", row, str(exc))
                        else:
                            await note("sent", row)
                            sent_here += 1
                            await _discard_if_erased(db, session, row)
                        remaining.pop(0)
            except ConnectionLost:
                # A server that closes after some messages (a per-connection limit)
                # gets a fresh connection for the rest; one that takes nothing
                # leaves the rest of the batch for a later attempt.
                if sent_here and reconnects < MAX_RECONNECTS:
                    reconnects += 1
                    continue
                raise
    except DeliveryFailure as exc:
        log.warning("outbox: %s; %d mail(s) wait for the next attempt", exc, len(remaining))
        done = await outbox.record(db, worker_id, [("temporary", r, str(exc)) for r in remaining],
                                   now=now, max_attempts=settings.outbox_max_attempts,
                                   backoff=retry_in)
        for key, n in done.items():  # the last attempt makes a dead letter here too
            counts[key] += n
        remaining = []
    finally:
        if remaining:  # lease nearly over: hand the rest back untouched
            await outbox.release(db, worker_id, [r.id for r in remaining])
    return counts


def _process_gone(owner: str, host: str) -> bool:
    """True when ``owner`` (host:pid:random) names a process of this host that
    no longer exists. Anything else (another host, a live or reused pid, an odd
    id) is left to the lease's expiry, which is always safe."""
    owner_host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if owner_host != host or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


async def reclaim_orphaned_leases(db: Database) -> int:
    """Release leases held by workers of this host that died (SIGKILL, crash), so
    their mails go out now instead of after the lease runs out."""
    host = socket.gethostname()
    gone = [o for o in await outbox.lease_owners(db) if _process_gone(o, host)]
    released = 0
    for owner in gone:
        released += await outbox.release_owner(db, owner)
    if released:
        log.warning("outbox: released %d mail(s) leased by %d stopped worker(s)", released,
                    len(gone))
    return released


Job = Callable[[], Awaitable[Any]]


async def run_forever(db: Database, settings: Settings, *, before_each: Job | None = None,
                      render: Render | None = None,
                      stop_after_idle: bool = False) -> dict[str, int]:
    """Deliver every ``outbox_interval`` seconds (at once again after a full batch);
    ``before_each`` runs before every round (work that queues mail, such as
    reminders). With ``stop_after_idle`` return the totals once nothing is due."""
    worker_id = default_worker_id()
    totals = {"sent": 0, "retried": 0, "dead": 0}
    try:
        await reclaim_orphaned_leases(db)
    except Exception:  # never keep the worker from starting
        log.exception("outbox: could not check for orphaned leases")
    while True:
        try:
            if before_each is not None:
                await before_each()
            counts = await deliver_once(db, settings, worker_id=worker_id, render=render)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("outbox worker run failed")
            counts = {"claimed": 0}
        for key in totals:
            totals[key] += counts.get(key, 0)
        if counts["claimed"] >= BATCH:
            continue
        if stop_after_idle:
            return totals
        await asyncio.sleep(settings.outbox_interval)
