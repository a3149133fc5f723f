"""The one ASGI layer in front of the routes.

Five concerns meet every request at the edge: the body size limit, the
language prefix, entry visits from campaign channels, the CSRF cookie and the
security headers. Their rules stay in their own modules (security, i18n,
places); this layer only calls them in order. One layer instead of five means
one frame and one ``send`` wrapper per request, which a lead POST under load
notices (see bench/load.py).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import RedirectResponse

from . import i18n
from .places import count_channel_visit
from .security import (
    BodyTooLarge,
    csrf_set_cookie,
    declared_too_large,
    read_csrf_cookie,
    security_headers,
    send_413,
    with_security_headers,
)

VARY_LANGUAGE = (b"vary", b"Accept-Language")


class Edge:
    """Checks and marks each HTTP request, and completes each response's headers."""

    def __init__(self, app: Any, *, https: bool, max_bytes: int) -> None:
        self.app, self.https, self.max_bytes = app, https, max_bytes
        self.fixed, self.own = security_headers(https)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fixed, own = self.fixed, self.own
        state = scope.setdefault("state", {})
        vary = False

        async def send_out(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if vary:  # an unprefixed page may carry a language hint
                    headers.append(VARY_LANGUAGE)
                if state.get("csrf_issue"):
                    headers.append(csrf_set_cookie(state["csrf_cookie"], self.https))
                message = {**message, "headers": with_security_headers(headers, fixed, own)}
            await send(message)

        if declared_too_large(scope, self.max_bytes):
            await send_413(send_out)
            return

        lang, path = i18n.split_language(scope["path"])
        if lang != i18n.DEFAULT_LANGUAGE:
            if i18n.german_only(path):
                query = scope.get("query_string", b"").decode("latin-1")
                await RedirectResponse(path + (f"?{query}" if query else ""), 308)(
                    scope, receive, send_out)
                return
            scope = {**scope, "path": path, "raw_path": path.encode()}
        else:
            vary = not i18n.german_only(path)
        state["lang"] = lang
        scope["campaign_path"] = path

        if scope.get("method") == "GET" and b"utm_" in scope.get("query_string", b""):
            await count_channel_visit(scope)

        cookie = read_csrf_cookie(scope)
        state["csrf_cookie"] = cookie if cookie and len(cookie) >= 32 else None
        state["csrf_issue"] = False

        received = 0
        limit = self.max_bytes

        async def receive_limited() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        token = i18n.current_language.set(lang)
        try:  # BodyTooLarge from receive_limited becomes a 413 page (app.py)
            await self.app(scope, receive_limited, send_out)
        finally:
            i18n.current_language.reset(token)
