"""Helpers of the case-work tests: clerks with a profile, signing in as one of them,
posting the lead page's forms, and the family's self-service page."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from campaign.core.clock import utcnow
from campaign.core.schema import lead_history, leads
from campaign.core.tokens import make_token
from campaign.leads.mails import SELF_SERVICE_PURPOSE
from campaign.portal import accounts, profiles
from campaign.portal.profiles import Profile

from .app import rows_in, run, services
from .portal import add_user, csrf, login


def clerk(client: TestClient, org: str, name: str | None = "Anna Beispiel", *,
          role: str = "staff", email: str | None = None, title: str = "Willkommenslotsin",
          phone: str = "02761 94 12-0") -> str:
    """A portal account of ``org`` with a profile (none when ``name`` is None); its e-mail."""
    email = add_user(client, org, role=role, email=email)
    if name is not None:
        db = services(client).db
        user = run(client, accounts.user_by_email, db, email)
        run(client, profiles.save, db, user, Profile(name, title, phone), utcnow())
    return email


def sign_in(client: TestClient, email: str) -> str:
    """Sign in as ``email`` (ending any other session of this client); a CSRF token."""
    client.cookies.clear()
    assert login(client, email).status_code == 303
    return csrf(client)


def act(client: TestClient, token: str, lead_id: int, action: str, **data: str) -> Any:
    """POST one of the lead page's forms (status, uebernehmen, zuweisen, anruf, notiz)."""
    return client.post(f"/partner/lead/{lead_id}/{action}", data={"csrf_token": token, **data})


def history_of(client: TestClient, lead_id: int) -> list[Any]:
    """The lead's history rows, oldest first."""
    return sorted(rows_in(client, lead_history, lead_history.c.lead_id == lead_id),
                  key=lambda r: r.id)


def self_service_path(client: TestClient, lead_id: int, lang: str = "") -> str:
    [row] = rows_in(client, leads, leads.c.id == lead_id)
    token = make_token(services(client).settings.secret_key, SELF_SERVICE_PURPOSE,
                       row.public_id)
    return (f"/{lang}" if lang else "") + f"/meine-daten/{token}"
