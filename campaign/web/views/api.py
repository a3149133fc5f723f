"""``/api/v1``: an organisation's leads as JSON, for its own systems.

Only a Bearer token counts (``portal.api``): a portal session cookie alone
gets 401, no answer sets a cookie, and as every endpoint is a read-only GET
there is nothing for CSRF to protect. Errors are JSON, never a page.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...core.clock import LOCAL_TZ
from ...leads.records import MAX_LEAD_ID
from ...portal import api
from ..api_spec import document
from .base import services

NO_STORE = {"Cache-Control": "no-store"}
_BEARER = re.compile(r"Bearer +([!-~]+)", re.IGNORECASE)


def _error(status: int, error: str, message: str,
           headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": error, "message": message}, status_code=status,
                        headers={**NO_STORE, **(headers or {})})


async def _org(request: Request) -> str | Response:
    """The token's organisation, or the 401 answer."""
    header = request.headers.get("authorization", "")
    match = _BEARER.fullmatch(header.strip())
    svc = services(request)
    org = await api.authenticate(svc.db, match[1], svc.clock.now()) if match else None
    if org is None or org not in svc.content.region.organisations:
        challenge = 'Bearer realm="api"' + (', error="invalid_token"' if match else "")
        return _error(401, "unauthorized", "A valid API token is needed "
                      "(Authorization: Bearer <token>).", {"WWW-Authenticate": challenge})
    return org


def _since(text: str) -> datetime:
    """An ISO 8601 time (RFC 3339, or a day or time without offset: Berlin)."""
    value = datetime.fromisoformat(text.upper() if len(text) <= 40 else "-")
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # an offset past the ends of the calendar: nothing is earlier
        return datetime.min.replace(tzinfo=UTC) if value.year < 5000 else \
            datetime.max.replace(tzinfo=UTC)


def _unknown(request: Request, known: tuple[str, ...]) -> Response | None:
    """A 400 for a query parameter the endpoint does not have (a typo must not pass
    silently as "no filter")."""
    unknown = sorted(set(request.query_params) - set(known))
    if not unknown:
        return None
    return _error(400, "bad_parameter", "Unknown query parameter: " + ", ".join(
        repr(name[:40]) for name in unknown[:5]))


async def leads(request: Request) -> Response:
    org = await _org(request)
    if isinstance(org, Response):
        return org
    params = request.query_params
    if (refused := _unknown(request, ("limit", "cursor", "since"))) is not None:
        return refused
    limit_text = params.get("limit", str(api.DEFAULT_LIMIT))
    cursor = params.get("cursor", "")
    since_text = params.get("since", "")
    if not re.fullmatch(r"[0-9]{1,3}", limit_text) or not 1 <= int(limit_text) <= api.MAX_LIMIT:
        return _error(400, "bad_limit", f"limit must be a whole number from 1 to {api.MAX_LIMIT}.")
    if "cursor" in params and not re.fullmatch(r"[0-9]{1,10}", cursor):
        return _error(400, "bad_cursor", "cursor must be the next_cursor of a previous page.")
    since = None
    if "since" in params:
        try:
            since = _since(since_text)
        except ValueError:
            return _error(400, "bad_since", "since must be an ISO 8601 time, "
                          "e.g. 2026-07-01T08:00:00+02:00.")
    svc = services(request)
    data, next_id = await api.page(svc.db, org, svc.content, limit=int(limit_text),
                                   after=min(int(cursor or 0), MAX_LEAD_ID), since=since)
    body: dict[str, Any] = {"data": data,
                            "next_cursor": None if next_id is None else str(next_id)}
    return JSONResponse(body, headers=NO_STORE)


async def lead(request: Request) -> Response:
    org = await _org(request)
    if isinstance(org, Response):
        return org
    if (refused := _unknown(request, ())) is not None:
        return refused
    svc = services(request)
    found = await api.one(svc.db, org, svc.content, str(request.path_params["number"]))
    if found is None:
        return _error(404, "not_found", "No lead with this number for your organisation.")
    return JSONResponse(found, headers=NO_STORE)


async def openapi(request: Request) -> Response:
    return JSONResponse(document())
