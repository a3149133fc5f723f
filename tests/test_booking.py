"""Bookable conversations, end to end: staff offer slots in the portal, the family
books one from the link in its mail, and both sides receive a calendar invitation
(``.ics`` read back with the icalendar package) that follows every move and
cancellation; mails go through the outbox to an SMTP server on loopback."""

from __future__ import annotations

from datetime import timedelta

from starlette.testclient import TestClient

from campaign.core.schema import booking_slots, bookings, outbox

from .support.app import count_in, deliver, rows_in, run, services
from .support.booking import booking_link, days_ahead, event, offer, slot_choices
from .support.leads import store_lead
from .support.portal import add_user, login
from .support.smtp import SMTPCatcher

FAMILY = "familie@example.org"
STAFF = "staff@olpe.example.org"
TOURISM = "neubuerger@sauerland-tourismus.example.org"


def _lead(client: TestClient, **data) -> int:
    data.setdefault("municipalities", ("olpe",))
    data.setdefault("consents", ("municipalities", "tourism"))
    return run(client, store_lead, services(client), **data).id  # type: ignore[no-any-return]


def _staff(client: TestClient, org: str = "olpe") -> str:
    email = add_user(client, org, email=f"staff@{org}.example.org")
    assert login(client, email).status_code == 303
    return email


def _three_slots(client: TestClient, lead_id: int) -> None:
    rows = [dict(zip(("day", "time"), days_ahead(client, n)), kind=kind, location=where)
            for n, kind, where in ((2, "phone", ""), (3, "video", "https://video.example.org/r"),
                                   (4, "onsite", "Rathaus Olpe, Franziskanerstraße 6"))]
    assert offer(client, lead_id, *rows).status_code == 303


def _sent(smtp: SMTPCatcher, to: str, kind_subject: str) -> list:
    return [m for m in smtp.to(to) if kind_subject in str(m["Subject"])]


def test_family_books_an_offered_slot_and_both_sides_get_the_same_invitation(
        mail_client: TestClient, smtp: SMTPCatcher):
    client = mail_client
    lead_id = _lead(client, language="nl")
    _staff(client)
    _three_slots(client, lead_id)
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
        assert page.status_code == 200 and '<html lang="nl">' in page.text
    assert count_in(client, bookings) == 0
    assert count_in(client, booking_slots, booking_slots.c.booked_by.isnot(None)) == 0
    assert rows_in(client, outbox) == before
    choices = slot_choices(page.text)
    assert len(choices) == 3 and "<fieldset" in page.text and "<legend>" in page.text

    client.cookies.clear()  # the mail link on another device: no cookie needed
    done = client.post(link, data={"action": "book", "slot": str(choices[1])})
    assert done.status_code == 303 and done.headers["location"] == link + "?erledigt=gebucht"
    assert "Jullie afspraak is geboekt" in client.get(done.headers["location"]).text
    deliver(client)

    [family] = [m for m in smtp.to(FAMILY) if m.get_content_type() == "multipart/mixed"]
    [staff] = smtp.to(STAFF)
    method_f, ev_f = event(family)
    method_s, ev_s = event(staff)
    assert method_f == method_s == "REQUEST"
    assert str(ev_f["UID"]) == str(ev_s["UID"])
    assert ev_f["SEQUENCE"] == ev_s["SEQUENCE"] == 0
    [slot] = rows_in(client, booking_slots, booking_slots.c.id == choices[1])
    assert ev_f.decoded("DTSTART") == ev_s.decoded("DTSTART") == slot.starts_at
    assert ev_f.decoded("DTEND") - ev_f.decoded("DTSTART") == timedelta(minutes=30)
    assert ev_f.decoded("DTEND") == ev_s.decoded("DTEND")
    assert str(ev_s["ORGANIZER"]) == f"mailto:{STAFF}"
    assert f"mailto:{FAMILY}" in [str(a) for a in ev_s["ATTENDEE"]] if isinstance(
        ev_s["ATTENDEE"], list) else str(ev_s["ATTENDEE"]) == f"mailto:{FAMILY}"
    assert str(ev_f["LOCATION"]) == "https://video.example.org/r"
    assert "Olpe" in str(ev_f["SUMMARY"]) and "Familie Muster" in str(ev_s["SUMMARY"])
    assert slot.booked_by == lead_id
