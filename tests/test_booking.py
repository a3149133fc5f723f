"""Bookable conversations, end to end: staff offer slots in the portal, the family
books one from the link in its mail, and both sides receive a calendar invitation
(``.ics`` read back with the icalendar package) that follows every move and
cancellation; mails go through the outbox to an SMTP server on loopback."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from campaign.core import jobs
from campaign.core.schema import booking_slots, bookings, outbox
from campaign.leads import booking, lifecycle
from campaign.leads.slots import booking_token
from campaign.web import app as web_app

from .support.app import count_in, deliver, rows_in, run, services
from .support.booking import (
    booking_link,
    days_ahead,
    event,
    offer,
    old_booking_token,
    slot_choices,
)
from .support.leads import store_lead
from .support.pages import head
from .support.portal import add_user, csrf, login
from .support.smtp import SMTPCatcher

FAMILY = "familie@example.org"
STAFF = "staff@olpe.example.org"
TOURISM = "neubuerger@sauerland-tourismus.example.org"


def _lead(client: TestClient, **data: Any) -> Any:
    data.setdefault("municipalities", ("olpe",))
    data.setdefault("consents", ("municipalities", "tourism"))
    return run(client, store_lead, services(client), **data)


def _staff(client: TestClient, org: str = "olpe") -> str:
    email = add_user(client, org, email=f"staff@{org}.example.org")
    assert login(client, email).status_code == 303
    return email


def _row(client: TestClient, days: int, kind: str = "phone", where: str = "", **extra: str
         ) -> dict[str, str]:
    day, at = days_ahead(client, days)
    return {"day": day, "time": at, "kind": kind, "location": where, **extra}


def _three_slots(client: TestClient, lead_id: int) -> list[int]:
    """Three slots offered to the lead (phone, video, on site); their ids, soonest first."""
    assert offer(client, lead_id, _row(client, 2),
                 _row(client, 3, "video", "https://video.example.org/r"),
                 _row(client, 4, "onsite", "Rathaus Olpe, Franziskanerstraße 6")
                 ).status_code == 303
    return [s.id for s in sorted(rows_in(client, booking_slots), key=lambda s: s.starts_at)]


def _link(client: TestClient, lead: Any, org: str = "olpe", prefix: str = "") -> str:
    token = booking_token(services(client).settings.secret_key, lead.public_id, org)
    return f"{prefix}/termin/{token}"


def _slot(client: TestClient, slot_id: int) -> Any:
    (found,) = rows_in(client, booking_slots, booking_slots.c.id == slot_id)
    return found


def _invites(smtp: SMTPCatcher, to: str) -> list[tuple[str, Any]]:
    """(METHOD, VEVENT) of every calendar mail ``to`` received, oldest first."""
    return [event(m) for m in smtp.to(to) if m.get_content_type() == "multipart/mixed"]


def test_family_books_an_offered_slot_and_both_sides_get_the_same_invitation(
        mail_client: TestClient, smtp: SMTPCatcher):
    client = mail_client
    lead = _lead(client, language="nl")
    _staff(client)
    slots = _three_slots(client, lead.id)
    deliver(client)
    [offer_mail] = [m for m in smtp.to(FAMILY) if "Olpe" in str(m["Subject"])]
    assert "gesprek" in str(offer_mail["Subject"]).lower()  # Dutch, the family's language
    link = booking_link(offer_mail)
    assert link.startswith("/nl/termin/")

    # opening the link (a mail scanner, the family) changes nothing
    before = rows_in(client, outbox)
    for _ in range(2):
        assert client.head(link).status_code == 200
        page = client.get(link)
        assert page.status_code == 200 and head(page.text).lang == "nl"
    assert count_in(client, bookings) == 0
    assert count_in(client, booking_slots, booking_slots.c.booked_by.isnot(None)) == 0
    assert rows_in(client, outbox) == before
    assert slot_choices(page.text) == slots
    assert "<fieldset" in page.text and "<legend>Kies een tijd</legend>" in page.text

    client.cookies.clear()  # the mail link on another device: no cookie needed
    done = client.post(link, data={"action": "book", "slot": str(slots[1])})
    assert done.status_code == 303 and done.headers["location"] == link + "?erledigt=gebucht"
    assert "Jullie afspraak is geboekt" in client.get(done.headers["location"]).text
    deliver(client)

    [(method_f, family)] = _invites(smtp, FAMILY)
    [(method_s, staff)] = _invites(smtp, STAFF)
    assert method_f == method_s == "REQUEST"
    assert str(family["UID"]) == str(staff["UID"])
    assert family["SEQUENCE"] == staff["SEQUENCE"] == 0
    slot = _slot(client, slots[1])
    assert family.decoded("DTSTART") == staff.decoded("DTSTART") == slot.starts_at
    assert family.decoded("DTEND") == staff.decoded("DTEND") == slot.starts_at + timedelta(
        minutes=30)
    assert str(staff["ORGANIZER"]) == f"mailto:{STAFF}"
    assert str(staff["ATTENDEE"]) == str(family["ATTENDEE"]) == f"mailto:{FAMILY}"
    assert str(family["LOCATION"]) == "https://video.example.org/r"
    assert "Olpe" in str(family["SUMMARY"]) and "Familie Muster" in str(staff["SUMMARY"])
    assert slot.booked_by == lead.id
    assert not _invites(smtp, TOURISM)  # not a three-way slot (it got the lead mail only)


def test_a_move_keeps_the_uid_raises_the_sequence_and_a_cancel_sends_method_cancel(
        mail_client: TestClient, smtp: SMTPCatcher):
    client = mail_client
    lead = _lead(client)
    _staff(client)
    first, second, third = _three_slots(client, lead.id)
    link = _link(client, lead)
    assert client.post(link, data={"action": "book", "slot": str(first)}).status_code == 303
    moved = client.post(link, data={"action": "book", "slot": str(second)})
    assert moved.headers["location"] == link + "?erledigt=verlegt"
    assert _slot(client, first).booked_by is None and _slot(client, second).booked_by == lead.id
    # staff move it again in the portal
    page = client.get(f"/partner/lead/{lead.id}/termine")
    assert "Gebuchter Termin" in page.text
    r = client.post(f"/partner/lead/{lead.id}/termine/verlegen",
                    data={"csrf_token": csrf(client), "slot": str(third)})
    assert r.status_code == 303 and r.headers["location"].endswith("?saved=verlegt")
    # and the family cancels
    gone = client.post(link, data={"action": "cancel"})
    assert gone.headers["location"] == link + "?erledigt=abgesagt"
    deliver(client)

    for address in (FAMILY, STAFF):
        sent = _invites(smtp, address)
        assert [m for m, _ in sent] == ["REQUEST", "REQUEST", "REQUEST", "CANCEL"], address
        assert len({str(e["UID"]) for _, e in sent}) == 1
        assert [e["SEQUENCE"] for _, e in sent] == [0, 1, 2, 3]
        assert [e.decoded("DTSTART") for _, e in sent] == [
            _slot(client, i).starts_at for i in (first, second, third, third)]
        assert str(sent[-1][1]["STATUS"]) == "CANCELLED"
    assert all(_slot(client, i).booked_by is None for i in (first, second, third))
    assert slot_choices(client.get(link).text) == [first, second, third]  # free again
    (row,) = rows_in(client, bookings)
    assert (row.status, row.cancelled_by, row.sequence) == ("cancelled", "family", 3)


def test_staff_cancel_in_the_portal_and_a_new_booking_is_a_new_event(
        mail_client: TestClient, smtp: SMTPCatcher):
    client = mail_client
    lead = _lead(client)
    _staff(client)
    first, second, _third = _three_slots(client, lead.id)
    link = _link(client, lead)
    client.post(link, data={"action": "book", "slot": str(first)})
    r = client.post(f"/partner/lead/{lead.id}/termine/absagen",
                    data={"csrf_token": csrf(client)})
    assert r.status_code == 303 and r.headers["location"].endswith("?saved=abgesagt")
    client.post(link, data={"action": "book", "slot": str(second)})
    deliver(client)
    for address in (FAMILY, STAFF):
        sent = _invites(smtp, address)
        assert [(m, e["SEQUENCE"]) for m, e in sent] == [("REQUEST", 0), ("CANCEL", 1),
                                                          ("REQUEST", 0)]
        assert str(sent[0][1]["UID"]) == str(sent[1][1]["UID"]) != str(sent[2][1]["UID"])
    [cancel_mail] = [m for m in smtp.to(STAFF) if "abgesagt" in str(m["Subject"])]
    assert "im Partnerportal abgesagt" in cancel_mail.get_body(("plain",)).get_content()
    # a second cancel in the portal finds nothing booked any more after this one
    client.post(f"/partner/lead/{lead.id}/termine/absagen", data={"csrf_token": csrf(client)})
    again = client.post(f"/partner/lead/{lead.id}/termine/absagen",
                        data={"csrf_token": csrf(client)})
    assert again.status_code == 409 and "Es ist kein Termin gebucht." in again.text


def test_a_three_way_partner_is_invited_and_told_when_the_booking_moves_away(
        mail_client: TestClient, smtp: SMTPCatcher):
    client = mail_client
    lead = _lead(client, language="en")
    _staff(client)
    assert offer(client, lead.id, _row(client, 2, partner="sauerland-tourismus"),
                 _row(client, 3)).status_code == 303
    three_way, plain = (s.id for s in sorted(rows_in(client, booking_slots),
                                             key=lambda s: s.starts_at))
    link = _link(client, lead, prefix="/en")
    page = client.get(link)
    assert "together with Sauerland-Tourismus" in page.text
    assert "receives the invitation with your name and e-mail address" in page.text
    client.post(link, data={"action": "book", "slot": str(three_way)})
    client.post(link, data={"action": "book", "slot": str(plain)})
    deliver(client)
    partner = _invites(smtp, TOURISM)
    assert [(m, e["SEQUENCE"]) for m, e in partner] == [("REQUEST", 0), ("CANCEL", 1)]
    family = _invites(smtp, FAMILY)
    assert str(partner[0][1]["UID"]) == str(family[0][1]["UID"])
    assert partner[0][1].decoded("DTSTART") == family[0][1].decoded("DTSTART")
    attendees = [str(a) for a in family[0][1]["ATTENDEE"]]
    assert attendees == [f"mailto:{FAMILY}", f"mailto:{TOURISM}"]
    assert [(m, e["SEQUENCE"]) for m, e in family] == [("REQUEST", 0), ("REQUEST", 1)]
    [first] = [m for m in smtp.to(FAMILY) if "Booked" in str(m["Subject"])]
    assert "together with Sauerland-Tourismus" in first.get_body(("plain",)).get_content()


def test_the_reminder_goes_out_once_the_day_before_to_both_sides(client: TestClient,
                                                                  monkeypatch):
    svc = services(client)
    svc.clock.stop(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    lead = _lead(client)
    _staff(client)
    assert offer(client, lead.id, _row(client, 3), _row(client, 4)).status_code == 303
    soon, later = (s.id for s in sorted(rows_in(client, booking_slots),
                                        key=lambda s: s.starts_at))
    client.post(_link(client, lead), data={"action": "book", "slot": str(soon)})
    start = _slot(client, soon).starts_at

    def reminders() -> list[Any]:
        return rows_in(client, outbox, outbox.c.kind == "booking_reminder")

    svc.clock.advance(start - timedelta(hours=25) - svc.clock.now())
    assert run(client, booking.queue_reminders, svc, svc.clock.now()) == 0
    svc.clock.advance(timedelta(hours=2))  # 23 hours before

    async def two_instances() -> list[int]:
        return list(await asyncio.gather(*(booking.queue_reminders(svc, svc.clock.now())
                                           for _ in range(2))))

    assert sorted(client.portal.call(two_instances)) == [0, 1]
    assert run(client, booking.queue_reminders, svc, svc.clock.now()) == 0
    assert sorted(r.recipient for r in reminders()) == [FAMILY, STAFF]
    deliver(client, now=svc.clock.now())
    assert all(r.status == "sent" and b"Erinnerung" in r.message for r in reminders())
    # moved to the next day: reminded again, the day before the new time
    client.post(_link(client, lead), data={"action": "book", "slot": str(later)})
    assert run(client, booking.queue_reminders, svc, svc.clock.now()) == 0
    svc.clock.advance(timedelta(days=1))
    assert run(client, booking.queue_reminders, svc, svc.clock.now()) == 1

    # the app runs it as a periodic job, once across instances
    scheduled: dict[str, Any] = {}

    async def capture(db, clock, name, every, job, *, poll=60.0, first_delay=0.0):
        scheduled[name] = (every, job)

    async def no_worker(*args: Any, **kwargs: Any) -> None:
        return None

    monkeypatch.setattr(jobs, "run_periodically", capture)
    monkeypatch.setattr(web_app, "run_forever", no_worker)
    for start_job in web_app.background_jobs(svc):
        run(client, start_job)
    every, job = scheduled["booking_reminders"]
    assert every <= timedelta(hours=1)
    run(client, job)  # runs, finds nothing more to send
    assert len(reminders()) == 4


def test_reminder_rule_is_a_day_ahead_and_not_for_a_fresh_booking():
    start = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
    booked = start - timedelta(days=3)
    assert not booking.reminder_due(start, booked, start - timedelta(hours=25))
    assert booking.reminder_due(start, booked, start - timedelta(hours=24))
    assert booking.reminder_due(start, booked, start - timedelta(minutes=1))
    assert not booking.reminder_due(start, booked, start)
    assert not booking.reminder_due(start, start - timedelta(hours=20),
                                    start - timedelta(hours=2))


def _two_families(client: TestClient) -> tuple[Any, Any, list[int]]:
    """A German and an English family, both offered the same two slots."""
    first = _lead(client)
    second = _lead(client, language="en", email="family@example.com", name="Family Two")
    _staff(client)
    assert offer(client, first.id, _row(client, 2), _row(client, 3)).status_code == 303
    slots = [s.id for s in sorted(rows_in(client, booking_slots), key=lambda s: s.starts_at)]
    assert offer(client, second.id, existing=tuple(slots)).status_code == 303
    return first, second, slots


def test_two_families_clicking_the_same_slot_at_once_one_gets_it(client: TestClient):
    first, second, slots = _two_families(client)
    links = [_link(client, first), _link(client, second, prefix="/en")]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(
            lambda link: client.post(link, data={"action": "book", "slot": str(slots[0])}),
            links))
    assert sorted(a.status_code for a in answers) == [303, 409]
    winner = [lead for lead, a in zip((first, second), answers) if a.status_code == 303][0]
    loser = answers[0] if answers[0].status_code == 409 else answers[1]
    assert _slot(client, slots[0]).booked_by == winner.id
    assert count_in(client, bookings) == 1
    # the other family is told, in its language, and offered what is left
    if loser is answers[1]:
        assert head(loser.text).lang == "en" and "This slot has just been taken" in loser.text
    else:
        assert head(loser.text).lang == "de"
        assert "Dieser Termin ist gerade vergeben worden" in loser.text
    assert slot_choices(loser.text) == [slots[1]]
    assert count_in(client, outbox, outbox.c.kind == "booking_invite") == 2  # family + staff


def test_many_families_booking_one_slot_at_once_book_it_once(client: TestClient):
    svc = services(client)
    families = [_lead(client, email=f"family{i}@example.org") for i in range(6)]
    _staff(client)
    assert offer(client, families[0].id, _row(client, 2)).status_code == 303
    (slot,) = rows_in(client, booking_slots)
    for lead in families[1:]:
        assert offer(client, lead.id, existing=(slot.id,)).status_code == 303

    async def at_once() -> list[str]:
        return list(await asyncio.gather(*(booking.book(svc, lead.public_id, "olpe", slot.id,
                                                        None) for lead in families)))

    outcomes = client.portal.call(at_once)
    assert sorted(outcomes) == ["booked"] + ["taken"] * 5
    winner = families[outcomes.index("booked")]
    assert _slot(client, slot.id).booked_by == winner.id
    assert [(b.lead_id, b.status) for b in rows_in(client, bookings)] == [(winner.id, "booked")]


def test_one_family_double_clicking_two_slots_keeps_one_booking(client: TestClient):
    svc = services(client)
    lead = _lead(client)
    _staff(client)
    slots = _three_slots(client, lead.id)

    async def clicks() -> list[str]:
        return list(await asyncio.gather(*(booking.book(svc, lead.public_id, "olpe", s, None)
                                           for s in slots)))

    outcomes = client.portal.call(clicks)
    assert outcomes.count("booked") == 1 and outcomes.count("moved") == 2
    (row,) = rows_in(client, bookings)
    assert row.sequence == 2
    assert [s for s in slots if _slot(client, s).booked_by == lead.id] == [row.slot_id]


@pytest.mark.parametrize("prefix,lang,text", [
    ("", "de", "Dieser Link ist ungültig"), ("/nl", "nl", "Deze link is ongeldig"),
    ("/en", "en", "This link is not valid")])
def test_bad_links_answer_a_page_in_the_links_language(client: TestClient, prefix, lang, text):
    for token in ("abc", "eyJsIjoieCJ9.e30.x", "x" * 5000):
        for method in ("GET", "HEAD", "POST"):
            r = client.request(method, f"{prefix}/termin/{token}",
                               data={"action": "book", "slot": "1"} if method == "POST" else None)
            assert r.status_code in (400, 404), (token[:20], method, r.status_code)
            if method != "HEAD" and r.status_code == 400:
                assert head(r.text).lang == lang and text in r.text
    assert count_in(client, bookings) == 0


def test_expired_withdrawn_and_foreign_links_answer_a_page_never_an_error(client: TestClient):
    svc = services(client)
    lead = _lead(client, language="en")
    other = _lead(client, email="other@example.org")
    link = _link(client, lead, prefix="/en")
    assert client.get(link).status_code == 200
    # a link for an organisation that never received the lead
    foreign = client.get(_link(client, lead, org="attendorn", prefix="/en"))
    assert foreign.status_code == 404 and "There are no appointments for this link" in foreign.text
    # withdrawn: gone, for GET and POST
    run(client, lifecycle.withdraw, svc, other.public_id)
    for method in ("GET", "POST"):
        r = client.request(method, _link(client, other), data={"action": "cancel"})
        assert r.status_code == 410 and "Diese Anfrage gibt es nicht mehr" in r.text
    # expired after 90 days, in the family's language
    secret = svc.settings.secret_key
    assert client.get("/en/termin/" + old_booking_token(secret, lead.public_id, "olpe", 89)
                      ).status_code == 200
    expired = "/en/termin/" + old_booking_token(secret, lead.public_id, "olpe", 91)
    for method in ("GET", "POST"):
        r = client.request(method, expired, data={"action": "book", "slot": "1"})
        assert r.status_code == 410 and head(r.text).lang == "en"
        assert "This link has expired" in r.text


def test_hostile_booking_posts_never_fail_and_book_only_what_was_offered(client: TestClient):
    first = _lead(client)
    second = _lead(client, email="second@example.org")
    _staff(client)
    offered = _three_slots(client, first.id)
    assert offer(client, second.id, _row(client, 5)).status_code == 303
    not_offered = max(s.id for s in rows_in(client, booking_slots))
    link = _link(client, first)
    bodies: list[dict[str, Any]] = [
        {}, {"action": "book"}, {"action": "book", "slot": "abc"},
        {"action": "book", "slot": "9" * 5000}, {"action": "book", "slot": "-1"},
        {"action": "book", "slot": str(not_offered)}, {"action": "book", "slot": "0"},
        {"action": "x" * 100, "slot": str(offered[0])},
        {"action": "book", "slot": str(offered[0]), "phone": "call me\r\nBcc: x@y"},
        {"action": "book", "slot": str(offered[0]), "phone": "1" * 500},
        {"action": "cancel"}, {"action": "cancel", "slot": "1"},
    ]
    for body in bodies:
        r = client.post(link, data=body)
        assert r.status_code in (303, 400, 409), (body, r.status_code)
    assert count_in(client, bookings) == 0
    assert _slot(client, not_offered).booked_by is None
    r = client.post(link, data={"action": "book", "slot": str(not_offered)})
    assert r.status_code == 409 and "Dieser Termin ist nicht mehr frei" in r.text
    bad_phone = client.post(link, data={"action": "book", "slot": str(offered[0]),
                                        "phone": "ruft mich an"})
    assert bad_phone.status_code == 400 and 'aria-invalid="true"' in bad_phone.text
    # a repeated field counts once (one of its values): one booking, one slot taken
    twice = client.post(link, data={"action": "book", "slot": [str(offered[1]), str(offered[2])]})
    assert twice.status_code == 303
    (row,) = rows_in(client, bookings)
    assert row.slot_id in offered[1:] and row.status == "booked"
    assert count_in(client, booking_slots, booking_slots.c.booked_by.isnot(None)) == 1
