"""Retention: unconfirmed leads go after days, old leads lose their personal data.

``purge`` is the one rule, run by ``python -m campaign purge`` (cron) and by
the app's daily background job. Both steps reuse ``leads.scrub`` so the mails
that carried the data are cleared exactly as on an erasure by the family.
"""

from __future__ import annotations

import asyncio
import calendar
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from .leads import now_iso, scrub

log = logging.getLogger("campaign.retention")
FIRST_RUN_DELAY = 60.0  # seconds after start: the app is up and the worker running
INTERVAL = 24 * 3600.0
BATCH = 200  # leads per transaction, so a large purge never blocks writers for long


def months_before(now: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (clamped to month end)."""
    total = now.year * 12 + (now.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    day = min(now.day, calendar.monthrange(year, month)[1])
    return now.replace(year=year, month=month, day=day)


def cutoffs(settings: Any, now: datetime) -> tuple[str, str]:
    """(pending cutoff, anonymise cutoff) as ISO timestamps comparable with created_at."""
    pending = now - timedelta(days=settings.pending_retention_days)
    old = months_before(now, settings.lead_retention_months)
    return now_iso(pending), now_iso(old)


async def purge(db: Any, settings: Any, now: datetime | None = None) -> dict[str, int]:
    """Delete stale pending leads and anonymise old ones; returns the counts."""
    now = now or datetime.now(UTC)
    pending_cutoff, old_cutoff = cutoffs(settings, now)
    deleted = anonymised = 0
    while True:
        async with db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT * FROM leads WHERE status = 'pending' AND created_at < ? LIMIT ?",
                (pending_cutoff, BATCH))
            for row in rows:
                # Clear the confirmation mails first: they hold the address.
                await scrub(tx, row, status="pending", at=now_iso(now))
                await tx.execute("DELETE FROM leads WHERE id = ?", (row["id"],))
        deleted += len(rows)
        if len(rows) < BATCH:
            break
    while True:
        async with db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT * FROM leads WHERE status IN ('confirmed', 'withdrawn')"
                " AND created_at < ? LIMIT ?", (old_cutoff, BATCH))
            for row in rows:
                await scrub(tx, row, status="anonymised", at=now_iso(now))
        anonymised += len(rows)
        if len(rows) < BATCH:
            break
    if deleted or anonymised:
        log.info("retention: %d pending leads deleted, %d leads anonymised", deleted, anonymised)
    return {"deleted_pending": deleted, "anonymised": anonymised}


def prune_share_images(settings: Any) -> int:
    """Share images no one asked for in a month (see share.prune_cards); blocking."""
    from .share import cache_dir, prune_cards

    removed = prune_cards(cache_dir(settings))
    if removed:
        log.info("retention: %d unused share image(s) deleted", removed)
    return removed


async def run_daily(app: Any) -> None:
    """Background job: purge shortly after start, then once a day, until cancelled."""
    await asyncio.sleep(FIRST_RUN_DELAY)
    while True:
        try:
            await purge(app.state.db, app.state.settings)
            await asyncio.to_thread(prune_share_images, app.state.settings)
        except Exception:  # a failed run is retried tomorrow; the app keeps serving
            log.exception("retention run failed")
        await asyncio.sleep(INTERVAL)
