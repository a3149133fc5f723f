"""Retention: pending leads go after 7 days, old leads are anonymised; CLI and daily job."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from campaign.core import jobs
from campaign.core.schema import (
    consent_events,
    lead_interests,
    lead_municipalities,
    lead_recipients,
    leads,
    outbox,
)
from campaign.leads.retention import months_before, purge
from campaign.web import app as web_app

from .support.app import all_leads, count_in, deliver, rows_in, run, services
from .support.forms import click, link_in, submit
from .support.leads import store_lead

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMAIL = "anna.beispiel@example.com"


@pytest.mark.parametrize("now, months, expected", [
    ("2026-03-31T10:00:00+00:00", 1, "2026-02-28T10:00:00+00:00"),
    ("2028-03-31T10:00:00+00:00", 1, "2028-02-29T10:00:00+00:00"),
    ("2026-01-15T00:00:00+00:00", 24, "2024-01-15T00:00:00+00:00"),
    ("2026-01-31T00:00:00+00:00", 13, "2024-12-31T00:00:00+00:00"),
    ("2026-01-31T00:00:00+00:00", -1, "2026-02-28T00:00:00+00:00"),
])
def test_months_before(now, months, expected):
    assert months_before(datetime.fromisoformat(now), months).isoformat() == expected


def _purge(client, settings, now):
    return run(client, purge, services(client).db, settings, now)


def test_pending_leads_are_deleted_after_seven_days(client, settings):
    assert submit(client).status_code == 303
    now = services(client).clock.now()
    assert _purge(client, settings, now + timedelta(days=6)) == \
        {"deleted_pending": 0, "anonymised": 0}
    assert len(all_leads(client)) == 1
    assert _purge(client, settings, now + timedelta(days=7, minutes=1)) == \
        {"deleted_pending": 1, "anonymised": 0}
    assert all_leads(client) == []
    assert count_in(client, lead_municipalities) == 0 and count_in(client, lead_interests) == 0
    # the confirmation mail with the address is gone, the anonymous consent proof stays
    assert count_in(client, outbox) == 0
    assert count_in(client, consent_events, consent_events.c.lead_id.is_(None),
                    consent_events.c.event == "given") == 3


def test_old_leads_are_anonymised(mail_client, smtp, smtp_settings):
    client = mail_client
    assert submit(client).status_code == 303
    deliver(client, smtp_settings)
    assert click(client, link_in(smtp.messages[-1], "bestaetigen")).status_code == 200
    deliver(client, smtp_settings)
    now = services(client).clock.now()
    assert _purge(client, smtp_settings, now + timedelta(days=30 * 23)) == \
        {"deleted_pending": 0, "anonymised": 0}
    assert all_leads(client)[0].status == "confirmed"
    result = _purge(client, smtp_settings, months_before(now, -24) + timedelta(minutes=1))
    assert result == {"deleted_pending": 0, "anonymised": 1}
    [lead] = all_leads(client)
    assert lead.status == "anonymised"
    assert all(getattr(lead, f) is None for f in ("name", "email", "phone", "message"))
    [row] = rows_in(client, leads)
    assert row.submission_key is None
    assert lead.municipalities == ("olpe", "attendorn")  # the profile for the statistics stays
    assert count_in(client, lead_recipients) > 0
    mails = rows_in(client, outbox)
    assert mails, "the sent mails keep their metadata"
    for mail in mails:
        assert EMAIL.encode() not in mail.message.lower()
        assert mail.recipient.lower() != EMAIL
        if mail.lead_id == lead.id:
            assert mail.message == b""
    # a second run finds nothing more to do
    assert _purge(client, smtp_settings, months_before(now, -24) + timedelta(minutes=2)) == \
        {"deleted_pending": 0, "anonymised": 0}


def test_purge_command(client, settings, tmp_path):
    svc = services(client)
    old = datetime.now(UTC) - timedelta(days=10)
    run(client, store_lead, svc, at=old, confirm=False, email="old@example.com")
    run(client, store_lead, svc, confirm=False, email="new@example.com")
    env = {**os.environ, "CAMPAIGN_DATABASE": str(settings.database),
           "CAMPAIGN_SECRET_KEY": "k" * 40}
    # cwd: on PostgreSQL the data folder (share images) is ./var, here the test's own
    out = subprocess.run([sys.executable, "-m", "campaign", "purge"], check=False,
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "1 unconfirmed lead(s) deleted" in out.stdout
    assert "0 share image(s) unused for 30 days deleted" in out.stdout
    assert [lead.email for lead in all_leads(client)] == ["new@example.com"]


def test_daily_job_purges_soon_after_start_and_once_across_instances(client, monkeypatch):
    """The app schedules the purge as a periodic job; two instances running that
    schedule at once purge once."""
    svc = services(client)
    scheduled: dict[str, Any] = {}

    async def capture(db, clock, name, every, job, *, poll=60.0, first_delay=0.0):
        scheduled[name] = (every, job, first_delay)

    async def no_worker(*args: Any, **kwargs: Any) -> None:
        return None

    monkeypatch.setattr(jobs, "run_periodically", capture)
    monkeypatch.setattr(web_app, "run_forever", no_worker)
    for start in web_app.background_jobs(svc):
        run(client, start)
    every, daily, first_delay = scheduled["purge"]
    assert every == timedelta(days=1)
    assert first_delay < every.total_seconds() / 24  # soon after start, not a day later
    monkeypatch.undo()

    stale = datetime.now(UTC) - timedelta(days=8)
    run(client, store_lead, svc, at=stale, confirm=False, email="stale@example.com")
    run(client, store_lead, svc, confirm=False, email="fresh@example.com")
    runs: list[int] = []

    async def recording() -> None:
        runs.append(1)
        await daily()

    async def two_instances() -> None:
        tasks = [asyncio.create_task(jobs.run_periodically(
            svc.db, svc.clock, "purge", every, recording, poll=0.01)) for _ in range(2)]
        for _ in range(500):
            if runs:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # both loops poll again meanwhile
        for task in tasks:
            task.cancel()
        for task in tasks:
            with pytest.raises(asyncio.CancelledError):
                await task

    client.portal.call(two_instances)
    assert runs == [1]
    assert [lead.email for lead in all_leads(client)] == ["fresh@example.com"]
