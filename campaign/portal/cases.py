"""The leads an organisation may see, and its work on them; every query is scoped in SQL.

A staff account sees a lead only through its own ``lead_recipients`` row;
the agency admin sees all confirmed leads. Withdrawn, erased and anonymised
leads (and unconfirmed ones) never leave this module (``gone`` only tells an
organisation that received one what became of it). Notes belong to the
organisation that wrote them: nobody else reads them, the agency's admin
neither. Filter values are checked against whitelists and always bound as
parameters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from ..content.model import Region
from ..core.clock import local_day_start
from ..core.db import Database
from ..core.schema import (
    audit_log,
    consent_events,
    lead_interests,
    lead_municipalities,
    lead_notes,
    lead_recipients,
    leads,
    outbox,
)
from ..core.vocab import FOLLOW_UP, INTERESTS, ORG_KIND_TO_CONSENT
from ..delivery.outbox import OutboxEntry
from ..leads.records import Delivery, Lead, load
from . import search
from .accounts import User, audit
from .history import record
from .targets import is_overdue

PAGE_SIZE = 25
EXPORT_LIMIT = 50_000
NOTE_MAX = 2000
MAX_ID = 2**31 - 1  # ids from a URL beyond this simply do not exist
_SOURCE_RE = re.compile(r"^[a-z0-9._-]{1,64}$")


@dataclass(frozen=True)
class Viewer:
    """Who looks: their organisation, and whether they may see everything."""

    org: str
    admin: bool
    user: User | None = None


def viewer_for(user: User, region: Region) -> Viewer:
    org = region.organisations.get(user.org)
    admin = user.is_admin and org is not None and org.kind == "agency"
    return Viewer(user.org, admin, user)


@dataclass(frozen=True)
class Filters:
    status: str = ""
    municipality: str = ""
    date_from: str = ""
    date_to: str = ""
    interest: str = ""
    source: str = ""
    overdue: bool = False  # only leads past their response target (``portal.targets``)
    now: datetime | None = None  # the moment "overdue" is measured at (the app's clock)
    page: int = 1
    q: str = ""  # name, e-mail or lead number (``portal.search``)

    def query(self, page: int | None = None) -> dict[str, str]:
        """The filters as URL query parameters (empty ones left out)."""
        out = {k: getattr(self, k) for k in ("q", "status", "municipality", "date_from",
                                             "date_to", "interest", "source")
               if getattr(self, k)}
        if self.overdue:
            out["ueberfaellig"] = "1"
        if (page or self.page) > 1:
            out["page"] = str(page or self.page)
        return out


def _iso_date(value: str) -> bool:
    try:
        return len(value) == 10 and date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


def parse_filters(params: Mapping[str, str], municipalities: Mapping[str, Any]
                  ) -> tuple[Filters, dict[str, str]]:
    """Whitelisted filters and the fields that were rejected (German msgids)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    checks: dict[str, tuple[Callable[[str], bool], str]] = {
        "status": (lambda v: v in FOLLOW_UP, "Unbekannter Bearbeitungsstand."),
        "municipality": (lambda v: v in municipalities, "Unbekannte Gemeinde."),
        "date_from": (_iso_date, "Bitte ein Datum wie 2026-01-31 angeben."),
        "date_to": (_iso_date, "Bitte ein Datum wie 2026-01-31 angeben."),
        "interest": (lambda v: v in INTERESTS, "Unbekanntes Interesse."),
        "source": (lambda v: bool(_SOURCE_RE.match(v)), "Unbekannte Quelle."),
        "q": (search.acceptable, "Bitte höchstens 100 Zeichen ohne Steuerzeichen eingeben."),
    }
    for name, (ok, message) in checks.items():
        raw = (params.get(name) or "").strip()
        if not raw:
            continue
        if ok(raw):
            values[name] = raw
        else:
            errors[name] = message
    values["overdue"] = params.get("ueberfaellig", "") == "1"
    raw_page = params.get("page") or "1"
    values["page"] = int(raw_page) if re.fullmatch(r"[1-9][0-9]{0,4}", raw_page) else 1
    return Filters(**values), errors


@dataclass(frozen=True)
class Case(Lead):
    """A lead as one organisation sees it: its own follow-up state, and on the
    detail page what happened to the lead."""

    follow_up: str | None = None
    acknowledged_at: datetime | None = None
    routed_at: datetime | None = None
    due_at: datetime | None = None
    first_contact_at: datetime | None = None
    recipients: tuple[Delivery, ...] = ()
    consent_group: str = ""
    consent_events: tuple[ConsentEvent, ...] = ()
    outbox: tuple[OutboxEntry, ...] = ()
    notes: tuple[Note, ...] = ()
    audit: tuple[AuditEntry, ...] = ()


