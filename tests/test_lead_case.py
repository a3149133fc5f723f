"""The lead as a case: one number everywhere it is mentioned, a link from every mail to
an organisation to the lead in the portal, times in Berlin, and nothing a person
reads (page, mail, CSV) shows "UTC" or a stored code."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from campaign.core import jobs
from campaign.core.vocab import CHILD_AGES, INTERESTS
from campaign.leads import booking, followup, forwarding, lifecycle
from campaign.leads.mails import self_service_url
from campaign.leads.records import lead_number, parse_lead_number
from campaign.portal.overdue import queue_overdue_reminders

from .support.app import deliver, run, services, shipped_content
from .support.booking import booking_link, days_ahead, offer, slot_choices
from .support.casework import act, clerk, sign_in
from .support.delivery import outbox_in
from .support.forms import LINK, click, csrf_of
from .support.leads import store_lead
from .support.portal import AGENCY, add_user, login
from .support.shown import codes_in, internal_codes, mail_text, page_text

# 23:30 UTC on 30 June is 01:30 on 1 July in Berlin (summer time, UTC+2).
CAME_IN = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
MANY: dict[str, Any] = {
    "name": "Familie Vielfalt", "email": "vielfalt@example.org", "phone": "+49 271 12345",
    "adults": 2, "children": 5, "child_ages": CHILD_AGES, "interests": INTERESTS,
    "timeframe": "one_to_three_years",
    "municipalities": ("bad-berleburg", "olpe", "wickede-ruhr", "bad-sassendorf", "wenden"),
    "consents": ("municipalities", "tourism", "skilled_workers", "agency"),
    "message": "Wir melden uns im Herbst.",
}


def test_the_number_is_the_year_in_berlin_and_the_id_and_reads_back():
    assert lead_number(42, datetime(2026, 3, 1, 9, 0, tzinfo=UTC)) == "L-2026-0042"
    # a lead from New Year's Eve 23:30 UTC came in on 1 January in Berlin
    assert lead_number(7, datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "L-2027-0007"
    assert lead_number(123456, datetime(2026, 3, 1, tzinfo=UTC)) == "L-2026-123456"
    for typed in ("L-2026-0042", "l-2026-42", " L 2026 0042 ", "2026-0042", "2026/42"):
        assert parse_lead_number(typed) == (2026, 42), typed
    assert parse_lead_number("42") == (None, 42) and parse_lead_number("L42") == (None, 42)
    for other in ("Müller", "", "L-", "0", "L-2026-0", "99999999999", "1e5", "٤٢",
                  "L-1850-0042", "42; DROP TABLE leads"):
        assert parse_lead_number(other) is None, other


def _csv(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")),
                               delimiter=";"))


def _check(where: str, text: str, codes: list[str], number: str) -> None:
    assert "UTC" not in text, where
    assert codes_in(text, codes) == [], where
    assert number in text, where


def test_nothing_a_person_reads_shows_utc_or_a_code_and_all_show_the_number(client):
    """A family choosing everything the form offers (English): its mails and
    /meine-daten; the organisations' lead, reminder, agency and withdrawal/erasure
    mails; the portal's list, lead page and CSV for a municipality and the agency."""
    svc = services(client)
    lead = run(client, store_lead, svc, at=CAME_IN, language="en", **MANY)
    number = lead.number
    assert number == f"L-2026-{lead.id:04d}"
    run(client, lifecycle.request_new_mail, svc, MANY["email"],
        jobs.Limit("test", 10, timedelta(hours=1)))
    run(client, forwarding.queue_reminders, svc, CAME_IN + timedelta(days=30))
    deliver(client)
    mails = {(m.kind, m.org): m for m in outbox_in(client)}
    kinds = {kind for kind, _org in mails}
    assert {"confirm", "selfservice", "lead", "reminder", "agency_note"} <= kinds
    recipients = {org for kind, org in mails if kind == "lead"}
    codes = internal_codes(shipped_content(), MANY["email"].split("@")[:1])
    assert {"kita_schule", "one_to_three_years", "3-5", "bad-berleburg", "olpe",
            "sauerland-tourismus", "familie"} <= set(codes)

    german_when, english_day = "01.07.2026, 01:30", "Jul 1, 2026"
    for (kind, org), mail in mails.items():
        text = mail_text(mail.message)
        _check(f"{kind} mail to {org or 'the family'}", text, codes, number)
        assert "30.06.2026" not in text and "Jun 30" not in text and "23:30" not in text
        if org is None:  # the family's mails, in English, say when it asked
            assert english_day in text and "1:30" in text, kind
        else:  # every mail to an organisation links to the lead in the portal
            assert german_when in text, (kind, org)
            assert f"http://testserver/partner/lead/{lead.id}" in text, (kind, org)

    self_service = next(p for p in LINK.findall(mail_text(mails["selfservice", None].message))
                        if "/meine-daten/" in p)
    page = client.get(self_service)
    assert page.status_code == 200
    text = page_text(page.text)
    _check("/meine-daten", text, codes, number)
    assert english_day in text and "1:30" in text and "Jun 30" not in text
    assert shipped_content().quizzes["familie"].title.get("en") in text  # not its slug

    # the pages the mails' links open: the family's confirmation, the clerk's receipt
    for key, part in ((("confirm", None), "/bestaetigen/"), (("lead", "olpe"), "/quittung/")):
        [path] = [p for p in LINK.findall(mail_text(mails[key].message)) if part in p]
        page = client.get(path)
        assert page.status_code == 200, path
        _check(part, page_text(page.text), codes, number)

    add_user(client, "olpe")
    add_user(client, AGENCY, role="admin")
    for user in ("staff@olpe.example.org", f"admin@{AGENCY}.example.org"):
        client.cookies.clear()
        login(client, user)
        for path in ("/partner/", f"/partner/lead/{lead.id}",
                     f"/partner/?q={number}"):
            page = client.get(path)
            assert page.status_code == 200, path
            text = page_text(page.text)
            _check(f"{path} for {user}", text, codes, number)
            assert "01.07.2026" in text and "30.06.2026" not in text
        export = client.get("/partner/export.csv")
        _check(f"CSV for {user}", export.content.decode("utf-8-sig"), codes, number)
        [row] = _csv(export)
        assert row["Nummer"] == number
        assert (row["Eingang"], row["Uhrzeit"]) == ("2026-07-01", "01:30")
        assert row["Telefon"] == "+49 271 12345"  # as written, no leading '
        assert row["Interessen"] == ("Kita und Schule, Wohnen, Arbeit, Arbeit in "
                                     "Medizin/Pflege, Freizeit, Natur")
        assert row["Zeitrahmen"] == "in ein bis drei Jahren"
        assert row["Altersgruppen"] == "0–2 Jahre, 3–5 Jahre, 6–9 Jahre, 10–13 Jahre, 14–17 Jahre"
        assert row["Gemeinden"] == "Bad Berleburg, Olpe, Wickede (Ruhr), Bad Sassendorf, Wenden"
        assert row["Sprache"] == "Englisch" and row["Quiz"] != "familie"

    # The family withdraws, then erases: each organisation is told, by number and link.
    assert run(client, lifecycle.withdraw, svc, lead.public_id)
    assert run(client, lifecycle.erase, svc, lead.public_id)
    deliver(client)
    notices = [m for m in outbox_in(client) if m.kind in ("withdrawn", "erased")]
    assert {(m.kind, m.org) for m in notices} == {
        (kind, org) for kind in ("withdrawn", "erased") for org in recipients}
    for mail in notices:
        text = mail_text(mail.message)
        _check(f"{mail.kind} notice to {mail.org}", text, codes, number)
        assert f"Anfrage Nr. {number} vom 01.07.2026" in text
        assert f"http://testserver/partner/lead/{lead.id}" in text
    client.cookies.clear()
    login(client, "staff@olpe.example.org")
    ended = client.get(f"/partner/lead/{lead.id}")
    assert ended.status_code == 410 and number in ended.text
    assert "Vielfalt" not in ended.text and "UTC" not in ended.text


