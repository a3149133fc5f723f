"""Write transactions: group commit, checkpoints off the loop, and while another
process holds the write lock, the service waits without blocking its event loop,
then writes; a stuck lock ends in an error, not a hang."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import time

import pytest

from campaign import db as dbmod
from campaign.db import Database


def test_a_locked_database_is_waited_for_without_blocking_the_loop(tmp_path):
    path = tmp_path / "w.sqlite3"

    async def scenario() -> tuple[int, float, list[float]]:
        async with Database(path) as db:
            other = sqlite3.connect(path, isolation_level=None)  # "another process"
            other.execute("BEGIN IMMEDIATE")
            other.execute("INSERT INTO funnel_counts (day, quiz, step, count)"
                          " VALUES ('2026-11-26', 'familie', 'started', 1)")
            ticks: list[float] = []

            async def ticker() -> None:
                while True:
                    ticks.append(time.monotonic())
                    await asyncio.sleep(0.01)

            async def release() -> None:
                await asyncio.sleep(0.4)
                other.execute("COMMIT")

            tick_task = asyncio.create_task(ticker())
            release_task = asyncio.create_task(release())
            started = time.monotonic()
            async with db.transaction() as tx:
                await tx.execute("UPDATE funnel_counts SET count = count + 1")
            waited = time.monotonic() - started
            tick_task.cancel()
            await release_task
            other.close()
            return await db.fetchval("SELECT count FROM funnel_counts"), waited, ticks

    count, waited, ticks = asyncio.run(scenario())
    assert count == 2  # the write happened after the other one, not instead of it
    assert waited >= 0.35
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > 20 and max(gaps) < 0.2  # the loop kept running meanwhile


def test_a_lock_that_never_ends_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(dbmod, "BEGIN_RETRY_SECONDS", 0.3)
    path = tmp_path / "w.sqlite3"

    async def scenario() -> None:
        async with Database(path) as db:
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    async with db.transaction() as tx:
                        await tx.execute("DELETE FROM funnel_counts")
            finally:
                other.execute("ROLLBACK")
                other.close()
            async with db.transaction() as tx:  # usable again afterwards
                await tx.execute("DELETE FROM funnel_counts")

    asyncio.run(scenario())


COUNT = ("INSERT INTO funnel_counts (day, quiz, step, count) VALUES ('2026-11-26', ?, 'x', 1)"
         " ON CONFLICT (day, quiz, step, utm_source, utm_medium, utm_campaign)"
         " DO UPDATE SET count = count + 1")


def test_units_of_one_loop_turn_share_a_commit_and_fail_alone(tmp_path):
    """Group commit: 50 concurrent units, one of them failing half-way."""
    path = tmp_path / "g.sqlite3"
    commits: list[int] = []

    async def unit(db: Database, i: int) -> None:
        async with db.transaction() as tx:
            await tx.execute(COUNT, (f"q{i}",))
            if i == 7:
                raise RuntimeError("this unit fails after its first write")
            await tx.execute(COUNT, (f"q{i}",))

    async def scenario() -> list[object]:
        async with Database(path) as db:
            assert db._writer is not None
            db._writer.set_trace_callback(lambda sql: commits.append(1) if sql == "COMMIT"
                                          else None)
            results = await asyncio.gather(*(unit(db, i) for i in range(50)),
                                           return_exceptions=True)
            # "done" means committed: a second connection sees it at once
            other = sqlite3.connect(path)
            rows = dict(other.execute("SELECT quiz, count FROM funnel_counts").fetchall())
            other.close()
            return [results, rows]

    results, rows = asyncio.run(scenario())
    assert [type(r).__name__ for r in results].count("RuntimeError") == 1
    assert isinstance(results[7], RuntimeError)
    assert "q7" not in rows  # its first write was undone with it
    assert rows == {f"q{i}": 2 for i in range(50) if i != 7}
    assert 1 <= len(commits) < 10  # 49 units, a handful of commits


def test_a_unit_that_waits_inside_keeps_the_group_open_until_it_is_done(tmp_path):
    path = tmp_path / "w.sqlite3"

    async def slow(db: Database) -> None:
        async with db.transaction() as tx:
            await tx.execute(COUNT, ("slow",))
            await asyncio.sleep(0.05)  # e.g. a read on the reader connection
            await tx.execute(COUNT, ("slow",))

    async def fast(db: Database) -> None:
        async with db.transaction() as tx:
            await tx.execute(COUNT, ("fast",))

    async def scenario() -> dict[str, int]:
        async with Database(path) as db:
            await asyncio.gather(slow(db), fast(db), fast(db))
            return {r[0]: r[1] for r in await db.fetchall(
                "SELECT quiz, count FROM funnel_counts")}

    assert asyncio.run(scenario()) == {"slow": 2, "fast": 2}


async def settled(db: Database) -> None:
    """Wait (up to 3 s) until no checkpoint is running."""
    for _ in range(300):
        if not db._checkpointing:
            return
        await asyncio.sleep(0.01)


def test_wal_checkpoints_run_off_the_event_loop(tmp_path, monkeypatch):
    """The writer never checkpoints inside a COMMIT; a thread copies the WAL back."""
    monkeypatch.setattr(dbmod, "CHECKPOINT_EVERY", 0.05)
    path = tmp_path / "c.sqlite3"
    copy = tmp_path / "copy.sqlite3"

    async def scenario() -> tuple[int, int]:
        async with Database(path) as db:
            assert db._writer is not None
            auto = db._writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
            for i in range(41):
                if i == 40:  # the last write starts a checkpoint of its own
                    await settled(db)
                    await asyncio.sleep(0.06)
                async with db.transaction() as tx:
                    await tx.execute(COUNT, (f"c{i}",))
                await asyncio.sleep(0.01)
            await settled(db)
            copy.write_bytes(path.read_bytes())  # the database file alone, while open
            return auto, db.checkpoints

    auto, checkpoints = asyncio.run(scenario())
    assert auto == 0 and checkpoints >= 3
    conn = sqlite3.connect(copy)
    assert conn.execute("SELECT COUNT(*) FROM funnel_counts").fetchone()[0] == 41
    conn.close()


def test_tallies_of_a_group_are_summed_into_one_statement_and_undone_with_their_unit(tmp_path):
    """Funnel counters: 60 concurrent units count the same step; one fails."""
    from campaign import funnel

    path = tmp_path / "t.sqlite3"
    upserts: list[str] = []
    attribution = {"utm_source": "plakat"}

    async def unit(db: Database, i: int) -> None:
        async with db.transaction() as tx:
            await funnel.count(db, "familie", "lead_submitted", attribution, tx=tx)
            if i == 13:
                raise RuntimeError("this unit fails after counting")

    async def scenario() -> tuple[list[object], list[tuple[str, str, int]]]:
        async with Database(path) as db:
            assert db._writer is not None
            db._writer.set_trace_callback(
                lambda sql: upserts.append(sql) if "funnel_counts" in sql else None)
            results = await asyncio.gather(*(unit(db, i) for i in range(60)),
                                           return_exceptions=True)
            await funnel.count(db, "familie", "started")  # a count in a unit of its own
            other = sqlite3.connect(path)  # committed: another connection sees it
            rows = other.execute("SELECT step, utm_source, count FROM funnel_counts"
                                 " ORDER BY step").fetchall()
            other.close()
            return results, rows

    results, rows = asyncio.run(scenario())
    assert sum(isinstance(r, RuntimeError) for r in results) == 1
    assert rows == [("lead_submitted", "plakat", 59), ("started", "", 1)]
    assert 2 <= len(upserts) < 10  # one per group commit, not one per unit


def test_a_wal_grown_by_a_burst_is_cut_back_once_a_checkpoint_caught_up(tmp_path, monkeypatch):
    """A reader holding an old snapshot lets the WAL grow (as a long burst does);
    afterwards the file shrinks to the kept size instead of keeping its peak."""
    monkeypatch.setattr(dbmod, "CHECKPOINT_EVERY", 0.0)
    monkeypatch.setattr(dbmod, "WAL_KEEP_BYTES", 64 * 1024)
    path = tmp_path / "w.sqlite3"
    wal = tmp_path / "w.sqlite3-wal"

    async def write(db: Database, n: int) -> None:
        for _ in range(n):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO scratch (b) VALUES (randomblob(8000))")
            await settled(db)

    async def scenario() -> tuple[int, int]:
        async with Database(path) as db:
            async with db.transaction() as tx:
                await tx.execute("CREATE TABLE scratch (b BLOB)")
            pin = sqlite3.connect(path, isolation_level=None)
            pin.execute("BEGIN")
            pin.execute("SELECT COUNT(*) FROM scratch").fetchall()  # an old snapshot
            await write(db, 100)
            peak = wal.stat().st_size
            pin.execute("COMMIT")
            pin.close()
            await write(db, 3)  # a checkpoint catches up; the next write restarts the WAL
            return peak, wal.stat().st_size

    peak, after = asyncio.run(scenario())
    assert peak > 800_000
    assert after <= 64 * 1024
