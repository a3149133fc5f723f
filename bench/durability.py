"""What ``synchronous=FULL`` costs on SQLite: leads stored and confirmed per second.

    python bench/durability.py [--leads 300] [--rounds 3]

The service runs SQLite in WAL mode with ``synchronous=FULL``: every commit
syncs the WAL to the disk, so a lead whose confirmation page was shown survives
a power cut. With ``NORMAL`` (the baseline here) commits only reach the
operating system and the last ones can be lost. Each round stores ``--leads``
leads through ``campaign.leads.lifecycle`` exactly as a submission does (lead,
consent events, confirmation mail recipe, funnel count), then confirms each
(routing, organisation mails queued): two write transactions per lead, one
after another as separate requests would. Rounds alternate between the two
settings on new database files in the same folder; the best round of each is
printed with the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from campaign.content import load_content
from campaign.core.clock import Clock
from campaign.core.db import Database
from campaign.core.settings import Settings
from campaign.delivery.message import Mailer
from campaign.leads import lifecycle
from campaign.leads.form import LeadData
from campaign.leads.services import Services
from campaign.web.templating import Renderer

FAMILY = LeadData(name="Familie Beispiel", email="familie@example.org", phone="0271 12345",
                  adults=2, children=2, child_ages=("3-5", "6-9"), interests=("wohnen",),
                  timeframe="within_year", municipalities=("olpe", "attendorn"), message=None,
                  consents=("municipalities", "tourism", "agency"))


async def one_round(folder: Path, synchronous: str, leads: int, serial: int) -> float:
    """Seconds to store and confirm ``leads`` leads."""
    settings = Settings(database=str(folder / f"{synchronous}-{serial}.sqlite3"),
                        files_dir=folder, secret_key="bench-" + "x" * 40,
                        mail_dir=folder / "mail", base_url="http://127.0.0.1:8000",
                        background=False)
    renderer = Renderer(settings)
    db = Database(settings.database, synchronous=synchronous)
    svc = Services(settings=settings, db=db, content=load_content(settings.content_dir),
                   mailer=Mailer(renderer.env, settings.base_url, settings.mail_from),
                   clock=Clock())
    await db.open()
    try:
        start = time.perf_counter()
        for i in range(leads):
            new = lifecycle.NewLead(FAMILY, "de", {}, "familie", None,
                                    submission=f"{synchronous}-{serial}-{i}")
            public_id = await lifecycle.create_pending(svc, new)
            await lifecycle.confirm(svc, public_id)
        return time.perf_counter() - start
    finally:
        await db.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--leads", type=int, default=300)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="campaign-durability-"))
    best: dict[str, float] = {}
    for r in range(args.rounds):
        for mode in ("NORMAL", "FULL"):
            seconds = asyncio.run(one_round(folder, mode, args.leads, r))
            best[mode] = min(best.get(mode, seconds), seconds)
            print(f"round {r + 1} {mode:<7} {args.leads / seconds:8.1f} leads/s"
                  f" {seconds / args.leads * 1000:7.2f} ms/lead")
    print(f"\nbest of {args.rounds} (each lead: store + confirm, two commits)")
    print(f"  NORMAL (baseline) {args.leads / best['NORMAL']:8.1f} leads/s"
          f" {best['NORMAL'] / args.leads * 1000:7.2f} ms/lead")
    print(f"  FULL (service)    {args.leads / best['FULL']:8.1f} leads/s"
          f" {best['FULL'] / args.leads * 1000:7.2f} ms/lead")
    print(f"  FULL / NORMAL time per lead: {best['FULL'] / best['NORMAL']:.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
