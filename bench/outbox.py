"""Outbox throughput: 2,000 queued lead mails delivered to a local aiosmtpd server,
against a baseline that sends the same 2,000 messages with aiosmtplib directly in a
loop over one connection.

    python bench/outbox.py [--mails 2000] [--rounds 4] [--batch 100] [--database URL]

The SMTP server runs in its own process (aiosmtpd on loopback, accepts and counts);
the database is a real SQLite file in a temporary folder (or ``--database``). The
first outbox round builds every lead mail from its recipe; then each round runs
both variants on the built bytes, and the medians and their ratio are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
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

def start_server(port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def stop_server(proc: subprocess.Popen[str]) -> int:
    out, _ = proc.communicate("\n", timeout=30)
    return int(out.strip().splitlines()[-1])


async def queue_leads(svc, mails: int) -> None:
    """Submit and confirm leads until ``mails`` lead mails are queued (each lead
    goes to three towns and one tourism association)."""
    import sqlalchemy as sa

    from campaign.core.schema import outbox
    from campaign.leads import lifecycle
    from campaign.leads.form import LeadData

    data = LeadData(name="Familie Beispiel", email="familie@example.org",
                    phone="+49 170 000000", adults=2, children=2, child_ages=("3-5", "6-9"),
                    interests=("natur", "wohnen"), timeframe="within_year",
                    municipalities=("olpe", "winterberg", "siegen"),
                    message="Wir suchen ein Haus mit Garten.",
                    consents=("municipalities", "tourism"))
    lead_mails = sa.select(sa.func.count()).select_from(outbox).where(outbox.c.kind == "lead")
    while await svc.db.scalar(lead_mails) < mails:
        public_id = await lifecycle.create_pending(svc, lifecycle.NewLead(data, "de"))
        await lifecycle.confirm(svc, public_id)
    async with svc.db.transaction() as conn:  # exactly ``mails`` lead mails, nothing else
        await conn.execute(outbox.delete().where(outbox.c.kind != "lead"))
        keep = list((await conn.scalars(sa.select(outbox.c.id).order_by(outbox.c.id)
                                        .limit(mails))).all())
        await conn.execute(outbox.delete().where(outbox.c.id.not_in(keep)))


async def direct(settings, rows) -> float:
    """Baseline: the same messages, aiosmtplib, one connection, a plain loop."""
    sender = parseaddr(settings.mail_from)[1]
    start = time.perf_counter()
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=int(settings.smtp_url.rsplit(":", 1)[1]),
                           start_tls=False)
    await smtp.connect()
    for recipient, message in rows:
        await smtp.sendmail(sender, [recipient], message)
    await smtp.quit()
    return time.perf_counter() - start


async def through_outbox(svc, batch: int) -> float:
    """The outbox worker's loop; in the first round it builds the mails from their recipes."""
    import sqlalchemy as sa

    from campaign.core.clock import utcnow
    from campaign.core.schema import outbox
    from campaign.delivery.worker import deliver_once
    from campaign.portal.mails import recipes

    async with svc.db.transaction() as conn:  # the same rows queued again
        await conn.execute(outbox.update().values(
            status="queued", attempts=0, sent_at=None, next_attempt_at=utcnow(),
            lease_owner=None, lease_until=None))
    start = time.perf_counter()
    while (await deliver_once(svc.db, svc.settings, worker_id="bench", batch=batch,
                              render=recipes(svc)))["claimed"]:
        pass
    elapsed = time.perf_counter() - start
    left = await svc.db.scalar(sa.select(sa.func.count()).select_from(outbox)
                               .where(outbox.c.status != "sent"))
    assert left == 0, f"{left} mails not sent"
    return elapsed


async def main(mails: int, rounds: int, batch: int, database: str) -> None:
    import sqlalchemy as sa

    from campaign.cli.common import services
    from campaign.core.schema import outbox
    from campaign.core.settings import Settings

    folder = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    port = free_port()
    server = start_server(port)
    settings = Settings(database=database or str(folder / "bench.sqlite3"), files_dir=folder,
                        secret_key="b" * 48, smtp_url=f"smtp://127.0.0.1:{port}",
                        background=False)
    try:
        async with services(settings) as svc:
            await queue_leads(svc, mails)
            print(f"{mails} lead mails, {svc.db.backend}, aiosmtpd on 127.0.0.1:{port},"
                  f" batch {batch}")
            outbox_t: list[float] = [await through_outbox(svc, batch)]
            print(f"  round 0 (builds every mail from its recipe): "
                  f"outbox {mails / outbox_t[0]:7.0f} mails/s")
            rows = [tuple(r) for r in await svc.db.all(
                sa.select(outbox.c.recipient, outbox.c.message).order_by(outbox.c.id))]
            size = sum(len(m) for _, m in rows) / len(rows)
            print(f"  {size / 1024:.1f} KiB per mail on average")
            outbox_t = []
            direct_t: list[float] = []
            cpu = {"direct": 0.0, "outbox": 0.0}  # this process (client, database thread)

            async def timed(name: str, coro) -> None:
                start = time.process_time()
                (direct_t if name == "direct" else outbox_t).append(await coro)
                cpu[name] += time.process_time() - start

            for n in range(rounds):  # alternate the order so neither side always goes first
                if n % 2:
                    await timed("outbox", through_outbox(svc, batch))
                    await timed("direct", direct(settings, rows))
                else:
                    await timed("direct", direct(settings, rows))
                    await timed("outbox", through_outbox(svc, batch))
                print(f"  round {n + 1}: direct {mails / direct_t[-1]:7.0f} mails/s,"
                      f" outbox {mails / outbox_t[-1]:7.0f} mails/s")
    finally:
        received = stop_server(server)
        shutil.rmtree(folder, ignore_errors=True)
    expected = (2 * rounds + 1) * mails
    assert received == expected, f"server received {received}, expected {expected}"
    d, o = mails / statistics.median(direct_t), mails / statistics.median(outbox_t)
    print(f"direct aiosmtplib loop: {d:7.0f} mails/s (median of {rounds})")
    print(f"through the outbox:     {o:7.0f} mails/s (median of {rounds})")
    print(f"ratio outbox / direct:  {o / d:.2f}")
    per_mail = {k: v / (rounds * mails) * 1000 for k, v in cpu.items()}
    print(f"client CPU per mail:    direct {per_mail['direct']:.2f} ms,"
          f" outbox {per_mail['outbox']:.2f} ms (load-independent view of the overhead)")
    print(f"server accepted {received} messages, every one exactly as often as sent")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--database", default="", help="CAMPAIGN_DATABASE (default: SQLite)")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    asyncio.run(main(args.mails, args.rounds, args.batch, args.database))
