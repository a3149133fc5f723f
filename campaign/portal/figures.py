"""Figures for the portal: the funnel from quiz to move, and leads per municipality,
campaign source and month, as the viewer may see them."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..core.clock import local
from ..core.db import Database
from ..core.schema import lead_municipalities, lead_recipients, leads
from ..core.vocab import MOVED_STAGES
from ..reach import funnel
from ..reach.attribution import OTHER, fold
from .cases import Filters, Viewer, mine, scope, visible


@dataclass(frozen=True)
class SourceCount:
    source: str
    medium: str
    campaign: str
    place: str
    n: int


@dataclass(frozen=True)
class Stats:
    funnel: dict[str, int]
    received: int
    acknowledged: int
    moved: int
    by_status: dict[str, int]
    per_municipality: list[tuple[str, int]]
    per_source: list[SourceCount]  # the most frequent sources, one by one …
    other_sources: int  # … and the leads of all others (``other``), summed
    other_source_count: int  # how many sources that sum covers
    per_month: list[tuple[str, int]]

    @property
    def source_total(self) -> int:
        return sum(row.n for row in self.per_source) + self.other_sources



async def stats(db: Database, viewer: Viewer) -> Stats:
    """Funnel, leads per municipality, per source and per month for this viewer."""
    where = scope(viewer, Filters())
    totals = await funnel.totals(db)
    x = lead_recipients.alias("x")
    ack: sa.ColumnElement[bool]
    moved: sa.ColumnElement[bool]
    if viewer.admin:
        ack = sa.exists().where(x.c.lead_id == leads.c.id, x.c.acknowledged_at.isnot(None))
        moved = sa.exists().where(x.c.lead_id == leads.c.id, x.c.status.in_(MOVED_STAGES))
    else:
        ack, moved = mine.c.acknowledged_at.isnot(None), mine.c.status.in_(MOVED_STAGES)

    def share(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    async with db.reading() as conn:
        received, acknowledged, moved_n = (await conn.execute(
            sa.select(sa.func.count(), share(ack), share(moved))
            .select_from(visible(viewer)).where(*where))).one()
        if viewer.admin:
            by_status = await conn.execute(
                sa.select(lead_recipients.c.status, sa.func.count())
                .join(leads, leads.c.id == lead_recipients.c.lead_id)
                .where(leads.c.status == "confirmed").group_by(lead_recipients.c.status))
        else:
            by_status = await conn.execute(
                sa.select(mine.c.status, sa.func.count()).select_from(visible(viewer))
                .where(*where).group_by(mine.c.status))
        status_counts = {status: int(n) for status, n in by_status}
        n = sa.func.count().label("n")
        per_municipality = (await conn.execute(
            sa.select(lead_municipalities.c.slug, n)
            .select_from(visible(viewer).join(lead_municipalities,
                                              lead_municipalities.c.lead_id == leads.c.id))
            .where(*where).group_by(lead_municipalities.c.slug)
            .order_by(n.desc(), lead_municipalities.c.slug))).all()
        keys = [sa.func.coalesce(c, "") for c in (leads.c.utm_source, leads.c.utm_medium,
                                                   leads.c.utm_campaign, leads.c.place_code)]
        per_source = (await conn.execute(
            sa.select(*keys, n).select_from(visible(viewer)).where(*where)
            .group_by(*keys).order_by(n.desc(), *keys))).all()
        created = (await conn.scalars(sa.select(leads.c.created_at)
                                      .select_from(visible(viewer)).where(*where))).all()
    months: dict[str, int] = {}
    for moment in created:  # months as the region counts them, not in UTC
        key = local(moment).strftime("%Y-%m")
        months[key] = months.get(key, 0) + 1
    shown, rest = fold((SourceCount(*row[:4], int(row[4])) for row in per_source),
                       lambda r: OTHER in (r.source, r.medium, r.campaign, r.place))
    return Stats(
        funnel=totals, received=int(received), acknowledged=int(acknowledged),
        moved=int(moved_n), by_status=status_counts,
        per_municipality=[(slug, int(c)) for slug, c in per_municipality],
        per_source=shown, other_sources=sum(r.n for r in rest), other_source_count=len(rest),
        per_month=sorted(months.items()))
