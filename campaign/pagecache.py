"""Rendered-page memo for pages that depend only on content, language and URL.

Landing, district, showcase and the legal pages are the same for every
visitor: content is immutable after start-up, so their HTML is rendered once
per (language, path, language hint) and then served from memory. Rendering a
showcase costs about a millisecond; serving it from here a few microseconds.

A page is kept only when it is safe to share between visitors: status 200,
no cookie set, no CSRF field in the HTML, and no query string (links with
``utm_*`` parameters render fresh, so the memo stays bounded by the number
of pages).

``form_page`` keeps pages whose only per-visitor part is the CSRF field (a
quiz question): rendered once with a placeholder of the token's length, each
visitor then gets the kept bytes with their own token put in.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from . import i18n
from .security import CSRF_PLACEHOLDER, csrf_token

View = Callable[[Request], Awaitable[Response]]
MAX_PAGES = 4096
_CSRF_MARK = b'name="csrf_token"'
_PLACEHOLDER = CSRF_PLACEHOLDER.encode()


def _memo(request: Request) -> dict[tuple[Any, ...], tuple[int, list[tuple[bytes, bytes]], bytes]]:
    memo = getattr(request.app.state, "page_memo", None)
    if memo is None:
        memo = request.app.state.page_memo = {}
    return memo


class _MemoResponse(Response):
    """A kept page: status, raw headers and body as they were, no header building."""

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status_code, self.raw_headers, self.body = status, list(headers), body
        self.background = None


def _key(request: Request) -> tuple[Any, ...]:
    if not any(name == b"accept-language" for name, _ in request.scope["headers"]):
        hint = None  # no language wanted, no hint (the common case, and cheap)
    else:
        hint = _hint(request)
    return (i18n.current_language.get(), request.scope.get("campaign_path", request.url.path),
            hint)


def _hint(request: Request) -> str | None:
    try:  # the only request headers the shared layout reads (language hint)
        from .i18n_prefs import suggestion

        return suggestion(request)
    except ImportError:
        return None


def shared_page(view: View) -> View:
    """Decorator for views whose page is identical for every visitor."""

    @functools.wraps(view)
    async def wrapper(request: Request) -> Response:
        if request.scope.get("query_string") or request.method not in ("GET", "HEAD"):
            return await view(request)
        memo = _memo(request)
        key = _key(request)
        hit = memo.get(key)
        if hit is not None:
            return _MemoResponse(*hit)
        response = await view(request)
        body = getattr(response, "body", None)
        if (response.status_code == 200 and isinstance(body, bytes)
                and b"set-cookie" not in (k for k, _ in response.raw_headers)
                and _CSRF_MARK not in body and not request.scope["state"].get("csrf_issue")
                and len(memo) < MAX_PAGES):
            memo[key] = (response.status_code, list(response.raw_headers), body)
        return response

    return wrapper


def form_page(request: Request, key: tuple[Any, ...], render: Callable[[], Response]
              ) -> Response:
    """The page ``render`` makes, kept per (language, path, language hint, ``key``).

    For GET pages that are the same for every visitor but for the CSRF token;
    ``key`` holds whatever else the page depends on (it must come from content
    or from validated state, so the memo stays bounded)."""
    token = csrf_token(request).encode()  # the visitor's (issues the cookie if needed)
    if request.scope.get("query_string") or request.method not in ("GET", "HEAD"):
        return render()
    memo = getattr(request.app.state, "form_page_memo", None)
    if memo is None:
        memo = request.app.state.form_page_memo = {}
    full_key = (*_key(request), *key)
    hit = memo.get(full_key)
    if hit is None:
        state = request.scope.setdefault("state", {})
        state["csrf_placeholder"] = True
        try:
            response = render()
        finally:
            del state["csrf_placeholder"]
        body = getattr(response, "body", None)
        if not isinstance(body, bytes):
            raise TypeError("form_page needs a rendered body")
        hit = (response.status_code, list(response.raw_headers), body)
        if (response.status_code == 200 and body.count(_PLACEHOLDER) == 1
                and b"set-cookie" not in (k for k, _ in response.raw_headers)
                and len(memo) < MAX_PAGES):
            memo[full_key] = hit
    status, headers, body = hit
    return _MemoResponse(status, headers, body.replace(_PLACEHOLDER, token))