def test_the_link_in_a_lead_mail_signs_the_clerk_in_and_lands_on_the_lead(client):
    svc = services(client)
    lead = run(client, store_lead, svc, municipalities=("olpe",), consents=("municipalities",))
    deliver(client)
    [mail] = [m for m in outbox_in(client) if m.kind == "lead"]
    [path] = set(re.findall(r"http://testserver(/partner/\S*)", mail_text(mail.message)))
    assert path == f"/partner/lead/{lead.id}"
    add_user(client, "olpe")
    away = client.get(path)  # not signed in yet
    assert away.status_code == 303
    assert away.headers["location"] == f"/partner/login?next=%2Fpartner%2Flead%2F{lead.id}"
    form = client.get(away.headers["location"])
    assert f'name="next" value="/partner/lead/{lead.id}"' in form.text
    wrong = client.post("/partner/login", data={"csrf_token": csrf_of(form.text),
                                                "email": "staff@olpe.example.org",
                                                "password": "falsch", "next": path})
    assert wrong.status_code == 400 and f'value="/partner/lead/{lead.id}"' in wrong.text
    signed_in = client.post("/partner/login", data={
        "csrf_token": csrf_of(form.text), "email": "staff@olpe.example.org",
        "password": "richtig-langes-passwort", "next": path})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == path
    assert lead.number in client.get(path).text


