"""Error pages in the page's language, styled like the site; never a traceback."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ..core import i18n
from ..core.i18n import gettext as _
from .language import page_path

log = logging.getLogger("campaign")
SHOWN_PATH = 80  # characters of a requested path a 404 page repeats


def shorten(text: str, limit: int = SHOWN_PATH) -> str:
    """At most ``limit`` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _titles() -> dict[int, str]:
    return {
        400: _("Diese Anfrage konnte nicht verarbeitet werden"),
        403: _("Kein Zugriff"),
        404: _("Diese Seite gibt es nicht"),
        405: _("Diese Aktion ist hier nicht möglich"),
        410: _("Dieser Link ist nicht mehr gültig"),
        413: _("Die Anfrage ist zu groß"),
        429: _("Zu viele Anfragen"),
        500: _("Da ist etwas schiefgelaufen"),
        503: _("Gerade nicht erreichbar"),
    }


def render_error(request: Request, status: int, detail: str | None = None,
                 headers: Any = None) -> Response:
    titles = _titles()
    title = titles.get(status, titles[400] if status < 500 else titles[500])
    # Starlette fills detail with the English reason phrase by default; show
    # our own text then, and only pass through texts we wrote.
    try:
        default_phrase = HTTPStatus(status).phrase
    except ValueError:
        default_phrase = ""
    message = detail if detail and detail != default_phrase else None
    if status == 503 and message is None:
        message = _("Wir warten kurz auf unsere Datenbank. Bitte versucht es in einer Minute "
                    "noch einmal; es ist nichts verloren gegangen.")
    requested = None
    if status == 404:  # shown once, shortened (autoescaped by the template)
        requested = shorten(i18n.with_language(page_path(request),
                                               i18n.current_language.get()))
    try:
        return request.app.state.render(  # type: ignore[no-any-return]
            request, "errors/error.html", {"status": status, "title": title, "message": message,
                                           "requested": requested},
            status_code=status, headers=headers)
    except Exception:  # the error page itself must never fail
        log.exception("error page failed")
        return PlainTextResponse(title, status_code=status, headers=headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return render_error(request, exc.status_code, exc.detail, exc.headers)


async def too_large(request: Request, exc: Exception) -> Response:
    """A body that outgrew the limit while it was read (no Content-Length)."""
    return render_error(request, 413)


async def client_gone(request: Request, exc: Exception) -> Response:
    """The client went away while its body was read (a closed tab, a lost network):
    nothing of ours failed and nobody is left to read an answer."""
    log.debug("client went away during %s %s", request.method, request.url.path)
    return Response(status_code=400)


async def unavailable(request: Request, exc: Exception) -> Response:
    """The database is restarting or unreachable: a 503 the visitor understands."""
    log.warning("database unavailable on %s: %s", request.url.path, exc)
    return render_error(request, 503, headers={"Retry-After": "30"})


async def server_error(request: Request, exc: Exception) -> Response:
    from ..core.db import unavailable as is_unavailable

    if is_unavailable(exc):
        return await unavailable(request, exc)
    log.exception("unhandled error on %s", request.url.path)
    return render_error(request, 500)
