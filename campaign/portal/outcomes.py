"""Figures that show what works: time to first contact, share within the response
target, the funnel by stage down to "zugezogen" and "nach 12 Monaten noch hier",
and per channel (utm_source) and QR place how many leads moved.

An organisation sees its own figures whatever their size. Everyone else (the
agency looking at several organisations, any comparison across them) sees a
figure only when it rests on at least ``MIN_LEADS`` leads; smaller ones show
"weniger als 5", so no single family can be recognised in them.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from markupsafe import Markup

from ..core.db import Database
from ..core.i18n import gettext as _
from ..core.schema import lead_history, lead_recipients, leads
from ..core.vocab import MOVED_STAGES, OPEN_STAGES, STAGE_LABELS
from ..reach.attribution import OTHER, TOP_CHANNELS, fold
from . import charts
from .cases import Viewer

MIN_LEADS = 5
MOVED_INDEX = OPEN_STAGES.index(MOVED_STAGES[0])


@dataclass(frozen=True)
class Work:
    """One (lead, organisation): when it was routed and first contacted, how far it got."""

    lead_id: int
    org: str
    routed_at: datetime
    due_at: datetime | None
    first_contact_at: datetime | None
    reached: int  # the furthest open stage reached (index in OPEN_STAGES), closing aside
    source: str
    place: str


@dataclass(frozen=True)
class Figure:
    """Figures from ``n`` leads; ``shown`` is False when they must read "weniger als 5"."""

    n: int
    shown: bool
    median_hours: float | None = None  # median time from routing to first contact
    in_time: int = 0  # contacted by the due time …
    decided: int = 0  # … of those contacted or past their due time
    moved: int = 0  # reached "zugezogen" or later

    @property
    def share(self) -> int | None:
        return round(100 * self.in_time / self.decided) if self.decided else None


def reached(status: str, stages: Iterable[str]) -> int:
    """The furthest open stage a (lead, org) reached: its stage now or any in its history."""
    seen = [OPEN_STAGES.index(s) for s in (status, *stages) if s in OPEN_STAGES]
    return max(seen, default=0)


def figure(rows: list[Work], now: datetime, own: bool) -> Figure:
    """The figures of ``rows`` (distinct leads counted), shown if ``own`` or ≥ MIN_LEADS."""
    n = len({w.lead_id for w in rows})
    if not own and n < MIN_LEADS:
        return Figure(n, False)
    waits = [(w.first_contact_at - w.routed_at).total_seconds() / 3600
             for w in rows if w.first_contact_at is not None]
    timed = [w for w in rows if w.due_at is not None
             and (w.first_contact_at is not None or w.due_at <= now)]
    in_time = [w for w in timed if w.first_contact_at is not None
               and w.due_at is not None and w.first_contact_at <= w.due_at]
    moved = {w.lead_id for w in rows if w.reached >= MOVED_INDEX}
    return Figure(n, True, statistics.median(waits) if waits else None, len(in_time),
                  len(timed), len(moved))


def funnel(rows: list[Work], own: bool) -> list[tuple[str, int | None]]:
    """Leads that reached each stage (a lead counts once, at its furthest stage anywhere);
    None where the count may not be shown."""
    furthest: dict[int, int] = {}
    for w in rows:
        furthest[w.lead_id] = max(furthest.get(w.lead_id, 0), w.reached)
    counts = [(stage, sum(1 for r in furthest.values() if r >= i))
              for i, stage in enumerate(OPEN_STAGES)]
    return [(s, c if own or c >= MIN_LEADS or c == 0 else None) for s, c in counts]


def grouped(rows: list[Work], key: str, now: datetime, own: bool,
            top: int | None = None) -> list[tuple[str, Figure]]:
    """Figures per value of ``key``, largest first. With ``top``, only that many
    values are shown one by one and the rest are counted together as ``other``,
    so made-up campaign parameters cannot make a page of figures long."""
    groups: dict[str, list[Work]] = {}
    for w in rows:
        groups.setdefault(getattr(w, key), []).append(w)
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    if top is None:
        return [(k, figure(v, now, own)) for k, v in ranked]
    shown, rest = fold(ranked, lambda kv: kv[0] == OTHER, top)
    out = [(k, figure(v, now, own)) for k, v in shown]
    if rest:
        out.append((OTHER, figure([w for _k, v in rest for w in v], now, own)))
    return out


@dataclass(frozen=True)
class Outcomes:
    total: Figure
    funnel: list[tuple[str, int | None]]
    channels: list[tuple[str, Figure]]
    places: list[tuple[str, Figure]]
    per_org: list[tuple[str, Figure]]  # the agency's comparison; empty for an organisation


async def load(db: Database, viewer: Viewer) -> list[Work]:
    r, h = lead_recipients, lead_history
    where = [leads.c.status == "confirmed"] + ([] if viewer.admin else [r.c.org == viewer.org])
    async with db.reading() as conn:
        rows = (await conn.execute(
            sa.select(r.c.lead_id, r.c.org, r.c.status, r.c.routed_at, r.c.due_at,
                      r.c.first_contact_at, leads.c.utm_source, leads.c.place_code)
            .join(leads, leads.c.id == r.c.lead_id).where(*where))).all()
        history = (await conn.execute(
            sa.select(h.c.lead_id, h.c.org, h.c.to_stage)
            .join(leads, leads.c.id == h.c.lead_id)
            .join(r, sa.and_(r.c.lead_id == h.c.lead_id, r.c.org == h.c.org))
            .where(*where, h.c.event == "stage"))).all()
    stages: dict[tuple[int, str], list[str]] = {}
    for row in history:
        stages.setdefault((row.lead_id, row.org), []).append(row.to_stage or "")
    return [Work(row.lead_id, row.org, row.routed_at, row.due_at, row.first_contact_at,
                 reached(row.status, stages.get((row.lead_id, row.org), ())),
                 row.utm_source or "", row.place_code or "") for row in rows]


async def outcomes(db: Database, viewer: Viewer, now: datetime) -> Outcomes:
    """The viewer's figures: an organisation its own, the agency everyone's (thresholded)."""
    rows = await load(db, viewer)
    own = not viewer.admin
    per_org = [] if own else grouped(rows, "org", now, own=False)
    return Outcomes(figure(rows, now, own), funnel(rows, own),
                    grouped(rows, "source", now, own, TOP_CHANNELS),
                    grouped(rows, "place", now, own, TOP_CHANNELS),
                    per_org)


def outcome_charts(o: Outcomes, org_names: dict[str, str]) -> dict[str, Markup]:
    """The SVG pictures of the tables beside them (only figures that may be shown)."""
    desc = _("Balkendiagramm; die Zahlen stehen in der Tabelle daneben.")
    contact = [(_("innerhalb der Frist"), o.total.in_time),
               (_("nach der Frist"), o.total.decided - o.total.in_time)] if o.total.shown else []
    out = {
        "contact": charts.bar_chart("chart-contact", contact, _("Erster Kontakt"), desc),
        "stages": charts.bar_chart(
            "chart-stages", [(str(STAGE_LABELS[s]), c) for s, c in o.funnel if c is not None],
            _("Wie weit die Familien gekommen sind"), desc),
        "channels": charts.bar_chart(
            "chart-channels",
            [(_("Sonstige") if k == OTHER else k or _("ohne Quelle"), f.moved)
             for k, f in o.channels if f.shown], _("Zugezogen je Kanal"), desc),
        "places": charts.bar_chart(
            "chart-places", [(_("Sonstige") if k == OTHER else k, f.moved)
                             for k, f in o.places if k and f.shown],
            _("Zugezogen je QR-Ort"), desc),
    }
    if o.per_org:
        out["orgs"] = charts.bar_chart(
            "chart-orgs", [(org_names.get(k, k), f.share or 0) for k, f in o.per_org
                           if f.shown and f.share is not None],
            _("Anteil erster Kontakt innerhalb der Frist je Organisation (Prozent)"), desc)
    return out

