"""The lead pages in a real browser: a family on a phone, axe-core on every step."""

from __future__ import annotations

import re

from ..support.live import wait_until
from .conftest import PHONE, axe_violations

LINK = re.compile(r"http://127\.0\.0\.1:\d+(/(?:bestaetigen|meine-daten)/[A-Za-z0-9._-]+)")


def _link(mail_server, address: str, kind: str, count: int) -> str:
    mails = wait_until(lambda: len(mail_server.to(address)) >= count and mail_server.to(address))
    text = mails[count - 1].get_body(preferencelist=("plain",)).get_content()
    return next(p for p in LINK.findall(text) if f"/{kind}/" in p)


def test_family_reports_interest_confirms_and_withdraws_with_no_axe_violations(
        session_factory, mail_server):
    s = session_factory(bypass_csp=True, **PHONE)  # bypass only to inject axe
    page = s.page
    problems: dict[str, list[str]] = {}

    def check(step: str) -> None:
        found = axe_violations(page)
        if found:
            problems[step] = found

    s.goto("/interesse?orte=olpe")
    check("form")
    # sent empty: the error summary comes first and its links lead to the fields
    page.get_by_role("button", name="Interesse absenden").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary[role=alert]").count() == 1
    check("form with errors")
    page.locator('.error-summary a[href="#name"]').click()
    assert page.evaluate("document.activeElement.id") == "name"

    page.fill("#name", "Clara Browser")
    page.fill("#email", "clara@example.com")
    page.check("#consents-0")  # the municipalities, Olpe is preselected
    page.get_by_role("button", name="Interesse absenden").click()
    page.wait_for_url("**/interesse/danke")
    check("thanks")

    s.goto(_link(mail_server, "clara@example.com", "bestaetigen", 1))
    check("confirmation button")
    page.get_by_role("button", name="Ja, Anfrage bestätigen").click()
    page.wait_for_url("**?bestaetigt=1")
    assert page.locator("h1").inner_text().startswith("Danke")
    check("confirmed")

    s.goto(_link(mail_server, "clara@example.com", "meine-daten", 2))
    assert "Clara Browser" in page.content()
    check("self-service")
    page.get_by_role("button", name="Einwilligung widerrufen").click()
    check("self-service, asking")
    page.get_by_role("button", name="Ja, Einwilligung widerrufen").click()
    page.wait_for_url("**?erledigt=withdraw")
    check("self-service, withdrawn")

    s.goto("/interesse/neuer-link")
    check("new link")
    s.goto("/bestaetigen/kaputt")
    check("broken link")
    assert problems == {}
    assert s.foreign_requests() == []
