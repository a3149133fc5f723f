"""Security plumbing: headers, body size limit, CSRF, rate limits, passwords."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
CSP_BYTES = CSP.encode()
CSRF_COOKIE = "csrftoken"
CSRF_FIELD = "csrf_token"


def security_headers(https: bool) -> tuple[list[tuple[bytes, bytes]], frozenset[bytes]]:
    """The fixed headers every response gets (built once), and their names."""
    fixed = [(b"x-content-type-options", b"nosniff"),
             (b"referrer-policy", b"strict-origin-when-cross-origin"),
             (b"x-frame-options", b"DENY"),
             (b"permissions-policy", b"geolocation=(), camera=(), microphone=()"),
             (b"cross-origin-opener-policy", b"same-origin")]
    if https:
        fixed.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return fixed, frozenset(name for name, _ in fixed)


def with_security_headers(headers: list[tuple[bytes, bytes]], fixed: list[tuple[bytes, bytes]],
                          own: frozenset[bytes]) -> list[tuple[bytes, bytes]]:
    """Ours replace a view's; a view's own CSP (stricter) is kept."""
    kept = [(k, v) for k, v in headers if k.lower() not in own]
    if not any(k.lower() == b"content-security-policy" for k, _ in kept):
        kept.append((b"content-security-policy", CSP_BYTES))
    return kept + fixed


class BodyTooLarge(Exception):
    """Raised by the edge's receive once a streamed body passes the limit."""


def declared_too_large(scope: Scope, max_bytes: int) -> bool:
    """A Content-Length above the limit: answered with 413 before any reading."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value) > max_bytes
            except ValueError:
                return False
    return False


async def send_413(send: Send) -> None:
    body = "Die Anfrage ist zu groß. / Request too large.".encode()
    await send({
        "type": "http.response.start",
        "status": 413,
        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})


# -- CSRF (double submit: random cookie + HMAC of it in the form) -------------


def csrf_set_cookie(cookie: str, https: bool) -> tuple[bytes, bytes]:
    """The Set-Cookie header of a newly issued CSRF cookie (strictly necessary)."""
    attrs = "Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if https else "")
    return (b"set-cookie", f"{CSRF_COOKIE}={cookie}; {attrs}".encode("latin-1"))


def read_csrf_cookie(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == CSRF_COOKIE:
                    return v
    return None


def _csrf_sign(secret: str, cookie: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{cookie}".encode(), hashlib.sha256).hexdigest()


# Stands in for the token while a form page is rendered for the page memo
# (pagecache.form_page); as long as a real token, and random, so it occurs in
# no content.
CSRF_PLACEHOLDER = secrets.token_hex(32)


def csrf_token(request: Request) -> str:
    """The hidden-field value for this browser; issues the cookie if needed."""
    state = request.scope.setdefault("state", {})
    if state.get("csrf_placeholder"):
        return CSRF_PLACEHOLDER
    if not state.get("csrf_cookie"):
        state["csrf_cookie"] = secrets.token_urlsafe(32)
        state["csrf_issue"] = True
    secret = request.app.state.settings.secret_key
    return _csrf_sign(secret, state["csrf_cookie"])


def csrf_valid(request: Request, submitted: object) -> bool:
    # the cookie as the edge layer read it (campaign/edge.py), the value forms were signed for
    cookie = request.scope.get("state", {}).get("csrf_cookie")
    if not cookie or not isinstance(submitted, str) or not submitted:
        return False
    expected = _csrf_sign(request.app.state.settings.secret_key, cookie)
    # bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500)
    return hmac.compare_digest(expected.encode(), submitted.encode("utf-8", "surrogatepass"))


# -- rate limiting -------------------------------------------------------------


class RateLimiter:
    """Sliding-window counter per key, in memory (one process; good enough for spam)."""

    def __init__(self, limit: int, window_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window_seconds, clock
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str) -> bool:
        """Record one attempt; False when the key is over its limit."""
        now = self.clock()
        q = self._hits.setdefault(key, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        if len(q) >= self.limit:
            return False
        q.append(now)
        if len(self._hits) > 50_000:  # bound memory under a flood of distinct keys
            self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - self.window}
        return True

    def count(self, key: str) -> int:
        now = self.clock()
        return sum(1 for t in self._hits.get(key, ()) if t > now - self.window)

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# -- passwords ---------------------------------------------------------------


def hash_password(password: str) -> str:
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return PasswordHasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
