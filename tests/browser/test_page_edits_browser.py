"""In a real browser: a municipality's clerk edits the welcome text and uploads a
picture; the family page stays as it was on every instance until the agency approves
in its queue; then both instances (two servers on one database) show it. And a
municipality page with three pictures stays small and talks to no other host."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from campaign.core.clock import utcnow
from campaign.portal import accounts

from ..support.live import LiveServer
from ..support.pictures import photo
from ..support.portal import AGENCY, PASSWORD
from .conftest import PHONE, axe_violations

NEW_TEXT = "Willkommen im Tal der Ruhr: hier lernen Kinder schwimmen, bevor sie lesen."


@pytest.fixture(scope="module")
def second(live: LiveServer) -> Iterator[LiveServer]:
    """Another instance of the service on the same database (no background worker)."""
    with LiveServer(live.settings.with_(background=False)) as server:
        yield server


def _account(live: LiveServer, org: str, email: str, role: str = "staff") -> str:
    live.call(accounts.create_user, live.services.db, org, email, PASSWORD, role, now=utcnow())
    return email


def _sign_in(s: Any, email: str) -> None:
    s.goto("/partner/login")
    s.page.fill("#email", email)
    s.page.fill("#password", PASSWORD)
    s.page.click("button:has-text('Anmelden')")
    s.page.wait_for_url("**/partner/")


def _upload(s: Any, seed: int, alt: str) -> None:
    s.page.set_input_files("#picture", {"name": f"bild{seed}.jpg", "mimeType": "image/jpeg",
                                        "buffer": photo(seed=seed)})
    s.page.fill("#alt", alt)
    s.page.fill("#credit", "Gemeinde Beispiel")
    s.page.click("button:has-text('Bild hochladen')")
    s.page.wait_for_url("**/partner/seite?saved=picture")


def _approve(session_factory: Any, live: LiveServer, email: str) -> None:
    agency = session_factory(bypass_csp=True)  # bypass only to inject axe
    _sign_in(agency, email)
    agency.goto("/partner/freigaben")
    assert axe_violations(agency.page) == []
    agency.page.fill("textarea[name=comment]", "Danke, passt.")
    agency.page.click("button:has-text('Freigeben')")
    agency.page.wait_for_url("**/partner/freigaben?done=approved")


def test_an_edit_shows_on_every_instance_only_after_the_agency_approves(
        session_factory, live, second):
    clerk = _account(live, "wickede-ruhr", "clerk@wickede.example")
    agency = _account(live, AGENCY, "review@agentur.example", role="admin")
    s = session_factory(bypass_csp=True)  # bypass only to inject axe
    _sign_in(s, clerk)
    s.page.click("a:has-text('Unsere Seite')")
    assert axe_violations(s.page) == []
    s.page.fill("#welcome_de", NEW_TEXT)
    s.page.click("button:has-text('Zur Freigabe vorschlagen')")
    s.page.wait_for_url("**/partner/seite?saved=text")
    _upload(s, 3, "Kinder am Ufer der Ruhr")
    assert s.page.locator(".picture-list img[alt='Kinder am Ufer der Ruhr']").count() == 1

    family = session_factory()
    for server in (live, second):
        family.page.goto(server.url + "/orte/wickede-ruhr")
        assert NEW_TEXT not in family.page.content()
        assert family.page.locator("figure.picture").count() == 0

    _approve(session_factory, live, agency)

    for server in (live, second):
        family.page.goto(server.url + "/orte/wickede-ruhr")
        assert family.page.locator("p.lead").inner_text() == NEW_TEXT
        img = family.page.locator("figure.picture img[alt='Kinder am Ufer der Ruhr']")
        img.scroll_into_view_if_needed()
        family.page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
        assert "Gemeinde Beispiel" in family.page.locator("figure.picture figcaption").inner_text()

    s.page.reload()
    assert "Ihr letzter Vorschlag wurde freigegeben" in s.page.content()
    assert "Danke, passt." in s.page.content()


@pytest.mark.parametrize("size", [{}, PHONE], ids=["desktop", "phone"])
def test_a_page_with_three_pictures_transfers_at_most_300_kb(session_factory, live, size):
    clerk = _account(live, "winterberg", f"clerk{len(size)}@winterberg.example")
    agency = _account(live, AGENCY, f"review{len(size)}@agentur.example", role="admin")
    s = session_factory()
    _sign_in(s, clerk)
    s.goto("/partner/seite")
    while s.page.locator(".picture-list li").count() < 3:
        n = s.page.locator(".picture-list li").count()
        _upload(s, 10 + n, f"Winterberg, Ansicht {n + 1}")
    if "wartet auf Freigabe" in s.page.content():
        _approve(session_factory, live, agency)

    family = session_factory(bypass_csp=True, **size)  # bypass only to inject axe
    sizes: dict[str, int] = {}
    family.page.on("requestfinished", lambda r: sizes.__setitem__(
        r.url, r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"]))
    family.goto("/orte/winterberg")
    images = family.page.locator("figure.picture img")
    assert images.count() == 3
    for i in range(3):  # lazy pictures load once they are scrolled to
        images.nth(i).scroll_into_view_if_needed()
        family.page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                                      arg=images.nth(i).element_handle())
    family.page.wait_for_load_state("networkidle")
    assert family.foreign_requests() == []
    pictures = [url for url in sizes if "/bilder/" in url]
    assert len(pictures) == 3 and all(sizes[url] > 1000 for url in pictures), sizes
    assert sum(sizes.values()) <= 300_000, sizes
    assert axe_violations(family.page) == []
