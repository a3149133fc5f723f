"""Languages in a real browser: axe on easy-language and translated pages, hint, switch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import PHONE, axe_violations, sideways_overflow

EASY = ["/leichte-sprache", "/leichte-sprache/interesse", "/leichte-sprache/datenschutz"]


@pytest.fixture
def dutch_browser(browser: Any, live: Any) -> Iterator[Any]:
    """``make(**options)``: a page in a browser set to Dutch (Accept-Language: nl-NL)."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        context = browser.new_context(base_url=live.url, locale="nl-NL", **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.mark.parametrize("options", [{}, PHONE], ids=["desktop", "phone"])
def test_easy_language_and_translated_pages_pass_axe(dutch_browser, options):
    page = dutch_browser(bypass_csp=True, **options)  # bypass only to inject axe
    problems = []
    for path in EASY + ["/nl/leichte-sprache", "/en/orte/olpe", "/nl/interesse", "/"]:
        page.goto(path)
        problems += [f"{path}: {v}" for v in axe_violations(page)]
        if options:
            assert sideways_overflow(page) == 0, path
    assert page.locator("aside.language-hint").count() == 1  # "/" in German: hint shown
    assert not problems, "\n".join(problems)


def test_dutch_browser_follows_the_hint_and_switches_back(dutch_browser):
    page = dutch_browser()
    page.goto("/orte/winterberg?utm_source=poster")
    hint = page.locator("aside.language-hint a")
    assert hint.inner_text() == "Deze pagina is er ook in het Nederlands."
    hint.click()
    page.wait_for_url("**/nl/orte/winterberg?utm_source=poster")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.locator("h1").inner_text() == "Gezinsleven in Winterberg"
    # the switch keeps the page; back in German no hint follows the visitor
    page.locator(".lang-switch a[hreflang=de]").click()
    page.wait_for_url("**/orte/winterberg?utm_source=poster")
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator("aside.language-hint").count() == 0
    # the footer leads to Leichte Sprache
    page.locator("footer a.easy-link").click()
    page.wait_for_url("**/leichte-sprache")
    assert page.locator("h1").inner_text().startswith("Leben in Süd·west·falen")
