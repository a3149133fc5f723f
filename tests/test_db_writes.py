"""Write transactions on both backends: atomic, none lost under concurrency, a writer
waits for another one without blocking the event loop (and a lock that never ends
is an error, not a hang), counters stay exact, migrations run once under a lock;
on SQLite the files are the service user's only."""

from __future__ import annotations

import asyncio
import shutil
import stat
import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from campaign.core import db as dbmod
from campaign.core.db import Database, DatabaseUnavailable, increment
from campaign.core.schema import funnel_counts
from campaign.reach import funnel

from .support.pages import empty_database

DAY = date(2026, 11, 26)


def key(quiz: str, step: str = "x") -> dict[str, Any]:
    return {"day": DAY, "quiz": quiz, "step": step, "utm_source": "", "utm_medium": "",
            "utm_campaign": ""}


async def counts(database: str) -> dict[str, int]:
    """quiz → count, read through a Database of its own: only committed rows show."""
    async with Database(database) as other:
        rows = await other.all(sa.select(funnel_counts.c.quiz, funnel_counts.c.count))
    return {quiz: n for quiz, n in rows}


@pytest.fixture
def empty(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return empty_database(backend, tmp_path, request)


def test_an_error_inside_a_transaction_undoes_all_of_it(database):
    async def scenario() -> dict[str, int]:
        async with Database(database) as db:
            async with db.transaction() as conn:
                await increment(conn, funnel_counts, key("kept"))
            with pytest.raises(RuntimeError):
                async with db.transaction() as conn:
                    await increment(conn, funnel_counts, key("kept"))
                    await increment(conn, funnel_counts, key("undone"))
                    raise RuntimeError("a bug after two writes")
            # a failing statement undoes the writes before it, too
            with pytest.raises(DBAPIError):
                async with db.transaction() as conn:
                    await increment(conn, funnel_counts, key("undone"))
                    await conn.execute(sa.insert(funnel_counts).values(**key("kept"), count=1))
        return await counts(database)

    assert asyncio.run(scenario()) == {"kept": 1}


def test_concurrent_transactions_all_commit_and_a_failing_one_fails_alone(database):
    """50 units at once, one failing half-way: the other 49 are all committed."""

    async def unit(db: Database, i: int) -> None:
        async with db.transaction() as conn:
            await increment(conn, funnel_counts, key(f"q{i}"))
            if i == 7:
                raise RuntimeError("this unit fails after its first write")
            await increment(conn, funnel_counts, key(f"q{i}"))

    async def scenario() -> tuple[list[object], dict[str, int]]:
        async with Database(database) as db:
            results = await asyncio.gather(*(unit(db, i) for i in range(50)),
                                           return_exceptions=True)
        return results, await counts(database)

    results, rows = asyncio.run(scenario())
    assert [type(r).__name__ for r in results].count("RuntimeError") == 1
    assert isinstance(results[7], RuntimeError)
    assert "q7" not in rows  # its first write was undone with it
    assert rows == {f"q{i}": 2 for i in range(50) if i != 7}


def test_a_unit_that_waits_inside_is_not_mixed_up_with_others(database):
    async def slow(db: Database) -> None:
        async with db.transaction() as conn:
            await increment(conn, funnel_counts, key("slow"))
            await asyncio.sleep(0.05)  # e.g. a read on another connection
            await increment(conn, funnel_counts, key("slow"))

    async def fast(db: Database) -> None:
        async with db.transaction() as conn:
            await increment(conn, funnel_counts, key("fast"))

    async def scenario() -> dict[str, int]:
        async with Database(database) as db:
            await asyncio.gather(slow(db), fast(db), fast(db))
        return await counts(database)

    assert asyncio.run(scenario()) == {"slow": 2, "fast": 2}


def test_increment_counts_exactly_under_concurrency(database):
    async def one(db: Database) -> int:
        async with db.transaction() as conn:
            return await increment(conn, funnel_counts, key("together"))

    async def scenario() -> tuple[list[int], dict[str, int]]:
        async with Database(database) as db:
            seen = await asyncio.gather(*(one(db) for _ in range(100)))
            async with db.transaction() as conn:
                seen.append(await increment(conn, funnel_counts, key("together"), amount=5))
        return list(seen), await counts(database)

    seen, rows = asyncio.run(scenario())
    assert sorted(seen[:100]) == list(range(1, 101))  # each saw its own new count
    assert seen[100] == 105
    assert rows == {"together": 105}


def test_funnel_counts_of_failed_units_are_undone_with_them(database):
    """60 concurrent units count the same step; the one that fails counts nothing."""
    attribution = {"utm_source": "plakat"}

    async def unit(db: Database, i: int) -> None:
        async with db.transaction() as conn:
            await funnel.count(conn, "familie", "lead_submitted", attribution, day=DAY)
            if i == 13:
                raise RuntimeError("this unit fails after counting")

    async def scenario() -> tuple[list[object], list[tuple[str, str, int]]]:
        async with Database(database) as db:
            results = await asyncio.gather(*(unit(db, i) for i in range(60)),
                                           return_exceptions=True)
            async with db.transaction() as conn:  # a count in a unit of its own
                await funnel.count(conn, "familie", "started", day=DAY)
        async with Database(database) as other:
            rows = await other.all(sa.select(
                funnel_counts.c.step, funnel_counts.c.utm_source, funnel_counts.c.count,
            ).order_by(funnel_counts.c.step))
        return results, [tuple(r) for r in rows]

    results, rows = asyncio.run(scenario())
    assert sum(isinstance(r, RuntimeError) for r in results) == 1
    assert rows == [("lead_submitted", "plakat", 59), ("started", "", 1)]


def test_a_writer_waits_for_another_without_blocking_the_loop(database):
    """Another instance holds a write on the same row; ours waits (the event loop
    keeps serving meanwhile), then writes after it, not instead of it."""

    async def scenario() -> tuple[int, bool, int]:
        async with Database(database) as ours, Database(database) as theirs:
            held, release = asyncio.Event(), asyncio.Event()

            async def holder() -> None:
                async with theirs.transaction() as conn:
                    await increment(conn, funnel_counts, key("shared"))
                    held.set()
                    await release.wait()

            async def writer() -> int:
                await held.wait()
                async with ours.transaction() as conn:
                    return await increment(conn, funnel_counts, key("shared"))

            holding = asyncio.create_task(holder())
            writing = asyncio.create_task(writer())
            await held.wait()
            ticks = 0
            for _ in range(20):  # the loop runs while our writer waits for the lock
                await asyncio.sleep(0.01)
                ticks += 1
            waited = not writing.done()
            release.set()
            await holding
            ours_count = await writing
        return ours_count, waited, ticks

    ours_count, waited, ticks = asyncio.run(scenario())
    assert waited and ticks == 20
    assert ours_count == 2  # written after the other one's commit


def test_a_lock_that_never_ends_is_an_error_not_a_hang(database, monkeypatch):
    # The waits for a lock, made short: SQLite's busy timeout, PostgreSQL's statement timeout.
    monkeypatch.setattr(dbmod, "SQLITE_BUSY_MS", 300)

    async def scenario() -> int:
        async with Database(database, statement_timeout=0.3) as ours, \
                Database(database) as theirs:
            async with theirs.transaction() as conn:
                await increment(conn, funnel_counts, key("stuck"))
                with pytest.raises((DatabaseUnavailable, DBAPIError)):
                    async with ours.transaction() as mine:
                        await increment(mine, funnel_counts, key("stuck"))
            async with ours.transaction() as mine:  # usable again afterwards
                return await increment(mine, funnel_counts, key("stuck"))

    assert asyncio.run(scenario()) == 2


def test_two_instances_opening_an_empty_database_at_once_both_come_up(empty):
    """Each "instance" in its own thread and event loop, as two processes would be:
    the migration lock lets one apply the migrations and the other find them done."""
    barrier = threading.Barrier(2)
    applied: list[list[str]] = []
    errors: list[BaseException] = []

    async def instance() -> None:
        db = Database(empty)
        barrier.wait()
        try:
            applied.append(await db.open())
            assert await db.ping()
        finally:
            await db.close()

    def run() -> None:
        try:
            asyncio.run(instance())
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors
    assert sorted(applied) == [[], ["0001", "0002", "0003", "0004", "0005", "0006", "0007",
                                    "0008", "0009", "0010", "0011", "0012"]]


def test_sqlite_file_and_wal_are_for_the_service_user_only(tmp_path):
    # SQLite only: PostgreSQL keeps its files itself.
    path = tmp_path / "private.sqlite3"

    async def scenario() -> dict[str, int]:
        async with Database(path) as db:
            async with db.transaction() as conn:
                await increment(conn, funnel_counts, key("private"))
            return {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}

    modes = asyncio.run(scenario())
    assert modes["private.sqlite3"] == 0o600
    assert modes["private.sqlite3-wal"] == 0o600
    assert all(mode == 0o600 for mode in modes.values()), modes


def test_a_checkpoint_puts_everything_into_the_database_file(tmp_path):
    # SQLite only: the WAL file is SQLite's (after an erasure the service checkpoints,
    # so that erased values do not linger in the WAL).
    path = tmp_path / "c.sqlite3"
    copy = tmp_path / "copy" / "copy.sqlite3"

    async def scenario() -> int:
        async with Database(path) as db:
            for i in range(41):
                async with db.transaction() as conn:
                    await increment(conn, funnel_counts, key(f"c{i}"))
            await db.checkpoint()
            assert Path(f"{path}-wal").stat().st_size == 0
            copy.parent.mkdir()
            shutil.copyfile(path, copy)  # the database file alone, while open
        return len(await counts(str(copy)))

    assert asyncio.run(scenario()) == 41


def test_sqlite_writes_sync_at_every_commit_and_overwrite_what_they_delete(tmp_path):
    # SQLite only: synchronous=FULL makes a commit wait until the WAL is on the disk,
    # so a lead whose confirmation was shown survives a power cut (NORMAL could lose
    # the last commits); secure_delete overwrites deleted values in the file.
    async def scenario() -> tuple[int, int, int]:
        async with Database(tmp_path / "durable.sqlite3") as db:
            async with db.transaction() as conn:
                raw = await conn.get_raw_connection()
                driver: Any = raw.driver_connection
                values = []
                for pragma in ("synchronous", "secure_delete", "journal_mode"):
                    async with driver.execute(f"PRAGMA {pragma}") as cursor:
                        values.append((await cursor.fetchone())[0])
                return values[0], values[1], values[2]

    synchronous, secure_delete, journal = asyncio.run(scenario())
    assert synchronous == 2  # FULL (NORMAL is 1)
    assert secure_delete == 1
    assert journal == "wal"
    with pytest.raises(ValueError):
        Database(tmp_path / "x.sqlite3", synchronous="OFF")
