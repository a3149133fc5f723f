"""The portal's data queries: every one is scoped to the viewer's organisation in SQL.

A staff account sees a lead only through its own ``lead_recipients`` row;
the agency admin sees all confirmed leads. Withdrawn, erased and anonymised
leads (and unconfirmed ones) never leave this module. Filter values are
checked against whitelists and always bound as parameters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .auth import User, audit, utcnow
from .vocab import FOLLOW_UP, INTERESTS, ORG_KIND_TO_CONSENT

PAGE_SIZE = 25
EXPORT_LIMIT = 50_000
NOTE_MAX = 2000
_SOURCE_RE = re.compile(r"^[a-z0-9._-]{1,64}$")
VISIBLE = "l.status = 'confirmed'"
MAX_ID = 2**63 - 1  # SQLite's INTEGER range; larger ids from a URL simply do not exist


@dataclass(frozen=True)
class Viewer:
    """Who looks: their organisation, and whether they may see everything."""

    org: str
    admin: bool
    user: User | None = None


def viewer_for(user: User, region: Any) -> Viewer:
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
    page: int = 1

    def query(self, page: int | None = None) -> dict[str, str]:
        """The filters as URL query parameters (empty ones left out)."""
        out = {k: getattr(self, k) for k in ("status", "municipality", "date_from", "date_to",
                                             "interest", "source") if getattr(self, k)}
        if (page or self.page) > 1:
            out["page"] = str(page or self.page)
        return out


@dataclass
class FilterErrors:
    fields: dict[str, str] = field(default_factory=dict)


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
    checks = {
        "status": (lambda v: v in FOLLOW_UP, "Unbekannter Bearbeitungsstand."),
        "municipality": (lambda v: v in municipalities, "Unbekannte Gemeinde."),
        "date_from": (_iso_date, "Bitte ein Datum wie 2026-01-31 angeben."),
        "date_to": (_iso_date, "Bitte ein Datum wie 2026-01-31 angeben."),
        "interest": (lambda v: v in INTERESTS, "Unbekanntes Interesse."),
        "source": (lambda v: bool(_SOURCE_RE.match(v)), "Unbekannte Quelle."),
    }
    for name, (ok, message) in checks.items():
        raw = (params.get(name) or "").strip()
        if not raw:
            continue
        if ok(raw):
            values[name] = raw
        else:
            errors[name] = message
    raw_page = params.get("page") or "1"
    values["page"] = int(raw_page) if re.fullmatch(r"[1-9][0-9]{0,4}", raw_page) else 1
    return Filters(**values), errors


def _scope(viewer: Viewer, f: Filters, join: str = "") -> tuple[str, list[Any]]:
    """FROM + WHERE for the leads this viewer may see, narrowed by the filters."""
    sql = "FROM leads l LEFT JOIN lead_recipients r ON r.lead_id = l.id AND r.org = ?" + join
    params: list[Any] = [viewer.org]
    where = [VISIBLE]
    if not viewer.admin:
        where.append("r.org IS NOT NULL")
    if f.status:
        where.append("r.status = ?" if not viewer.admin else
                     "EXISTS (SELECT 1 FROM lead_recipients x WHERE x.lead_id = l.id"
                     " AND x.status = ?)")
        params.append(f.status)
    if f.municipality:
        where.append("EXISTS (SELECT 1 FROM json_each(l.municipalities) j WHERE j.value = ?)")
        params.append(f.municipality)
    if f.interest:
        where.append("EXISTS (SELECT 1 FROM json_each(l.interests) j WHERE j.value = ?)")
        params.append(f.interest)
    if f.date_from:
        where.append("substr(l.created_at, 1, 10) >= ?")
        params.append(f.date_from)
    if f.date_to:
        where.append("substr(l.created_at, 1, 10) <= ?")
        params.append(f.date_to)
    if f.source:
        where.append("l.utm_source = ?")
        params.append(f.source)
    return f"{sql} WHERE {' AND '.join(where)}", params


COLUMNS = (
    "l.id, l.created_at, l.confirmed_at, l.language, l.name, l.email, l.phone, l.message,"
    " l.adults, l.children, l.child_ages, l.interests, l.timeframe, l.municipalities,"
    " l.consents, l.consent_version, l.utm_source, l.utm_medium, l.utm_campaign, l.place_code,"
    " l.quiz, l.quiz_outcome, r.status AS follow_up, r.acknowledged_at, r.routed_at"
)


def _json(value: str | None, default: Any) -> Any:
    try:
        out = json.loads(value) if value else default
    except ValueError:
        return default
    return out if isinstance(out, type(default)) else default


def _lead(row: Any) -> dict[str, Any]:
    lead = dict(row)
    for key in ("child_ages", "interests", "municipalities", "consents"):
        lead[key] = [str(v) for v in _json(lead.get(key), [])]
    lead["quiz_outcome"] = [o for o in _json(lead.get("quiz_outcome"), []) if isinstance(o, dict)]
    return lead


async def list_leads(db: Any, viewer: Viewer, f: Filters) -> tuple[list[dict[str, Any]], int]:
    """One page of leads (newest first) and the total matching the filters."""
    scope, params = _scope(viewer, f)
    total = await db.fetchval(f"SELECT COUNT(*) {scope}", params)
    rows = await db.fetchall(
        f"SELECT {COLUMNS} {scope} ORDER BY l.created_at DESC, l.id DESC LIMIT ? OFFSET ?",
        [*params, PAGE_SIZE, (f.page - 1) * PAGE_SIZE])
    leads = [_lead(r) for r in rows]
    if viewer.admin and leads:
        ids = [lead["id"] for lead in leads]
        marks = ",".join("?" * len(ids))
        recips = await db.fetchall(
            f"SELECT lead_id, org, status FROM lead_recipients WHERE lead_id IN ({marks})"
            " ORDER BY org", ids)
        for lead in leads:
            lead["recipients"] = [dict(x) for x in recips if x["lead_id"] == lead["id"]]
    return leads, total


async def export_leads(db: Any, viewer: Viewer, f: Filters) -> list[dict[str, Any]]:
    scope, params = _scope(viewer, f)
    rows = await db.fetchall(
        f"SELECT {COLUMNS} {scope} ORDER BY l.created_at, l.id LIMIT ?", [*params, EXPORT_LIMIT])
    return [_lead(r) for r in rows]


async def get_lead(db: Any, viewer: Viewer, lead_id: int, region: Any) -> dict[str, Any] | None:
    """Everything the detail page shows, or None when the viewer may not see the lead."""
    if not 0 < lead_id <= MAX_ID:
        return None
    scope, params = _scope(viewer, Filters())
    row = await db.fetchone(f"SELECT {COLUMNS} {scope} AND l.id = ?", [*params, lead_id])
    if row is None:
        return None
    lead = _lead(row)
    only = "" if viewer.admin else " AND org = ?"
    own = [] if viewer.admin else [viewer.org]
    lead["recipients"] = [dict(x) for x in await db.fetchall(
        f"SELECT * FROM lead_recipients WHERE lead_id = ?{only} ORDER BY org", [lead_id, *own])]
    org = region.organisations.get(viewer.org)
    group = ORG_KIND_TO_CONSENT.get(org.kind, "") if org else ""
    lead["consent_group"] = group
    grp_only = "" if viewer.admin else " AND grp = ?"
    lead["consent_events"] = [dict(x) for x in await db.fetchall(
        f"SELECT grp, version, event, at FROM consent_events WHERE lead_id = ?{grp_only}"
        " ORDER BY at, id", [lead_id, *([] if viewer.admin else [group])])]
    lead["outbox"] = [dict(x) for x in await db.fetchall(
        "SELECT id, kind, org, recipient, status, attempts, created_at, sent_at"
        f" FROM outbox WHERE lead_id = ?{only} ORDER BY id", [lead_id, *own])]
    lead["notes"] = [dict(x) for x in await db.fetchall(
        f"SELECT org, author, body, created_at FROM lead_notes WHERE lead_id = ?{only}"
        " ORDER BY id", [lead_id, *own])]
    lead["audit"] = [dict(x) for x in await db.fetchall(
        f"SELECT at, actor, org, action, detail FROM audit_log WHERE lead_id = ?{only}"
        " ORDER BY id", [lead_id, *own])]
    return lead


async def set_status(db: Any, viewer: Viewer, lead_id: int, status: str,
                     org: str | None = None) -> tuple[str, str] | None:
    """Change one recipient row's follow-up state; None when not visible to the viewer."""
    if status not in FOLLOW_UP:
        raise ValueError(status)
    if not 0 < lead_id <= MAX_ID:
        return None
    target = (org or viewer.org) if viewer.admin else viewer.org
    async with db.transaction() as tx:
        row = await tx.fetchone(
            "SELECT r.status FROM lead_recipients r JOIN leads l ON l.id = r.lead_id"
            f" WHERE r.lead_id = ? AND r.org = ? AND {VISIBLE}", (lead_id, target))
        if row is None:
            return None
        old = row["status"]
        if old != status:
            await tx.execute("UPDATE lead_recipients SET status = ? WHERE lead_id = ? AND org = ?",
                             (status, lead_id, target))
            await audit(tx, viewer.user, "status", f"{old} → {status}", lead_id, target)
    return old, status


