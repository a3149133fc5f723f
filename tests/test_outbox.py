"""The outbox worker against a real aiosmtpd server, on SQLite and PostgreSQL:
leases, retries with backoff, dead letters, requeue."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections import Counter
from datetime import timedelta

from starlette.testclient import TestClient

from campaign.core.clock import utcnow
from campaign.core.db import Database
from campaign.delivery.outbox import LEASE, claim, requeue
from campaign.delivery.worker import deliver_once, reclaim_orphaned_leases
from campaign.web.app import create_app

from .support.app import all_leads, deliver, run, services, shipped_content
from .support.delivery import ROOT, cli, cli_env, de_vries_in, outbox_in, queue_mails_in
from .support.live import wait_until
from .support.portal import health_details


def _message_ids(smtp) -> Counter[str]:
    return Counter(str(m["Message-ID"]).strip() for m in smtp.messages)


def test_smtp_down_rows_wait_then_all_delivered_exactly_once(mail_client, smtp):
    smtp.stop()
    de_vries_in(mail_client)  # six lead mails and two to the family
    start = utcnow()
    down = deliver(mail_client)
    status = [lead.status for lead in all_leads(mail_client)]
    waiting = outbox_in(mail_client)
    smtp.start()  # same port
    early = deliver(mail_client)  # backoff: not due yet
    up = deliver(mail_client, now=utcnow() + timedelta(hours=1))
    again = deliver(mail_client, now=utcnow() + timedelta(hours=2))
    done = outbox_in(mail_client)

    assert down == {"sent": 0, "retried": 8, "dead": 0, "claimed": 8}
    assert status == ["confirmed"]  # mail trouble never touches the lead
    assert all(r.status == "queued" and r.attempts == 1 and r.last_error
               and r.next_attempt_at > start + timedelta(seconds=30) and r.lease_owner is None
               for r in waiting)
    assert early["claimed"] == 0
    assert up["sent"] == 8 and again["claimed"] == 0
    assert all(r.status == "sent" and r.sent_at for r in done)
    ids = _message_ids(smtp)
    assert len(ids) == len(done) == 8 and set(ids.values()) == {1}
    assert sum(r.kind == "lead" for r in done) == 6


def test_451_is_retried_with_backoff_then_delivered(mail_client, smtp):
    queue_mails_in(mail_client, 1)
    smtp.fail_codes = ["451 4.3.0 try again later", "451 4.3.0 still busy"]
    t = utcnow()
    results, waits = [], []
    for _ in range(3):
        results.append(deliver(mail_client, now=t))
        [row] = outbox_in(mail_client)
        waits.append((row.next_attempt_at - t).total_seconds())
        t = row.next_attempt_at + timedelta(seconds=1)
    [row] = outbox_in(mail_client)
    assert [r["retried"] for r in results] == [1, 1, 0] and results[2]["sent"] == 1
    # exponential: the second wait is about twice the first (±25 % jitter each)
    assert 45 <= waits[0] <= 75 and 90 <= waits[1] <= 150
    assert row.status == "sent" and row.attempts == 3 and row.last_error is None
    assert len(smtp.messages) == 1


def test_too_many_temporary_failures_make_a_dead_letter(mail_client, smtp, smtp_settings):
    settings = smtp_settings.with_(outbox_max_attempts=2)
    queue_mails_in(mail_client, 1)
    smtp.fail_codes = ["421 4.7.0 go away"] * 3
    first = deliver(mail_client, settings)
    second = deliver(mail_client, settings, now=utcnow() + timedelta(hours=1))
    [row] = outbox_in(mail_client)
    assert first["retried"] == 1 and second["dead"] == 1
    assert row.status == "dead" and "gave up after 2 attempts" in row.last_error


def test_550_dead_letter_shows_in_healthz_and_cli_and_retry_delivers(mail_client, smtp,
                                                                     smtp_settings):
    client, settings = mail_client, smtp_settings
    queue_mails_in(client, 1)
    smtp.fail_codes = ["550 5.1.1 mailbox unknown"]
    counts = deliver(client)
    [row] = outbox_in(client)
    assert counts["dead"] == 1 and row.status == "dead" and row.attempts == 1
    assert "550" in row.last_error and not smtp.messages
    health = health_details(client)
    assert health["dead_letters"] == 1 and health["outbox_backlog"] == 0

    listed = cli(settings, "outbox")
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if x.strip().startswith(str(row.id)))
    assert "lead" in line and "dead" in line and "550" in line and row.recipient in line

    assert cli(settings, "outbox", "retry", "9999").returncode == 1
    retried = cli(settings, "outbox", "retry", str(row.id))
    assert retried.returncode == 0 and "1 mail(s) queued again" in retried.stdout
    assert health_details(client)["dead_letters"] == 0
    assert health_details(client)["outbox_backlog"] == 1

    sent = cli(settings, "send-outbox", "--once", CAMPAIGN_SMTP_URL=smtp.url)
    assert sent.returncode == 0, sent.stderr
    assert "sent 1," in sent.stdout and "now 0 queued, 0 dead" in sent.stdout
    assert len(smtp.messages) == 1
    assert health_details(client)["outbox_backlog"] == 0


def test_retry_all_dead_letters(mail_client, smtp):
    queue_mails_in(mail_client, 2)
    smtp.fail_codes = ["554 5.7.1 rejected"] * 2
    assert deliver(mail_client)["dead"] == 2
    changed = run(mail_client, requeue, services(mail_client).db, all_dead=True)
    counts = deliver(mail_client)
    assert changed == 2 and counts["sent"] == 2 and len(smtp.messages) == 2


def test_a_crashed_workers_rows_are_sent_after_the_lease_expires(mail_client, smtp):
    db = services(mail_client).db
    queue_mails_in(mail_client, 6)
    now = utcnow()
    taken = run(mail_client, claim, db, "crashed-worker", now=now, batch=100)  # … then dies
    blocked = deliver(mail_client, worker_id="second", now=now + timedelta(seconds=60))
    after = deliver(mail_client, worker_id="second", now=now + LEASE + timedelta(seconds=1))
    rows = outbox_in(mail_client)
    assert len(taken) == 6
    assert blocked["claimed"] == 0  # leased rows are left alone until the lease expires
    assert after["sent"] == 6 and len(smtp.messages) == 6
    assert all(r.status == "sent" and r.lease_owner is None for r in rows)


def test_leases_of_a_killed_worker_on_this_host_are_released_at_start(mail_client, smtp):
    db = services(mail_client).db
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer runs
    host = socket.gethostname()
    queue_mails_in(mail_client, 6)
    now = utcnow()
    run(mail_client, claim, db, f"{host}:{dead.pid}:gone", now=now, batch=3)
    run(mail_client, claim, db, f"{host}:{os.getpid()}:alive", now=now, batch=2)
    run(mail_client, claim, db, f"elsewhere:{dead.pid}:other", now=now, batch=1)
    released = run(mail_client, reclaim_orphaned_leases, db)
    sent = deliver(mail_client, worker_id="restarted", now=now + timedelta(seconds=1))
    rows = outbox_in(mail_client)
    assert released == 3  # only the stopped process of this host
    assert sent["sent"] == 3 and len(smtp.messages) == 3
    owners = Counter(r.lease_owner for r in rows if r.status == "queued")
    assert owners == {f"{host}:{os.getpid()}:alive": 2, f"elsewhere:{dead.pid}:other": 1}


def test_two_workers_at_once_never_send_a_row_twice(mail_client, smtp, smtp_settings):
    queue_mails_in(mail_client, 120)

    async def worker(name: str) -> int:
        sent = 0
        db = Database(smtp_settings.database)  # its own connections, like another process
        await db.open(migrate=False)
        try:
            while True:
                counts = await deliver_once(db, smtp_settings, worker_id=name, batch=7)
                if not counts["claimed"]:
                    return sent
                sent += counts["sent"]
        finally:
            await db.close()

    async def both() -> list[int]:
        return list(await asyncio.gather(worker("a"), worker("b")))

    a, b = run(mail_client, both)
    assert a + b == 120 and a > 0 and b > 0
    ids = _message_ids(smtp)
    assert len(ids) == 120 and set(ids.values()) == {1}


def test_two_send_outbox_processes_never_send_a_row_twice(mail_client, smtp, smtp_settings):
    queue_mails_in(mail_client, 300)  # several batches each
    env = cli_env(smtp_settings, CAMPAIGN_SMTP_URL=smtp.url)
    procs = [subprocess.Popen([sys.executable, "-m", "campaign", "send-outbox", "--once"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    sent = 0
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        sent += int(out.decode().split("sent ")[1].split(",")[0])
    assert sent == 300
    ids = _message_ids(smtp)
    assert len(ids) == 300 and set(ids.values()) == {1}
    assert {r.status for r in outbox_in(mail_client)} == {"sent"}


def test_the_app_lifespan_runs_the_worker(smtp_settings, smtp):
    settings = smtp_settings.with_(background=True, outbox_interval=0.05)
    with TestClient(create_app(settings, content=shipped_content())) as client:
        de_vries_in(client, municipalities=("olpe",), consents=("municipalities",))
        wait_until(lambda: len(smtp.messages) == 3, timeout=10)  # request, lead, self-service
        wait_until(lambda: health_details(client)["outbox_backlog"] == 0, timeout=10)
        health = health_details(client)
        assert health["outbox_backlog"] == 0 and health["oldest_unsent_age_seconds"] is None
    assert len(smtp.messages) == 3