def test_sign_in_never_leads_off_the_portal(client):
    add_user(client, "olpe")
    for target in ("//evil.example/partner/", "https://evil.example/partner/lead/1",
                   "/\\evil.example", "/partner\\..\\x", "javascript:alert(1)",
                   "/partner/lead/1\r\nSet-Cookie: x=1", "/interesse",
                   "http://testserver/partner/", "/partner/" + "a" * 500):
        r = client.get("/partner/login", params={"next": target})
        assert r.status_code == 200 and 'name="next"' not in r.text, target
        r = client.post("/partner/login", data={
            "csrf_token": csrf_of(r.text), "email": "staff@olpe.example.org",
            "password": "richtig-langes-passwort", "next": target})
        assert r.status_code == 303 and r.headers["location"] == "/partner/", target


def test_meine_daten_and_the_lead_page_agree_on_the_day_in_berlin(client):
    """A German family's lead from 23:30 UTC on 30 June: 1 July, 01:30 on /meine-daten
    and on the portal's lead page alike."""
    svc = services(client)
    lead = run(client, store_lead, svc, at=CAME_IN, municipalities=("olpe",),
               consents=("municipalities",))
    url = self_service_url(svc.mailer, svc.settings.secret_key, lead.public_id, "de")
    mine = page_text(client.get(url.removeprefix("http://testserver")).text)
    assert f"Ihre Anfrage Nr. {lead.number} vom 01.07.2026, 01:30" in mine
    assert "Gemeldet am 1. Juli 2026" in mine and "30.06.2026" not in mine
    assert "30. Juni" not in mine
    add_user(client, "olpe")
    login(client, "staff@olpe.example.org")
    detail = page_text(client.get(f"/partner/lead/{lead.id}").text)
    assert f"Anfrage Nr. {lead.number}, eingegangen am 01.07.2026, 01:30" in detail
    assert "UTC" not in detail and "30.06.2026" not in detail


# Codes that are English words: no leak on an English page, but one on the German portal.
GERMAN_ONLY = ("phone", "video", "staff", "admin")


