"""CSRF protection by double submit: a random cookie, and an HMAC of it in each form.

The cookie is issued when a page with a form is rendered (``csrf_token``
marks the request, the renderer sets the cookie on the response); a POST is
accepted only when its hidden field matches the cookie it came with.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from .cookies import cookie_name

CSRF_COOKIE = "csrftoken"
CSRF_FIELD = "csrf_token"


def _sign(secret: str, cookie: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{cookie}".encode(), hashlib.sha256).hexdigest()


def _cookie(request: Request) -> str | None:
    value = request.cookies.get(cookie_name(request, CSRF_COOKIE))
    return value if value and 32 <= len(value) <= 128 else None


def csrf_token(request: Request) -> str:
    """The hidden-field value for this browser; issues the cookie if needed."""
    cookie = getattr(request.state, "csrf_new", None) or _cookie(request)
    if cookie is None:
        cookie = request.state.csrf_new = secrets.token_urlsafe(32)
    return _sign(request.app.state.settings.secret_key, cookie)


def csrf_valid(request: Request, submitted: object) -> bool:
    cookie = _cookie(request)
    if not cookie or not isinstance(submitted, str) or not submitted:
        return False
    expected = _sign(request.app.state.settings.secret_key, cookie)
    # bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500)
    return hmac.compare_digest(expected.encode(), submitted.encode("utf-8", "surrogatepass"))


def issue_cookie(request: Request, response: Response) -> None:
    """Set the cookie a rendered form was signed for, if it is new (strictly necessary);
    ``__Host-csrftoken`` on https (see ``web.cookies``)."""
    cookie = getattr(request.state, "csrf_new", None)
    if cookie:
        response.set_cookie(cookie_name(request, CSRF_COOKIE), cookie, path="/", httponly=True,
                            samesite="lax", secure=request.app.state.settings.https)
