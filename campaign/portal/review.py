"""The agency's review of partners' proposals: nothing a partner edits reaches a
family page before the agency approves it.

A proposal has a ``kind`` (registered in ``KINDS``: how its payload reads as lines
for the diff, and which pictures it uses) and a ``target`` (e.g. a municipality).
One pending proposal per kind and target is edited in place until the agency
decides; approving publishes its payload (``published_pages``), rejecting keeps
what was published. Either way the author gets the decision and the comment in the
portal and by mail through the outbox.
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..core.db import Database
from ..core.schema import page_proposals, published_pages
from ..delivery.outbox import enqueue
from ..leads.services import Services
from . import pictures
from .accounts import User, audit, user_by_id

MAIL = "page_review"
COMMENT_MAX = 2000


@dataclass(frozen=True)
class Kind:
    """How proposals of one kind are shown and applied."""

    name: str
    label: str  # German, for the queue
    lines: Callable[[dict[str, Any]], list[str]]  # the payload as text lines for the diff
    picture_keys: Callable[[dict[str, Any]], set[str]] = lambda payload: set()
    page: str = "/partner/seite"  # where the author edits it (the decision mail links there)
    # The part of the payload its form edits (two staff editing it at once must not
    # overwrite each other's work unseen: ``propose(based_on=…)``).
    edited: Callable[[dict[str, Any]], dict[str, Any]] = lambda payload: payload


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    KINDS[kind.name] = kind
    return kind


@dataclass(frozen=True)
class Proposal:
    id: int
    kind: str
    target: str
    org: str
    payload: dict[str, Any]
    status: str
    user_id: int | None
    author: str
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    comment: str

    @classmethod
    def from_row(cls, row: Any) -> Proposal:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


def diff(kind: str, old: dict[str, Any] | None, new: dict[str, Any]) -> list[tuple[str, str]]:
    """Old and new payload line by line: ("same" | "removed" | "added", text)."""
    lines = KINDS[kind].lines
    marks = {"  ": "same", "- ": "removed", "+ ": "added"}
    return [(marks[d[:2]], d[2:]) for d in difflib.ndiff(lines(old) if old else [], lines(new))
            if d[:2] in marks]


async def published(db: Database, kind: str, target: str) -> dict[str, Any] | None:
    """The approved payload families see (read on every request: every instance agrees)."""
    payload = await db.scalar(sa.select(published_pages.c.payload).where(
        published_pages.c.kind == kind, published_pages.c.target == target))
    return dict(payload) if payload else None


async def _one(db: Database, *where: Any) -> Proposal | None:
    row = await db.one(sa.select(page_proposals).where(*where)
                       .order_by(page_proposals.c.id.desc()).limit(1))
    return Proposal.from_row(row) if row is not None else None


async def pending(db: Database, kind: str, target: str) -> Proposal | None:
    return await _one(db, page_proposals.c.kind == kind, page_proposals.c.target == target,
                      page_proposals.c.status == "pending")


async def latest_decision(db: Database, kind: str, target: str) -> Proposal | None:
    """The last decided proposal, so the author sees the agency's answer and comment."""
    return await _one(db, page_proposals.c.kind == kind, page_proposals.c.target == target,
                      page_proposals.c.status != "pending")


async def get(db: Database, proposal_id: int) -> Proposal | None:
    return await _one(db, page_proposals.c.id == proposal_id)


async def queue(db: Database) -> list[Proposal]:
    """Pending proposals, oldest first (the agency works through them in order)."""
    rows = await db.all(sa.select(page_proposals).where(page_proposals.c.status == "pending")
                        .order_by(page_proposals.c.updated_at, page_proposals.c.id))
    return [Proposal.from_row(r) for r in rows]


@dataclass(frozen=True)
class Conflict:
    """What someone else saved while an editor was writing (shown beside their form)."""

    author: str
    updated_at: datetime
    lines: list[str]


async def conflict(db: Database, kind: str, target: str) -> Conflict | None:
    """The proposal waiting now, or the decision taken meanwhile, as a ``Conflict``."""
    waiting = await pending(db, kind, target)
    if waiting is not None:
        return Conflict(waiting.author, waiting.updated_at, KINDS[kind].lines(waiting.payload))
    decided = await latest_decision(db, kind, target)
    if decided is None or decided.decided_at is None:
        return None
    return Conflict(decided.decided_by or "", decided.decided_at, [])


def form_version(waiting: Proposal | None) -> str:
    """What an edit form was filled from: the waiting proposal's edited part ('' for
    none); the form sends it back as ``based_on``."""
    return version(KINDS[waiting.kind].edited(waiting.payload)) if waiting else ""


def posted_version(form: Mapping[str, Any]) -> str | None:
    """The ``based_on`` an edit form sent back; None when it sent none (nothing to check)."""
    value = form.get("based_on")
    return None if value is None else str(value)[:16]


