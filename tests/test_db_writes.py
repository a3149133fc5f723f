"""Write transactions: while another process holds the write lock, the service waits
without blocking its event loop, then writes; a stuck lock ends in an error, not a hang."""

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
