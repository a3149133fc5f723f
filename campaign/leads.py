"""The lead store and its lifecycle: pending → confirmed → withdrawn / erased / anonymised.

Every state change and the mails it causes commit in one transaction (the
outbox pattern), and each change is guarded by its ``WHERE status …`` so a
double click or two workers can only ever apply it once.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from . import funnel
from .consent import ConsentTexts
from .lead_mails import (
    FAMILY_KINDS,
    NOTICE_KINDS,
    queue_family_mail,
    queue_family_recipe,
    queue_recipient_notices,
)
from .mail import Mailer

PERSONAL_FIELDS = ("name", "email", "phone", "message")
# A lead gets at most this many mails of one kind per hour through "resend".
MAX_FAMILY_MAILS_PER_HOUR = 3


def now_iso(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).isoformat(timespec="seconds")


@dataclass
class NewLead:
    """A validated submission plus what the page knew about where it came from."""

    data: Mapping[str, Any]
    language: str
    attribution: Mapping[str, str] = field(default_factory=dict)
    quiz: str = ""
    quiz_outcome: Sequence[Any] | None = None
    submission: str | None = None  # submission_key(): the same POST again is the same lead


def submission_key(body: bytes) -> str:
    """What makes two POSTs one submission: the same bytes of the same filled-in
    form (its signed start time is part of them). A person who corrects a field
    and sends again makes a new submission; a retry after a lost answer does not.
    128 bits of SHA-256 are plenty to tell submissions apart and keep the
    unique index (one random key per lead) small."""
    return hashlib.sha256(body).hexdigest()[:32]


async def create_pending(db: Any, mailer: Mailer, lead: NewLead, consent: ConsentTexts,
                         *, now: datetime | None = None) -> str:
    """Store a pending lead, its 'given' consent events and the confirmation mail.

    A submission already stored (same ``lead.submission``) stores nothing more
    and sends no second mail; its lead's public id is returned."""
    at = now_iso(now)
    d = lead.data
    public_id = secrets.token_urlsafe(18)
    groups = list(d["consents"])
    a = lead.attribution
    async with db.transaction() as tx:
        inserted = await tx.fetchone(
            "INSERT INTO leads (public_id, status, created_at, language, name, email, phone,"
            " message, adults, children, child_ages, interests, timeframe, municipalities,"
            " consents, consent_version, consent_hash, utm_source, utm_medium, utm_campaign,"
            " place_code, quiz, quiz_outcome, submission_key) VALUES"
            " (?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (submission_key) DO NOTHING RETURNING id",
            (public_id, at, lead.language, d["name"], d["email"], d["phone"], d["message"],
             d["adults"], d["children"], json.dumps(d["child_ages"]),
             json.dumps(d["interests"]), d["timeframe"], json.dumps(d["municipalities"]),
             json.dumps(groups), consent.version, consent.hash_of(groups, lead.language),
             a.get("utm_source"), a.get("utm_medium"), a.get("utm_campaign"), a.get("place"),
             lead.quiz or None,
             json.dumps(lead.quiz_outcome) if lead.quiz_outcome is not None else None,
             lead.submission))
        if inserted is None:  # this submission is stored already
            known = await tx.fetchone("SELECT public_id FROM leads WHERE submission_key = ?",
                                      (lead.submission,))
            return str(known["public_id"])
        lead_id = inserted["id"]
        if groups:  # one statement for all groups: a third cheaper than executemany
            params: list[Any] = []
            for g in groups:
                params += (lead_id, g, consent.version, consent.group_hash(g, lead.language), at)
            await tx.execute(
                "INSERT INTO consent_events (lead_id, grp, version, text_hash, event, at)"
                " VALUES " + ", ".join(["(?, ?, ?, ?, 'given', ?)"] * len(groups)), params)
        # Only the recipe: the worker renders the mail (no MIME work in the request).
        await queue_family_recipe(tx, mailer, lead_id=lead_id, public_id=public_id,
                                  email=d["email"], lang=lead.language, created_at=at)
        await funnel.count(db, lead.quiz, "lead_submitted", a, tx=tx)
    return public_id


async def by_public_id(db: Any, public_id: str) -> Any:
    return await db.fetchone("SELECT * FROM leads WHERE public_id = ?", (public_id,))


async def confirm(db: Any, mailer: Mailer, public_id: str, *, now: datetime | None = None
                  ) -> str:
    """'confirmed' (this call did it), 'already', 'gone' (withdrawn/erased) or 'unknown'.

    The guarded UPDATE decides: of two concurrent clicks only one changes a
    row, and only that one routes the lead, in the same transaction.
    """
    from .delivery import queue_routed_lead

    at = now_iso(now)
    async with db.transaction() as tx:
        changed = await tx.rowcount(
            "UPDATE leads SET status = 'confirmed', confirmed_at = ?"
            " WHERE public_id = ? AND status = 'pending'", (at, public_id))
        row = await tx.fetchone("SELECT * FROM leads WHERE public_id = ?", (public_id,))
        if row is None:
            return "unknown"
        if not changed:
            return "already" if row["status"] == "confirmed" else "gone"
        await _consent_events(tx, row, "confirmed", at)
        await queue_routed_lead(tx, mailer, row)
        await queue_family_mail(tx, mailer, row, "selfservice_confirmed")
        attribution = {k: row[k] or "" for k in ("utm_source", "utm_medium", "utm_campaign")}
        await funnel.count(db, row["quiz"] or "", "lead_confirmed", attribution, tx=tx)
    return "confirmed"


