"""The portal side of bookable conversations: only an organisation that received a
lead offers it slots and changes its booking; the slot form refuses what it cannot
use (in German, keeping what was typed) and stores nothing then. Times are typed in
Berlin time and stored in UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from campaign.core.schema import booking_slots, bookings, outbox
from campaign.leads import lifecycle
from campaign.leads.slots import KINDS, booking_token
from campaign.portal import slots

from .support.app import count_in, rows_in, run, services
from .support.booking import days_ahead, offer, slot_choices
from .support.leads import store_lead
from .support.portal import AGENCY, add_user, csrf, login


def _lead(client: TestClient, **data):
    return run(client, store_lead, services(client), municipalities=("olpe",),
               consents=("municipalities",), **data)


def test_only_the_receiving_organisation_offers_and_changes_slots(client: TestClient):
    lead = _lead(client)
    pages = f"/partner/lead/{lead.id}/termine"
    assert client.get(pages).headers["location"].startswith("/partner/login?")  # signed in only
    day, at = days_ahead(client, 2)
    form = {"day-1": day, "time-1": at, "minutes-1": "30", "kind-1": "phone"}

    login(client, add_user(client, "attendorn"))  # another town: the lead is not its own
    assert client.get(pages).status_code == 404
    for path in ("", "/verlegen", "/absagen"):
        r = client.post(pages + path, data={"csrf_token": csrf(client), "slot": "1", **form})
        assert r.status_code == 404, path

    login(client, add_user(client, AGENCY, role="admin"))  # sees every lead, received not this
    page = client.get(pages)
    assert page.status_code == 200 and "nicht erhalten" in page.text
    assert 'name="day-1"' not in page.text
    assert client.post(pages, data={"csrf_token": csrf(client), **form}).status_code == 404
    assert count_in(client, booking_slots) == 0 and count_in(client, bookings) == 0

    login(client, add_user(client, "olpe"))
    lead_page = client.get(f"/partner/lead/{lead.id}")
    assert f'href="{pages}"' in lead_page.text and "Gesprächstermine" in lead_page.text
    assert client.post(pages, data={"csrf_token": "forged", **form}).status_code == 400
    assert client.post(pages, data={"csrf_token": csrf(client), **form}).status_code == 303
    assert count_in(client, outbox, outbox.c.kind == "booking_offer") == 1
    run(client, lifecycle.withdraw, services(client), lead.public_id)
    assert client.get(pages).status_code == 404  # withdrawn leads never show


@pytest.mark.parametrize("row,field,message", [
    ({"day": "2026-11-30", "time": "10:00"}, "day-1", "in der Zukunft"),
    ({"day": "2027-03-28", "time": "02:30"}, "time-1", "Sommerzeit"),
    ({"day": "31.02.2027", "time": "10:00"}, "day-1", "Datum wie"),
    ({"day": "2027-01-05", "time": "25:00"}, "time-1", "Uhrzeit wie"),
    ({"day": "2028-06-05", "time": "10:00"}, "day-1", "ein Jahr im Voraus"),
    ({"day": "2027-01-05", "time": "10:00", "minutes": "7"}, "minutes-1", "Dauer"),
    ({"day": "2027-01-05", "time": "10:00", "kind": "fax"}, "kind-1", "Art aus der Liste"),
    ({"day": "2027-01-05", "time": "10:00", "kind": "video", "location": "Zoom"},
     "location-1", "https://"),
    ({"day": "2027-01-05", "time": "10:00", "kind": "onsite"}, "location-1", "Treffpunkt"),
    ({"day": "2027-01-05", "time": "10:00", "location": "a\u2028b"}, "location-1",
     "Zeilenumbrüche"),
    ({"day": "2027-01-05", "time": "10:00", "partner": "tvsw"}, "partner-1", "Stelle"),
    ({}, "day-1", "wählen Sie einen freien aus"),
])
def test_the_slot_form_refuses_bad_input_keeps_it_and_stores_nothing(client, row, field,
                                                                       message):
    services(client).clock.stop(datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
    lead = _lead(client)
    login(client, add_user(client, "olpe"))
    r = offer(client, lead.id, row) if row else offer(client, lead.id)
    assert r.status_code == 400
    assert f'href="#{field}"' in r.text and message in r.text  # the summary links the field
    assert f'id="{field}"' in r.text and 'aria-invalid="true"' in r.text
    if row.get("day"):
        assert f'value="{row["day"]}"' in r.text  # what was typed is kept
    assert count_in(client, booking_slots) == 0
    assert count_in(client, outbox, outbox.c.kind == "booking_offer") == 0


def test_times_are_typed_in_berlin_time_and_stored_in_utc(client):
    services(client).clock.stop(datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
    lead = _lead(client)
    login(client, add_user(client, "olpe"))
    r = offer(client, lead.id, {"day": "05.01.2027", "time": "9.30"},
              {"day": "2027-07-01", "time": "10:00", "kind": "video",
               "location": "https://video.example.org/raum"},
              {"day": "2027-10-31", "time": "02:30", "kind": "onsite", "location": "Rathaus"})
    assert r.status_code == 303 and r.headers["location"].endswith("?saved=angeboten")
    starts = sorted(s.starts_at for s in rows_in(client, booking_slots))
    assert starts == [datetime(2027, 1, 5, 8, 30, tzinfo=UTC),  # winter: UTC+1
                      datetime(2027, 7, 1, 8, 0, tzinfo=UTC),  # summer: UTC+2
                      datetime(2027, 10, 31, 0, 30, tzinfo=UTC)]  # twice that night: the first
    page = client.get(r.headers["location"])
    assert "05.01.2027, 09:30" in page.text and "UTC" not in page.text.split("<main")[1]
    assert count_in(client, outbox, outbox.c.kind == "booking_offer") == 1
    # offering the same slots again offers nothing new and sends no second mail
    ids = tuple(s.id for s in rows_in(client, booking_slots))
    assert offer(client, lead.id, existing=ids).status_code == 303
    assert count_in(client, outbox, outbox.c.kind == "booking_offer") == 1


def test_staff_book_a_slot_for_the_family_and_a_call_needs_its_number(client):
    lead = _lead(client, phone=None)
    login(client, add_user(client, "olpe"))
    day, at = days_ahead(client, 2)
    assert offer(client, lead.id, {"day": day, "time": at},
                 {"day": day, "time": "15:00", "kind": "video",
                  "location": "https://video.example.org/r"}).status_code == 303
    call, video = (s.id for s in sorted(rows_in(client, booking_slots),
                                        key=lambda s: s.starts_at))
    pages = f"/partner/lead/{lead.id}/termine"
    r = client.post(pages + "/verlegen", data={"csrf_token": csrf(client), "slot": str(call)})
    assert r.status_code == 409 and "fehlt die Telefonnummer" in r.text
    r = client.post(pages + "/verlegen", data={"csrf_token": csrf(client), "slot": "x"})
    assert r.status_code == 400 and "Bitte wählen Sie einen freien Termin aus." in r.text
    r = client.post(pages + "/verlegen", data={"csrf_token": csrf(client), "slot": str(video)})
    assert r.status_code == 303 and r.headers["location"].endswith("?saved=gebucht")
    (row,) = rows_in(client, bookings)
    assert (row.slot_id, row.status) == (video, "booked")
    invites = rows_in(client, outbox, outbox.c.kind == "booking_invite")
    assert sorted(r.recipient for r in invites) == ["familie@example.org",
                                                    "staff@olpe.example.org"]
    page = client.get(pages)
    assert "https://video.example.org/r" in page.text and "Termin absagen" in page.text


def test_staff_withdraw_a_free_slot_but_never_a_booked_one(client):
    lead = _lead(client)
    login(client, add_user(client, "olpe"))
    day, at = days_ahead(client, 2)
    assert offer(client, lead.id, {"day": day, "time": at},
                 {"day": day, "time": "15:00"}).status_code == 303
    first, second = (s.id for s in sorted(rows_in(client, booking_slots),
                                          key=lambda s: s.starts_at))
    token = booking_token(services(client).settings.secret_key, lead.public_id, "olpe")
    assert client.post(f"/termin/{token}", data={"action": "book", "slot": str(first)}
                       ).status_code == 303
    remove = f"/partner/lead/{lead.id}/termine/zurueckziehen"
    r = client.post(remove, data={"csrf_token": csrf(client), "slot": str(first)})
    assert r.status_code == 409 and "gebucht oder schon zurückgezogen" in r.text
    r = client.post(remove, data={"csrf_token": csrf(client), "slot": str(second)})
    assert r.status_code == 303 and r.headers["location"].endswith("?saved=zurueckgezogen")
    assert "zurückgezogen" in client.get(r.headers["location"]).text
    assert slot_choices(client.get(f"/termin/{token}").text) == []  # only the booked one left
    moved = client.post(f"/termin/{token}", data={"action": "book", "slot": str(second)})
    assert moved.status_code == 409
    assert [b.slot_id for b in rows_in(client, bookings)] == [first]
    login(client, add_user(client, "attendorn"))
    assert client.post(remove, data={"csrf_token": csrf(client), "slot": str(second)}
                       ).status_code == 404


NASTY = ["", " ", "\x00", "\r\nBcc: victim@example.org", "<script>x</script>", "9" * 400,
         "-1", "1e309", "😀" * 60, "\u202e\u200b", "ä" * 3000, "2027-02-29", "29.02.2028",
         "00:00", "23:59", "2026-12-02", "video", "onsite", "tvsw", "https://x", "15", "90"]


def test_hostile_slot_forms_never_fail_and_store_only_valid_slots(client):
    services(client).clock.stop(datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
    lead = _lead(client)
    login(client, add_user(client, "olpe"))
    pages = f"/partner/lead/{lead.id}/termine"
    base = {"day-1": "2027-01-05", "time-1": "10:00", "minutes-1": "30", "kind-1": "phone",
            "location-1": "", "partner-1": "", "day-2": "2027-01-06", "time-2": "11:00",
            "minutes-2": "45", "kind-2": "onsite", "location-2": "Rathaus",
            "partner-2": "fachkraefte"}
    token = csrf(client)
    values = st.one_of(st.sampled_from(NASTY), st.text(max_size=30))

    @hsettings(max_examples=30, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(changed=st.dictionaries(st.sampled_from(sorted(base)), values, max_size=5),
           existing=st.lists(st.sampled_from(["1", "x", "9" * 30, ""]), max_size=2))
    def check(changed: dict[str, str], existing: list[str]) -> None:
        form = {**base, **changed, "csrf_token": token, "existing": existing}
        r = client.post(pages, data=form)
        assert r.status_code in (303, 400), (changed, r.status_code)
        for action in ("verlegen", "absagen", "zurueckziehen"):
            r = client.post(f"{pages}/{action}", data={"csrf_token": token,
                                                       "slot": changed.get("day-1", "1")})
            assert r.status_code < 500, (action, r.status_code)

    check()
    horizon = datetime(2026, 12, 2, 12, 0, tzinfo=UTC) + slots.HORIZON
    for slot in rows_in(client, booking_slots):
        assert datetime(2026, 12, 2, 12, 0, tzinfo=UTC) < slot.starts_at <= horizon
        assert slot.kind in KINDS and slot.minutes in slots.DURATIONS
        assert slot.partner_org in (None, "sauerland-tourismus", "fachkraefte")
        assert len(slot.location) <= 300
        assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", slot.location)
        assert slot.kind != "onsite" or slot.location
        assert slot.kind != "video" or slot.location.startswith("https://")
        assert slot.kind != "phone" or slot.location == ""
