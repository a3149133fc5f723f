"""Booking a conversation in a real browser: a family (without JavaScript) confirms its
interest, a clerk offers three slots in the portal, the family picks one from the link
in its mail, and both calendar files that arrive carry the same event. axe-core (which
needs JavaScript, so in a second window on the same link) checks the family's booking
page, also when a slot was gone, and the portal's slots page, also with errors; the
family's pages fit a phone."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from campaign.core.clock import local, utcnow
from campaign.core.db import Database
from campaign.portal.accounts import create_user

from ..support.booking import event
from ..support.live import wait_until
from .conftest import PHONE, axe_violations, sideways_overflow

ORG, STAFF, PASSWORD = "olpe", "termine@olpe.example.org", "Olpe-Termine-2026-lang"
FAMILY, NAME = "termin.familie@example.com", "Familie Terminfreude"
LINK = re.compile(r"http://127\.0\.0\.1:\d+(/(?:bestaetigen|termin)/[A-Za-z0-9._-]+)")


@pytest.fixture(scope="module")
def clerk(live):
    async def create() -> None:
        async with Database(live.settings.database) as db:
            await create_user(db, ORG, STAFF, PASSWORD, now=utcnow())

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's loop
        pool.submit(asyncio.run, create()).result()
    return STAFF


def _click(page, role: str, name: str) -> None:
    page.get_by_role(role, name=name).first.click()
    page.wait_for_load_state()


def _link_in_mail(mail_server, subject: str, kind: str) -> str:
    """The ``/kind/…`` link of the newest mail to the family whose subject has ``subject``."""
    mails = wait_until(lambda: [m for m in mail_server.to(FAMILY)
                                if subject in str(m["Subject"])])
    text = mails[-1].get_body(("plain",)).get_content()
    return next(p for p in LINK.findall(text) if f"/{kind}/" in p)


def test_a_family_books_a_slot_a_clerk_offered_without_javascript(session_factory, mail_server,
                                                                  clerk):
    problems: dict[str, list[str]] = {}

    def check(page, step: str, phone: bool = False) -> None:
        found = axe_violations(page)
        if phone and sideways_overflow(page) > 0:
            found.append(f"page wider than the phone by {sideways_overflow(page)}px")
        if found:
            problems[step] = found

    family = session_factory(bypass_csp=True, java_script_enabled=False, **PHONE)
    page = family.page
    page.goto(f"/interesse?orte={ORG}")
    page.fill("#name", NAME)
    page.fill("#email", FAMILY)
    for box in page.locator("input[name=consents]").all():
        box.check()
    _click(page, "button", "Interesse absenden")
    page.goto(_link_in_mail(mail_server, "bestätigen Sie", "bestaetigen"))
    _click(page, "button", "Ja, Anfrage bestätigen")

    staff = session_factory(bypass_csp=True)  # bypass only to inject axe
    desk = staff.page
    desk.goto("/partner/login")
    desk.fill("#email", clerk)
    desk.fill("#password", PASSWORD)
    _click(desk, "button", "Anmelden")
    desk.get_by_role("link", name=NAME).click()
    desk.wait_for_load_state()
    _click(desk, "link", "Termine anbieten, gebuchten Termin ansehen, verlegen oder absagen")
    check(desk, "portal slots page")
    _click(desk, "button", "Termine anbieten")  # nothing filled in
    assert desk.locator(".error-summary").is_visible()
    check(desk, "portal slots page with errors")
    first = local(utcnow() + timedelta(days=3)).date()
    for n, (kind, where) in enumerate([("phone", ""), ("video", "https://video.example.org/r"),
                                       ("onsite", "Rathaus Olpe")], 1):
        desk.fill(f"#day-{n}", (first + timedelta(days=n)).isoformat())
        desk.fill(f"#time-{n}", "10:30")
        desk.select_option(f"#kind-{n}", kind)
        desk.fill(f"#location-{n}", where)
    _click(desk, "button", "Termine anbieten")
    assert "Die Termine sind angeboten" in desk.locator("main").inner_text()

    link = _link_in_mail(mail_server, "Termine für ein Gespräch", "termin")
    viewer = session_factory(bypass_csp=True, **PHONE)  # the same link, for axe
    viewer.goto(link)
    check(viewer.page, "family booking page", phone=True)
    page.goto(link)
    assert page.locator("fieldset legend").first.inner_text() == "Wählen Sie einen Termin"
    labels = page.locator("fieldset .choice label")
    assert labels.count() == 3
    labels.nth(1).click()  # the label selects its radio button
    _click(page, "button", "Termin buchen")
    assert "Ihr Termin ist gebucht" in page.locator("main").inner_text()
    viewer.page.reload()
    check(viewer.page, "family booking page with a booking", phone=True)

    invite = wait_until(lambda: [m for m in mail_server.to(FAMILY)
                                 if m.get_content_type() == "multipart/mixed"])[-1]
    staff_invite = wait_until(lambda: [m for m in mail_server.to(clerk)
                                       if m.get_content_type() == "multipart/mixed"])[-1]
    (method_f, ev_f), (method_s, ev_s) = event(invite), event(staff_invite)
    assert method_f == method_s == "REQUEST"
    assert str(ev_f["UID"]) == str(ev_s["UID"])
    assert ev_f.decoded("DTSTART") == ev_s.decoded("DTSTART")
    assert local(ev_f.decoded("DTSTART")).strftime("%d.%m.%Y %H:%M") == (
        (first + timedelta(days=2)).strftime("%d.%m.%Y") + " 10:30")

    # the clerk withdraws a slot the family still sees: picking it is told, not an error
    desk.reload()
    desk.get_by_role("button", name=re.compile("Zurückziehen")).first.click()
    desk.wait_for_load_state()
    assert "zurückgezogen" in desk.locator("main").inner_text()
    page.locator("fieldset .choice label").first.click()
    _click(page, "button", "Termin verlegen")
    assert "Dieser Termin ist nicht mehr frei" in page.locator("main").inner_text()
    viewer.page.locator("fieldset .choice label").first.click()  # the same, with axe
    _click(viewer.page, "button", "Termin verlegen")
    check(viewer.page, "family booking page, slot gone", phone=True)
    assert problems == {}
    assert family.foreign_requests() == [] and staff.foreign_requests() == []
    assert viewer.foreign_requests() == []
