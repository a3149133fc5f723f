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
from .lifecycle import forget_mail_files, forget_used_stamps, scrub
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
    """Delete stale pending leads and anonymise old ones (and forget expired form
    stamps); returns the counts of leads. The files of the mails each batch
    cleared are deleted right after its commit."""
    pending_cutoff, old_cutoff = cutoffs(settings, now)
    deleted = anonymised = 0
    while True:
        mails: list[int] = []
        async with db.transaction() as conn:
            ids = list((await conn.scalars(
                sa.select(leads.c.id).where(leads.c.status == "pending",
                                            leads.c.created_at < pending_cutoff)
                .limit(BATCH))).all())
            for lead in await load(conn, leads.c.id.in_(ids)) if ids else []:
                # Clear the confirmation mails first: they hold the address.
                mails += await scrub(conn, lead, status="pending", at=now)
                await conn.execute(leads.delete().where(leads.c.id == lead.id))
        await forget_mail_files(settings, mails)
        deleted += len(ids)
        if len(ids) < BATCH:
            break
    while True:
        mails = []
        async with db.transaction() as conn:
            ids = list((await conn.scalars(
                sa.select(leads.c.id).where(leads.c.status.in_(("confirmed", "withdrawn")),
                                            leads.c.created_at < old_cutoff)
                .limit(BATCH))).all())
            for lead in await load(conn, leads.c.id.in_(ids)) if ids else []:
                mails += await scrub(conn, lead, status="anonymised", at=now,
                                    mail_from=settings.mail_from)
        await forget_mail_files(settings, mails)
        anonymised += len(ids)
        if len(ids) < BATCH:
            break
    async with db.transaction() as conn:
        await forget_used_stamps(conn, now)
    if deleted or anonymised:
        await db.checkpoint()  # the cleared values must not linger in the WAL file
        log.info("retention: %d pending leads deleted, %d leads anonymised", deleted, anonymised)
    return {"deleted_pending": deleted, "anonymised": anonymised}
