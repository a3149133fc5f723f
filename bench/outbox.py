"""Outbox throughput: 2,000 queued lead mails delivered to a local aiosmtpd server,
against a baseline that sends the same 2,000 messages with aiosmtplib directly in a
loop over one connection.

    python bench/outbox.py [--mails 2000] [--rounds 3] [--batch 100]

The SMTP server runs in its own process (aiosmtpd on loopback, accepts and counts);
the database is a real SQLite file in a temporary folder. Each round runs both
variants; the median of the rounds is reported, and the ratio outbox / direct
(target: at least 0.8).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.utils import parseaddr
from pathlib import Path

import aiosmtplib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port

SERVER = r"""
import asyncio, signal, sys
from aiosmtpd.controller import Controller

class Count:
    n = 0
    async def handle_DATA(self, server, session, envelope):
        Count.n += 1
        return "250 OK"

c = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
sys.stdin.readline()  # stop when the bench closes our stdin
c.stop()
print(Count.n, flush=True)
"""

LEAD = {
    "status": "confirmed", "language": "de", "name": "Familie Beispiel",
    "email": "familie@example.org", "phone": "+49 170 000000", "adults": 2, "children": 2,
    "child_ages": json.dumps(["3-5", "6-9"]), "interests": json.dumps(["natur", "wohnen"]),
    "timeframe": "within_year", "municipalities": json.dumps(["olpe", "winterberg", "siegen"]),
    "consents": json.dumps(["municipalities", "tourism"]), "consent_version": "bench",
}


def start_server(port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def stop_server(proc: subprocess.Popen[str]) -> int:
    out, _ = proc.communicate("\n", timeout=30)
    return int(out.strip().splitlines()[-1])


async def queue_leads(db, mailer, mails: int) -> None:
    """Route leads until ``mails`` lead mails are queued (5 recipients per lead)."""
    from campaign.delivery import queue_routed_lead

    now = datetime.now(UTC).isoformat(timespec="seconds")
    while (await db.fetchval("SELECT COUNT(*) FROM outbox")) < mails:
        cols = {**LEAD, "public_id": secrets.token_hex(8), "created_at": now,
                "confirmed_at": now}
        async with db.transaction() as tx:
            lead_id = await tx.execute(
                f"INSERT INTO leads ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                tuple(cols.values()))
            lead = await tx.fetchone("SELECT * FROM leads WHERE id = ?", (lead_id,))
            await queue_routed_lead(tx, mailer, lead)
    async with db.transaction() as tx:  # exactly ``mails`` rows
        await tx.execute("DELETE FROM outbox WHERE id > ?", (mails,))


async def direct(settings, rows) -> float:
    """Baseline: the same messages, aiosmtplib, one connection, a plain loop."""
    sender = parseaddr(settings.mail_from)[1]
    start = time.perf_counter()
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=int(settings.smtp_url.rsplit(":", 1)[1]),
                           start_tls=False)
    await smtp.connect()
    for row in rows:
        await smtp.sendmail(sender, [row["recipient"]], row["message"])
    await smtp.quit()
    return time.perf_counter() - start


async def through_outbox(db, settings, batch: int) -> float:
    from campaign.mail.worker import deliver_once

    async with db.transaction() as tx:  # the same rows queued again
        await tx.execute("UPDATE outbox SET status = 'queued', attempts = 0, sent_at = NULL,"
                         " next_attempt_ts = 0, lease_owner = NULL, lease_until_ts = NULL")
    start = time.perf_counter()
    while (await deliver_once(db, settings, worker_id="bench", batch=batch))["claimed"]:
        pass
    elapsed = time.perf_counter() - start
    left = await db.fetchval("SELECT COUNT(*) FROM outbox WHERE status != 'sent'")
    assert left == 0, f"{left} mails not sent"
    return elapsed


async def main(mails: int, rounds: int, batch: int) -> None:
    from campaign.db import Database
    from campaign.mail import Mailer
    from campaign.settings import Settings
    from campaign.templating import Renderer

    from campaign.content import load_content

    folder = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    port = free_port()
    server = start_server(port)
    settings = Settings(database=folder / "bench.sqlite3", secret_key="b" * 48,
                        smtp_url=f"smtp://127.0.0.1:{port}", background=False)
    db = Database(settings.database)
    await db.open()
    try:
        mailer = Mailer(settings, Renderer(settings).env, load_content(settings.content_dir))
        await queue_leads(db, mailer, mails)
        rows = await db.fetchall("SELECT recipient, message FROM outbox ORDER BY id")
        size = sum(len(r["message"]) for r in rows) / len(rows)
        print(f"{len(rows)} lead mails, {size / 1024:.1f} KiB each on average, "
              f"SQLite {settings.database}, aiosmtpd on 127.0.0.1:{port}, batch {batch}")
        direct_t: list[float] = []
        outbox_t: list[float] = []
        cpu = {"direct": 0.0, "outbox": 0.0}  # this process (client, SQLite thread)

        async def timed(name: str, coro) -> None:
            start = time.process_time()
            (direct_t if name == "direct" else outbox_t).append(await coro)
            cpu[name] += time.process_time() - start

        for n in range(rounds):  # alternate the order so neither side always goes first
            if n % 2:
                await timed("outbox", through_outbox(db, settings, batch))
                await timed("direct", direct(settings, rows))
            else:
                await timed("direct", direct(settings, rows))
                await timed("outbox", through_outbox(db, settings, batch))
            print(f"  round {n + 1}: direct {mails / direct_t[-1]:7.0f} mails/s,"
                  f" outbox {mails / outbox_t[-1]:7.0f} mails/s")
    finally:
        await db.close()
        received = stop_server(server)
        shutil.rmtree(folder, ignore_errors=True)
    expected = 2 * rounds * mails
    assert received == expected, f"server received {received}, expected {expected}"
    d, o = mails / statistics.median(direct_t), mails / statistics.median(outbox_t)
    print(f"direct aiosmtplib loop: {d:7.0f} mails/s (median of {rounds})")
    print(f"through the outbox:     {o:7.0f} mails/s (median of {rounds})")
    print(f"ratio outbox / direct:  {o / d:.2f} (target >= 0.80)")
    per_mail = {k: v / (rounds * mails) * 1000 for k, v in cpu.items()}
    print(f"client CPU per mail:    direct {per_mail['direct']:.2f} ms,"
          f" outbox {per_mail['outbox']:.2f} ms (load-independent view of the overhead)")
    print(f"server accepted {received} messages, every one exactly as often as sent")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    asyncio.run(main(args.mails, args.rounds, args.batch))
