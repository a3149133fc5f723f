"""Routing a confirmed lead into the outbox, receipts and reminders.

Everything here runs inside the caller's write transaction: the lead's new
state, its ``lead_recipients`` rows and one outbox row per recipient commit
together or not at all (the transactional outbox); the worker in
``campaign.mail.worker`` sends them afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from .forms import CHILD_AGE_LABELS, INTEREST_LABELS, TIMEFRAME_LABELS
from .mail import Mailer, address, header_safe
from .mail.outbox import enqueue, utcnow
from .routing import Recipient, route
from .tokens import TokenInvalid, make_token, read_token
from .vocab import ORG_KIND_TO_CONSENT

RECEIPT_PURPOSE = "receipt"
RECEIPT_MAX_AGE = 365 * 24 * 3600  # a partner may click weeks later; a year is plenty

# Labels for the lead mail: recipients are German offices, so always the German
# wording (the form's labels, whose msgid is German; see _de).
LANGUAGE_LABELS = {"de": "Deutsch", "nl": "Niederländisch", "en": "Englisch"}
CONSENT_LABELS = {
    "municipalities": "Weitergabe an die gewählten Städte und Gemeinden",
    "tourism": "Weitergabe an den zuständigen Tourismusverband",
    "skilled_workers": "Weitergabe an den Fachkräfte-Service Medizin und Pflege",
    "agency": "Weitergabe an die Südwestfalen Agentur",
}
REASON_LABELS = {
    "municipality": "Die Familie hat Ihre Stadt oder Gemeinde ausgewählt.",
    "tourism": "Ihr Verband ist für eine der gewählten Städte und Gemeinden zuständig.",
    "skilled_workers": "Die Familie interessiert sich für Arbeit in Medizin und Pflege.",
    "fallback": "Die Familie hat keinen bestimmten Ort gewählt.",
}


def _json_list(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    if not value:
        return []
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return []
    return parsed if isinstance(parsed, list) else []


def recipients_for(lead: Mapping[str, Any], region: Any) -> list[Recipient]:
    """route() applied to a stored lead row (JSON columns as text)."""
    return route(_json_list(lead["municipalities"]), _json_list(lead["interests"]),
                 _json_list(lead["consents"]), region)


def receipt_token(secret: str, public_id: str, org: str) -> str:
    return make_token(secret, RECEIPT_PURPOSE, {"l": public_id, "o": org})


def read_receipt_token(secret: str, token: str) -> tuple[str, str]:
    """(public_id, org); raises TokenInvalid / TokenExpired."""
    data = read_token(secret, RECEIPT_PURPOSE, token, max_age=RECEIPT_MAX_AGE)
    if not isinstance(data, dict) or not isinstance(data.get("l"), str) \
            or not isinstance(data.get("o"), str):
        raise TokenInvalid("malformed receipt payload")
    return data["l"], data["o"]


def lead_context(mailer: Mailer, lead: Mapping[str, Any], org: Any, reason: str
                 ) -> dict[str, Any]:
    """What the lead, reminder and agency mails show about a family."""
    region = mailer.content.region
    consent_group = ORG_KIND_TO_CONSENT[org.kind]
    outcome = []
    for item in _json_list(lead["quiz_outcome"]):
        if not isinstance(item, dict):
            continue
        slug = str(item.get("slug", ""))
        muni = region.municipalities.get(slug)
        reasons = [str(r) for r in item.get("reasons", []) if r] \
            if isinstance(item.get("reasons"), list) else []
        outcome.append({"name": muni.name if muni else slug, "score": item.get("score"),
                        "reasons": reasons})
    token = receipt_token(mailer.settings.secret_key, lead["public_id"], org.slug)
    return {
        "lead": lead,
        "org": org,
        "reason": REASON_LABELS.get(reason, ""),
        "municipalities": [region.municipalities[s].name for s in
                           _json_list(lead["municipalities"]) if s in region.municipalities],
        "interests": [_de(INTEREST_LABELS, i) for i in _json_list(lead["interests"])],
        "child_ages": [_de(CHILD_AGE_LABELS, a) for a in _json_list(lead["child_ages"])],
        "timeframe": _de(TIMEFRAME_LABELS, lead["timeframe"]) if lead["timeframe"] else "",
        "language": LANGUAGE_LABELS.get(lead["language"] or "de", lead["language"] or ""),
        "name": header_safe(lead["name"] or ""),
        "consent": CONSENT_LABELS.get(consent_group, consent_group),
        "consent_text": _consent_text(mailer.content, consent_group),
        "consent_version": lead["consent_version"] or "",
        "confirmed_at": _german_date(lead["confirmed_at"]),
        "quiz": _quiz_title(mailer.content, lead["quiz"]),
        "outcome": outcome,
        "receipt_url": mailer.url(f"/quittung/{token}"),
    }


def _de(labels: Mapping[str, Any], code: Any) -> str:
    """German label of a form code (the lazy label's msgid), the code if unknown."""
    label = labels.get(str(code))
    return str(getattr(label, "message", label)) if label is not None else str(code)


def _quiz_title(content: Any, slug: str | None) -> str:
    quiz = content.extras.get("quizzes", {}).get(slug) if slug else None
    return str(quiz.title) if quiz is not None else (slug or "")


def _consent_text(content: Any, group: str) -> str:
    """The German wording of the consent for ``group`` (content/consent.toml), if loaded."""
    texts = content.extras.get("consent")
    groups = getattr(texts, "groups", {})
    return str(groups[group].text) if group in groups else ""


def _german_date(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).strftime("%d.%m.%Y")
    except ValueError:
        return iso


def _family(lead: Mapping[str, Any]) -> Any:
    """Reply-To the family; name and address only through the header API."""
    if not lead["email"]:
        return None
    return address(lead["email"], lead["name"] or "")


async def queue_routed_lead(tx: Any, mailer: Mailer, lead: Mapping[str, Any]
                            ) -> list[Recipient]:
    """Route a lead being confirmed in ``tx``: recipients rows plus one mail each.

    Idempotent per (lead, org): an organisation that already has the lead is
    neither recorded nor mailed again, so a repeated confirmation is harmless.
    """
    region = mailer.content.region
    recipients = recipients_for(lead, region)
    now = utcnow()
    for rcpt in recipients:
        org = region.organisations[rcpt.org]
        inserted = await tx.rowcount(
            "INSERT OR IGNORE INTO lead_recipients (lead_id, org, reason, routed_at)"
            " VALUES (?, ?, ?, ?)", (lead["id"], rcpt.org, rcpt.reason, now))
        if not inserted:
            continue
        ctx = lead_context(mailer, lead, org, rcpt.reason)
        subject, text, html = mailer.render("lead", ctx, lang="de")
        msg = mailer.build(
            to=address(org.email, org.name), subject=subject, text=text, html=html,
            reply_to=_family(lead),
            message_id=mailer.stable_message_id("lead", lead["public_id"], rcpt.org),
        )
        await enqueue(tx, msg, kind="lead", lead_id=lead["id"], org=rcpt.org)
    return recipients


async def acknowledge(db: Any, public_id: str, org: str) -> str:
    """Record "Anfrage erhalten" once: 'recorded', 'already' or 'unknown'."""
    async with db.transaction() as tx:
        row = await tx.fetchone(
            "SELECT r.lead_id, r.acknowledged_at FROM lead_recipients r"
            " JOIN leads l ON l.id = r.lead_id WHERE l.public_id = ? AND r.org = ?",
            (public_id, org))
        if row is None:
            return "unknown"
        if row["acknowledged_at"]:
            return "already"
        await tx.execute(
            "UPDATE lead_recipients SET acknowledged_at = ? WHERE lead_id = ? AND org = ?"
            " AND acknowledged_at IS NULL", (utcnow(), row["lead_id"], org))
    return "recorded"


async def queue_reminders(db: Any, mailer: Mailer, *, now: datetime | None = None) -> int:
    """Leads unacknowledged after ``ack_reminder_days``: one reminder + one agency note.

    ``reminded_at`` is set in the same transaction as the two outbox rows, so
    each (lead, org) is reminded exactly once even with several workers.
    """
    region = mailer.content.region
    now = now or datetime.now(UTC)
    cutoff = (now - timedelta(days=region.ack_reminder_days)).isoformat(timespec="seconds")
    due = await db.fetchall(
        "SELECT r.lead_id, r.org, r.reason FROM lead_recipients r JOIN leads l ON l.id = r.lead_id"
        " WHERE r.acknowledged_at IS NULL AND r.reminded_at IS NULL AND r.routed_at <= ?"
        " AND l.status = 'confirmed' ORDER BY r.routed_at LIMIT 200", (cutoff,))
    agency = next(iter(region.orgs_of_kind("agency")), None)
    count = 0
    for item in due:
        org = region.organisations.get(item["org"])
        if org is None:
            continue
        async with db.transaction() as tx:
            claimed = await tx.rowcount(
                "UPDATE lead_recipients SET reminded_at = ? WHERE lead_id = ? AND org = ?"
                " AND reminded_at IS NULL AND acknowledged_at IS NULL",
                (now.isoformat(timespec="seconds"), item["lead_id"], item["org"]))
            if not claimed:
                continue
            lead = await tx.fetchone("SELECT * FROM leads WHERE id = ?", (item["lead_id"],))
            assert lead is not None
            ctx = lead_context(mailer, lead, org, item["reason"])
            ctx["days"] = region.ack_reminder_days
            await _queue(tx, mailer, "reminder", lead, org, org, ctx)
            if agency is not None and agency.slug != org.slug:
                await _queue(tx, mailer, "agency_note", lead, org, agency, ctx)
            count += 1
    return count


async def _queue(tx: Any, mailer: Mailer, kind: str, lead: Mapping[str, Any], org: Any,
                 to: Any, ctx: Mapping[str, Any]) -> None:
    subject, text, html = mailer.render(kind, ctx, lang="de")
    msg = mailer.build(
        to=address(to.email, to.name), subject=subject, text=text, html=html,
        reply_to=_family(lead) if kind == "reminder" else None,
        message_id=mailer.stable_message_id(kind, lead["public_id"], org.slug),
    )
    await enqueue(tx, msg, kind=kind, lead_id=lead["id"], org=org.slug)
