"""Portal accounts: passwords, server-side sessions, login throttling, password reset.

Sessions live in SQLite (only a hash of the id), so logout and password
changes end them everywhere, and they work across processes. Throttling is
kept in the database too, keyed by client address and by the e-mail typed,
whether or not an account exists for it.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .security import hash_password, verify_password
from .tokens import TokenExpired, TokenInvalid, make_token, read_token

SESSION_COOKIE = "session"
SESSION_IDLE_SECONDS = 8 * 3600
SESSION_MAX_SECONDS = 7 * 24 * 3600
TOUCH_EVERY_SECONDS = 60  # do not write on every request

LOCK_FAILURES = 5          # failed logins per account …
LOCK_SECONDS = 15 * 60     # … within this window lock the account for this long
ADDRESS_FAILURES = 20      # failed logins per client address in the same window

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


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def role_allowed(role: str, org_kind: str) -> bool:
    """Admins see every lead, so only the regional agency may have them."""
    return role == "staff" or (role == "admin" and org_kind == "agency")


def password_problem(password: str) -> str | None:
    """A reason the password is not acceptable, or None (German msgid)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "Das Passwort muss mindestens 12 Zeichen lang sein."
    if len(password) > 200:
        return "Das Passwort darf höchstens 200 Zeichen lang sein."
    return None


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def _user(row: Any) -> User:
    return User(row["id"], row["org"], row["email"], row["role"], row["password_hash"])


# -- accounts --------------------------------------------------------------


async def create_user(db: Any, org: str, email: str, password: str, role: str = "staff") -> int:
    """Insert an account; raises ValueError when the e-mail is taken."""
    email = normalise_email(email)
    if await db.fetchval("SELECT 1 FROM users WHERE email = ?", (email,)):
        raise ValueError(f"an account for {email} exists already")
    password_hash = await asyncio.to_thread(hash_password, password)
    async with db.transaction() as tx:
        return await tx.execute(
            "INSERT INTO users (org, email, role, password_hash, created_at)"
            " VALUES (?, ?, ?, ?, ?)", (org, email, role, password_hash, utcnow()))


async def user_by_email(db: Any, email: str) -> User | None:
    row = await db.fetchone("SELECT * FROM users WHERE email = ? AND active = 1",
                            (normalise_email(email),))
    return _user(row) if row else None


async def user_by_id(db: Any, user_id: int) -> User | None:
    row = await db.fetchone("SELECT * FROM users WHERE id = ? AND active = 1", (user_id,))
    return _user(row) if row else None


async def set_password(db: Any, user_id: int, password: str) -> None:
    """New hash; all sessions of the account end (a reset link works only once)."""
    new_hash = await asyncio.to_thread(hash_password, password)
    async with db.transaction() as tx:
        await tx.execute("UPDATE users SET password_hash = ? WHERE id = ?", (new_hash, user_id))
        await tx.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))


# -- login throttling --------------------------------------------------------

_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    # Same algorithm and cost as real hashes: a verify against it takes as long.
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password(secrets.token_hex(16)))
    return _DUMMY_HASH[0]


@dataclass(frozen=True)
class LoginResult:
    user: User | None = None
    locked_until: float | None = None   # account (or address) temporarily locked
    address_blocked: bool = False


async def _failures(db: Any, key: str, now: float) -> tuple[int, float]:
    row = await db.fetchone(
        "SELECT COUNT(*) AS n, MAX(at_ts) AS last FROM login_failures WHERE key = ? AND at_ts > ?",
        (key, now - LOCK_SECONDS))
    return (row["n"], row["last"] or 0.0) if row else (0, 0.0)


