"""Portal accounts: passwords, server-side sessions, login throttling, password reset.

Sessions live in the database (only a hash of the id), so logout and a
password change end them everywhere, on every instance. Login attempts are
let through per account and per client address in one atomic step *before*
the password hash is checked, so parallel attempts cannot slip past the
throttle. A few failures are free; then each further attempt must wait a
growing delay (never a lock-out: the wait ends, and refused attempts do not
lengthen it). A successful sign-in clears the account's throttle, and an
owner kept waiting by someone else's attempts signs in through a reset
link, which clears it too.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from ..core import jobs
from ..core.db import Database
from ..core.schema import audit_log, sessions, users
from ..core.tokens import TokenExpired, TokenInvalid, make_token, read_token

SESSION_COOKIE = "session"
SESSION_IDLE = timedelta(hours=8)
SESSION_MAX = timedelta(days=7)
TOUCH_EVERY = timedelta(seconds=60)  # do not write on every request

# Attempts at once, then a wait of 1, 2, 4, 8 and at most 15 minutes before each
# next one; an hour of quiet after the last wait starts afresh.
ACCOUNT_THROTTLE = jobs.Backoff(free=5, first=timedelta(minutes=1),
                                longest=timedelta(minutes=15), forget=timedelta(hours=1))
ADDRESS_THROTTLE = jobs.Backoff(free=20, first=timedelta(minutes=1),
                                longest=timedelta(minutes=15), forget=timedelta(hours=1))

RESET_PURPOSE = "password-reset"
RESET_MAX_AGE = 3600
MIN_PASSWORD_LENGTH = 12
ROLES = ("staff", "admin")


@dataclass(frozen=True)
class User:
    id: int
    org: str
    email: str
    role: str
    password_hash: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @classmethod
    def from_row(cls, row: Row[Any]) -> User:
        return cls(row.id, row.org, row.email, row.role, row.password_hash)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()




def password_problem(password: str) -> str | None:
    """A reason the password is not acceptable, or None (German msgid)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "Das Passwort muss mindestens 12 Zeichen lang sein."
    if len(password) > 200:
        return "Das Passwort darf höchstens 200 Zeichen lang sein."
    return None


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def hash_password(password: str) -> str:
    return PasswordHasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return PasswordHasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# -- accounts ------------------------------------------------------------------------


async def create_user(db: Database, org: str, email: str, password: str, role: str = "staff",
                      *, now: datetime) -> int:
    """Insert an account; raises ValueError when the e-mail is taken."""
    email = normalise_email(email)
    if await db.scalar(sa.select(users.c.id).where(users.c.email == email)):
        raise ValueError(f"an account for {email} exists already")
    password_hash = await asyncio.to_thread(hash_password, password)
    async with db.transaction() as conn:
        return int((await conn.execute(users.insert().values(
            org=org, email=email, role=role, password_hash=password_hash, created_at=now)
            .returning(users.c.id))).scalar_one())


async def user_by_email(db: Database, email: str) -> User | None:
    row = await db.one(sa.select(users).where(users.c.email == normalise_email(email),
                                              users.c.active))
    return User.from_row(row) if row else None


async def user_by_id(db: Database, user_id: int) -> User | None:
    row = await db.one(sa.select(users).where(users.c.id == user_id, users.c.active))
    return User.from_row(row) if row else None


async def set_password(db: Database, user: User, password: str) -> None:
    """New hash; all sessions of the account end, and its login throttle is lifted."""
    new_hash = await asyncio.to_thread(hash_password, password)
    async with db.transaction() as conn:
        await conn.execute(users.update().where(users.c.id == user.id)
                           .values(password_hash=new_hash))
        await conn.execute(sessions.delete().where(sessions.c.user_id == user.id))
        await jobs.clear(conn, _account_key(user.email))


# -- login ----------------------------------------------------------------------------

_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    # Same algorithm and cost as real hashes: a verify against it takes as long.
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password(secrets.token_hex(16)))
    return _DUMMY_HASH[0]


def _account_key(email: str) -> str:
    return f"login-acct:{_sha(normalise_email(email))}"


def _address_key(address: str) -> str:
    return f"login-addr:{address}"


@dataclass(frozen=True)
class LoginResult:
    user: User | None = None
    throttled_until: datetime | None = None  # wait until then, or reset the password


