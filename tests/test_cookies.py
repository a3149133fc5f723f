"""With an https base URL the CSRF and session cookies are ``__Host-`` cookies (Secure,
Path=/, no Domain: no sibling host can plant or overwrite them); over plain http
(tests, a laptop) their names stay plain. Sign-in works end to end with either."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from campaign.core.settings import Settings
from campaign.web.app import create_app

from .support.app import all_leads, shipped_content
from .support.forms import csrf_of, hidden_fields, valid_data
from .support.portal import PASSWORD, add_user


def _set_cookies(response) -> dict[str, str]:
    """name → the whole Set-Cookie header (deletions of old cookies left out)."""
    out = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if not rest.startswith('""'):
            out[name] = header
    return out


def _strict(header: str, secure: bool) -> None:
    attrs = [a.strip().lower() for a in header.split(";")[1:]]
    assert "path=/" in attrs and "httponly" in attrs and "samesite=lax" in attrs, header
    assert not any(a.startswith("domain") for a in attrs), header
    assert ("secure" in attrs) is secure, header


@pytest.fixture
def https_client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings.with_(base_url="https://kampagne.example.org"),
                     content=shipped_content())
    with TestClient(app, follow_redirects=False, base_url="https://testserver") as c:
        yield c


def _sign_in(client: TestClient, email: str):
    page = client.get("/partner/login")
    return page, client.post("/partner/login", data={
        "csrf_token": csrf_of(page.text), "email": email, "password": PASSWORD})


def test_over_https_sign_in_works_with_host_prefixed_cookies(https_client):
    client = https_client
    email = add_user(client, "olpe")
    page, r = _sign_in(client, email)
    [csrf] = _set_cookies(page)
    assert csrf == "__Host-csrftoken"
    _strict(_set_cookies(page)[csrf], secure=True)
    assert r.status_code == 303 and r.headers["location"] == "/partner/"
    assert list(_set_cookies(r)) == ["__Host-session"]
    _strict(_set_cookies(r)["__Host-session"], secure=True)
    assert client.get("/partner/").status_code == 200
    # a portal form (CSRF from the prefixed cookie) and the sign-out
    out = client.post("/partner/logout", data={"csrf_token": csrf_of(client.get("/partner/")
                                                                       .text)})
    assert out.status_code == 303 and "out=1" in out.headers["location"]
    assert any(h.startswith("__Host-session=") for h in out.headers.get_list("set-cookie"))
    assert client.get("/partner/").status_code == 303


def test_over_https_the_family_forms_use_the_prefixed_csrf_cookie(https_client):
    page = https_client.get("/interesse")
    assert "__Host-csrftoken" in _set_cookies(page)
    r = https_client.post("/interesse", data={**hidden_fields(page.text), **valid_data()})
    assert r.status_code == 303
    assert len(all_leads(https_client)) == 1


def test_over_https_plain_named_cookies_count_for_nothing(https_client, settings):
    """A cookie without the prefix may come from a sibling host (Domain=.example.org)."""
    client = https_client
    email = add_user(client, "olpe")
    page, signed = _sign_in(client, email)
    csrf_value = client.cookies["__Host-csrftoken"]
    sid = client.cookies["__Host-session"]
    client.cookies.clear()
    client.cookies.set("csrftoken", csrf_value)
    client.cookies.set("session", sid)
    assert client.get("/partner/").status_code == 303  # not signed in
    r = client.post("/partner/login", data={"csrf_token": csrf_of(page.text), "email": email,
                                            "password": PASSWORD})
    assert r.status_code == 400  # the planted CSRF cookie is not ours


def test_over_http_the_names_stay_plain(client):
    email = add_user(client, "olpe")
    page, r = _sign_in(client, email)
    assert list(_set_cookies(page)) == ["csrftoken"]
    _strict(_set_cookies(page)["csrftoken"], secure=False)
    assert r.status_code == 303 and list(_set_cookies(r)) == ["session"]
    _strict(_set_cookies(r)["session"], secure=False)
    assert client.get("/partner/").status_code == 200