async def propose(db: Database, kind: str, target: str, payload: dict[str, Any], user: User,
                  author: str, now: datetime, based_on: str | None = None) -> int:
    """Store ``payload`` as the pending proposal (updating one that waits already).
    ``Changed`` when ``based_on`` (``form_version`` of the form) is no longer what
    waits: someone else saved in between, and their work is not overwritten unseen."""
    async with db.transaction() as conn:
        row = (await conn.execute(db.for_update(
            sa.select(page_proposals.c.id, page_proposals.c.payload).where(
                page_proposals.c.kind == kind, page_proposals.c.target == target,
                page_proposals.c.status == "pending")))).one_or_none()
        existing = row.id if row is not None else None
        if based_on is not None and based_on != (
                version(KINDS[kind].edited(dict(row.payload))) if row is not None else ""):
            raise Changed(existing)
        if existing is not None:
            await conn.execute(page_proposals.update().where(page_proposals.c.id == existing)
                               .values(payload=payload, user_id=user.id, author=author,
                                       updated_at=now))
            proposal_id = int(existing)
        else:
            proposal_id = int((await conn.execute(page_proposals.insert().values(
                kind=kind, target=target, org=user.org, payload=payload, status="pending",
                user_id=user.id, author=author, created_at=now, updated_at=now)
                .returning(page_proposals.c.id))).scalar_one())
        await audit(conn, user, "proposal", now, f"{kind}:{target}")
    return proposal_id


def version(payload: dict[str, Any]) -> str:
    """A short fingerprint of a proposal's content, so a decision names what it read."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Changed(Exception):
    """The proposal was changed after the reviewer or an editor read it: what they
    decided on, or built their edit on, is gone."""


async def decide(svc: Services, proposal_id: int, approve: bool, comment: str,
                 decider: User, now: datetime, seen: str | None = None) -> Proposal | None:
    """Approve (publish) or reject a pending proposal and queue the author's mail.
    None when there is no such pending proposal (decided meanwhile elsewhere);
    ``Changed`` when it was edited since ``seen`` (the ``version`` the reviewer read):
    only what the reviewer read is ever published."""
    found = await get(svc.db, proposal_id)
    if found is None or found.status != "pending":
        return None
    status = "approved" if approve else "rejected"
    author = await user_by_id(svc.db, found.user_id) if found.user_id else None
    message = None
    if author is not None:
        subject, text, html = svc.mailer.render(MAIL, {
            "approved": approve, "comment": comment, "kind": KINDS[found.kind].label,
            "target": found.target, "link": svc.mailer.url(KINDS[found.kind].page)}, "de")
        message = await asyncio.to_thread(lambda: svc.mailer.build(
            to=author.email, subject=subject, text=text, html=html))
    async with svc.db.transaction() as conn:
        still = (await conn.execute(svc.db.for_update(
            sa.select(page_proposals.c.status, page_proposals.c.payload)
            .where(page_proposals.c.id == proposal_id)))).one_or_none()
        if still is None or still.status != "pending":
            return None
        current = version(dict(still.payload))
        if current != version(found.payload) or (seen is not None and current != seen):
            raise Changed(proposal_id)
        await conn.execute(page_proposals.update().where(page_proposals.c.id == proposal_id)
                           .values(status=status, decided_at=now, decided_by=decider.email,
                                   comment=comment))
        if approve:
            await conn.execute(published_pages.delete().where(
                published_pages.c.kind == found.kind, published_pages.c.target == found.target))
            await conn.execute(published_pages.insert().values(
                kind=found.kind, target=found.target, payload=found.payload,
                proposal_id=proposal_id, published_at=now))
        if message is not None:
            await enqueue(conn, message, kind=MAIL, org=found.org)
        await audit(conn, decider, "review", now, f"{status}:{found.kind}:{found.target}")
    await forget_pictures(svc.db, found.kind, found.target)
    return await get(svc.db, proposal_id)


async def picture_published(db: Database, key: str) -> bool:
    """Whether an approved page shows the picture: until then only staff may see it."""
    owner = await pictures.target_of(db, key)
    kind, _, target = (owner or "").partition(":")
    if kind not in KINDS:
        return False
    payload = await published(db, kind, target)
    return payload is not None and key in KINDS[kind].picture_keys(payload)


async def forget_pictures(db: Database, kind: str, target: str) -> None:
    """Delete the target's pictures that neither the published page nor a pending
    proposal uses (removed, replaced or rejected ones)."""
    keys = KINDS[kind].picture_keys
    keep: set[str] = set()
    for payload in (await published(db, kind, target),
                    (p.payload if (p := await pending(db, kind, target)) else None)):
        if payload:
            keep |= keys(payload)
    await pictures.delete_unused(db, f"{kind}:{target}", keep)
