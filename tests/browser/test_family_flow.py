"""The whole journey in a real browser on a phone: landing → town → quiz → lead →
confirmation from the real mail → the municipality sees the lead in the portal.

Runs with and without JavaScript; the quiz also by keyboard alone. Every
request is recorded: nothing may leave the service, and only the cookies
documented in the README may be set.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from campaign.core.clock import utcnow
from campaign.core.db import Database
from campaign.portal.accounts import create_user

from ..support.live import wait_until
from .conftest import PHONE, axe_violations, documented_cookies, sideways_overflow

# Answers that make Hilchenbach (Kreis Siegen-Wittgenstein) the best match.
ANSWERS = [["1 bis 5 Jahre"], ["Wir lieben Wasser: Seen und Talsperren", "Berge"],
           ["In einer Kleinstadt"], ["Nein, wir arbeiten vor Ort oder von zu Hause"],
           ["5 – sehr wichtig"], ["Wintersport: Skifahren, Rodeln, Langlauf"],
           ["1 – gar nicht wichtig"], ["1 – gar nicht wichtig"]]
TOWN, ORG, TOURISM = "Hilchenbach", "hilchenbach", "tvsw"
ORG_MAIL = "willkommen@hilchenbach.example.org"
TOURISM_MAIL = "neubuerger@siegerland-wittgenstein.example.org"
PASSWORD = "Sauerland-Willkommen-2026"
NECESSARY = {"csrftoken", "quiz", "session"}
CONFIRM_LINK = re.compile(r"http://127\.0\.0\.1:\d+(/bestaetigen/[A-Za-z0-9._-]+)")


ADMIN = "admin@suedwestfalen.example.org"


@pytest.fixture(scope="module")
def portal_user(live):
    """A municipality account (and an agency admin), created as the CLI does it."""
    email = f"staff@{ORG}.example.org"

    async def create() -> None:
        async with Database(live.settings.database) as db:
            await create_user(db, ORG, email, PASSWORD, now=utcnow())
            await create_user(db, "suedwestfalen-agentur", ADMIN, PASSWORD, "admin",
                              now=utcnow())

    # Playwright's sync API keeps an event loop on this thread: use another one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, create()).result()
    return email


def click(page, role: str, name: str) -> None:
    page.get_by_role(role, name=name).first.click()
    page.wait_for_load_state()


def find_town_and_take_quiz(page) -> None:
    page.goto("/")
    # exact: the map's links are named "Town (Kreis …)" too
    page.get_by_role("link", name="Kreis Siegen-Wittgenstein", exact=True).first.click()
    page.wait_for_load_state()
    click(page, "link", TOWN)
    assert page.locator("h1").inner_text().endswith(TOWN) or TOWN in page.locator("h1").inner_text()
    page.goto("/")  # the quiz starts from the landing page
    page.locator("main a[href*='/quiz/familie']").first.click()
    page.wait_for_load_state()
    page.locator("main form button[type=submit]").click()
    for n, labels in enumerate(ANSWERS, 1):
        assert page.url.endswith(f"/quiz/familie/frage/{n}"), page.url
        for label in labels:
            page.get_by_label(label, exact=True).check()
        click(page, "button", "Weiter")
    assert page.url.endswith("/quiz/familie/ergebnis")
    assert page.locator(".match-name a").first.inner_text() == TOWN


def submit_lead(page, name: str, email: str) -> None:
    click(page, "link", "Interesse an diesen Orten melden")
    assert page.locator(f"input[name=municipalities][value={ORG}]").is_checked()
    submit_lead_form_directly(page, name, email)


def confirm_from_mail(page, mail_server, email: str) -> None:
    mail = wait_until(lambda: mail_server.to(email))[0]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    page.goto(CONFIRM_LINK.search(text).group(1))  # the link only shows the button
    assert page.locator("h1").inner_text() == "Anfrage bestätigen"
    click(page, "button", "Ja, Anfrage bestätigen")
    assert "bestätigt" in page.locator("h1").inner_text()


def portal_shows(page, user: str, name: str, email: str) -> None:
    page.goto("/partner/login")
    page.fill("#email", user)
    page.fill("#password", PASSWORD)
    click(page, "button", "Anmelden")
    page.get_by_role("link", name=name).click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == name
    assert page.get_by_text(email).first.is_visible()


def lead_mails_arrive(mail_server, name: str) -> None:
    for box in (ORG_MAIL, TOURISM_MAIL):
        wait_until(lambda box=box: any(name in m.get_body(preferencelist=("plain",)).get_content()
                                       for m in mail_server.to(box)))


def assert_private(s) -> None:
    assert s.requests and s.foreign_requests() == []
    assert [m for m in s.console if "Content Security Policy" in m or "pageerror" in m] == []
    assert s.cookie_names() <= NECESSARY & documented_cookies(), s.cookie_names()


@pytest.mark.parametrize("js", [True, False], ids=["javascript", "no-javascript"])
def test_family_on_a_phone_from_landing_to_the_municipality_portal(
        session_factory, mail_server, portal_user, js):
    s = session_factory(java_script_enabled=js, **PHONE)
    name, email = f"Familie Weg {'js' if js else 'nojs'}", f"weg-{js}@example.com".lower()
    find_town_and_take_quiz(s.page)
    submit_lead(s.page, name, email)
    confirm_from_mail(s.page, mail_server, email)
    lead_mails_arrive(mail_server, name)
    portal_shows(s.page, portal_user, name, email)
    assert_private(s)
    assert {"csrftoken", "session"} <= s.cookie_names()


def test_quiz_by_keyboard_alone(session_factory):
    s = session_factory(**PHONE)
    page = s.page
    page.goto("/quiz/familie")

    def tab_to(selector: str, limit: int = 80) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("(sel) => document.activeElement.matches(sel)", selector):
                return
        raise AssertionError(f"{selector} not reachable with Tab")

    tab_to("main form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/frage/1$"))
    for n in range(1, len(ANSWERS) + 1):
        tab_to("main input[type=radio], main input[type=checkbox]")
        page.keyboard.press("Space")
        assert page.evaluate("document.activeElement.checked")
        tab_to("main button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_load_state()
        if n < len(ANSWERS):
            page.wait_for_url(re.compile(rf"/frage/{n + 1}$"))
    page.wait_for_url(re.compile(r"/ergebnis$"))
    assert page.locator(".match-name a").count() >= 3
    assert s.foreign_requests() == []


def test_confirmation_self_service_and_portal_pages_have_no_axe_violations(
        session_factory, mail_server, portal_user):
    s = session_factory(bypass_csp=True, **PHONE)  # bypass only to inject axe
    page, problems = s.page, {}

    def check(step: str) -> None:
        found = axe_violations(page)
        if sideways_overflow(page) > 0:
            found.append(f"page wider than the phone by {sideways_overflow(page)}px")
        if found:
            problems[step] = found

    name, email = "Familie Axe", "axe@example.com"
    page.goto(f"/interesse?orte={ORG}")
    submit_lead_form_directly(page, name, email)
    mail = wait_until(lambda: mail_server.to(email))[0]
    page.goto(CONFIRM_LINK.search(mail.get_body(("plain",)).get_content()).group(1))
    check("confirmation button")
    click(page, "button", "Ja, Anfrage bestätigen")
    check("confirmation")
    mail = wait_until(lambda: [m for m in mail_server.to(email)
                               if "/meine-daten/" in m.get_body(("plain",)).get_content()])
    link = re.search(r"http://127\.0\.0\.1:\d+(/meine-daten/\S+)",
                     mail[0].get_body(("plain",)).get_content()).group(1)
    page.goto(link)
    check("self-service")
    page.goto("/partner/login")
    page.fill("#email", portal_user)
    click(page, "button", "Anmelden")  # no password: the form with errors
    check("login with errors")
    page.fill("#password", PASSWORD)
    click(page, "button", "Anmelden")
    check("portal list")
    page.get_by_role("link", name=name).click()
    page.wait_for_load_state()
    check("portal detail")
    page.goto("/partner/statistik")
    check("portal statistics")
    page.goto("/partner/orte-qr")
    check("portal places and QR codes")
    for path, what in (("/partner/vorlagen", "reply templates"), ("/partner/wissen", "how-tos"),
                       ("/partner/wissen/neu", "new how-to"), ("/partner/vergleich", "comparison")):
        page.goto(path)
        check(f"portal {what}")
    page.goto("/partner/vorlagen")
    click(page, "button", "Vorlage speichern")  # nothing filled in: the form with errors
    check("portal reply templates with errors")
    page.fill("#title", "Erste Antwort")
    page.fill("#subject", "Willkommen")
    page.fill("#body", "Hallo {name}")
    click(page, "button", "Vorlage speichern")
    page.get_by_role("link", name="Bearbeiten Erste Antwort").click()
    page.wait_for_load_state()
    check("portal reply template to edit or delete")
    page.goto("/partner/wissen/neu")
    page.fill("#title", "Kita-Plätze")
    page.fill("#body", "So geht die Anmeldung.")
    click(page, "button", "Veröffentlichen")
    check("portal how-to with edit and delete")
    click(page, "button", "Anleitung löschen")  # not confirmed: the reason, marked
    check("portal how-to delete unconfirmed")
    page.get_by_role("link", name="Anleitung bearbeiten").click()
    page.wait_for_load_state()
    check("portal how-to edit")
    page.goto("/partner/?q=axe&alle_gemeinden=1")
    check("portal list searched, every municipality")
    page.goto("/partner/passwort")
    check("portal password change")
    click(page, "button", "Passwort ändern")  # nothing filled in: the form with errors
    check("portal password change with errors")
    click(page, "button", "Abmelden")
    page.goto("/partner/login")
    page.fill("#email", ADMIN)
    page.fill("#password", PASSWORD)
    click(page, "button", "Anmelden")
    check("portal list for the agency")
    page.goto("/partner/postausgang")
    check("portal outbox")
    assert problems == {}


def submit_lead_form_directly(page, name: str, email: str) -> None:
    page.fill("#name", name)
    page.fill("#email", email)
    for box in page.locator("input[name=consents]").all():
        box.check()
    click(page, "button", "Interesse absenden")
    assert "/interesse/danke" in page.url
