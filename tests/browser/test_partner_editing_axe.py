"""The partner pages where staff edit what families see (page, facts, story, offers)
and the agency's review queue with a pending proposal: 0 axe-core violations at phone
and desktop size, also with the errors of a sent-back form shown."""

from __future__ import annotations

from typing import Any

import pytest

from campaign.core.clock import utcnow
from campaign.portal import accounts

from ..support.live import LiveServer
from ..support.offers import pin_offers_clock
from ..support.portal import AGENCY, PASSWORD
from .conftest import PHONE, axe_violations, sideways_overflow

SIZES = [PHONE, {"viewport": {"width": 1280, "height": 900}}]
# Pages as they are first shown.
PAGES = ["/partner/seite", "/partner/fakten", "/partner/geschichte", "/partner/angebote",
         "/partner/angebote/neu/kennenlerntage", "/partner/angebote/neu/jobs",
         "/partner/angebote/neu/bauen-wohnen"]
# Forms sent back with errors: the page, and a field to empty or fill with nonsense.
SENT_BACK = [("/partner/seite", "#welcome_de", ""), ("/partner/fakten", "#kitas", "viele"),
             ("/partner/geschichte", "#title", ""),
             ("/partner/angebote/neu/kennenlerntage", "#title_de", "")]


@pytest.fixture(autouse=True, scope="module")
def _offers_current(live: LiveServer) -> None:
    pin_offers_clock(live.services)


def _account(live: LiveServer, org: str, email: str, role: str = "staff") -> str:
    live.call(accounts.create_user, live.services.db, org, email, PASSWORD, role, now=utcnow())
    return email


def _sign_in(s: Any, email: str) -> None:
    s.goto("/partner/login")
    s.page.fill("#email", email)
    s.page.fill("#password", PASSWORD)
    s.page.click("button:has-text('Anmelden')")
    s.page.wait_for_url("**/partner/")


def _problems(s: Any) -> list[str]:
    found = axe_violations(s.page)
    if sideways_overflow(s.page) > 0:
        found.append(f"page wider than the viewport by {sideways_overflow(s.page)}px")
    return found


@pytest.mark.parametrize("options", SIZES, ids=["phone", "desktop"])
def test_partner_editing_pages_have_no_axe_violations(session_factory, live, options):
    size = options["viewport"]["width"]  # one pair of accounts per size (one live server)
    clerk = _account(live, "olsberg", f"axe-clerk-{size}@olsberg.example")
    agency = _account(live, AGENCY, f"axe-review-{size}@agentur.example", role="admin")
    s = session_factory(bypass_csp=True, **options)  # bypass only to inject axe
    _sign_in(s, clerk)
    problems = {}
    for path in PAGES:
        assert s.goto(path).status == 200, path
        problems[path] = _problems(s)
    for path, field, value in SENT_BACK:
        s.goto(path)
        s.page.fill(field, value)
        with s.page.expect_navigation():
            s.page.click("button:has-text('Zur Freigabe vorschlagen')")
        assert s.page.locator(".error-summary").count() == 1, path
        problems[f"{path} (errors)"] = _problems(s)
    s.goto("/partner/fakten")  # a pending proposal for the queue
    s.page.fill("#kitas", "7")
    s.page.fill("#kitas_source", "Gemeinde Olsberg, Stand 2026")
    s.page.click("button:has-text('Zur Freigabe vorschlagen')")
    s.page.wait_for_url("**/partner/fakten?saved=1")

    review = session_factory(bypass_csp=True, **options)
    _sign_in(review, agency)
    review.goto("/partner/freigaben")
    assert review.page.locator(".review-item").count() >= 1
    problems["/partner/freigaben"] = _problems(review)
    assert {path: found for path, found in problems.items() if found} == {}
