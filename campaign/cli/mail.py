"""``outbox`` (list, retry) and ``send-outbox`` (cron, or a process of its own)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta

from ..core import jobs
from ..core.clock import utcnow
from ..core.settings import Settings
from ..delivery import outbox
from ..delivery.worker import run_forever
from ..leads.forwarding import queue_reminders
from ..portal.mails import recipes
from .common import opened, run, services

REMINDERS_EVERY = timedelta(minutes=5)


def outbox_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", nargs="?", choices=["retry"],
                   help="retry: queue a dead letter (ID) or all of them (--dead) again")
    p.add_argument("id", nargs="?", type=int, help="outbox row id (see the list)")
    p.add_argument("--dead", action="store_true", help="with retry: every dead letter")


def outbox_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "retry":
        if (args.id is None) == (not args.dead):
            print("outbox retry: give an ID or --dead (not both)", file=sys.stderr)
            return 2
        return run(_retry(settings, args.id, args.dead))
    return run(_list(settings))


async def _retry(settings: Settings, outbox_id: int | None, all_dead: bool) -> int:
    async with opened(settings) as db:
        count = await outbox.requeue(db, outbox_id, all_dead=all_dead)
    if not count:
        print(f"outbox: no dead or queued mail with id {outbox_id}" if outbox_id is not None
              else "outbox: no dead letters", file=sys.stderr)
        return 1
    print(f"outbox: {count} mail(s) queued again")
    return 0


async def _list(settings: Settings) -> int:
    async with opened(settings) as db:
        rows = await outbox.waiting(db)
    if not rows:
        print("outbox: empty (nothing queued, no dead letters)")
        return 0
    print(f"{'id':>6}  {'kind':<12} {'recipient':<44} {'tries':>5}  {'status':<7} last error")
    now = utcnow()
    for r in rows:
        status = r.status
        if status == "queued" and r.next_attempt_at > now:
            status = f"wait {int((r.next_attempt_at - now).total_seconds())}s"
        error = (r.last_error or "").replace("\n", " ")[:80]
        print(f"{r.id:>6}  {r.kind:<12} {r.recipient:<44} {r.attempts:>5}  {status:<7} {error}")
    queued = sum(1 for r in rows if r.status == "queued")
    print(f"{queued} queued, {len(rows) - queued} dead")
    return 0


def send_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--once", action="store_true",
                   help="send what is due (and queue due reminders), then exit")


def send_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        return run(_send(settings, args.once))
    except KeyboardInterrupt:
        return 0


async def _send(settings: Settings, once: bool) -> int:
    async with services(settings) as svc:
        async def reminders() -> None:
            """Once across instances every few minutes; a cron run (--once) always."""
            now = svc.clock.now()
            if once or await jobs.claim_run(svc.db, "reminders", REMINDERS_EVERY, now):
                await queue_reminders(svc, now)

        try:
            totals = await run_forever(svc.db, settings, before_each=reminders,
                                       render=recipes(svc),
                                       stop_after_idle=once)
        except asyncio.CancelledError:
            return 0
        left = await outbox.backlog(svc.db)
    print(f"send-outbox: sent {totals['sent']}, retry later {totals['retried']},"
          f" dead {totals['dead']}; now {left.queued} queued, {left.dead} dead")
    return 0
