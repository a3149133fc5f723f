"""Delivery under faults: no lead may be lost when SMTP goes away or the service dies.

    python bench/faults.py [--leads 1000] [--workers 8] [--smtp-down 3] [--timeout 900]
                           [--postgresql --instances 2]

Families submit the lead form and confirm from the mail they receive, all
through real HTTP against ``uvicorn_run.py`` (real SQLite file, outbox worker
on). The mail server is an aiosmtpd server inside this process. During the
run the mail server is stopped for a while, and the service is killed with
SIGKILL and started again on the same database — timed for the hard case,
(with ``--postgresql --instances 2``: two instances on one throwaway PostgreSQL
server, families spread over both, the first one killed and restarted),
while its outbox worker holds a batch leased and mails are on the wire. At the
end every confirmed lead must have reached every recipient routed to it, and
every mail in the outbox must have arrived: the script prints leads, expected
deliveries, delivered, lost (must be 0) and duplicates (the same Message-ID
accepted twice: delivery is at-least-once, so a kill between "accepted" and
"recorded" may resend). A family whose request was cut off by the kill tries
again, as a person would; if the first attempt was stored, that family has two
leads, and both count. Exit status 1 when anything was lost.

The kill comes first, timed for a moment when the worker holds a batch
leased; the restarted service sees that the lease holder's process is gone
and releases the batch at once (on another host it would wait for the lease
to run out, five minutes). Mails that failed while the mail server was down
come back after the worker's back-off (about a minute): the run takes that long.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import http.client
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
import sqlalchemy as sa
from common import STAMP_FIELD, Client, fill_form, form_stamps, free_port, start_service

from campaign.core.db import Database
from campaign.core.schema import lead_recipients, leads, outbox

CONFIRM = re.compile(r"https?://[^/\s]+(/bestaetigen/[A-Za-z0-9._-]+)")


class MailServer:
    """aiosmtpd on a fixed loopback port that records every accepted message."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.lock = threading.Lock()
        self.message_ids: Counter[str] = Counter()
        self.confirm_links: list[str] = []
        self.accepted = 0
        self.controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        message_id = "".join(str(msg["Message-ID"]).split())  # a folded header keeps spaces
        with self.lock:
            self.accepted += 1
            self.message_ids[message_id] += 1
            if self.message_ids[message_id] == 1:
                self.confirm_links += CONFIRM.findall(text)
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class Service:
    """The service as a subprocess that can be killed and started again."""

    def __init__(self, folder: Path, port: int, smtp_port: int, database: str) -> None:
        self.folder, self.port = folder, port
        self.env = {"CAMPAIGN_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
                    "CAMPAIGN_RATE_LIMIT_PER_HOUR": "1000000000",
                    "CAMPAIGN_DATABASE": database, "CAMPAIGN_DATA_DIR": str(folder)}
        self.proc: subprocess.Popen[Any] | None = None
        self.up = threading.Event()

    def start(self) -> None:
        self.proc = start_service(self.folder, self.port, **self.env)
        self.up.set()

    def kill(self) -> None:
        self.up.clear()
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def request(port: int, method: str, path: str, body: bytes | None = None,
            cookie: str = "") -> int:
    """One request on a fresh connection; raises OSError when the service is down."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Cookie": cookie}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


RETRIED: Counter[str] = Counter()  # requests sent again after a failure, by kind


def persist(action: Any, service: Service, what: str) -> int:
    """Retry like a patient family: the service may be restarting."""
    for attempt in range(600):
        service.up.wait(timeout=60)
        try:
            return int(action())
        except (OSError, http.client.HTTPException):
            if attempt == 0:
                RETRIED[what.split()[0]] += 1
            time.sleep(0.2)
    raise RuntimeError(f"gave up on {what}")


def db_rows(database: str, query: Any) -> list[tuple[Any, ...]]:
    """Rows of a Core query, read with the service's own database layer."""
    async def read() -> list[tuple[Any, ...]]:
        db = Database(database, pool_size=1)
        await db.open(migrate=False)
        try:
            return [tuple(r) for r in await db.all(query)]
        finally:
            await db.close()

    return asyncio.run(read())


def count(database: str, *where: Any, table: Any = outbox) -> int:
    return int(db_rows(database, sa.select(sa.func.count()).select_from(table)
                       .where(*where))[0][0])


