"""Outbox commands: ``outbox`` (list, retry) and ``send-outbox`` (cron or a process)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from .cli import command, open_db, run
from .settings import Settings


def _outbox_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", nargs="?", choices=["retry"],
                   help="retry: queue a dead letter (ID) or all of them (--dead) again")
    p.add_argument("id", nargs="?", type=int, help="outbox row id (see the list)")
    p.add_argument("--dead", action="store_true", help="with retry: every dead letter")


@command("outbox", "list queued and dead mails; 'outbox retry ID|--dead' queues again",
         _outbox_args)
def _outbox(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "retry":
        if (args.id is None) == (not args.dead):
            print("outbox retry: give an ID or --dead (not both)", file=sys.stderr)
            return 2
        return run(_retry(settings, args.id, args.dead))
    return run(_list(settings))


async def _retry(settings: Settings, outbox_id: int | None, all_dead: bool) -> int:
    from .mail.worker import requeue

    db = await open_db(settings)
    try:
        count = await requeue(db, outbox_id, all_dead=all_dead)
    finally:
        await db.close()
    if not count:
        print(f"outbox: no dead or queued mail with id {outbox_id}" if outbox_id is not None
              else "outbox: no dead letters", file=sys.stderr)
        return 1
    print(f"outbox: {count} mail(s) queued again")
    return 0


async def _list(settings: Settings) -> int:
    db = await open_db(settings)
    try:
        rows = await db.fetchall(
            "SELECT id, kind, recipient, attempts, status, next_attempt_ts, last_error"
            " FROM outbox WHERE status IN ('queued', 'dead') ORDER BY status, id")
    finally:
        await db.close()
    if not rows:
        print("outbox: empty (nothing queued, no dead letters)")
        return 0
    print(f"{'id':>6}  {'kind':<12} {'recipient':<44} {'tries':>5}  {'status':<7} last error")
    now = time.time()
    for r in rows:
        status = r["status"]
        if status == "queued" and r["next_attempt_ts"] > now:
            status = f"wait {int(r['next_attempt_ts'] - now)}s"
        error = (r["last_error"] or "").replace("\n", " ")[:80]
        print(f"{r['id']:>6}  {r['kind']:<12} {r['recipient']:<44} {r['attempts']:>5}  "
              f"{status:<7} {error}")
    queued = sum(1 for r in rows if r["status"] == "queued")
    print(f"{queued} queued, {len(rows) - queued} dead")
    return 0


def _send_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--once", action="store_true",
                   help="send what is due (and queue due reminders), then exit")


@command("send-outbox", "send queued mails (a worker loop; --once for cron)", _send_args)
def _send_outbox(args: argparse.Namespace, settings: Settings) -> int:
    try:
        return run(_send(settings, args.once))
    except KeyboardInterrupt:
        return 0


async def _send(settings: Settings, once: bool) -> int:
    from .content import load_content
    from .mail import Mailer
    from .mail.worker import run_forever
    from .templating import Renderer

    mailer = Mailer(settings, Renderer(settings).env, load_content(settings.content_dir))
    db = await open_db(settings)
    try:
        totals = await run_forever(db, settings, mailer, stop_after_idle=once)
        counts = await db.fetchone(
            "SELECT SUM(status = 'queued') AS queued, SUM(status = 'dead') AS dead FROM outbox")
    except asyncio.CancelledError:
        return 0
    finally:
        await db.close()
    print(f"send-outbox: sent {totals['sent']}, retry later {totals['retried']},"
          f" dead {totals['dead']}; now {counts['queued'] or 0} queued,"
          f" {counts['dead'] or 0} dead")
    return 0
