"""``purge``: what the daily job does, for cron."""

from __future__ import annotations

import argparse

from ..core.clock import utcnow
from ..core.settings import Settings
from ..leads.retention import purge
from ..reach.share import UNUSED_DAYS, cache_dir, prune_cards
from .common import opened, run


def purge_command(args: argparse.Namespace, settings: Settings) -> int:
    async def go() -> dict[str, int]:
        async with opened(settings) as db:
            return await purge(db, settings, utcnow())

    counts = run(go())
    print(f"purge: {counts['deleted_pending']} unconfirmed lead(s) deleted, "
          f"{counts['anonymised']} lead(s) anonymised "
          f"(older than {settings.pending_retention_days} days / "
          f"{settings.lead_retention_months} months)")
    removed = prune_cards(cache_dir(settings))
    print(f"purge: {removed} share image(s) unused for {UNUSED_DAYS} days deleted")
    return 0
