"""``/healthz`` tells anyone whether the service is up; the outbox backlog and dead
letters only to the agency's admin in the portal or to a request from this host
itself — by the connection's own peer address, never by X-Forwarded-For."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from campaign.core.settings import Settings
from campaign.web.app import create_app

from .support.app import shipped_content
from .support.delivery import queue_mails_in
from .support.portal import AGENCY, add_user, login

DETAILS = {"database", "outbox_backlog", "oldest_unsent_age_seconds", "dead_letters"}


def _client(settings: Settings, peer: str) -> TestClient:
    return TestClient(create_app(settings, content=shipped_content()),
                      follow_redirects=False, client=(peer, 50000))


@pytest.fixture
def loopback(settings: Settings) -> Iterator[TestClient]:
    with _client(settings, "127.0.0.1") as c:
        yield c


def test_anyone_learns_only_whether_the_service_is_up(client):
    queue_mails_in(client, 2)
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert r.headers["cache-control"] == "no-store"
    forged = client.get("/healthz", headers={"x-forwarded-for": "127.0.0.1"})
    assert forged.json() == {"status": "ok"}


def test_a_request_from_loopback_sees_the_outbox(loopback):
    queue_mails_in(loopback, 2)
    body = loopback.get("/healthz").json()
    assert set(body) == DETAILS | {"status"}
    assert body["status"] == "ok" and body["outbox_backlog"] == 2 and body["dead_letters"] == 0


def test_ipv6_loopback_counts_too(settings):
    with _client(settings, "::1") as c:
        assert "outbox_backlog" in c.get("/healthz").json()


def test_a_request_relayed_by_a_proxy_on_loopback_is_not_loopback(settings, loopback):
    # the proxy names the client: whoever it is, it came from outside
    for header in ({"x-forwarded-for": "203.0.113.7"}, {"x-forwarded-for": "127.0.0.1"},
                   {"forwarded": "for=203.0.113.7"}, {"x-real-ip": "203.0.113.7"}):
        assert loopback.get("/healthz", headers=header).json() == {"status": "ok"}, header
    # a proxy listed as trusted relays, even when it sends no header at all
    behind = settings.with_(trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),))
    with _client(behind, "127.0.0.1") as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        assert c.get("/healthz", headers={"x-forwarded-for": "127.0.0.1"}).json() == {
            "status": "ok"}


def test_the_agency_admin_signed_in_sees_the_outbox(client):
    queue_mails_in(client, 1)
    login(client, add_user(client, AGENCY, role="admin"))
    body = client.get("/healthz").json()
    assert body["outbox_backlog"] == 1 and body["database"] == "ok"


def test_staff_of_a_municipality_do_not(client):
    login(client, add_user(client, "olpe"))
    assert client.get("/partner/").status_code == 200  # signed in
    assert client.get("/healthz").json() == {"status": "ok"}
    client.cookies.set("session", "forged-or-expired")
    assert client.get("/healthz").json() == {"status": "ok"}