def wait_for_lease(database: str, timeout: float = 15.0) -> int:
    """Wait until a worker has claimed a batch it has not finished: kill then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        leased = count(database, outbox.c.status == "queued", outbox.c.lease_owner.isnot(None))
        if leased:
            return leased
        time.sleep(0.005)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--leads", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--smtp-down", type=float, default=3.0, help="seconds without SMTP")
    ap.add_argument("--postgresql", action="store_true",
                    help="a throwaway PostgreSQL server instead of the SQLite file")
    ap.add_argument("--instances", type=int, default=1, help="service processes")
    args = ap.parse_args()
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="campaign-faults-"))
    cluster = None
    database = str(folder / "campaign.sqlite3")
    if args.postgresql:
        from tests.support.postgres import PostgresCluster

        cluster = PostgresCluster()
        cluster.start()
        database = cluster.new_database(migrated=False)
    mail = MailServer(free_port())
    mail.start()
    services = [Service(folder / f"instance-{i}", free_port(), mail.port, database)
                for i in range(args.instances)]
    for service in services:
        service.folder.mkdir()
        service.start()
    try:
        return run(args, database, mail, services, started)
    finally:
        for service in services:
            service.stop()
        mail.stop()
        if cluster is not None:
            cluster.stop()


def run(args: argparse.Namespace, database: str, mail: MailServer, services: list[Service],
        started: float) -> int:
    service = services[0]  # the one that is killed
    base = f"http://127.0.0.1:{service.port}"
    client = Client(base)
    status, _, html = client.request("/interesse?orte=hilchenbach,olpe")
    assert status == 200, status
    time.sleep(3.5)  # the form's minimum fill time; its signed start time stays valid
    action, fields = fill_form(html, email="family@example.org")
    cookie = "; ".join(f"{c.name}={c.value}" for c in client.jar)
    path = urllib.parse.urlsplit(action or "/interesse").path
    stamps = form_stamps(args.leads)  # each family fills in a form of its own

    def submit(i: int) -> int:
        body = urllib.parse.urlencode(
            [(k, f"family{i}@example.org" if v == "family@example.org"
              else stamps[i] if k == STAMP_FIELD else v)
             for k, v in fields]).encode()
        via = services[i % len(services)]  # families spread over the instances
        return persist(lambda: request(via.port, "POST", path, body, cookie), via,
                       f"lead {i}")

    confirmed: set[str] = set()
    confirm_statuses: Counter[int] = Counter()
    stop_confirming = threading.Event()

    def confirmer() -> None:
        while not stop_confirming.is_set():
            with mail.lock:
                links = [link for link in mail.confirm_links if link not in confirmed]
            for n, link in enumerate(links):
                via = services[n % len(services)]
                # the link shows a button; its POST confirms (a GET changes nothing)
                status = persist(lambda link=link, via=via: request(via.port, "POST", link),
                                 via, "confirmation")
                confirm_statuses[status] += 1
                if status < 500:
                    confirmed.add(link)
            time.sleep(0.2)

    confirm_thread = threading.Thread(target=confirmer, daemon=True)
    confirm_thread.start()
    statuses: Counter[int] = Counter()
    fault_log: list[str] = []
    with ThreadPoolExecutor(args.workers) as pool:
        futures = [pool.submit(submit, i) for i in range(args.leads)]
        # The kill comes first, while confirmation mails flow (a lease is then
        # visible within milliseconds); the SMTP outage later. In the other
        # order the mails that failed wait for their back-off, nothing is leased
        # for a minute, and the kill would miss the case it is there for.
        kill_at, smtp_down = args.leads // 3, 2 * args.leads // 3
        for i, future in enumerate(futures, 1):
            statuses[future.result()] += 1
            if i == kill_at:
                leased = wait_for_lease(database)  # the hard case: mails on the wire
                service.kill()
                fault_log.append(f"{time.monotonic() - started:6.1f}s  service killed (SIGKILL)"
                                 f" while it held {leased} mails leased for sending")
                service.start()
                fault_log.append(f"{time.monotonic() - started:6.1f}s  service started again")
            elif i == smtp_down:
                mail.stop()
                fault_log.append(f"{time.monotonic() - started:6.1f}s  SMTP server stopped")

                def restart_mail() -> None:
                    mail.start()
                    fault_log.append(f"{time.monotonic() - started:6.1f}s  SMTP server started")

                threading.Timer(args.smtp_down, restart_mail).start()
    fault_log.append(f"{time.monotonic() - started:6.1f}s  all {args.leads} leads submitted")

    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        queued = count(database, outbox.c.status == "queued")
        pending = count(database, leads.c.status == "pending", table=leads)
        if not queued and not pending:
            break
        time.sleep(1.0)
    stop_confirming.set()
    confirm_thread.join(timeout=60)
    fault_log.append(f"{time.monotonic() - started:6.1f}s  outbox drained")
    fault_log.append(f"confirmation pages answered: {dict(confirm_statuses)}")
    return report(database, mail, statuses, fault_log, args.leads)


def report(database: str, mail: MailServer, statuses: Counter[int], fault_log: list[str],
           families: int) -> int:
    rows = db_rows(database, sa.select(outbox.c.kind, outbox.c.message_id, outbox.c.status))
    expected = {mid for _, mid, _ in rows}
    with mail.lock:
        received = dict(mail.message_ids)
    delivered = expected & set(received)
    lost = expected - delivered
    duplicates = sum(n - 1 for n in received.values() if n > 1)
    by_status = db_rows(database, sa.select(leads.c.status, sa.func.count())
                        .group_by(leads.c.status))
    r = lead_recipients.c
    routed = db_rows(database, sa.select(r.lead_id, r.org, outbox.c.message_id).select_from(
        lead_recipients.outerjoin(outbox, sa.and_(outbox.c.lead_id == r.lead_id,
                                                  outbox.c.org == r.org,
                                                  outbox.c.kind == "lead"))))
    unreached = [(lead, org) for lead, org, mid in routed if mid not in received]
    dead = sum(1 for _, _, status in rows if status == "dead")
    print("\n".join(fault_log))
    print(f"\nfamilies submitting       {families}  (answers: {dict(statuses)};"
          f" sent again after a failed request: {RETRIED['lead']})")
    print(f"leads by status           {dict(by_status)}")
    print(f"lead → recipient routes   {len(routed)}  not reached: {len(unreached)}")
    print(f"expected deliveries       {len(expected)}  "
          f"(by kind: {dict(Counter(kind for kind, _, _ in rows))})")
    print(f"delivered                 {len(delivered)}")
    print(f"lost                      {len(lost)}")
    print(f"duplicates (Message-ID)   {duplicates}")
    print(f"dead letters              {dead}")
    for mid in sorted(lost)[:5]:
        print("  lost:", mid, [row for row in rows if row[1] == mid][:1])
    ok = not lost and not unreached and dict(by_status).get("pending", 0) == 0
    print("OK: every lead reached every recipient" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
