"""SQLite access: one writer connection behind a lock, one reader, migrations.

All writes go through ``Database.transaction()`` so that coroutines never
interleave statements inside each other's transactions (units that arrive in
the same turn of the event loop share one commit, see there); WAL mode lets
the reader (and other processes such as ``send-outbox``) read while a write
runs.

The writer runs its statements directly on the event loop's thread: a write
in WAL mode with ``synchronous = NORMAL`` takes microseconds, whereas a hop
to a worker thread per statement lets a busy loop keep the lock for
milliseconds per statement, and under load every writer queues behind that
(measured with bench/load.py: lead submits went from ~70 to several hundred
per second). Only ``BEGIN IMMEDIATE`` can wait for another process; it is
retried asynchronously instead of blocking the loop. Reads stay on a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

Row = sqlite3.Row
Params = Sequence[Any] | dict[str, Any]


def migration_files() -> list[tuple[str, str]]:
    """Numbered ``.sql`` files shipped in ``campaign/migrations``, in order."""
    folder = resources.files("campaign") / "migrations"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name, (folder / name).read_text(encoding="utf-8")) for name in names]


async def _connect(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    conn.row_factory = sqlite3.Row
    await conn.execute("PRAGMA busy_timeout = 10000")
    await conn.execute("PRAGMA foreign_keys = ON")
    await conn.execute("PRAGMA synchronous = NORMAL")
    await conn.execute("PRAGMA secure_delete = ON")
    return conn


def _connect_writer(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")  # start-up may wait for another migrating process
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    # Erased personal data is overwritten in freed pages, not left for VACUUM.
    conn.execute("PRAGMA secure_delete = ON")
    return conn


BEGIN_RETRY_SECONDS = 10.0
CHECKPOINT_EVERY = 1.0  # seconds between WAL checkpoints while writes go on
# While writes never pause, a passive checkpoint never quite catches up and the
# WAL keeps growing (bench/load.py: hundreds of MiB in half a minute). Once a
# checkpoint has caught up, SQLite starts the WAL from the beginning; this is
# the size the file is cut back to then, so a burst does not keep its space.
WAL_KEEP_BYTES = 16 * 2**20
log = logging.getLogger("campaign.db")


class Database:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._writer: sqlite3.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._batch: asyncio.Future[None] | None = None  # the open group transaction
        self._tallies: dict[tuple[str, tuple[Any, ...]], int] = {}  # of the open group
        self._background: set[asyncio.Task[None]] = set()  # flushes and checkpoints
        self._checkpointer: sqlite3.Connection | None = None
        self._last_checkpoint = 0.0
        self._checkpointing = False
        self.checkpoints = 0  # WAL checkpoints done (read by tests)

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = _connect_writer(self.path)
        self._writer.execute("PRAGMA journal_mode = WAL")
        await self.migrate()
        # From now on a write never blocks the loop: _begin waits asynchronously.
        self._writer.execute("PRAGMA busy_timeout = 20")
        # Checkpoints (copying the WAL into the database file, with an fsync)
        # run on a thread, never inside a COMMIT on the event loop.
        self._writer.execute("PRAGMA wal_autocheckpoint = 0")
        self._writer.execute(f"PRAGMA journal_size_limit = {int(WAL_KEEP_BYTES)}")
        self._reader = await _connect(self.path)

    async def close(self) -> None:
        if self._batch is not None:  # a unit's caller went away before the commit
            self._commit(self._batch)
        for task in list(self._background):
            with contextlib.suppress(Exception):
                await task
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        if self._reader is not None:
            await self._reader.close()
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- migrations -------------------------------------------------------
    async def migrate(self) -> list[str]:
        """Apply every migration not yet recorded; returns the names applied."""
        conn = self._writer
        assert conn is not None
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (datetime('now')))"
        )
        applied: list[str] = []
        async with self._lock:
            done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
            for name, sql in migration_files():
                if name in done:
                    continue
                # executescript commits on its own; the whole file plus its
                # record run as one transaction.
                conn.executescript(
                    "BEGIN IMMEDIATE;\n"
                    + sql
                    + f"\nINSERT INTO schema_migrations(name) VALUES ('{name}');\nCOMMIT;"
                )
                applied.append(name)
        return applied

    # -- reads ------------------------------------------------------------
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        assert self._reader is not None, "database not open"
        cur = await self._reader.execute(sql, params)
        rows = await cur.fetchall()
        await cur.close()
        return list(rows)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        assert self._reader is not None, "database not open"
        cur = await self._reader.execute(sql, params)
        row = await cur.fetchone()
        await cur.close()
        return row

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    # -- writes -----------------------------------------------------------
    def transaction(self) -> _Unit:
        """One atomic unit of writes (``async with db.transaction() as tx``);
        leaving the block returns once it is committed.

        Group commit: units that run in the same turn of the event loop share
        one ``BEGIN IMMEDIATE … COMMIT``, each inside its own savepoint, so an
        error undoes only its own unit. Writing the WAL at COMMIT is the
        expensive step, and under load one commit now serves many requests.
        Nobody hears "done" before the COMMIT has happened.
        """
        return _Unit(self)

    async def _enter_unit(self) -> tuple[Tx, asyncio.Future[None]]:
        conn = self._writer
        assert conn is not None, "database not open"
        await self._lock.acquire()
        try:
            if self._batch is None:
                await self._begin(conn)
                loop = asyncio.get_running_loop()
                self._batch = loop.create_future()
                loop.call_soon(self._flush_soon, self._batch)
            batch = self._batch
            conn.execute("SAVEPOINT unit")
        except BaseException:
            self._lock.release()
            raise
        return Tx(conn), batch

    async def _exit_unit(self, tx: Tx, batch: asyncio.Future[None], failed: bool) -> None:
        conn = tx.conn
        try:
            if failed:
                self._undo_unit(conn, batch)
                return
            conn.execute("RELEASE unit")
            if tx.tallies:  # a unit's counters count only once the unit went through
                for key, n in tx.tallies.items():
                    self._tallies[key] = self._tallies.get(key, 0) + n
        finally:
            self._lock.release()
        # shield: a caller that goes away must not take the others' commit with it
        await asyncio.shield(batch)

    def _undo_unit(self, conn: sqlite3.Connection, batch: asyncio.Future[None]) -> None:
        if conn.in_transaction:
            conn.execute("ROLLBACK TO unit")
            conn.execute("RELEASE unit")
            return
        # SQLite gave up the whole transaction (disk full, I/O error): the
        # units already in it are lost too, and must hear so.
        self._batch = None
        self._tallies = {}
        if not batch.done():
            batch.set_exception(sqlite3.OperationalError("transaction rolled back"))

    def _flush_soon(self, batch: asyncio.Future[None]) -> None:
        """Runs in the loop's next turn: every unit of this turn has joined by now."""
        if self._lock.locked():  # a unit is still inside (it awaits something)
            self._keep(asyncio.get_running_loop().create_task(self._flush(batch)))
        else:
            self._commit(batch)

    async def _flush(self, batch: asyncio.Future[None]) -> None:
        """Commit the group once the units holding or waiting for the lock are in."""
        async with self._lock:
            self._commit(batch)

    def _commit(self, batch: asyncio.Future[None]) -> None:
        if self._batch is not batch or batch.done():
            return
        self._batch = None
        tallies, self._tallies = self._tallies, {}
        conn = self._writer
        try:
            assert conn is not None
            for (sql, key), n in tallies.items():
                conn.execute(sql, (*key, n))
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn is not None and conn.in_transaction:
                conn.execute("ROLLBACK")
            batch.set_exception(exc)
        else:
            batch.set_result(None)
            self._maybe_checkpoint()

    def _maybe_checkpoint(self) -> None:
        """At most one checkpoint at a time, and one per CHECKPOINT_EVERY while writing."""
        now = time.monotonic()
        if self._checkpointing or now - self._last_checkpoint < CHECKPOINT_EVERY:
            return
        self._checkpointing, self._last_checkpoint = True, now
        self._keep(asyncio.get_running_loop().create_task(self._checkpoint()))

    def _keep(self, task: asyncio.Task[None]) -> None:
        """Hold a background task until it ends (close() waits for the rest)."""
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _checkpoint(self) -> None:
        try:
            await asyncio.to_thread(self._checkpoint_sync)
            self.checkpoints += 1
        except Exception:  # a missed checkpoint only means a longer WAL until the next one
            log.exception("WAL checkpoint failed")
        finally:
            self._checkpointing = False

    def _checkpoint_sync(self) -> None:
        if self._checkpointer is None:
            self._checkpointer = sqlite3.connect(str(self.path), isolation_level=None,
                                                 check_same_thread=False)
            self._checkpointer.execute("PRAGMA busy_timeout = 1000")
        # PASSIVE: copies what it can without waiting for readers or writers.
        self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    @staticmethod
    async def _begin(conn: sqlite3.Connection) -> None:
        """BEGIN IMMEDIATE; while another process writes, wait without blocking the loop."""
        deadline = time.monotonic() + BEGIN_RETRY_SECONDS
        delay = 0.005
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

    async def execute(self, sql: str, params: Params = ()) -> int:
        """A single write statement in its own transaction; returns lastrowid."""
        async with self.transaction() as tx:
            return await tx.execute(sql, params)

    async def ping(self) -> bool:
        try:
            return await self.fetchval("SELECT 1") == 1
        except Exception:
            return False


