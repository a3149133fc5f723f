"""Retention: pending leads go after 7 days, old leads are anonymised; CLI and daily job."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from campaign import retention
from campaign.db import Database
from campaign.retention import months_before, purge

from .test_leads import count, deliver, link_in, rows, submit

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("now, months, expected", [
    ("2026-03-31T10:00:00", 1, "2026-02-28T10:00:00"),
    ("2028-03-31T10:00:00", 1, "2028-02-29T10:00:00"),
    ("2026-01-15T00:00:00", 24, "2024-01-15T00:00:00"),
    ("2026-01-31T00:00:00", 13, "2024-12-31T00:00:00"),
])
def test_months_before(now, months, expected):
    assert months_before(datetime.fromisoformat(now), months).isoformat() == expected


def _purge(client, settings, now):
    return client.portal.call(purge, client.app.state.db, settings, now)


def test_pending_leads_are_deleted_after_seven_days(client, settings):
    submit(client)
    now = datetime.now(UTC)
    assert _purge(client, settings, now + timedelta(days=6)) == \
        {"deleted_pending": 0, "anonymised": 0}
    assert count(client, "leads") == 1
    assert _purge(client, settings, now + timedelta(days=7, minutes=1)) == \
        {"deleted_pending": 1, "anonymised": 0}
    assert count(client, "leads") == 0
    # the confirmation mail with the address is gone, the anonymous consent proof stays
    assert count(client, "outbox") == 0
    assert count(client, "consent_events", "lead_id IS NULL AND event = 'given'") == 3


def test_old_leads_are_anonymised(mail_client, smtp, smtp_settings):
    client = mail_client
    assert submit(client).status_code == 303
    deliver(client, smtp_settings)
    assert client.get(link_in(smtp.messages[-1], "bestaetigen")).status_code == 200
    deliver(client, smtp_settings)
    now = datetime.now(UTC)
    assert _purge(client, smtp_settings, now + timedelta(days=30 * 23)) == \
        {"deleted_pending": 0, "anonymised": 0}
    assert rows(client, "SELECT status FROM leads")[0]["status"] == "confirmed"
    result = _purge(client, smtp_settings, months_before(now, -24) + timedelta(minutes=1))
    assert result == {"deleted_pending": 0, "anonymised": 1}
    lead = rows(client, "SELECT * FROM leads")[0]
    assert lead["status"] == "anonymised"
    assert all(lead[f] is None for f in ("name", "email", "phone", "message", "submission_key"))
    assert lead["municipalities"] != "[]"  # the profile for the statistics stays
    assert count(client, "lead_recipients") > 0
    leftovers = rows(client, "SELECT COUNT(*) AS n FROM outbox WHERE instr(message, ?) > 0",
                     (b"anna.beispiel@example.com",))
    assert leftovers[0]["n"] == 0
    assert count(client, "outbox", "recipient = ?", ("anna.beispiel@example.com",)) == 0


def test_purge_command(tmp_path):
    db = tmp_path / "cli.sqlite3"

    async def setup() -> None:
        async with Database(db) as d:
            old = (datetime.now(UTC) - timedelta(days=10)).isoformat(timespec="seconds")
            new = datetime.now(UTC).isoformat(timespec="seconds")
            for public_id, created in (("old", old), ("new", new)):
                await d.execute("INSERT INTO leads (public_id, created_at, email) VALUES (?, ?, ?)",
                                (public_id, created, f"{public_id}@example.com"))

    asyncio.run(setup())
    env = {**os.environ, "CAMPAIGN_DATABASE": str(db), "CAMPAIGN_SECRET_KEY": "k" * 40}
    out = subprocess.run([sys.executable, "-m", "campaign", "purge"], check=False,
                         capture_output=True,
                         text=True, cwd=ROOT, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "1 unconfirmed lead(s) deleted" in out.stdout
    assert "0 share image(s) unused for 30 days deleted" in out.stdout
    left = [r[0] for r in sqlite3.connect(db).execute("SELECT public_id FROM leads")]
    assert left == ["new"]


def test_daily_job_runs_purge_soon_after_start(tmp_path, settings, monkeypatch):
    monkeypatch.setattr(retention, "FIRST_RUN_DELAY", 0.0)
    runs: list[dict[str, int]] = []
    real = retention.purge

    async def recording(db, s, now=None):
        runs.append(await real(db, s, now))
        return runs[-1]

    monkeypatch.setattr(retention, "purge", recording)

    async def go() -> None:
        async with Database(settings.database) as db:
            task = asyncio.create_task(retention.run_daily(SimpleNamespace(
                state=SimpleNamespace(db=db, settings=settings))))
            for _ in range(100):
                if runs:
                    break
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(go())
    assert runs == [{"deleted_pending": 0, "anonymised": 0}]
