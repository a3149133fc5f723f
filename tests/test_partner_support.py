"""Helpers for the portal tests: leads and accounts written with plain SQL.

The portal reads the leads schema of 0001_init.sql; these helpers fill it
directly so the portal tests do not depend on the lead form.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable
from typing import Any

from campaign import auth

PASSWORD = "richtig-langes-passwort"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def call(client: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a coroutine function on the app's event loop."""
    return client.portal.call(lambda: fn(*args, **kwargs))


def sql(client: Any, app: Any, query: str, params: Iterable[Any] = ()) -> int:
    async def go() -> int:
        async with app.state.db.transaction() as tx:
            return await tx.execute(query, tuple(params))
    return client.portal.call(go)


def rows(client: Any, app: Any, query: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        return [dict(r) for r in await app.state.db.fetchall(query, tuple(params))]
    return client.portal.call(go)


def add_lead(client: Any, app: Any, orgs: Iterable[str] = (), *, status: str = "confirmed",
             name: str = "Familie Muster", email: str = "familie@example.org",
             municipalities: Iterable[str] = ("olpe",), interests: Iterable[str] = ("wohnen",),
             created_at: str = "2026-10-05T09:00:00+00:00", follow_up: str = "neu",
             acknowledged: bool = False, **fields: Any) -> int:
    """Insert a lead and one lead_recipients row per organisation; returns the lead id."""
    values = {
        "public_id": secrets.token_urlsafe(12), "status": status, "created_at": created_at,
        "confirmed_at": created_at if status != "pending" else None, "name": name,
        "email": email, "phone": "0271 12345", "message": None, "adults": 2, "children": 2,
        "child_ages": json.dumps(["3-5", "6-9"]), "interests": json.dumps(list(interests)),
        "timeframe": "within_year", "municipalities": json.dumps(list(municipalities)),
        "consents": json.dumps(["municipalities", "tourism", "skilled_workers", "agency"]),
        "consent_version": "2026-1", "utm_source": "instagram", "utm_medium": "social",
        "utm_campaign": "sommer", "place_code": None, "quiz": "familie",
        "quiz_outcome": json.dumps([{"slug": "olpe", "score": 7, "reasons": ["Biggesee"]}]),
    }
    values.update(fields)
    cols = ", ".join(values)
    marks = ", ".join("?" * len(values))
    lead_id = sql(client, app, f"INSERT INTO leads ({cols}) VALUES ({marks})", values.values())
    for org in orgs:
        sql(client, app, "INSERT INTO lead_recipients (lead_id, org, reason, status, routed_at,"
            " acknowledged_at) VALUES (?, ?, 'municipality', ?, ?, ?)",
            (lead_id, org, follow_up, created_at, created_at if acknowledged else None))
    return lead_id


def add_user(client: Any, app: Any, org: str, role: str = "staff",
             email: str | None = None) -> str:
    email = email or f"{role}@{org}.example.org"
    call(client, auth.create_user, app.state.db, org, email, PASSWORD, role)
    return email


def csrf(client: Any) -> str:
    page = client.get("/partner/login")
    match = _CSRF.search(page.text)
    assert match, "login page has a CSRF field"
    return match.group(1)


def login(client: Any, email: str, password: str = PASSWORD) -> Any:
    response = client.post("/partner/login", data={
        "csrf_token": csrf(client), "email": email, "password": password})
    return response
