"""The outbox worker: claim due rows with a lease, send, record the outcome.

Claiming is one short ``UPDATE … RETURNING`` in a write transaction (BEGIN
IMMEDIATE, so SQLite serialises it across processes too): a row is taken
only when its lease is free or expired, so two workers never send the same
row at the same time and a crashed worker's rows come back after the lease.
A row is marked sent only after the server accepted it; outcomes are written
in small groups (25 rows or 0.25 s) by a background task while the next
messages are on the wire, so the database never slows the SMTP conversation
down. Delivery is at least once: a crash after the server's 250 and before the
write sends those few mails again, with the same Message-ID.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from email.utils import parseaddr
from typing import Any

from .outbox import utcnow
from .transport import ConnectionLost, DeliveryFailure, PermanentFailure, transport_for

log = logging.getLogger("campaign.mail")

LEASE_SECONDS = 300.0  # far longer than a batch takes; a crashed worker's rows return after it
LEASE_MARGIN = 30.0  # stop sending when the lease is this close to running out
BACKOFF_BASE = 60.0  # first retry after about a minute, then doubling …
BACKOFF_MAX = 6 * 3600.0  # … up to six hours between attempts
MAX_RECONNECTS = 20  # per batch, only after a connection delivered something
FLUSH_ROWS = 25  # outcomes written per transaction …
FLUSH_SECONDS = 0.25  # … or at the latest this long after the server accepted


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff(attempts: int, rng: random.Random | None = None) -> float:
    """Seconds until the next attempt: exponential, capped, with ±25 % jitter
    so rows that failed together do not all come back in the same second."""
    base = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    return base * (rng or random).uniform(0.75, 1.25)


async def claim(db: Any, worker_id: str, *, now: float, batch: int,
                lease: float = LEASE_SECONDS) -> list[Any]:
    """Lease up to ``batch`` due rows to ``worker_id`` and return them."""
    async with db.transaction() as tx:
        return await tx.fetchall(
            "UPDATE outbox SET lease_owner = ?, lease_until_ts = ?"
            " WHERE id IN (SELECT id FROM outbox WHERE status = 'queued'"
            "   AND next_attempt_ts <= ? AND (lease_until_ts IS NULL OR lease_until_ts < ?)"
            "   ORDER BY next_attempt_ts, id LIMIT ?)"
            " RETURNING id, recipient, message_id, message, render, attempts",
            (worker_id, now + lease, now, now, batch),
        )


class _Recorder:
    """Writes outcomes in the background, a few rows per transaction."""

    def __init__(self, db: Any, worker_id: str, max_attempts: int, now: float) -> None:
        self.db, self.worker_id, self.max_attempts, self.now = db, worker_id, max_attempts, now
        self.pending: list[tuple[str, Any, str]] = []
        self.built: list[tuple[bytes, int, str]] = []  # rendered recipes to store
        self.rendered: dict[int, bytes] = {}  # … and to reuse after a reconnect
        self.oldest = 0.0
        self.wake = asyncio.Event()
        self.closed = False
        self.counts = {"sent": 0, "retried": 0, "dead": 0}
        self.task = asyncio.create_task(self._run())

    def add(self, outcome: str, row: Any, error: str = "") -> None:
        """Queue an outcome; written once FLUSH_ROWS are waiting or the oldest is
        FLUSH_SECONDS old (and always at the end of the batch). A crash loses at
        most that window: those rows are sent again after the lease, with the
        same Message-ID."""
        now = time.monotonic()
        if not self.pending:
            self.oldest = now
        self.pending.append((outcome, row, error))
        if len(self.pending) >= FLUSH_ROWS or now - self.oldest >= FLUSH_SECONDS:
            self.wake.set()

    async def close(self) -> dict[str, int]:
        self.closed = True
        self.wake.set()
        await self.task
        return self.counts

    async def _run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.pending:
                items, self.pending = self.pending, []
                await self._write(items)
            if self.closed:
                return

    async def _write(self, items: list[tuple[str, Any, str]]) -> None:
        """One transaction, one statement per outcome kind (executemany)."""
        sent_at = utcnow()
        params: dict[str, list[tuple[Any, ...]]] = {
            "built": self.built, "dropped": [], "sent": [], "dead": [], "retried": []}
        self.built = []
        for outcome, row, error in items:
            if outcome == "dropped":
                params["dropped"].append((row["id"], self.worker_id))
                continue
            attempts = row["attempts"] + 1
            if outcome == "temporary" and attempts >= self.max_attempts:
                outcome, error = "dead", f"{error} (gave up after {attempts} attempts)"
            if outcome == "sent":
                params["sent"].append((attempts, sent_at, row["id"], self.worker_id))
            elif outcome == "dead":
                params["dead"].append((attempts, error[:500], row["id"], self.worker_id))
            else:
                params["retried"].append((attempts, error[:500], self.now + backoff(attempts),
                                          row["id"], self.worker_id))
        async with self.db.transaction() as tx:
            for outcome, rows in params.items():
                if rows:
                    await tx.executemany(_OUTCOME_SQL[outcome], rows)
                    if outcome in self.counts:
                        self.counts[outcome] += len(rows)


# Only our own lease: never overwrite a row another worker holds now.
_OUTCOME_SQL = {
    # A rendered recipe keeps its bytes: later attempts send exactly these.
    "built": "UPDATE outbox SET message = ?, render = NULL WHERE id = ? AND lease_owner = ?",
    # The lead of a recipe was erased: as erase does for unsent mails, drop it.
    "dropped": "DELETE FROM outbox WHERE id = ? AND lease_owner = ? AND status = 'queued'",
    "sent": "UPDATE outbox SET status = 'sent', attempts = ?, sent_at = ?, last_error = NULL,"
            " lease_owner = NULL, lease_until_ts = NULL WHERE id = ? AND lease_owner = ?",
    "dead": "UPDATE outbox SET status = 'dead', attempts = ?, last_error = ?,"
            " lease_owner = NULL, lease_until_ts = NULL WHERE id = ? AND lease_owner = ?",
    "retried": "UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_ts = ?,"
               " lease_owner = NULL, lease_until_ts = NULL WHERE id = ? AND lease_owner = ?",
}


async def deliver_once(db: Any, settings: Any, *, worker_id: str | None = None,
                       now: float | None = None, batch: int = 100,
                       transport: Any = None, mailer: Any = None) -> dict[str, int]:
    """Claim and send one batch over one connection; returns sent/retried/dead counts.

    Rows queued as a recipe are rendered right before their send with ``mailer``
    (built once per process from ``settings`` when not given)."""
    worker_id = worker_id or default_worker_id()
    now = time.time() if now is None else now
    transport = transport or transport_for(settings)  # a bad URL fails before claiming
    rows = await claim(db, worker_id, now=now, batch=batch)
    if not rows:
        return {"sent": 0, "retried": 0, "dead": 0, "claimed": 0}
    sender = parseaddr(settings.mail_from)[1]
    recorder = _Recorder(db, worker_id, settings.outbox_max_attempts, now)
    # The lease is measured on the wall clock of this run, whatever ``now`` says.
    stop_at = time.monotonic() + LEASE_SECONDS - LEASE_MARGIN
    remaining = list(rows)
    reconnects = 0
    try:
        while remaining and time.monotonic() < stop_at:
            sent_here = 0
            try:
                async with transport.session() as session:
                    while remaining and time.monotonic() < stop_at:
                        row = remaining[0]
                        message = row["message"]
                        if not message and row["render"]:
                            message = await _render(db, settings, mailer, row, recorder)
                            if message is None:
                                recorder.add("dropped", row)
                                remaining.pop(0)
                                continue
                        try:
                            await session.send(row["id"], sender, row["recipient"],
                                               row["message_id"], message)
                        except PermanentFailure as exc:
                            recorder.add("dead", row, str(exc))
                        except DeliveryFailure as exc:
                            if isinstance(exc, ConnectionLost):
                                raise
                            recorder.add("temporary", row, str(exc))
                        else:
                            recorder.add("sent", row)
                            sent_here += 1
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
        for row in remaining:
            recorder.add("temporary", row, str(exc))
        remaining = []
    finally:
        counts = await recorder.close()
        if remaining:  # lease nearly over: hand the rest back untouched
            await _release(db, worker_id, [r["id"] for r in remaining])
    return {**counts, "claimed": len(rows)}


_MAILERS: list[tuple[Any, Any]] = []  # (settings, Mailer): a few, newest last


def mailer_from_settings(settings: Any) -> Any:
    """A Mailer for a worker without an app (CLI, tests), cached per process."""
    for known, mailer in _MAILERS:
        if known is settings:
            return mailer
    from ..templating import Renderer
    from . import Mailer

    mailer = Mailer(settings, Renderer(settings).env, _content(settings.content_dir))
    _MAILERS[:] = [*_MAILERS[-3:], (settings, mailer)]
    return mailer


_CONTENT: dict[Any, Any] = {}


def _content(folder: Any) -> Any:
    from ..content import load_content

    if folder not in _CONTENT:
        _CONTENT[folder] = load_content(folder)
    return _CONTENT[folder]


async def _render(db: Any, settings: Any, mailer: Any, row: Any, recorder: _Recorder
                  ) -> bytes | None:
    """Build a recipe row's message now; None when its lead's data is gone."""
    import json

    from ..lead_mails import render_family_recipe

    if row["id"] in recorder.rendered:
        return recorder.rendered[row["id"]]
    message = await render_family_recipe(db, mailer or mailer_from_settings(settings),
                                         json.loads(row["render"]), row["message_id"])
    if message is not None:
        recorder.built.append((message, row["id"], recorder.worker_id))
        recorder.rendered[row["id"]] = message
    return message


async def _release(db: Any, worker_id: str, ids: list[int]) -> None:
    async with db.transaction() as tx:
        await tx.executemany(
            "UPDATE outbox SET lease_owner = NULL, lease_until_ts = NULL"
            " WHERE id = ? AND lease_owner = ?", [(i, worker_id) for i in ids])


async def requeue(db: Any, outbox_id: int | None = None, *, all_dead: bool = False) -> int:
    """Make a dead (or waiting) row due now with fresh attempts; returns rows changed."""
    reset = ("UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_ts = 0,"
             " lease_owner = NULL, lease_until_ts = NULL")
    async with db.transaction() as tx:
        if all_dead:
            return await tx.rowcount(reset + " WHERE status = 'dead'")
        if outbox_id is None:
            return 0
        return await tx.rowcount(reset + " WHERE id = ? AND status IN ('dead', 'queued')",
                                 (outbox_id,))


REMINDER_EVERY = 300.0  # seconds between reminder sweeps


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


async def reclaim_orphaned_leases(db: Any) -> int:
    """Release leases held by workers of this host that died (SIGKILL, crash), so
    their mails go out now instead of after the lease runs out."""
    host = socket.gethostname()
    owners = [r["lease_owner"] for r in await db.fetchall(
        "SELECT DISTINCT lease_owner FROM outbox WHERE status = 'queued'"
        " AND lease_owner IS NOT NULL")]
    gone = [o for o in owners if _process_gone(o, host)]
    if not gone:
        return 0
    async with db.transaction() as tx:
        released = 0
        for owner in gone:
            released += await tx.rowcount(
                "UPDATE outbox SET lease_owner = NULL, lease_until_ts = NULL"
                " WHERE lease_owner = ? AND status = 'queued'", (owner,))
    log.warning("outbox: released %d mail(s) leased by %d stopped worker(s)", released, len(gone))
    return released


async def run_forever(db: Any, settings: Any, mailer: Any, *, stop_after_idle: bool = False
                      ) -> dict[str, int]:
    """Deliver every ``outbox_interval`` seconds (at once again after a full batch),
    queue reminders every few minutes; with ``stop_after_idle`` return the totals
    once nothing is due."""
    from ..delivery import queue_reminders

    worker_id = default_worker_id()
    next_reminders = 0.0
    totals = {"sent": 0, "retried": 0, "dead": 0}
    try:
        await reclaim_orphaned_leases(db)
    except Exception:  # never keep the worker from starting
        log.exception("outbox: could not check for orphaned leases")
    while True:
        try:
            if mailer is not None and time.monotonic() >= next_reminders:
                next_reminders = time.monotonic() + REMINDER_EVERY
                await queue_reminders(db, mailer)
            counts = await deliver_once(db, settings, worker_id=worker_id, mailer=mailer)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("outbox worker run failed")
            counts = {"claimed": 0}
        for key in totals:
            totals[key] += counts.get(key, 0)
        if counts["claimed"] >= 100:
            continue
        if stop_after_idle:
            return totals
        await asyncio.sleep(settings.outbox_interval)


async def run_in_app(app: Any) -> None:
    """Background job of the web process (started by the lifespan in campaign.app)."""
    from . import mailer_for

    await run_forever(app.state.db, app.state.settings, mailer_for(app))
