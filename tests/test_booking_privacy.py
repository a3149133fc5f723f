"""Bookings belong to the lead. An erasure (by the family or by the retention purge)
cancels the bookings still to come for the organisations and removes the personal
parts of every booking (the number given for a call, the offers, the invitations
that named the family); a withdrawal cancels the bookings to come for both sides."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.testclient import TestClient

from campaign.core.schema import booking_slots, bookings, outbox, slot_offers
from campaign.leads import lifecycle
from campaign.leads.retention import months_before, purge
from campaign.leads.slots import booking_token

from .support.app import count_in, deliver, rows_in, run, services
from .support.booking import days_ahead, event, offer
from .support.files import mails_in, traces
from .support.leads import store_lead
from .support.portal import add_user, login

NAME, EMAIL = "Zoë Terminlos-Wüstenrot", "zoe.terminlos.4711@example.net"
CALL = "0171 5550 4711"  # given only for the call, on the booking page
STAFF, TOURISM_STAFF = "staff@olpe.example.org", "staff@sauerland-tourismus.example.org"


def _booked(client: TestClient, *, days: int = 5, **data: Any) -> Any:
    """A lead whose family booked a phone call with Olpe ``days`` ahead (number CALL)."""
    svc = services(client)
    lead = run(client, store_lead, svc, name=NAME, email=EMAIL, phone=None,
               municipalities=("olpe",), consents=("municipalities", "tourism"), **data)
    assert login(client, add_user(client, "olpe", email=STAFF)).status_code == 303
    day, at = days_ahead(client, days)
    assert offer(client, lead.id, {"day": day, "time": at}).status_code == 303
    (slot,) = rows_in(client, booking_slots)
    assert _book(client, lead, "olpe", slot.id, phone=CALL) == 303
    return lead


def _book(client: TestClient, lead: Any, org: str, slot_id: int, **extra: str) -> int:
    token = booking_token(services(client).settings.secret_key, lead.public_id, org)
    r = client.post(f"/termin/{token}", data={"action": "book", "slot": str(slot_id), **extra})
    return int(r.status_code)


def test_erasure_cancels_bookings_to_come_and_leaves_no_trace_of_them(client, settings):
    svc = services(client)
    lead = _booked(client)
    # a conversation with the tourism association tomorrow, which will have taken place
    assert login(client, add_user(client, "sauerland-tourismus", email=TOURISM_STAFF)
                 ).status_code == 303
    day, at = days_ahead(client, 1)
    assert offer(client, lead.id, {"day": day, "time": at, "kind": "onsite",
                                   "location": "Kurhaus, Winterberg"}).status_code == 303
    tourism_slot = max(s.id for s in rows_in(client, booking_slots))
    assert _book(client, lead, "sauerland-tourismus", tourism_slot) == 303
    deliver(client)
    assert set(traces(settings.files_dir, [NAME, EMAIL, CALL])) == {NAME, EMAIL, CALL}
    uid = {b.org: b.uid for b in rows_in(client, bookings)}

    svc.clock.advance(timedelta(days=2))
    erased_at = svc.clock.now()
    assert run(client, lifecycle.erase, svc, lead.public_id)
    by_org = {b.org: b for b in rows_in(client, bookings)}
    future, past = by_org["olpe"], by_org["sauerland-tourismus"]
    assert (future.status, future.cancelled_by, future.sequence) == ("cancelled", "erasure", 1)
    assert past.status == "booked" and past.sequence == 0  # it took place: it stays
    assert future.phone is None and past.phone is None
    assert count_in(client, slot_offers) == 0
    assert count_in(client, booking_slots, booking_slots.c.booked_by.isnot(None)) == 1
    (free,) = rows_in(client, booking_slots, booking_slots.c.org == "olpe")
    assert free.booked_by is None  # free for another family

    # only the host hears of it, without the family's data; the family gets nothing
    new = rows_in(client, outbox, outbox.c.created_at >= erased_at,
                  outbox.c.kind.like("booking%"))
    assert [(r.kind, r.recipient) for r in new] == [("booking_cancel", STAFF)]
    deliver(client, now=svc.clock.now())
    [cancel] = [m for m in mails_in(settings.mail_dir) if "abgesagt" in str(m["Subject"])]
    method, vevent = event(cancel)
    assert (method, str(vevent["UID"]), vevent["SEQUENCE"]) == ("CANCEL", uid["olpe"], 1)
    assert "ATTENDEE" not in vevent
    assert "Daten löschen lassen" in cancel.get_body(("plain",)).get_content()
    assert traces(settings.files_dir, [NAME, EMAIL, CALL]) == {}
    for row in rows_in(client, outbox):
        assert not any(v.encode() in row.message for v in (NAME, EMAIL, CALL)), row.kind


def test_anonymising_an_old_lead_cancels_its_bookings_to_come(client, settings):
    svc = services(client)
    now = svc.clock.now()
    lead = _booked(client, at=months_before(now, 24) - timedelta(days=1))
    assert run(client, purge, svc.db, settings, now)["anonymised"] == 1
    (row,) = rows_in(client, bookings)
    assert (row.status, row.cancelled_by, row.phone) == ("cancelled", "erasure", None)
    cancels = rows_in(client, outbox, outbox.c.kind == "booking_cancel")
    assert [r.recipient for r in cancels] == [STAFF]
    deliver(client)
    assert traces(settings.files_dir, [NAME, EMAIL, CALL]) == {}
    token = booking_token(svc.settings.secret_key, lead.public_id, "olpe")
    assert client.get(f"/termin/{token}").status_code == 410


def test_withdrawal_cancels_the_booking_for_both_sides(client, settings):
    svc = services(client)
    lead = _booked(client)
    deliver(client)
    assert run(client, lifecycle.withdraw, svc, lead.public_id)
    (row,) = rows_in(client, bookings)
    assert (row.status, row.cancelled_by) == ("cancelled", "withdrawal")
    deliver(client)
    cancels = [m for m in mails_in(settings.mail_dir)
               if any(p.get_content_type() == "text/calendar" for p in m.walk())
               and event(m)[0] == "CANCEL"]
    assert sorted(str(m["To"]).rpartition("<")[2].rstrip(">") for m in cancels) == sorted(
        [EMAIL, STAFF])
    [staff] = [m for m in cancels if STAFF in str(m["To"])]
    assert "Einwilligung widerrufen" in staff.get_body(("plain",)).get_content()
    # the organisation no longer sees the family: the notice names the lead by its number
    assert "ATTENDEE" not in event(staff)[1] and staff["Reply-To"] is None
    shown = staff.get_body(("plain",)).get_content() + event(staff)[1].to_ical().decode()
    assert f"Anfrage Nr. {lead.number}" in shown
    assert not any(v in shown for v in (NAME, EMAIL, CALL))
    [family] = [m for m in cancels if EMAIL in str(m["To"])]
    assert str(event(family)[1]["ATTENDEE"]) == f"mailto:{EMAIL}"  # its own copy names it
    token = booking_token(svc.settings.secret_key, lead.public_id, "olpe")
    page = client.get(f"/termin/{token}")
    assert page.status_code == 410 and "gebuchte Termine sind abgesagt" in page.text
    assert _book(client, lead, "olpe", row.slot_id) == 410
