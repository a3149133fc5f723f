"""From lead to neighbour, end to end in a real browser (the first "Done when" of the
follow-up workflow): a family submits and confirms; the municipality's mail carries
the lead number and a link into the portal; a clerk signs in through that link,
takes the family and offers three slots; the family books one and both calendar
files describe the same event; the clerk records the move; the family agrees to
one follow-up, and with the service clock twelve months on it gets the questions
and answers "still here"; the figures then show one move and one family still here.

Every page on the way is checked by axe-core. The live server's clock is moved and
its follow-up job run on its own event loop: nothing here waits for a year.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from campaign.core.clock import local
from campaign.delivery.worker import deliver_once
from campaign.leads import followup
from campaign.portal import accounts, profiles
from campaign.portal.mails import recipes

from ..support.booking import event
from ..support.live import wait_until
from .conftest import axe_violations

ORG, ORG_MAIL = "olpe", "willkommen@olpe.example.org"
CLERK, PASSWORD = "lotsin@olpe.example.org", "Olpe-Willkommen-2026-lang"
CLERK_NAME = "Clara Lotsin"
FAMILY, NAME = "nachbarn@example.com", "Familie Nachbar"
LINK = re.compile(r"http://127\.0\.0\.1:\d+(/\S+)")
NUMBER = re.compile(r"\bL-\d{4}-\d{4}\b")
YEAR = timedelta(days=366)


@pytest.fixture(scope="module")
def clerk(live: Any) -> str:
    """A clerk of Olpe with a name in the profile, made through the app's own services."""
    svc = live.services

    async def make() -> None:
        now = svc.clock.now()
        await accounts.create_user(svc.db, ORG, CLERK, PASSWORD, now=now)
        user = await accounts.user_by_email(svc.db, CLERK)
        await profiles.save(svc.db, user, profiles.Profile(CLERK_NAME, "Willkommenslotsin",
                                                           "02761 83-0"), now)

    live.call(make)
    return CLERK


def _click(page: Any, role: str, name: str) -> None:
    page.get_by_role(role, name=name).first.click()
    page.wait_for_load_state()


def _sign_in(page: Any) -> None:
    """Fill in the login form the page shows."""
    page.fill("#email", CLERK)
    page.fill("#password", PASSWORD)
    _click(page, "button", "Anmelden")


def _text(mail: Any) -> str:
    return str(mail.get_body(("plain",)).get_content())


def _mails(mail_server: Any, to: str, subject: str) -> list[Any]:
    """The mails to ``to`` whose subject contains ``subject`` (waits for the first)."""
    return wait_until(lambda: [m for m in mail_server.to(to) if subject in str(m["Subject"])])


def _link(mail: Any, kind: str) -> str:
    """The path of the mail's link that contains ``kind``."""
    return next(p for p in LINK.findall(_text(mail)) if kind in p)


def _invitation(mail_server: Any, to: str) -> Any:
    return wait_until(lambda: [m for m in mail_server.to(to)
                               if m.get_content_type() == "multipart/mixed"])[-1]


def _stage_counts(page: Any) -> dict[str, str]:
    rows = page.locator("#stage-funnel tbody tr")
    return {rows.nth(i).locator("th").inner_text(): rows.nth(i).locator("td").inner_text()
            for i in range(rows.count())}


