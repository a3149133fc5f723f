"""The rules of bookable conversations as pure functions: Berlin time typed into the
portal, who may join a three-way conversation, and the calendar file itself."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import icalendar

from campaign.leads.invitations import calendar, message_id
from campaign.leads.slots import Slot
from campaign.portal.slots import local_moment, parse_day, parse_time, partner_choices

from .support.app import shipped_content


def test_typed_dates_and_times_in_berlin():
    assert parse_day("2027-01-05") == parse_day("5.1.2027") == date(2027, 1, 5)
    assert [parse_day(v) for v in ("31.02.2027", "2027-1-5", "", "morgen", "2027-13-01")] == [
        None] * 5
    assert parse_time("9:30") == parse_time("09.30") == time(9, 30)
    assert [parse_time(v) for v in ("24:00", "9", "12:60", "")] == [None] * 4
    assert local_moment(date(2026, 12, 3), time(10)) == datetime(2026, 12, 3, 9, tzinfo=UTC)
    assert local_moment(date(2027, 7, 1), time(10)) == datetime(2027, 7, 1, 8, tzinfo=UTC)
    assert local_moment(date(2027, 3, 28), time(2, 30)) is None  # the clocks skip it
    assert local_moment(date(2027, 10, 31), time(2, 30)) == datetime(2027, 10, 31, 0, 30,
                                                                     tzinfo=UTC)


def test_three_way_partners_are_the_covering_tourism_association_and_skilled_workers():
    region = shipped_content().region

    def slugs(org: str) -> list[str]:
        return [o.slug for o in partner_choices(region, org)]

    assert slugs("olpe") == ["sauerland-tourismus", "fachkraefte"]
    assert slugs("hilchenbach") == ["tvsw", "fachkraefte"]
    assert slugs("sauerland-tourismus") == ["fachkraefte"]
    assert slugs("fachkraefte") == ["sauerland-tourismus", "tvsw"]
    assert slugs("suedwestfalen-agentur") == ["sauerland-tourismus", "tvsw", "fachkraefte"]


def _slot(kind: str = "video", location: str = "https://video.example.org/r") -> Slot:
    return Slot(id=1, org="olpe", starts_at=datetime(2027, 3, 28, 0, 30, tzinfo=UTC),
                minutes=45, kind=kind, location=location, partner_org=None,
                host_email="staff@olpe.example.org", partner_email=None, booked_by=None,
                removed_at=None)


def test_the_calendar_file_is_rfc_5545_and_keeps_odd_names_in_their_place():
    name = 'Anna "Die Zweite" Beispiel; CEO: ja,\r\nDTSTART:19700101T000000Z'
    stamp = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    data = calendar("REQUEST", uid="termin-1@example.org", seq=2, slot=_slot(),
                    summary="Gespräch\nmit Olpe", description="Zeile 1\nZeile 2",
                    location="https://video.example.org/r",
                    organizer=("staff@olpe.example.org", "Willkommensbüro Olpe"),
                    attendees=[("anna@example.org", name)], stamp=stamp)
    assert b"\r\n" in data and all(len(line) <= 75 for line in data.split(b"\r\n"))
    cal = icalendar.Calendar.from_ical(data)
    (ev,) = cal.walk("VEVENT")
    assert str(cal["METHOD"]) == "REQUEST" and str(cal["VERSION"]) == "2.0"
    assert ev.decoded("DTSTART") == datetime(2027, 3, 28, 0, 30, tzinfo=UTC)
    assert ev.decoded("DTEND") == datetime(2027, 3, 28, 1, 15, tzinfo=UTC)
    assert b"DTSTART:20270328T003000Z" in data  # UTC: no time zone table needed
    assert ev["SEQUENCE"] == 2 and str(ev["UID"]) == "termin-1@example.org"
    assert str(ev["ATTENDEE"]) == "mailto:anna@example.org"
    assert ev["ATTENDEE"].params["CN"] == 'Anna "Die Zweite" Beispiel; CEO: ja, ' \
        "DTSTART:19700101T000000Z"
    assert str(ev["SUMMARY"]) == "Gespräch mit Olpe" and str(ev["URL"]) == _slot().location
    assert str(ev["DESCRIPTION"]) == "Zeile 1\nZeile 2"
    assert len(cal.walk("VEVENT")) == 1
    cancel = icalendar.Calendar.from_ical(calendar(
        "CANCEL", uid="termin-1@example.org", seq=3, slot=_slot("phone", ""), summary="x",
        description="", location="", organizer=("staff@olpe.example.org", ""),
        attendees=[], stamp=stamp))
    (ev,) = cancel.walk("VEVENT")
    assert (str(cancel["METHOD"]), str(ev["STATUS"]), ev["SEQUENCE"]) == ("CANCEL", "CANCELLED",
                                                                         3)
    assert "URL" not in ev and "LOCATION" not in ev


def test_message_ids_are_stable_per_change_and_recipient():
    uid = "termin-abc@example.org"
    assert message_id(uid, "request", 1, "family") == "<request.1.family.termin-abc@example.org>"
    assert message_id(uid, "request", 1, "a@b.org") == message_id(uid, "request", 1, "A@b.org")
    assert len({message_id(uid, e, s, t) for e in ("request", "cancel") for s in (0, 1)
                for t in ("family", "a@b.org", "c@d.org")}) == 12
