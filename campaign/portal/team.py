"""An organisation's team: its admin invites colleagues and deactivates them.

An invited colleague gets an inactive account and a signed link to
``/partner/passwort-neu/{token}`` (the reset page): setting the password there
activates the account, once (the token is bound to the password hash, like a
reset link) and within ``INVITE_MAX_AGE``. A deactivated account cannot sign
in, its sessions end at once, it is no longer offered for assignment, and its
open leads become unassigned (in each lead's history) so colleagues can take them.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..core.db import Database
from ..core.schema import lead_recipients, sessions, users
from ..core.tokens import TokenExpired, TokenInvalid, make_token, read_token
from ..core.vocab import CLOSED
from ..delivery.outbox import enqueue_recipe
from ..leads.services import Services
from . import accounts
from .accounts import User, audit
from .history import record

INVITE_PURPOSE = "invite"
INVITE_MAX_AGE = 7 * 24 * 3600
INVITE_RECIPE = "invite"
UNASSIGNED = "niemand (Konto deaktiviert)"  # the history's detail when a lead is let go


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    email: str
    role: str
    state: str  # aktiv, eingeladen, deaktiviert


def _state(row: Any) -> str:
    if row.active:
        return "aktiv"
    return "deaktiviert" if row.deactivated_at is not None else "eingeladen"


async def members(db: Database, org: str) -> list[Member]:
    rows = await db.all(sa.select(users).where(users.c.org == org)
                        .order_by(sa.func.coalesce(users.c.display_name, users.c.email)))
    return [Member(r.id, r.display_name or "", r.email, r.role, _state(r)) for r in rows]


async def invite(svc: Services, admin: User, name: str, email: str, now: datetime) -> str | None:
    """Create the inactive account and queue the invitation; a German msgid when refused."""
    email = accounts.normalise_email(email)
    if await svc.db.scalar(sa.select(users.c.id).where(users.c.email == email)):
        return "Für diese E-Mail-Adresse gibt es schon ein Konto."
    unusable = await asyncio.to_thread(accounts.hash_password, secrets.token_urlsafe(32))
    async with svc.db.transaction() as conn:
        user_id = (await conn.execute(users.insert().values(
            org=admin.org, email=email, role="staff", password_hash=unusable, active=False,
            display_name=name, created_at=now, invited_at=now)
            .returning(users.c.id))).scalar_one()
        await enqueue_recipe(conn, kind="invite", recipient=email,
                             message_id=svc.mailer.new_message_id(),
                             recipe={"mail": INVITE_RECIPE, "user": user_id}, org=admin.org,
                             now=now)
        await audit(conn, admin, "invite", now, f"user #{user_id}")
    return None


def invite_token(secret: str, user_id: int, password_hash: str) -> str:
    return make_token(secret, INVITE_PURPOSE,
                      {"u": user_id, "f": accounts.fingerprint(password_hash)})


async def _invited(db: Database, user_id: int) -> Any:
    return await db.one(sa.select(users).where(
        users.c.id == user_id, sa.not_(users.c.active), users.c.deactivated_at.is_(None),
        users.c.invited_at.isnot(None)))


async def render_invite(svc: Services, recipe: dict[str, Any], message_id: str
                        ) -> bytes | None:
    """The invitation with a fresh link, or None when the account is no longer invited."""
    user_id = recipe.get("user")
    row = await _invited(svc.db, user_id) if isinstance(user_id, int) else None
    if row is None:
        return None
    org = svc.content.region.organisations.get(row.org)
    token = invite_token(svc.settings.secret_key, row.id, row.password_hash)
    link = svc.mailer.url(f"/partner/passwort-neu/{token}")

    def build() -> bytes:
        subject, text, html = svc.mailer.render("invite", {
            "link": link, "email": row.email, "name": row.display_name or "",
            "org": org.name if org else row.org, "days": INVITE_MAX_AGE // 86400}, "de")
        return svc.mailer.build(to=row.email, subject=subject, text=text, html=html,
                                message_id=message_id).as_bytes()

    return await asyncio.to_thread(build)


async def user_for_invite(db: Database, secret: str, token: str) -> User | None:
    """The invited account of a valid, unused, unexpired invitation link, or None."""
    try:
        data = read_token(secret, INVITE_PURPOSE, token, max_age=INVITE_MAX_AGE)
    except (TokenExpired, TokenInvalid):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) \
            or not 0 < data["u"] < 2**31:
        return None
    row = await _invited(db, data["u"])
    if row is None or data.get("f") != accounts.fingerprint(row.password_hash):
        return None
    return User.from_row(row)


async def accept(db: Database, user: User, password: str, now: datetime) -> None:
    """The invited colleague's password: the account becomes active."""
    await accounts.set_password(db, user, password)
    async with db.transaction() as conn:
        await conn.execute(users.update().where(users.c.id == user.id,
                                                users.c.deactivated_at.is_(None))
                           .values(active=True))
        await audit(conn, user, "invite_accepted", now)


async def deactivate(db: Database, admin: User, user_id: int, now: datetime) -> str | None:
    """Deactivate a colleague of the admin's organisation; a German msgid when refused,
    "missing" when there is no such colleague."""
    if user_id == admin.id:
        return "Sie können Ihr eigenes Konto nicht deaktivieren."
    r = lead_recipients
    async with db.transaction() as conn:
        changed = await conn.execute(users.update().where(
            users.c.id == user_id, users.c.org == admin.org, users.c.deactivated_at.is_(None))
            .values(active=False, deactivated_at=now))
        if not changed.rowcount:
            return "missing"
        await conn.execute(sessions.delete().where(sessions.c.user_id == user_id))
        held = (await conn.execute(sa.select(r.c.lead_id, r.c.org).where(
            r.c.assignee_id == user_id, r.c.status != CLOSED))).all()
        for lead_id, org in held:
            await conn.execute(r.update().where(r.c.lead_id == lead_id, r.c.org == org)
                               .values(assignee_id=None, assigned_at=None))
            await record(conn, admin, lead_id, org, "assign", now, detail=UNASSIGNED)
        await audit(conn, admin, "deactivate", now, f"user #{user_id}")
    return None
