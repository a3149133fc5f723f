"""Portal accounts and sign-in for the tests."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from campaign.core.clock import utcnow
from campaign.portal import accounts

from .app import run, services
from .forms import csrf_of

PASSWORD = "richtig-langes-passwort"


def add_user(client: TestClient, org: str, role: str = "staff", email: str | None = None,
             password: str = PASSWORD) -> str:
    email = email or f"{role}@{org}.example.org"
    run(client, accounts.create_user, services(client).db, org, email, password, role,
        now=utcnow())
    return email


def csrf(client: TestClient) -> str:
    return csrf_of(client.get("/partner/login").text)


def login(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/partner/login", data={
        "csrf_token": csrf(client), "email": email, "password": password})


AGENCY = "suedwestfalen-agentur"


def health_details(client: TestClient) -> Any:
    """``/healthz`` with its details (outbox backlog, dead letters), which only the
    agency's admin (or a request from loopback) sees: signs one in the first time."""
    if not any(c.name.endswith("session") for c in client.cookies.jar):
        login(client, add_user(client, AGENCY, role="admin", email=f"health@{AGENCY}.example"))
    return client.get("/healthz").json()
