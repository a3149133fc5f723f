"""Lead commands for cron and admins: ``python -m campaign purge``."""

from __future__ import annotations

import argparse

from .cli import command, open_db, run
from .settings import Settings


@command("purge", "delete unconfirmed leads after 7 days, anonymise leads after the "
         "retention period (CAMPAIGN_LEAD_RETENTION_MONTHS), delete unused share images")
def _purge(args: argparse.Namespace, settings: Settings) -> int:
    from .retention import prune_share_images, purge
    from .share import UNUSED_DAYS

    async def go() -> dict[str, int]:
        db = await open_db(settings)
        try:
            return await purge(db, settings)
        finally:
            await db.close()

    counts = run(go())
    print(f"purge: {counts['deleted_pending']} unconfirmed lead(s) deleted, "
          f"{counts['anonymised']} lead(s) anonymised "
          f"(older than {settings.pending_retention_days} days / "
          f"{settings.lead_retention_months} months)")
    print(f"purge: {prune_share_images(settings)} share image(s) unused for {UNUSED_DAYS} days"
          " deleted")
    return 0