async def attempt_login(db: Database, email: str, password: str, address: str,
                        now: datetime) -> LoginResult:
    """Let the attempt through the throttles of the address and the account (one
    transaction: refused by either, it counts for neither), then check the
    password; unknown accounts cost the same argon2 verify."""
    email = normalise_email(email)
    try:
        async with db.transaction() as conn:  # always address, then account: no deadlock
            await jobs.admit(conn, _address_key(address), ADDRESS_THROTTLE, now)
            await jobs.admit(conn, _account_key(email), ACCOUNT_THROTTLE, now)
    except jobs.Throttled as refused:
        return LoginResult(throttled_until=refused.until)
    user = await user_by_email(db, email) if email.isprintable() else None
    # argon2 takes ~0.1 s of CPU: off the event loop, so other requests go on.
    ok = await asyncio.to_thread(
        verify_password, user.password_hash if user else _dummy_hash(), password)
    if not (ok and user is not None):
        return LoginResult()
    async with db.transaction() as conn:
        await conn.execute(users.update().where(users.c.id == user.id)
                           .values(last_login_at=now))
        await jobs.clear(conn, _account_key(email))
        # A sign-in is no failure: office colleagues behind one address never wait.
        await jobs.refund(conn, _address_key(address))
    return LoginResult(user=user)


async def change_password(db: Database, user: User, current: str, new: str, address: str,
                          now: datetime) -> LoginResult:
    """A signed-in user's new password, given the current one. Guessing the current
    password from a session left open counts against the same throttles as signing
    in. On success every session of the account ends (``set_password``); the
    caller opens a fresh one for the person at the keyboard."""
    try:
        async with db.transaction() as conn:
            await jobs.admit(conn, _address_key(address), ADDRESS_THROTTLE, now)
            await jobs.admit(conn, _account_key(user.email), ACCOUNT_THROTTLE, now)
    except jobs.Throttled as refused:
        return LoginResult(throttled_until=refused.until)
    fresh = await user_by_id(db, user.id)
    if fresh is None or not await asyncio.to_thread(
            verify_password, fresh.password_hash, current[:200]):
        return LoginResult()
    await set_password(db, fresh, new)
    async with db.transaction() as conn:
        await jobs.refund(conn, _address_key(address))
    return LoginResult(user=fresh)


# -- sessions ---------------------------------------------------------------------------


async def create_session(db: Database, user_id: int, now: datetime) -> str:
    """A fresh random id for every login (no session fixation); returns the cookie value."""
    sid = secrets.token_urlsafe(32)
    async with db.transaction() as conn:
        await conn.execute(sessions.insert().values(id_hash=_sha(sid), user_id=user_id,
                                                    created_at=now, last_seen_at=now))
        await conn.execute(sessions.delete().where(sa.or_(
            sessions.c.last_seen_at < now - SESSION_IDLE,
            sessions.c.created_at < now - SESSION_MAX)))
    return sid


@dataclass(frozen=True)
class SessionCheck:
    user: User | None
    expired: bool = False  # a cookie was sent but its session is gone or too old


async def check_session(db: Database, sid: str | None, now: datetime) -> SessionCheck:
    if not sid or len(sid) > 200:
        return SessionCheck(None, expired=bool(sid))
    row = await db.one(sa.select(sessions).where(sessions.c.id_hash == _sha(sid)))
    if row is None:
        return SessionCheck(None, expired=True)
    if row.last_seen_at < now - SESSION_IDLE or row.created_at < now - SESSION_MAX:
        await end_session(db, sid)
        return SessionCheck(None, expired=True)
    user = await user_by_id(db, row.user_id)
    if user is None:
        return SessionCheck(None, expired=True)
    if row.last_seen_at < now - TOUCH_EVERY:
        async with db.transaction() as conn:
            await conn.execute(sessions.update().where(sessions.c.id_hash == _sha(sid))
                               .values(last_seen_at=now))
    return SessionCheck(user)


async def end_session(db: Database, sid: str) -> None:
    async with db.transaction() as conn:
        await conn.execute(sessions.delete().where(sessions.c.id_hash == _sha(sid)))


# -- password reset -----------------------------------------------------------------------


def fingerprint(password_hash: str) -> str:
    # Binding the token to the current hash makes it single-use: after the
    # reset the hash changes and the old link no longer matches.
    return _sha("reset:" + password_hash)[:24]


def reset_token(secret: str, user: User) -> str:
    return make_token(secret, RESET_PURPOSE, {"u": user.id, "f": fingerprint(user.password_hash)})


async def user_for_reset(db: Database, secret: str, token: str) -> User | None:
    """The account a valid, unused, unexpired reset link belongs to, or None."""
    try:
        data = read_token(secret, RESET_PURPOSE, token, max_age=RESET_MAX_AGE)
    except (TokenExpired, TokenInvalid):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = await user_by_id(db, data["u"]) if 0 < data["u"] < 2**31 else None
    if user is None or data.get("f") != fingerprint(user.password_hash):
        return None
    return user


async def audit(conn: AsyncConnection, user: User | None, action: str, now: datetime,
                detail: str = "", lead_id: int | None = None, org: str | None = None) -> None:
    """One audit-log line inside the caller's transaction."""
    await conn.execute(audit_log.insert().values(
        at=now, user_id=user.id if user else None, actor=user.email if user else "system",
        org=org if org is not None else (user.org if user else None), lead_id=lead_id,
        action=action, detail=detail))