@dataclass(frozen=True)
class ConsentEvent:
    grp: str
    version: str
    event: str
    at: datetime


@dataclass(frozen=True)
class Note:
    org: str
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    org: str | None
    action: str
    detail: str


def _record(cls: type, row: Row[Any]) -> Any:
    return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})


mine = lead_recipients.alias("mine")  # the viewer's own recipients row


def scope(viewer: Viewer, f: Filters) -> list[Any]:
    """Conditions for the leads this viewer may see, narrowed by the filters
    (used with ``FROM leads LEFT JOIN r ON r.org = viewer.org``)."""
    where: list[Any] = [leads.c.status == "confirmed"]
    if not viewer.admin:
        where.append(mine.c.org.isnot(None))
    if f.status:
        if viewer.admin:
            where.append(sa.exists().where(lead_recipients.c.lead_id == leads.c.id,
                                           lead_recipients.c.status == f.status))
        else:
            where.append(mine.c.status == f.status)
    if f.municipality:
        where.append(sa.exists().where(lead_municipalities.c.lead_id == leads.c.id,
                                       lead_municipalities.c.slug == f.municipality))
    if f.interest:
        where.append(sa.exists().where(lead_interests.c.lead_id == leads.c.id,
                                       lead_interests.c.code == f.interest))
    if f.date_from:
        where.append(leads.c.created_at >= local_day_start(date.fromisoformat(f.date_from)))
    if f.date_to:
        end = local_day_start(date.fromisoformat(f.date_to) + timedelta(days=1))
        where.append(leads.c.created_at < end)
    if f.source:
        where.append(leads.c.utm_source == f.source)
    if f.q:
        where.append(search.condition(f.q))
    if f.overdue and f.now is not None:
        any_row = lead_recipients.alias("due")
        where.append(sa.exists().where(any_row.c.lead_id == leads.c.id,
                                       is_overdue(any_row, f.now)) if viewer.admin
                     else is_overdue(mine, f.now))
    return where


def visible(viewer: Viewer) -> Any:
    """``leads`` joined to the viewer's own recipients row (outer, for the admin)."""
    return leads.outerjoin(mine, sa.and_(mine.c.lead_id == leads.c.id, mine.c.org == viewer.org))


async def _cases(conn: AsyncConnection, viewer: Viewer, where: list[Any], *, order: Any,
                 limit: int, offset: int = 0) -> list[Case]:
    rows = (await conn.execute(
        sa.select(leads.c.id, mine.c.status, mine.c.acknowledged_at, mine.c.routed_at,
                  mine.c.due_at, mine.c.first_contact_at)
        .select_from(visible(viewer)).where(*where).order_by(*order)
        .limit(limit).offset(offset))).all()
    ids = [r.id for r in rows]
    by_id = {lead.id: lead for lead in await load(conn, leads.c.id.in_(ids))} if ids else {}
    cases = []
    for r in rows:
        base = by_id[r.id]
        cases.append(Case(**{f.name: getattr(base, f.name) for f in fields(Lead)},
                          follow_up=r.status, acknowledged_at=r.acknowledged_at,
                          routed_at=r.routed_at, due_at=r.due_at,
                          first_contact_at=r.first_contact_at))
    return cases


async def list_leads(db: Database, viewer: Viewer, f: Filters) -> tuple[list[Case], int]:
    """One page of leads (newest first) and the total matching the filters."""
    where = scope(viewer, f)
    async with db.reading() as conn:
        total = int(await conn.scalar(
            sa.select(sa.func.count()).select_from(visible(viewer)).where(*where)) or 0)
        cases = await _cases(conn, viewer, where,
                             order=(leads.c.created_at.desc(), leads.c.id.desc()),
                             limit=PAGE_SIZE, offset=(f.page - 1) * PAGE_SIZE)
        if viewer.admin and cases:
            recips = await conn.execute(
                sa.select(lead_recipients)
                .where(lead_recipients.c.lead_id.in_([c.id for c in cases]))
                .order_by(lead_recipients.c.org))
            per_lead: dict[int, list[Delivery]] = {}
            for row in recips:
                per_lead.setdefault(row.lead_id, []).append(Delivery.from_row(row))
            cases = [_with(c, recipients=tuple(per_lead.get(c.id, ()))) for c in cases]
    return cases, total


async def read_cases(db: Database, viewer: Viewer, where: list[Any], *, order: Any,
                     limit: int) -> list[Case]:
    """Leads the viewer may see (``scope``, ``visible``) under further conditions."""
    async with db.reading() as conn:
        return await _cases(conn, viewer, where, order=order, limit=limit)


def _with(case: Case, **changes: Any) -> Case:
    return replace(case, **changes)


async def export_leads(db: Database, viewer: Viewer, f: Filters) -> list[Case]:
    async with db.reading() as conn:
        return await _cases(conn, viewer, scope(viewer, f),
                            order=(leads.c.created_at, leads.c.id), limit=EXPORT_LIMIT)


