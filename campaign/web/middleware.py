"""ASGI middleware, one concern each: security headers, the body size limit, the language.

None of them touches the database. ``SecurityHeaders`` and ``Language`` sit
outside Starlette's own error handling (see ``app.CampaignApp``), so even a
500 page carries the headers and is in the page's language.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from starlette.responses import PlainTextResponse, RedirectResponse

from ..core import i18n

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


class SecurityHeaders:
    """The same security headers on every response; a view's own CSP (stricter) is kept."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.fixed = [(b"x-content-type-options", b"nosniff"),
                      (b"referrer-policy", b"strict-origin-when-cross-origin"),
                      (b"x-frame-options", b"DENY"),
                      (b"permissions-policy", b"geolocation=(), camera=(), microphone=()"),
                      (b"cross-origin-opener-policy", b"same-origin")]
        if https:
            self.fixed.append((b"strict-transport-security",
                               b"max-age=31536000; includeSubDomains"))
        self.names = {name for name, _ in self.fixed}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ())
                           if k.lower() not in self.names]
                if not any(k.lower() == b"content-security-policy" for k, _ in headers):
                    headers.append((b"content-security-policy", CSP.encode()))
                message = {**message, "headers": headers + self.fixed}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(Exception):
    """Raised while reading a body (sent without a length) that passes the limit."""


class BodyLimit:
    """413 for a body over ``max_bytes`` (or the larger limit of a path named in
    ``larger``, e.g. a photo upload): at once for a declared length, while
    reading for a chunked one (``BodyTooLarge`` becomes the 413 page)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int,
                 larger: Mapping[str, int] | None = None) -> None:
        self.app, self.default_max, self.larger = app, max_bytes, dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.default_max)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    response = PlainTextResponse(
                        "Die Anfrage ist zu groß. / Request too large.", status_code=413)
                    await response(scope, receive, send)
                    return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        await self.app(scope, limited, send)


class Language:
    """``/nl/…`` and ``/en/…`` are the same pages in Dutch and English: strip the
    prefix, set the language for the request, redirect German-only pages to
    their German address, and mark unprefixed pages as varying by language."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lang, path = i18n.split_language(scope["path"])
        vary = False
        if lang != i18n.DEFAULT_LANGUAGE:
            if i18n.german_only(path):
                query = scope.get("query_string", b"").decode("latin-1")
                await RedirectResponse(path + (f"?{query}" if query else ""), 308)(
                    scope, receive, send)
                return
            scope = {**scope, "path": path, "raw_path": path.encode()}
        else:
            vary = not i18n.german_only(path)  # an unprefixed page may carry a hint
        scope["campaign_path"] = path

        async def send_vary(message: Message) -> None:
            if vary and message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()),
                                                  (b"vary", b"Accept-Language")]}
            await send(message)

        with i18n.language(lang):
            await self.app(scope, receive, send_vary)