class _Unit:
    """``async with`` form of ``Database.transaction`` (a plain class: the write
    path runs once per lead, and a generator-based context manager costs more)."""

    __slots__ = ("_db", "_tx", "_batch")

    def __init__(self, db: Database) -> None:
        self._db = db

    async def __aenter__(self) -> Tx:
        self._tx, self._batch = await self._db._enter_unit()
        return self._tx

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        await self._db._exit_unit(self._tx, self._batch, exc_type is not None)


class Tx:
    """The statements of one open write transaction (run at once, see the module doc)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.tallies: dict[tuple[str, tuple[Any, ...]], int] = {}

    def tally(self, sql: str, key: tuple[Any, ...], n: int = 1) -> None:
        """Add ``n`` to a counter row, written once per group commit.

        ``sql`` is an upsert whose last parameter is the amount to add; the
        counters of all units in a group are summed first, so a hundred
        requests counting the same funnel step cost one statement, not a
        hundred.
        """
        k = (sql, key)
        self.tallies[k] = self.tallies.get(k, 0) + n

    async def execute(self, sql: str, params: Params = ()) -> int:
        cur = self.conn.execute(sql, params)
        rowid = cur.lastrowid or 0
        cur.close()
        return rowid

    async def rowcount(self, sql: str, params: Params = ()) -> int:
        cur = self.conn.execute(sql, params)
        count = cur.rowcount
        cur.close()
        return count

    async def executemany(self, sql: str, seq: Iterable[Params]) -> None:
        self.conn.executemany(sql, seq)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        cur = self.conn.execute(sql, params)
        rows = cur.fetchall()
        cur.close()
        return list(rows)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        cur = self.conn.execute(sql, params)
        row = cur.fetchone()
        cur.close()
        return row
