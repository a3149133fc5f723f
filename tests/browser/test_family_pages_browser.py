"""Family pages in a real browser: the region map (keyboard, focus, accessibility,
phone width) and the lead form's consent texts behind disclosures."""

from __future__ import annotations

from .conftest import PHONE, axe_violations, sideways_overflow


def test_tab_reaches_a_map_link_shows_focus_and_enter_follows_it(session_factory):
    s = session_factory(**PHONE)
    s.goto("/")
    s.page.focus(".hero .button-primary")  # the last link before the map
    s.page.keyboard.press("Tab")
    active = s.page.evaluate("""() => {
        const a = document.activeElement;
        const ring = a.querySelector('.map-ring');
        return {cls: a.getAttribute('class'), label: a.getAttribute('aria-label'),
                href: a.getAttribute('href'),
                ring: ring && getComputedStyle(ring).stroke};
    }""")
    assert active["cls"].startswith("map-link")
    assert active["label"].endswith(")")  # "Name (Kreis)"
    assert active["ring"] not in (None, "none")  # focus is visible
    s.page.keyboard.press("Enter")
    s.page.wait_for_url(f"**{active['href']}")
    assert active["label"].split(" (")[0] in s.page.locator("h1").inner_text()
    assert s.foreign_requests() == []


def test_landing_and_district_maps_pass_axe_and_fit_a_phone(session_factory):
    s = session_factory(bypass_csp=True, **PHONE)  # bypass only to inject axe
    for path in ("/", "/region/hochsauerlandkreis", "/nl/"):
        s.goto(path)
        assert s.page.locator(".region-map a").count() == 59
        assert axe_violations(s.page) == [], path
        assert sideways_overflow(s.page) == 0, path
        box = s.page.locator(".region-map > svg").bounding_box()
        assert box is not None and box["width"] <= PHONE["viewport"]["width"]


def test_consent_texts_open_on_demand_and_describe_their_checkboxes(session_factory):
    s = session_factory(bypass_csp=True, **PHONE)  # bypass only to inject axe
    s.goto("/interesse?orte=olpe")
    text = s.page.locator("#consent-text-0")
    assert not text.is_visible()  # the form stays short on a phone
    box = s.page.get_by_role("checkbox", name="Einverstanden: Die gewählten Orte")
    description = box.evaluate("e => document.getElementById("
                               "e.getAttribute('aria-describedby').split(' ').pop()).textContent")
    assert description == text.text_content() and len(description) > 100
    s.page.locator(".consent-text summary").first.click()
    assert text.is_visible()
    assert axe_violations(s.page) == []
    assert sideways_overflow(s.page) == 0