async def _consent_events(tx: Any, row: Any, event: str, at: str) -> None:
    """One anonymous event per consented group, with the hash shown at submission."""
    groups = json.loads(row["consents"] or "[]")
    version = row["consent_version"] or ""
    given = {r["grp"]: r["text_hash"] for r in await tx.fetchall(
        "SELECT grp, text_hash FROM consent_events WHERE lead_id = ? AND event = 'given'",
        (row["id"],))}
    await tx.executemany(
        "INSERT INTO consent_events (lead_id, grp, version, text_hash, event, at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(row["id"], g, version, given.get(g, row["consent_hash"] or ""), event, at)
         for g in groups])


async def recipients(db: Any, lead_id: int) -> list[Any]:
    return await db.fetchall(
        "SELECT org, reason, routed_at, acknowledged_at FROM lead_recipients"
        " WHERE lead_id = ? ORDER BY routed_at, org", (lead_id,))


async def request_new_mail(db: Any, mailer: Mailer, email: str) -> str:
    """Resend the right link to a known address; the caller answers neutrally anyway.

    Pending leads get a new confirmation link; confirmed and withdrawn ones
    the self-service link (a family that withdrew may still want to erase).

    Returns what happened ('confirm', 'selfservice', 'throttled' or 'none') for
    logs and tests only; the page must never show it.
    """
    rows = await db.fetchall(
        "SELECT * FROM leads WHERE lower(email) = lower(?) AND email IS NOT NULL"
        " AND status IN ('pending', 'confirmed', 'withdrawn')"
        " ORDER BY created_at DESC LIMIT 1", (email.strip(),))
    if not rows:
        return "none"
    row = rows[0]
    template, kind = (("confirm", "confirm") if row["status"] == "pending"
                      else ("selfservice_link", "selfservice"))
    hour_ago = now_iso(datetime.now(UTC) - timedelta(hours=1))
    async with db.transaction() as tx:
        recent = await tx.fetchone(
            "SELECT COUNT(*) AS n FROM outbox WHERE lead_id = ? AND kind = ? AND created_at >= ?",
            (row["id"], kind, hour_ago))
        if recent is not None and recent["n"] >= MAX_FAMILY_MAILS_PER_HOUR:
            return "throttled"
        await queue_family_mail(tx, mailer, row, template)
    return kind


async def withdraw(db: Any, mailer: Mailer, public_id: str, *, now: datetime | None = None
                   ) -> bool:
    """Stop forwarding: status withdrawn, unsent mails dropped, recipients told."""
    at = now_iso(now)
    async with db.transaction() as tx:
        changed = await tx.rowcount(
            "UPDATE leads SET status = 'withdrawn', withdrawn_at = ? WHERE public_id = ?"
            " AND status IN ('pending', 'confirmed')", (at, public_id))
        if not changed:
            return False
        row = await tx.fetchone("SELECT * FROM leads WHERE public_id = ?", (public_id,))
        await tx.execute("DELETE FROM outbox WHERE lead_id = ? AND status = 'queued'",
                         (row["id"],))
        await _consent_events(tx, row, "withdrawn", at)
        await queue_recipient_notices(tx, mailer, row, "withdrawn")
    return True


async def erase(db: Any, mailer: Mailer, public_id: str, *, now: datetime | None = None) -> bool:
    """Remove every personal field; the anonymous consent events stay, recipients are told."""
    at = now_iso(now)
    async with db.transaction() as tx:
        row = await tx.fetchone(
            "SELECT * FROM leads WHERE public_id = ? AND status IN ('pending', 'confirmed',"
            " 'withdrawn')", (public_id,))
        if row is None:
            return False
        await scrub(tx, row, status="erased", at=at)
        await _consent_events(tx, row, "erased", at)
        await queue_recipient_notices(tx, mailer, row, "erased")
    return True


async def scrub(tx: Any, row: Any, *, status: str, at: str) -> None:
    """Null the personal fields of a lead and clear every mail that carried them.

    Unsent mails of the lead are deleted (they must not go out any more);
    sent ones keep only their metadata: body emptied, the family's address
    blanked. Used by erase (status 'erased') and by retention ('anonymised').
    """
    email = row["email"] or ""
    # Notices about withdrawal/erasure hold no personal data and must still go out.
    mine = ("(lead_id = ? OR (? != '' AND lower(recipient) = lower(?)))"
            f" AND kind NOT IN ({', '.join('?' * len(NOTICE_KINDS))})")
    which = (row["id"], email, email, *NOTICE_KINDS)
    await tx.execute(f"DELETE FROM outbox WHERE status != 'sent' AND {mine}", which)
    family = ", ".join("?" * len(FAMILY_KINDS))
    await tx.execute(
        "UPDATE outbox SET message = x'', last_error = NULL, recipient = CASE WHEN"
        f" lower(recipient) = lower(?) OR kind IN ({family}) THEN '' ELSE recipient END"
        f" WHERE {mine}", (email, *FAMILY_KINDS, *which))
    stamp = "erased_at = ?, " if status == "erased" else ""
    params: tuple[Any, ...] = (status, at) if stamp else (status,)
    await tx.execute(
        f"UPDATE leads SET status = ?, {stamp}name = NULL, email = NULL, phone = NULL,"
        " message = NULL, submission_key = NULL WHERE id = ?", (*params, row["id"]))

