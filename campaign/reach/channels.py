"""Entry visits per campaign channel and the figures per channel.

A visit counts once, at entry: a GET page reached from outside the site with
``utm_*`` parameters (moving on inside the site with the parameters kept is
not counted again, and QR scans are counted as scans). Only a daily
aggregate is stored: no cookie, no address.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl, urlsplit

import sqlalchemy as sa

from ..core.clock import local_today
from ..core.db import Database
from ..core.schema import channel_visits, funnel_counts, lead_recipients, leads, place_scans, places
from .attribution import OTHER, TOP_CHANNELS, UTM_PARAMS, clean_attribution, fold
from .funnel import add_daily
from .places import FIGURES, MEDIA

NOT_COUNTED = ("/static", "/q/", "/partner", "/teilen/bild")


def entry_attribution(path: str, query: str, referer: str, own_hosts: set[str]
                      ) -> dict[str, str] | None:
    """The campaign parameters of an entry visit, or None when this is not one."""
    if path.startswith(NOT_COUNTED) or "utm_" not in query:
        return None
    if referer and urlsplit(referer).netloc in own_hosts:
        return None
    attribution = clean_attribution(dict(parse_qsl(query)))
    if "utm_source" not in attribution or "place" in attribution:
        return None
    return attribution


async def count_visit(db: Database, attribution: Mapping[str, str],
                      day: date | None = None) -> None:
    """Add one entry visit for a campaign channel (daily aggregate)."""
    async with db.transaction() as conn:
        await add_daily(conn, channel_visits, {
            "day": day or local_today(),
            **{key: attribution.get(key, "") for key in UTM_PARAMS}})


def channel_key(source: str | None, medium: str | None) -> tuple[str, str]:
    """(medium, source) of a channel; print places collapse into their medium."""
    medium, source = medium or "", source or ""
    if medium in MEDIA:
        return medium, ""
    return medium, source


async def channel_figures(db: Database, org: str | None = None
                          ) -> list[tuple[tuple[str, str], dict[str, int]]]:
    """Figures per channel, sorted by visits. With ``org`` the lead columns count only
    leads routed to that organisation; visits and quiz figures are campaign-wide."""
    table: dict[tuple[str, str], dict[str, int]] = {}

    def add(source: str | None, medium: str | None, figure: str, n: int | None) -> None:
        table.setdefault(channel_key(source, medium), dict.fromkeys(FIGURES, 0))[figure] += \
            int(n or 0)

    visits = channel_visits.c
    funnel = funnel_counts.c
    confirmed = sa.func.sum(sa.case((leads.c.confirmed_at.isnot(None), 1), else_=0))
    lead_query = (sa.select(leads.c.utm_source, leads.c.utm_medium, sa.func.count(), confirmed)
                  .group_by(leads.c.utm_source, leads.c.utm_medium))
    if org is not None:
        lead_query = lead_query.join(lead_recipients, sa.and_(
            lead_recipients.c.lead_id == leads.c.id, lead_recipients.c.org == org))
    async with db.reading() as conn:
        for source, medium, n in await conn.execute(
                sa.select(visits.utm_source, visits.utm_medium, sa.func.sum(visits.count))
                .group_by(visits.utm_source, visits.utm_medium)):
            add(source, medium, "visits", n)
        for medium, n in await conn.execute(
                sa.select(places.c.utm_medium, sa.func.sum(place_scans.c.count))
                .join(places, places.c.code == place_scans.c.place_code)
                .group_by(places.c.utm_medium)):
            add("", medium, "visits", n)
        for source, medium, n in await conn.execute(
                sa.select(funnel.utm_source, funnel.utm_medium, sa.func.sum(funnel.count))
                .where(funnel.step == "finished").group_by(funnel.utm_source, funnel.utm_medium)):
            add(source, medium, "finished", n)
        for source, medium, n, c in await conn.execute(lead_query):
            add(source, medium, "leads", n)
            add(source, medium, "confirmed", c)
    return sorted(table.items(), key=lambda kv: (-kv[1]["visits"], -kv[1]["leads"], kv[0]))


Channel = tuple[tuple[str, str], dict[str, int]]


@dataclass(frozen=True)
class ChannelFigures:
    """The channels shown one by one, and the rest summed (``other``)."""

    shown: list[Channel]
    other: dict[str, int]
    other_channels: int  # how many channels ``other`` sums up

    @property
    def total(self) -> dict[str, int]:
        return {f: sum(figures[f] for _key, figures in self.shown) + self.other[f]
                for f in FIGURES}


def folded(channels: list[Channel], top: int = TOP_CHANNELS) -> ChannelFigures:
    """The ``top`` channels (ranked as ``channel_figures`` ranks them) and the rest summed."""
    shown, rest = fold(channels, lambda c: OTHER in c[0], top)
    other = {f: sum(figures[f] for _key, figures in rest) for f in FIGURES}
    return ChannelFigures(shown, other, len(rest))