def test_from_lead_to_neighbour(session_factory, mail_server, live, clerk):
    problems: dict[str, list[str]] = {}

    def check(page: Any, step: str) -> None:
        found = axe_violations(page)
        if found:
            problems[step] = found

    # 1. the family submits and confirms (the link shows a page with a button)
    family = session_factory(bypass_csp=True)  # bypass only to inject axe
    page = family.page
    page.goto(f"/interesse?orte={ORG}")
    page.fill("#name", NAME)
    page.fill("#email", FAMILY)
    for box in page.locator("input[name=consents]").all():
        box.check()
    _click(page, "button", "Interesse absenden")
    page.goto(_link(_mails(mail_server, FAMILY, "bestätig")[0], "/bestaetigen/"))
    assert page.locator("h1").inner_text() == "Anfrage bestätigen"
    _click(page, "button", "Ja, Anfrage bestätigen")
    assert "bestätigt" in page.locator("h1").inner_text()

    # 2. the municipality's mail: the lead number and the portal link to the lead
    (org_mail,) = _mails(mail_server, ORG_MAIL, NAME)
    number = NUMBER.search(str(org_mail["Subject"]))
    assert number, org_mail["Subject"]
    assert f"Anfrage Nr. {number.group()}" in _text(org_mail)
    lead_path = _link(org_mail, "/partner/lead/")
    assert re.fullmatch(r"/partner/lead/\d+", lead_path), lead_path

    # 3. the clerk follows the link, signs in, lands on the lead, takes it, offers slots
    staff = session_factory(bypass_csp=True)
    desk = staff.page
    desk.goto(lead_path)
    assert desk.url.split("?")[0].endswith("/partner/login")
    check(desk, "login on the way to a lead")
    _sign_in(desk)
    assert desk.url.endswith(lead_path), desk.url
    assert desk.locator("h1").inner_text() == NAME
    assert number.group() in desk.locator("main").inner_text()
    check(desk, "lead page, nobody assigned")
    _click(desk, "button", "Ich übernehme diese Familie")
    assert f"{CLERK_NAME}, Willkommenslotsin" in desk.locator("main").inner_text()
    check(desk, "lead page, taken")
    _click(desk, "link", "Termine anbieten, gebuchten Termin ansehen, verlegen oder absagen")
    check(desk, "portal slots page")
    first = local(live.services.clock.now() + timedelta(days=3)).date()
    for n, (kind, where) in enumerate([("phone", ""), ("video", "https://video.example.org/o"),
                                       ("onsite", "Rathaus Olpe")], 1):
        desk.fill(f"#day-{n}", (first + timedelta(days=n)).isoformat())
        desk.fill(f"#time-{n}", "14:00")
        desk.select_option(f"#kind-{n}", kind)
        desk.fill(f"#location-{n}", where)
    _click(desk, "button", "Termine anbieten")
    assert "Die Termine sind angeboten" in desk.locator("main").inner_text()
    check(desk, "portal slots page, offered")

    # 4. the family opens the link of its booking mail and picks the second slot
    page.goto(_link(_mails(mail_server, FAMILY, "Termine für ein Gespräch")[-1], "/termin/"))
    check(page, "family booking page")
    labels = page.locator("fieldset .choice label")
    assert labels.count() == 3
    labels.nth(1).click()
    _click(page, "button", "Termin buchen")
    assert "Ihr Termin ist gebucht" in page.locator("main").inner_text()
    check(page, "family booking page, booked")

    # 5. both invitations parse and describe the same event
    (method_f, ev_f), (method_s, ev_s) = (event(_invitation(mail_server, FAMILY)),
                                          event(_invitation(mail_server, clerk)))
    assert method_f == method_s == "REQUEST"
    assert str(ev_f["UID"]) == str(ev_s["UID"])
    assert ev_f.decoded("DTSTART") == ev_s.decoded("DTSTART")
    assert local(ev_f.decoded("DTSTART")).strftime("%Y-%m-%d %H:%M") == (
        f"{(first + timedelta(days=2)).isoformat()} 14:00")

    # 6. the clerk records the move through the stage form
    desk.goto(lead_path)
    desk.select_option("#status", label="zugezogen")
    _click(desk, "button", "Stand speichern")
    assert "Aktueller Stand: zugezogen" in desk.locator("main").inner_text()
    check(desk, "lead page, moved in")

    # 7. the family agrees to one follow-up; twelve months later it answers
    svc = live.services
    live.call(followup.run_due, svc)  # the job asks families that moved in
    page.goto(_link(_consent_mail(mail_server), "/nachfrage/zustimmen/"))
    check(page, "follow-up consent page")
    _click(page, "button", "Ja, fragt in einem Jahr nach")
    assert "Danke! Wir melden uns in einem Jahr" in page.locator("main").inner_text()
    check(page, "follow-up consent given")
    svc.clock.advance(YEAR)
    try:
        live.call(followup.run_due, svc)
        # the mail is due at the moved clock's time: deliver as the worker would then
        live.call(deliver_once, svc.db, svc.settings, render=recipes(svc), now=svc.clock.now())
        answer_mails = wait_until(lambda: [m for m in mail_server.to(FAMILY)
                                           if "/nachfrage/" in _text(m)
                                           and "/nachfrage/zustimmen/" not in _text(m)])
        assert len(answer_mails) == 1
        page.goto(_link(answer_mails[0], "/nachfrage/"))
        check(page, "follow-up questions")
        page.get_by_label("ja", exact=True).check()
        page.get_by_label("4", exact=True).check()
        page.fill("#feedback", "Die feste Ansprechperson hat geholfen.")
        _click(page, "button", "Antwort senden")
        assert "Vielen Dank für Ihre Antwort" in page.locator("main").inner_text()
        check(page, "follow-up answered")

        # 8. the figures: one move, one family still here (a year on, the clerk's
        # session has run out: she signs in again and lands on the figures)
        desk.goto("/partner/statistik")
        assert "Sitzung ist abgelaufen" in desk.locator("main").inner_text()
        _sign_in(desk)
        assert desk.url.endswith("/partner/statistik"), desk.url
        counts = _stage_counts(desk)
        assert counts.get("zugezogen") == "1", counts
        assert counts.get("nach 12 Monaten noch hier") == "1", counts
        check(desk, "figures")
        desk.goto(lead_path)
        assert "Aktueller Stand: nach 12 Monaten noch hier" in desk.locator("main").inner_text()
    finally:
        svc.clock.offset -= YEAR
    assert problems == {}
    assert family.foreign_requests() == [] and staff.foreign_requests() == []


def _consent_mail(mail_server: Any) -> Any:
    """The family's mail that asks for consent to the follow-up."""
    return wait_until(lambda: [m for m in mail_server.to(FAMILY)
                               if "/nachfrage/zustimmen/" in _text(m)])[-1]
