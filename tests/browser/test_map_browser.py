"""The region map in a real browser: keyboard, focus, accessibility, phone width."""

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
