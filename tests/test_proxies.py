"""Per-address limits behind a reverse proxy: X-Forwarded-For counts only from a
proxy listed in CAMPAIGN_TRUSTED_PROXIES, and then its right-most untrusted entry."""

from __future__ import annotations

import ipaddress
import itertools

import pytest
from starlette.testclient import TestClient

from campaign.core.schema import leads, rate_counts
from campaign.web.app import create_app
from campaign.web.clients import client_ip

from .support.app import count_in, rows_in, shipped_content
from .support.forms import hidden_fields, valid_data
from .support.portal import csrf

PROXY = "192.0.2.10"  # the address every request comes from, as behind a proxy
LIMIT = 3  # lead submissions per address and hour in these tests
_forged = (f"203.0.113.{n}" for n in itertools.count(1))


def client_for(settings, trusted: str = "") -> TestClient:
    proxies = tuple(ipaddress.ip_network(p) for p in trusted.split(",") if p)
    app = create_app(settings.with_(rate_limit_per_hour=LIMIT, trusted_proxies=proxies),
                     content=shipped_content())
    return TestClient(app, follow_redirects=False, client=(PROXY, 4711))


def submit_lead(client: TestClient, n: int, forwarded: str | None) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    page = client.get("/interesse", headers=headers)
    r = client.post("/interesse", headers=headers, data={
        **hidden_fields(page.text), **valid_data(name=f"Familie Nummer {n}")})
    return r.status_code


def test_without_trusted_proxies_the_header_is_ignored(settings):
    """A client cannot dodge the per-address limits with made-up X-Forwarded-For."""
    with client_for(settings) as client:
        answers = [submit_lead(client, n, next(_forged)) for n in range(LIMIT + 2)]
        assert answers == [303] * LIMIT + [429] * 2
        assert count_in(client, leads) == LIMIT
        keys = {r.key for r in rows_in(client, rate_counts)}
        assert keys == {f"lead:{PROXY}"}
        # the login throttle counts the connection's address too (20 failures at once)
        for n in range(20):
            r = client.post("/partner/login", headers={"X-Forwarded-For": next(_forged)},
                            data={"csrf_token": csrf(client), "email": f"u{n}@example.org",
                                  "password": "falsch-falsch-falsch"})
            assert r.status_code == 400
        r = client.post("/partner/login", headers={"X-Forwarded-For": next(_forged)},
                        data={"csrf_token": csrf(client), "email": "neu@example.org",
                              "password": "falsch-falsch-falsch"})
        assert r.status_code == 429


def test_behind_a_trusted_proxy_each_forwarded_client_counts_alone(settings):
    with client_for(settings, trusted=f"{PROXY}/32") as client:
        first = [submit_lead(client, n, "198.51.100.1") for n in range(LIMIT + 1)]
        second = [submit_lead(client, 10 + n, "198.51.100.2") for n in range(LIMIT + 1)]
        assert first == second == [303] * LIMIT + [429]
        # a forged left-most entry does not help: the proxy appended the real client
        forged = [submit_lead(client, 20 + n, f"{next(_forged)}, 198.51.100.1")
                  for n in range(2)]
        assert forged == [429, 429]
        assert count_in(client, leads) == 2 * LIMIT
        keys = {r.key for r in rows_in(client, rate_counts)}
        assert keys == {"lead:198.51.100.1", "lead:198.51.100.2"}


def test_a_chain_of_trusted_proxies_names_the_client_before_them(settings):
    with client_for(settings, trusted=f"{PROXY}/32,10.1.0.0/16") as client:
        chain = [submit_lead(client, n, f"{next(_forged)}, 198.51.100.3, 10.1.2.3")
                 for n in range(LIMIT + 1)]
        assert chain == [303] * LIMIT + [429]
        assert {r.key for r in rows_in(client, rate_counts)} == {"lead:198.51.100.3"}


NETS = (ipaddress.ip_network("192.0.2.10/32"), ipaddress.ip_network("10.1.0.0/16"))


@pytest.mark.parametrize("peer, header, expected", [
    ("198.51.100.9", "203.0.113.1", "198.51.100.9"),  # not from a proxy: header ignored
    ("192.0.2.10", None, "192.0.2.10"),  # from the proxy without a header
    ("192.0.2.10", "203.0.113.1", "203.0.113.1"),
    ("192.0.2.10", "1.2.3.4, 203.0.113.1", "203.0.113.1"),  # forged left-most entry
    ("192.0.2.10", "203.0.113.1, 10.1.9.9", "203.0.113.1"),  # a second trusted hop
    ("192.0.2.10", " 2001:DB8::1 ", "2001:db8::1"),
    ("192.0.2.10", "1.2.3.4, nonsense", "192.0.2.10"),  # broken: the proxy's address
    (None, "203.0.113.1", "unknown"),
])
def test_client_ip(peer, header, expected):
    assert client_ip(peer, header, NETS) == expected