async def attempt_login(db: Any, email: str, password: str, address: str,
                        now: float | None = None) -> LoginResult:
    """Check throttles, then the password; unknown accounts cost the same argon2 verify."""
    now = time.time() if now is None else now
    email = normalise_email(email)
    addr_key, acct_key = f"addr:{address}", f"acct:{_sha(email)}"
    n_addr, last_addr = await _failures(db, addr_key, now)
    if n_addr >= ADDRESS_FAILURES:
        return LoginResult(locked_until=last_addr + LOCK_SECONDS, address_blocked=True)
    n_acct, last_acct = await _failures(db, acct_key, now)
    if n_acct >= LOCK_FAILURES:
        return LoginResult(locked_until=last_acct + LOCK_SECONDS)
    user = await user_by_email(db, email) if email else None
    # argon2 takes ~0.1 s of CPU: off the event loop, so other requests go on.
    ok = await asyncio.to_thread(
        verify_password, user.password_hash if user else _dummy_hash(), password)
    async with db.transaction() as tx:
        if ok and user is not None:
            await tx.execute("DELETE FROM login_failures WHERE key = ?", (acct_key,))
            await tx.execute("UPDATE users SET last_login_at = ? WHERE id = ?",
                             (utcnow(), user.id))
            return LoginResult(user=user)
        await tx.executemany("INSERT INTO login_failures (key, at_ts) VALUES (?, ?)",
                             [(addr_key, now), (acct_key, now)])
        await tx.execute("DELETE FROM login_failures WHERE at_ts < ?", (now - 2 * LOCK_SECONDS,))
    if n_acct + 1 >= LOCK_FAILURES:
        return LoginResult(locked_until=now + LOCK_SECONDS)
    return LoginResult()


# -- sessions ----------------------------------------------------------------


async def create_session(db: Any, user_id: int, now: float | None = None) -> str:
    """A fresh random id for every login (no session fixation); returns the cookie value."""
    now = time.time() if now is None else now
    sid = secrets.token_urlsafe(32)
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO sessions (id_hash, user_id, created_ts, last_seen_ts)"
                         " VALUES (?, ?, ?, ?)", (_sha(sid), user_id, now, now))
        await tx.execute("DELETE FROM sessions WHERE last_seen_ts < ? OR created_ts < ?",
                         (now - SESSION_IDLE_SECONDS, now - SESSION_MAX_SECONDS))
    return sid


@dataclass(frozen=True)
class SessionCheck:
    user: User | None
    expired: bool = False  # a cookie was sent but its session is gone or too old


async def check_session(db: Any, sid: str | None, now: float | None = None) -> SessionCheck:
    if not sid:
        return SessionCheck(None)
    now = time.time() if now is None else now
    row = await db.fetchone("SELECT * FROM sessions WHERE id_hash = ?", (_sha(sid),))
    if row is None:
        return SessionCheck(None, expired=True)
    if (row["last_seen_ts"] < now - SESSION_IDLE_SECONDS
            or row["created_ts"] < now - SESSION_MAX_SECONDS):
        await end_session(db, sid)
        return SessionCheck(None, expired=True)
    user = await user_by_id(db, row["user_id"])
    if user is None:
        return SessionCheck(None, expired=True)
    if row["last_seen_ts"] < now - TOUCH_EVERY_SECONDS:
        async with db.transaction() as tx:
            await tx.execute("UPDATE sessions SET last_seen_ts = ? WHERE id_hash = ?",
                             (now, _sha(sid)))
    return SessionCheck(user)


async def end_session(db: Any, sid: str) -> None:
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM sessions WHERE id_hash = ?", (_sha(sid),))


# -- password reset ----------------------------------------------------------


def _fingerprint(password_hash: str) -> str:
    # Binding the token to the current hash makes it single-use: after the
    # reset the hash changes and the old link no longer matches.
    return _sha("reset:" + password_hash)[:24]


def reset_token(secret: str, user: User) -> str:
    return make_token(secret, RESET_PURPOSE, {"u": user.id, "f": _fingerprint(user.password_hash)})


async def user_for_reset(db: Any, secret: str, token: str) -> User | None:
    """The account a valid, unused, unexpired reset link belongs to, or None."""
    try:
        data = read_token(secret, RESET_PURPOSE, token, max_age=RESET_MAX_AGE)
    except (TokenExpired, TokenInvalid):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = await user_by_id(db, data["u"])
    if user is None or data.get("f") != _fingerprint(user.password_hash):
        return None
    return user


async def audit(tx: Any, user: User | None, action: str, detail: str = "",
                lead_id: int | None = None, org: str | None = None) -> None:
    """One audit-log line inside the caller's transaction."""
    await tx.execute(
        "INSERT INTO audit_log (at, user_id, actor, org, lead_id, action, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (utcnow(), user.id if user else None, user.email if user else "system",
         org if org is not None else (user.org if user else None), lead_id, action, detail))