async def get_lead(db: Database, viewer: Viewer, lead_id: int, region: Region) -> Case | None:
    """Everything the detail page shows, or None when the viewer may not see the lead."""
    if not 0 < lead_id <= MAX_ID:
        return None
    async with db.reading() as conn:
        found = await _cases(conn, viewer, [*scope(viewer, Filters()), leads.c.id == lead_id],
                             order=(leads.c.id,), limit=1)
        if not found:
            return None
        org = region.organisations.get(viewer.org)
        group = ORG_KIND_TO_CONSENT.get(org.kind, "") if org else ""

        def own(table: sa.Table, column: str = "org") -> list[Any]:
            return [] if viewer.admin else [table.c[column] == viewer.org]

        recips = await conn.execute(
            sa.select(lead_recipients).where(lead_recipients.c.lead_id == lead_id,
                                             *own(lead_recipients))
            .order_by(lead_recipients.c.org))
        events = await conn.execute(
            sa.select(consent_events).where(
                consent_events.c.lead_id == lead_id,
                *([] if viewer.admin else [consent_events.c.grp == group]))
            .order_by(consent_events.c.at, consent_events.c.id))
        mails = await conn.execute(sa.select(outbox).where(outbox.c.lead_id == lead_id,
                                                           *own(outbox))
                                   .order_by(outbox.c.id))
        # Notes are the writing organisation's own, also towards the agency's admin.
        notes = await conn.execute(sa.select(lead_notes).where(lead_notes.c.lead_id == lead_id,
                                                               lead_notes.c.org == viewer.org)
                                   .order_by(lead_notes.c.id))
        log = await conn.execute(sa.select(audit_log).where(audit_log.c.lead_id == lead_id,
                                                            *own(audit_log))
                                 .order_by(audit_log.c.id))
        return _with(
            found[0], consent_group=group,
            recipients=tuple(Delivery.from_row(r) for r in recips),
            consent_events=tuple(_record(ConsentEvent, r) for r in events),
            outbox=tuple(OutboxEntry.from_row(r) for r in mails),
            notes=tuple(_record(Note, r) for r in notes),
            audit=tuple(_record(AuditEntry, r) for r in log))


async def gone(db: Database, viewer: Viewer, lead_id: int) -> Lead | None:
    """A lead the viewer received (any lead, for the admin) that is no longer
    confirmed: withdrawn, erased or anonymised. Only its number and state are
    shown (the portal link in a withdrawal or erasure notice lands there)."""
    if not 0 < lead_id <= MAX_ID:
        return None
    async with db.reading() as conn:
        where = [leads.c.id == lead_id,
                 leads.c.status.in_(("withdrawn", "erased", "anonymised"))]
        if not viewer.admin:
            where.append(mine.c.org.isnot(None))
        found = await conn.scalar(sa.select(leads.c.id).select_from(visible(viewer))
                                  .where(*where))
        return (await load(conn, leads.c.id == found))[0] if found is not None else None


async def add_note(db: Database, viewer: Viewer, lead_id: int, body: str, now: datetime
                   ) -> bool:
    """Store a note under the viewer's organisation; False when the lead is not visible."""
    if not 0 < lead_id <= MAX_ID:
        return False
    async with db.transaction() as conn:
        seen = await conn.scalar(sa.select(leads.c.id).select_from(visible(viewer))
                                 .where(*scope(viewer, Filters()), leads.c.id == lead_id))
        if seen is None:
            return False
        author = viewer.user.email if viewer.user else "system"
        await conn.execute(lead_notes.insert().values(
            lead_id=lead_id, org=viewer.org, user_id=viewer.user.id if viewer.user else None,
            author=author, body=body, created_at=now))
        await audit(conn, viewer.user, "note", now, "", lead_id, viewer.org)
        await record(conn, viewer.user, lead_id, viewer.org, "note", now)
    return True


async def record_export(db: Database, viewer: Viewer, count: int, f: Filters,
                        now: datetime) -> None:
    """The export in the audit log, with its filters; a search text may be a family's
    name, and the log outlives an erasure, so only the fact of a search is kept."""
    logged = {**f.query(page=1), **({"q": "…"} if f.q else {})}
    async with db.transaction() as conn:
        detail = f"{count} rows " + json.dumps(logged, sort_keys=True)
        await audit(conn, viewer.user, "export", now, detail, None, viewer.org)


async def record_action(db: Database, viewer: Viewer | None, user: User | None, action: str,
                        now: datetime, detail: str = "") -> None:
    """An audit line outside lead work (login, password reset, re-sending)."""
    async with db.transaction() as conn:
        await audit(conn, user or (viewer.user if viewer else None), action, now, detail)

