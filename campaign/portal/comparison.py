"""The anonymised comparison between municipalities: each one's figures beside the
region's median and quartiles, without naming the others.

Four figures per municipality: working days to the first contact (the median over
its leads, ``core.workdays``), the share of first contacts within the response
target (``portal.targets``), and the shares of leads that reached a visit
("vor Ort") and a move ("zugezogen"/"geblieben"), by the furthest stage the
history or the lead's stage shows. A figure from fewer than ``MIN_LEADS`` leads
is never shown, and never enters the region's distribution; the distribution is
shown only with ``MIN_PEERS`` municipalities in it, so that no single one can be
read off it. The statistics are pure functions; ``gather`` reads the rows.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from ..content.model import Region
from ..core.db import Database
from ..core.schema import lead_history, lead_recipients
from ..core.vocab import MOVED_STAGES, OPEN_STAGES
from ..core.workdays import working_days_between
from .targets import target

MIN_LEADS = 5
MIN_PEERS = 3
METRICS = ("contact_days", "within_target", "visit", "moved")
VISIT_FROM = OPEN_STAGES.index("vor_ort")
MOVED_FROM = min(OPEN_STAGES.index(s) for s in MOVED_STAGES)


@dataclass
class Sample:
    """What one municipality's leads show: one entry per lead for each figure."""

    contact_days: list[int] = field(default_factory=list)  # leads with a first contact
    within_target: list[bool] = field(default_factory=list)  # leads whose target is decided
    visit: list[bool] = field(default_factory=list)  # every routed lead
    moved: list[bool] = field(default_factory=list)


@dataclass(frozen=True)
class Spread:
    """The region's distribution of one figure over the municipalities that have it."""

    q1: float
    median: float
    q3: float
    count: int  # municipalities in it


def value(entries: Sequence[int] | Sequence[bool], metric: str) -> float | None:
    """One municipality's figure, or None from fewer than ``MIN_LEADS`` leads:
    a median of working days, or a share in per cent."""
    if len(entries) < MIN_LEADS:
        return None
    if metric == "contact_days":
        return float(statistics.median(entries))
    return 100.0 * sum(bool(e) for e in entries) / len(entries)


def spread(values: Iterable[float | None]) -> Spread | None:
    """Median and quartiles of the figures there are; None from fewer than ``MIN_PEERS``."""
    known = sorted(v for v in values if v is not None)
    if len(known) < MIN_PEERS:
        return None
    q1, median, q3 = statistics.quantiles(known, n=4, method="inclusive")
    return Spread(q1, median, q3, len(known))


@dataclass(frozen=True)
class Comparison:
    figures: dict[str, dict[str, float | None]]  # municipality → metric → figure
    region: dict[str, Spread | None]  # metric → the distribution


def compare(samples: dict[str, Sample]) -> Comparison:
    figures = {org: {m: value(getattr(s, m), m) for m in METRICS} for org, s in samples.items()}
    region = {m: spread(f[m] for f in figures.values()) for m in METRICS}
    return Comparison(figures, region)


def furthest(stages: Iterable[str | None]) -> int:
    """The index in ``OPEN_STAGES`` of the furthest stage among ``stages`` (-1: none)."""
    return max((OPEN_STAGES.index(s) for s in stages if s in OPEN_STAGES), default=-1)


async def gather(db: Database, region: Region, now: datetime) -> dict[str, Sample]:
    """The samples of every municipality of the region (its routed leads)."""
    towns = [slug for slug, org in region.organisations.items() if org.kind == "municipality"]
    r, h = lead_recipients, lead_history
    async with db.reading() as conn:
        rows = (await conn.execute(
            sa.select(r.c.lead_id, r.c.org, r.c.status, r.c.routed_at, r.c.due_at,
                      r.c.first_contact_at)
            .where(r.c.org.in_(towns), r.c.routed_at.isnot(None)))).all()
        moves = (await conn.execute(
            sa.select(h.c.lead_id, h.c.org, h.c.to_stage)
            .where(h.c.org.in_(towns), h.c.event == "stage"))).all()
    reached: dict[tuple[int, str], list[str | None]] = defaultdict(list)
    for move in moves:
        reached[(move.lead_id, move.org)].append(move.to_stage)
    samples = {slug: Sample() for slug in towns}
    for row in rows:
        sample = samples[row.org]
        if row.first_contact_at is not None:
            sample.contact_days.append(working_days_between(row.routed_at,
                                                            row.first_contact_at))
        state = target(row.due_at, row.first_contact_at, row.status, now).state
        if state in ("met", "late", "overdue"):
            sample.within_target.append(state == "met")
        stage = furthest([row.status, *reached[(row.lead_id, row.org)]])
        sample.visit.append(stage >= VISIT_FROM)
        sample.moved.append(stage >= MOVED_FROM)
    return samples
