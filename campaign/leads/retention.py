"""Retention: unconfirmed leads go after days, old leads lose their personal data.

``purge`` is the one rule, run by ``python -m campaign purge`` (cron) and by
the app's daily job (once across instances). Both steps reuse
``lifecycle.scrub``, so the mails that carried the data are cleared exactly as
on an erasure by the family.
"""

from __future__ import annotations

import calendar
import logging
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..core.db import Database
from ..core.schema import leads
from ..core.settings import Settings
from .lifecycle import scrub
from .records import load

log = logging.getLogger("campaign.retention")
BATCH = 200  # leads per transaction, so a large purge never blocks writers for long


def months_before(now: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (clamped to month end)."""
    total = now.year * 12 + (now.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    day = min(now.day, calendar.monthrange(year, month)[1])
    return now.replace(year=year, month=month, day=day)


def cutoffs(settings: Settings, now: datetime) -> tuple[datetime, datetime]:
    """(pending cutoff, anonymise cutoff): leads created before these go."""
    return (now - timedelta(days=settings.pending_retention_days),
            months_before(now, settings.lead_retention_months))


async def purge(db: Database, settings: Settings, now: datetime) -> dict[str, int]:
    """Delete stale pending leads and anonymise old ones; returns the counts."""
    pending_cutoff, old_cutoff = cutoffs(settings, now)
    deleted = anonymised = 0
    while True:
        async with db.transaction() as conn:
            ids = list((await conn.scalars(
                sa.select(leads.c.id).where(leads.c.status == "pending",
                                            leads.c.created_at < pending_cutoff)
                .limit(BATCH))).all())
            for lead in await load(conn, leads.c.id.in_(ids)) if ids else []:
                # Clear the confirmation mails first: they hold the address.
                await scrub(conn, lead, status="pending", at=now)
                await conn.execute(leads.delete().where(leads.c.id == lead.id))
        deleted += len(ids)
        if len(ids) < BATCH:
            break
    while True:
        async with db.transaction() as conn:
            ids = list((await conn.scalars(
                sa.select(leads.c.id).where(leads.c.status.in_(("confirmed", "withdrawn")),
                                            leads.c.created_at < old_cutoff)
                .limit(BATCH))).all())
            for lead in await load(conn, leads.c.id.in_(ids)) if ids else []:
                await scrub(conn, lead, status="anonymised", at=now)
        anonymised += len(ids)
        if len(ids) < BATCH:
            break
    if deleted or anonymised:
        await db.checkpoint()
        log.info("retention: %d pending leads deleted, %d leads anonymised", deleted, anonymised)
    return {"deleted_pending": deleted, "anonymised": anonymised}