def test_the_workflows_pages_and_mails_show_no_utc_or_code(client):
    """After the lead itself: the contact, booking (offer, invitations, reminder,
    cancel), follow-up (consent question, questions) and overdue mails, the pages
    their links open, and the portal's slots, team, overdue, figures and profile
    pages. Mails and pages about the lead carry its number."""
    svc = services(client)
    svc.clock.stop(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    lead = run(client, store_lead, svc, language="en", **MANY)
    left_alone = run(client, store_lead, svc, language="en", **{**MANY, "email": "x@example.org",
                                                                "name": "Familie Still"})
    codes = internal_codes(shipped_content(), MANY["email"].split("@")[:1])
    assert {"onsite", "nicht_erreicht", "anderer_ort", "followup_ask",
            "overdue_admin"} <= set(codes)
    anna = clerk(client, "olpe", "Anna Beispiel")
    boss = clerk(client, "olpe", "Bernd Chef", role="admin", email="chef@olpe.example.org")
    token = sign_in(client, anna)
    assert act(client, token, lead.id, "uebernehmen").status_code == 303
    assert act(client, token, lead.id, "anruf", outcome="nicht_erreicht").status_code == 303
    rows = [{"day": d, "time": t, "kind": k, "location": w} for (d, t), k, w in (
        (days_ahead(client, 3), "phone", ""),
        (days_ahead(client, 4), "video", "https://video.example.org/r"),
        (days_ahead(client, 5), "onsite", "Rathaus Olpe"))]
    assert offer(client, lead.id, *rows).status_code == 303
    pages = {"slots page": f"/partner/lead/{lead.id}/termine"}
    deliver(client, now=svc.clock.now())
    offered = next(m for m in outbox_in(client) if m.kind == "booking_offer")
    booking_path = booking_link(email.message_from_bytes(offered.message,
                                                         policy=email.policy.default))
    family_pages = {"booking page": booking_path}
    [first, *_] = slot_choices(client.get(booking_path).text)
    assert client.post(booking_path, data={"action": "book", "slot": str(first)}
                       ).status_code == 303
    svc.clock.advance(timedelta(days=2, hours=1))  # the day before the conversation
    assert run(client, booking.queue_reminders, svc, svc.clock.now()) >= 1
    token = sign_in(client, anna)  # two days on, her session has run out
    cancelled = client.post(f"/partner/lead/{lead.id}/termine/absagen",
                            data={"csrf_token": token})
    assert cancelled.headers["location"].endswith("?saved=abgesagt")
    assert act(client, token, lead.id, "status", status="zugezogen").status_code == 303
    run(client, followup.run_due, svc)
    deliver(client, now=svc.clock.now())
    ask = next(m for m in outbox_in(client) if m.kind == "followup_ask")
    consent = [p for p in LINK.findall(mail_text(ask.message)) if "/zustimmen/" in p][0]
    family_pages["consent page"] = consent
    assert click(client, consent).status_code == 200
    svc.clock.advance(timedelta(days=366))
    run(client, followup.run_due, svc)
    run(client, queue_overdue_reminders, svc, svc.clock.now())  # the lead left alone
    svc.clock.advance(timedelta(days=4))  # past a weekend: a working day later
    run(client, queue_overdue_reminders, svc, svc.clock.now())  # … the admin hears
    deliver(client, now=svc.clock.now())
    asked = next(m for m in outbox_in(client) if m.kind == "followup")
    family_pages["questions page"] = next(p for p in LINK.findall(mail_text(asked.message))
                                          if "/zustimmen/" not in p)
    kinds = {m.kind for m in outbox_in(client)}
    assert {"contact", "booking_offer", "booking_invite", "booking_reminder", "booking_cancel",
            "followup_ask", "followup", "overdue", "overdue_admin"} <= kinds, kinds
    for mail in outbox_in(client):
        if mail.kind in ("confirm", "selfservice", "lead", "reminder", "agency_note"):
            continue  # the test above reads these
        text = mail_text(mail.message)
        assert "UTC" not in text and codes_in(text, codes) == [], mail.kind
        if mail.kind not in ("followup_ask", "followup"):  # a year on: no case number
            # (the other municipalities never answered the first family either)
            assert lead.number in text or left_alone.number in text, mail.kind
    for where, path in family_pages.items():
        page = client.get(path)
        assert page.status_code == 200, where
        text = page_text(page.text)
        assert "UTC" not in text and codes_in(text, codes) == [], where

    # the portal a year on: the clerk, her admin and the agency
    pages |= {"lead page": f"/partner/lead/{lead.id}", "figures": "/partner/statistik",
              "profile": "/partner/profil", "overdue list": "/partner/?ueberfaellig=1"}
    add_user(client, AGENCY, role="admin")
    for user, paths in ((anna, pages), (boss, {"team": "/partner/team", **pages}),
                        (f"admin@{AGENCY}.example.org", {"agency overdue": "/partner/ueberfaellig",
                                                          "figures": "/partner/statistik"})):
        sign_in(client, user)
        for where, path in paths.items():
            page = client.get(path)
            assert page.status_code == 200, (where, user)
            text = page_text(page.text)
            found = codes_in(text, [*codes, *GERMAN_ONLY])
            assert "UTC" not in text and found == [], (where, user, found)
    assert left_alone.number in page_text(client.get("/partner/ueberfaellig").text)
