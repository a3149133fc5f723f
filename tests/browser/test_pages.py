"""Page-level checks in a real browser: accessibility (axe-core), privacy, CSP."""

from __future__ import annotations

import pytest

from ..support.offers import pin_offers_clock
from .conftest import PHONE, axe_violations, documented_cookies, sideways_overflow

# The 404 page, with a long path it shows (cut at 80 characters): it must wrap on a phone.
NOT_FOUND = "/gibt-es-nicht-" + "x" * 120
# One of each page type that exists without a visitor's data.
PAGES = [
    "/",
    "/region/kreis-olpe",
    "/orte/winterberg",
    "/orte/bad-berleburg",
    "/datenschutz",
    "/impressum",
    "/en/",
    "/nl/orte/soest",
    NOT_FOUND,
    "/leichte-sprache",
    "/leichte-sprache/interesse",
    "/interesse/neuer-link",
    "/partner/login",
    "/partner/passwort-vergessen",
    # offers: overview, a list, and a detail page of each kind (three with a form)
    "/angebote",
    "/angebote/kennenlerntage",
    "/angebote/probewohnen/winterberg-ferienwohnung-am-kahlen-asten",
    "/en/angebote/kennenlerntage/olpe-familienwochenende-biggesee",
    "/nl/angebote/jobs/meschede-pflegefachkraft-klinikum",
    "/angebote/bauen-wohnen/olpe-familienwohnung-altstadt",
]
NECESSARY_COOKIES = {"csrftoken", "quiz", "session"}


@pytest.fixture(autouse=True, scope="module")
def _offers_current(live) -> None:
    """The shipped offers' pages exist only while they are valid: pin the server's clock."""
    pin_offers_clock(live.services)


def shared_result(live) -> str:
    """The public page of a shared quiz result (top three, no answers)."""
    from campaign.reach.share import make_result_token

    token = make_result_token(live.settings.secret_key, "familie",
                              ["hilchenbach", "olpe", "winterberg"])
    return f"/teilen/{token}"


@pytest.mark.parametrize("options", [PHONE, {"viewport": {"width": 1280, "height": 900}}],
                         ids=["phone", "desktop"])
def test_every_page_type_has_no_axe_violations(session_factory, live, options):
    s = session_factory(bypass_csp=True, **options)  # bypass only to inject axe
    problems = {}
    for path in [*PAGES, shared_result(live)]:
        assert s.goto(path).status == (404 if path == NOT_FOUND else 200), path
        found = axe_violations(s.page)
        if sideways_overflow(s.page) > 0:
            found.append(f"page wider than the viewport by {sideways_overflow(s.page)}px")
        if found:
            problems[path] = found
    assert problems == {}


def test_pages_load_only_from_the_service_without_csp_violations(session_factory, live):
    s = session_factory(**PHONE)
    for path in PAGES:
        response = s.goto(path)
        assert response.status in (200, 404), path
        assert response.headers["content-security-policy"]
    assert s.requests, "nothing was recorded"
    assert s.foreign_requests() == []
    # stylesheet and images really arrived (a CSP block would leave them out)
    assert any(u.endswith("/static/css/site.css") for u in s.requests)
    styled = s.page.evaluate("getComputedStyle(document.querySelector('.site-header'))"
                             ".backgroundColor")
    assert styled not in ("", "rgba(0, 0, 0, 0)")
    assert [m for m in s.console if "Content Security Policy" in m or "pageerror" in m] == []
    assert s.cookie_names() <= NECESSARY_COOKIES & documented_cookies()


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(session_factory):
    s = session_factory(**PHONE)
    s.goto("/orte/winterberg")
    s.page.keyboard.press("Tab")
    assert s.page.evaluate("document.activeElement.className") == "skip-link"
    s.page.keyboard.press("Enter")
    assert s.page.evaluate("document.activeElement.id") == "main"


def test_axe_harness_reports_a_known_violation(session_factory):
    """Guards the checks above: a page with faults must not pass silently."""
    s = session_factory(bypass_csp=True)
    s.goto("/impressum")
    s.page.evaluate("""() => {
        const img = document.createElement('img'); img.src = '/static/img/logo.svg';
        document.querySelector('main').appendChild(img);
        const p = document.createElement('p'); p.textContent = 'blass';
        p.style.color = '#eeeeee'; document.querySelector('main').appendChild(p);
    }""")
    found = "\n".join(axe_violations(s.page))
    assert "image-alt" in found and "color-contrast" in found
