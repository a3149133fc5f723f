"""Bookable conversations in tests: staff offer slots through the portal, the family
follows the link of its mail, and the calendar files of the mails are read back with
the ``icalendar`` package."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from typing import Any

import icalendar
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from starlette.testclient import TestClient

from campaign.core.clock import local

from .app import services
from .forms import csrf_of

BOOKING_LINK = re.compile(r"http://testserver((?:/[a-z]{2})?/termin/[A-Za-z0-9._-]+)")
SLOT_CHOICE = re.compile(r'name="slot" value="([0-9]+)"')


def days_ahead(client: TestClient, days: int, hour: int = 10) -> tuple[str, str]:
    """The date ``days`` after the app's today, at ``hour`` o'clock in Berlin."""
    today: date = local(services(client).clock.now()).date()
    return (today + timedelta(days=days)).isoformat(), f"{hour:02d}:00"


def offer(client: TestClient, lead_id: int, *rows: dict[str, str],
          existing: tuple[int, ...] = ()) -> Any:
    """Staff (signed in) offer new slots (``rows`` of day, time, minutes, kind,
    location, partner) and ``existing`` free ones to the lead's family."""
    page = client.get(f"/partner/lead/{lead_id}/termine")
    assert page.status_code == 200, page.text[:300]
    data: dict[str, Any] = {"csrf_token": csrf_of(page.text),
                            "existing": [str(i) for i in existing]}
    for n, row in enumerate(rows, 1):
        values = {"minutes": "30", "kind": "phone", "location": "", "partner": "", **row}
        data.update({f"{k}-{n}": v for k, v in values.items()})
    return client.post(f"/partner/lead/{lead_id}/termine", data=data)


def old_booking_token(secret: str, public_id: str, org: str, days: float) -> str:
    """A correctly signed booking token issued ``days`` ago (tokens carry wall time)."""

    class Past(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - days * 24 * 3600)

    return URLSafeTimedSerializer(secret, salt="campaign.booking", signer=Past).dumps(
        {"l": public_id, "o": org})


def booking_link(message: Any) -> str:
    """The path of the booking link in a mail's text part."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    found = BOOKING_LINK.search(text)
    assert found, f"no booking link in {text!r}"
    return found.group(1)


def slot_choices(html: str) -> list[int]:
    """The slot ids the family's page offers, in the order shown."""
    return [int(v) for v in SLOT_CHOICE.findall(html)]


def calendars(message: Any) -> list[icalendar.Calendar]:
    """Every ``text/calendar`` part of a mail, parsed."""
    found = []
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            found.append(icalendar.Calendar.from_ical(part.get_payload(decode=True)))
    return found


def event(message: Any) -> tuple[str, Any]:
    """(METHOD, the VEVENT) of the one calendar file a mail carries."""
    (cal,) = calendars(message)
    (vevent,) = cal.walk("VEVENT")
    return str(cal["METHOD"]), vevent
