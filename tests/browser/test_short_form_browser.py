"""The lead form fits about two and a half phone screens (issue 21: at most ~2,100 CSS
pixels at 390×844), with and without the error summary, in every language; the
optional fields and the consent wording are folded, not gone."""

from __future__ import annotations

import pytest

from .conftest import PHONE, axe_violations, sideways_overflow

MAX_HEIGHT = 2100
LOCALES = {"": "de-DE", "/nl": "nl-NL", "/en": "en-GB"}


def height(page) -> int:
    return int(page.evaluate("document.documentElement.scrollHeight"))


@pytest.mark.parametrize("prefix", list(LOCALES))
def test_lead_form_fits_two_and_a_half_phone_screens(session_factory, prefix):
    s = session_factory(bypass_csp=True, locale=LOCALES[prefix], **PHONE)  # bypass: axe
    s.goto(f"{prefix}/interesse?orte=olpe")
    assert s.page.locator("#municipalities-olpe").is_checked()
    assert height(s.page) <= MAX_HEIGHT

    s.goto(f"{prefix}/interesse")
    s.page.locator("main form button[type=submit]").click()
    s.page.wait_for_load_state()
    assert s.page.locator(".error-summary li").count() == 3  # name, e-mail, consent
    assert height(s.page) <= MAX_HEIGHT
    assert axe_violations(s.page) == []
    assert sideways_overflow(s.page) == 0

    # the longest case: two towns chosen on a town page, and the three errors again
    s.goto(f"{prefix}/interesse?orte=olpe,attendorn")
    s.page.locator("main form button[type=submit]").click()
    s.page.wait_for_load_state()
    assert s.page.locator("#municipalities-olpe").is_checked()
    assert s.page.locator(".error-summary li").count() == 3
    assert height(s.page) <= MAX_HEIGHT + 50  # "about 2,100"


def test_folded_fields_open_on_demand_and_stay_open_with_an_answer(session_factory):
    s = session_factory(**PHONE)
    s.goto("/interesse")
    phone = s.page.locator("#phone")
    assert not phone.is_visible()
    s.page.locator(".more-fields summary").click()
    phone.fill("call me")  # a wrong number: the page comes back with the fold open
    s.page.locator("main form button[type=submit]").click()
    s.page.wait_for_load_state()
    assert s.page.locator("#phone").is_visible()
    assert s.page.locator("#phone").input_value() == "call me"
    assert s.page.locator('.error-summary a[href="#phone"]').count() == 1
