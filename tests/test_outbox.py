"""The outbox worker against a real aiosmtpd server and a real SQLite file."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from campaign.mail.worker import (
    LEASE_SECONDS,
    claim,
    deliver_once,
    reclaim_orphaned_leases,
    requeue,
)

from .test_delivery import add_lead, database, mailer_for_settings

ROOT = Path(__file__).resolve().parent.parent


def _rows(db, sql="SELECT * FROM outbox ORDER BY id"):
    return db.fetchall(sql)


def _cli(settings, *args, extra_env=None):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "CAMPAIGN_DATABASE": str(settings.database),
           "CAMPAIGN_SECRET_KEY": settings.secret_key, **(extra_env or {})}
    return subprocess.run([sys.executable, "-m", "campaign", *args], cwd=ROOT, env=env, check=False,
                          capture_output=True, text=True, timeout=120)


def test_smtp_down_rows_wait_then_all_delivered_exactly_once(settings, smtp):
    settings = settings.with_(smtp_url=smtp.url)
    mailer = mailer_for_settings(settings)
    smtp.stop()

    async def go():
        async with database(settings) as db:
            lead_id, _, recipients = await add_lead(db, mailer)
            down = await deliver_once(db, settings)
            status = await db.fetchval("SELECT status FROM leads WHERE id = ?", (lead_id,))
            waiting = await _rows(db)
            smtp.start()  # same port
            early = await deliver_once(db, settings)  # backoff: not due yet
            up = await deliver_once(db, settings, now=time.time() + 3600)
            again = await deliver_once(db, settings, now=time.time() + 7200)
            done = await _rows(db)
            return recipients, down, status, waiting, early, up, again, done

    recipients, down, status, waiting, early, up, again, done = asyncio.run(go())
    assert down == {"sent": 0, "retried": 6, "dead": 0, "claimed": 6}
    assert status == "confirmed"
    assert all(r["status"] == "queued" and r["attempts"] == 1 and r["last_error"]
               and r["next_attempt_ts"] > time.time() + 30 and r["lease_owner"] is None
               for r in waiting)
    assert early["claimed"] == 0
    assert up["sent"] == 6 and again["claimed"] == 0
    assert all(r["status"] == "sent" and r["sent_at"] for r in done)
    ids = Counter(str(m["Message-ID"]).strip() for m in smtp.messages)
    assert len(ids) == len(recipients) == 6 and set(ids.values()) == {1}


def test_451_is_retried_with_backoff_then_delivered(settings, smtp):
    settings = settings.with_(smtp_url=smtp.url)
    mailer = mailer_for_settings(settings)
    smtp.fail_codes = ["451 4.3.0 try again later", "451 4.3.0 still busy"]

    async def go():
        async with database(settings) as db:
            await add_lead(db, mailer, municipalities=["olpe"], consents=["municipalities"])
            t = time.time()
            results, waits = [], []
            for _ in range(3):
                results.append(await deliver_once(db, settings, now=t))
                row = (await _rows(db))[0]
                waits.append(row["next_attempt_ts"] - t)
                t = row["next_attempt_ts"] + 1
            return results, waits, (await _rows(db))[0]

    results, waits, row = asyncio.run(go())
    assert [r["retried"] for r in results] == [1, 1, 0] and results[2]["sent"] == 1
    # exponential: the second wait is about twice the first (±25 % jitter each)
    assert 45 <= waits[0] <= 75 and 90 <= waits[1] <= 150
    assert row["status"] == "sent" and row["attempts"] == 3 and row["last_error"] is None
    assert len(smtp.messages) == 1


def test_too_many_temporary_failures_make_a_dead_letter(settings, smtp):
    settings = settings.with_(smtp_url=smtp.url, outbox_max_attempts=2)
    mailer = mailer_for_settings(settings)
    smtp.fail_codes = ["421 4.7.0 go away"] * 3

    async def go():
        async with database(settings) as db:
            await add_lead(db, mailer, municipalities=["olpe"], consents=["municipalities"])
            first = await deliver_once(db, settings)
            second = await deliver_once(db, settings, now=time.time() + 3600)
            return first, second, (await _rows(db))[0]

    first, second, row = asyncio.run(go())
    assert first["retried"] == 1 and second["dead"] == 1
    assert row["status"] == "dead" and "gave up after 2 attempts" in row["last_error"]


def test_550_dead_letter_shows_in_healthz_and_cli_and_retry_delivers(settings, smtp, client):
    settings = settings.with_(smtp_url=smtp.url)
    mailer = mailer_for_settings(settings)
    smtp.fail_codes = ["550 5.1.1 mailbox unknown"]

    async def queue_and_send():
        async with database(settings) as db:
            await add_lead(db, mailer, municipalities=["olpe"], consents=["municipalities"])
            return await deliver_once(db, settings), (await _rows(db))[0]

    counts, row = asyncio.run(queue_and_send())
    assert counts["dead"] == 1 and row["status"] == "dead" and row["attempts"] == 1
    assert "550" in row["last_error"] and not smtp.messages
    health = client.get("/healthz").json()
    assert health["dead_letters"] == 1 and health["outbox_backlog"] == 0

    listed = _cli(settings, "outbox")
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if x.strip().startswith(str(row["id"])))
    assert "lead" in line and "dead" in line and "550" in line and row["recipient"] in line

    assert _cli(settings, "outbox", "retry", "9999").returncode == 1
    retried = _cli(settings, "outbox", "retry", str(row["id"]))
    assert retried.returncode == 0 and "1 mail(s) queued again" in retried.stdout
    assert client.get("/healthz").json()["dead_letters"] == 0
    assert client.get("/healthz").json()["outbox_backlog"] == 1

    sent = _cli(settings, "send-outbox", "--once", extra_env={"CAMPAIGN_SMTP_URL": smtp.url})
    assert sent.returncode == 0, sent.stderr
    assert "sent 1," in sent.stdout and "now 0 queued, 0 dead" in sent.stdout
    assert len(smtp.messages) == 1
    assert client.get("/healthz").json()["outbox_backlog"] == 0


def test_retry_all_dead_letters(settings, smtp):
    settings = settings.with_(smtp_url=smtp.url)
    mailer = mailer_for_settings(settings)
    smtp.fail_codes = ["554 5.7.1 rejected"] * 2

    async def go():
        async with database(settings) as db:
            await add_lead(db, mailer, municipalities=["olpe"], consents=["municipalities",
                                                                          "tourism"])
            await deliver_once(db, settings)
            changed = await requeue(db, all_dead=True)
            counts = await deliver_once(db, settings)
            return changed, counts

    changed, counts = asyncio.run(go())
    assert changed == 2 and counts["sent"] == 2 and len(smtp.messages) == 2


def test_a_crashed_workers_rows_are_sent_after_the_lease_expires(settings, smtp):
    settings = settings.with_(smtp_url=smtp.url)
    mailer = mailer_for_settings(settings)

    async def go():
        async with database(settings) as db:
            await add_lead(db, mailer)
            now = time.time()
            taken = await claim(db, "crashed-worker", now=now, batch=100)  # … and then dies
            blocked = await deliver_once(db, settings, worker_id="second", now=now + 60)
            after = await deliver_once(db, settings, worker_id="second",
                                       now=now + LEASE_SECONDS + 1)
            return taken, blocked, after, await _rows(db)

    taken, blocked, after, rows = asyncio.run(go())
    assert len(taken) == 6
    assert blocked["claimed"] == 0  # leased rows are left alone until the lease expires
    assert after["sent"] == 6 and len(smtp.messages) == 6
    assert all(r["status"] == "sent" and r["lease_owner"] is None for r in rows)


def test_leases_of_a_killed_worker_on_this_host_are_released_at_start(settings, smtp):
    settings = settings.with_(smtp_url=smtp.url)
    mailer = mailer_for_settings(settings)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer runs
    host = socket.gethostname()

    async def go():
        async with database(settings) as db:
            await add_lead(db, mailer)  # six rows
            now = time.time()
            await claim(db, f"{host}:{dead.pid}:gone", now=now, batch=3)
            await claim(db, f"{host}:{os.getpid()}:alive", now=now, batch=2)
            await claim(db, f"elsewhere:{dead.pid}:other", now=now, batch=1)
            released = await reclaim_orphaned_leases(db)
            sent = await deliver_once(db, settings, worker_id="restarted", now=now + 1)
            return released, sent, await _rows(db)

    released, sent, rows = asyncio.run(go())
    assert released == 3  # only the stopped process of this host
    assert sent["sent"] == 3 and len(smtp.messages) == 3
    owners = Counter(r["lease_owner"] for r in rows if r["status"] == "queued")
    assert owners == {f"{host}:{os.getpid()}:alive": 2, f"elsewhere:{dead.pid}:other": 1}


def test_two_workers_at_once_never_send_a_row_twice(settings, smtp):
    settings = settings.with_(smtp_url=smtp.url)
    mailer = mailer_for_settings(settings)

    async def worker(name):
        sent = 0
        async with database(settings) as db:  # its own connections, like another process
            while True:
                counts = await deliver_once(db, settings, worker_id=name, batch=7)
                if not counts["claimed"]:
                    return sent
                sent += counts["sent"]

    async def go():
        async with database(settings) as db:
            for _ in range(20):  # 20 leads × 6 recipients
                await add_lead(db, mailer)
        return await asyncio.gather(worker("a"), worker("b"))

    a, b = asyncio.run(go())
    assert a + b == 120 and a > 0 and b > 0
    ids = Counter(str(m["Message-ID"]).strip() for m in smtp.messages)
    assert len(ids) == 120 and set(ids.values()) == {1}


def test_two_send_outbox_processes_never_send_a_row_twice(settings, smtp):
    settings = settings.with_(smtp_url=smtp.url)
    mailer = mailer_for_settings(settings)

    async def go():
        async with database(settings) as db:
            for _ in range(50):  # 300 mails: several batches each
                await add_lead(db, mailer)

    asyncio.run(go())
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "CAMPAIGN_DATABASE": str(settings.database), "CAMPAIGN_SMTP_URL": smtp.url,
           "CAMPAIGN_SECRET_KEY": settings.secret_key}
    procs = [subprocess.Popen([sys.executable, "-m", "campaign", "send-outbox", "--once"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    sent = 0
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        sent += int(out.decode().split("sent ")[1].split(",")[0])
    assert sent == 300
    ids = Counter(str(m["Message-ID"]).strip() for m in smtp.messages)
    assert len(ids) == 300 and set(ids.values()) == {1}


def test_the_app_lifespan_runs_the_worker(settings, smtp):
    from starlette.testclient import TestClient

    from campaign.app import create_app

    from .conftest import shipped_content

    settings = settings.with_(smtp_url=smtp.url, background=True, outbox_interval=0.05)
    mailer = mailer_for_settings(settings)

    async def queue():
        async with database(settings) as db:
            await add_lead(db, mailer, municipalities=["olpe"], consents=["municipalities"])

    with TestClient(create_app(settings, content=shipped_content())) as client:
        asyncio.run(queue())
        deadline = time.monotonic() + 10
        while not smtp.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(smtp.messages) == 1
        health = client.get("/healthz").json()
        assert health["outbox_backlog"] == 0 and health["oldest_unsent_age_seconds"] is None