async def add_note(db: Any, viewer: Viewer, lead_id: int, body: str) -> bool:
    """Store a note under the viewer's organisation; False when the lead is not visible."""
    if not 0 < lead_id <= MAX_ID:
        return False
    scope, params = _scope(viewer, Filters())
    async with db.transaction() as tx:
        if await tx.fetchone(f"SELECT 1 {scope} AND l.id = ?", [*params, lead_id]) is None:
            return False
        author = viewer.user.email if viewer.user else "system"
        await tx.execute(
            "INSERT INTO lead_notes (lead_id, org, user_id, author, body, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (lead_id, viewer.org, viewer.user.id if viewer.user else None, author, body,
             utcnow()))
        await audit(tx, viewer.user, "note", "", lead_id, viewer.org)
    return True


async def record_export(db: Any, viewer: Viewer, count: int, f: Filters) -> None:
    async with db.transaction() as tx:
        detail = f"{count} rows " + json.dumps(f.query(page=1), sort_keys=True)
        await audit(tx, viewer.user, "export", detail, None, viewer.org)


# -- figures -------------------------------------------------------------------

FUNNEL_STEPS = ("started", "finished", "lead_submitted", "lead_confirmed")


async def stats(db: Any, viewer: Viewer) -> dict[str, Any]:
    """Funnel, leads per municipality, per source and per month for this viewer."""
    scope, params = _scope(viewer, Filters())
    marks = ",".join("?" * len(FUNNEL_STEPS))
    funnel = {step: 0 for step in FUNNEL_STEPS}
    for row in await db.fetchall(
            f"SELECT step, SUM(count) AS n FROM funnel_counts WHERE step IN ({marks})"
            " GROUP BY step", FUNNEL_STEPS):
        funnel[row["step"]] = row["n"] or 0
    if viewer.admin:
        ack = "EXISTS (SELECT 1 FROM lead_recipients x WHERE x.lead_id = l.id" \
              " AND x.acknowledged_at IS NOT NULL)"
        moved = "EXISTS (SELECT 1 FROM lead_recipients x WHERE x.lead_id = l.id" \
                " AND x.status = 'zugezogen')"
    else:
        ack, moved = "r.acknowledged_at IS NOT NULL", "r.status = 'zugezogen'"
    row = await db.fetchone(
        f"SELECT COUNT(*) AS received, COALESCE(SUM({ack}), 0) AS acknowledged,"
        f" COALESCE(SUM({moved}), 0) AS moved {scope}", params)
    by_status = await db.fetchall(
        f"SELECT r.status AS status, COUNT(*) AS n {scope} GROUP BY r.status", params) \
        if not viewer.admin else await db.fetchall(
        "SELECT x.status AS status, COUNT(*) AS n FROM lead_recipients x JOIN leads l"
        f" ON l.id = x.lead_id WHERE {VISIBLE} GROUP BY x.status")
    m_scope, m_params = _scope(viewer, Filters(), ", json_each(l.municipalities) j")
    per_municipality = await db.fetchall(
        f"SELECT j.value AS key, COUNT(*) AS n {m_scope} GROUP BY j.value ORDER BY n DESC, key",
        m_params)
    per_source = await db.fetchall(
        "SELECT COALESCE(l.utm_source, '') AS source, COALESCE(l.utm_medium, '') AS medium,"
        " COALESCE(l.utm_campaign, '') AS campaign, COALESCE(l.place_code, '') AS place,"
        f" COUNT(*) AS n {scope} GROUP BY 1, 2, 3, 4 ORDER BY n DESC, 1, 2, 3, 4", params)
    per_month = await db.fetchall(
        f"SELECT substr(l.created_at, 1, 7) AS month, COUNT(*) AS n {scope}"
        " GROUP BY month ORDER BY month", params)
    return {
        "funnel": funnel,
        "received": row["received"] if row else 0,
        "acknowledged": row["acknowledged"] if row else 0,
        "moved": row["moved"] if row else 0,
        "by_status": {r["status"]: r["n"] for r in by_status},
        "per_municipality": [(r["key"], r["n"]) for r in per_municipality],
        "per_source": [dict(r) for r in per_source],
        "per_month": [(r["month"], r["n"]) for r in per_month],
    }


# -- dead letters (agency admin) --------------------------------------------------


async def dead_letters(db: Any, viewer: Viewer) -> list[dict[str, Any]]:
    if not viewer.admin:
        raise PermissionError("only the agency admin sees the outbox")
    return [dict(r) for r in await db.fetchall(
        "SELECT id, kind, org, recipient, attempts, last_error, created_at FROM outbox"
        " WHERE status = 'dead' ORDER BY id")]


async def resend(db: Any, viewer: Viewer, outbox_id: int | None = None) -> int:
    """Put one (or every) dead letter back in the queue; returns how many."""
    if not viewer.admin:
        raise PermissionError("only the agency admin re-sends mail")
    from .mail import worker  # written by the delivery feature; imported when needed

    if outbox_id is not None and not 0 < outbox_id <= MAX_ID:
        return 0
    if outbox_id is None:
        count = await worker.requeue(db, all_dead=True)
    else:
        count = await worker.requeue(db, outbox_id)
    count = int(count or 0)
    async with db.transaction() as tx:
        what = "all" if outbox_id is None else f"outbox #{outbox_id}"
        await audit(tx, viewer.user, "resend", f"{what}: {count}")
    return count
