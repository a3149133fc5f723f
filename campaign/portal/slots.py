"""The portal side of bookable conversations: staff offer slots to a family, see its
booking, move or cancel it (German, like the whole portal).

Staff work only on leads their own organisation received: every action checks the
(lead, organisation) recipients row in SQL (``leads.booking``), also for the agency's
admin, who sees every lead but offers slots only for leads routed to the agency.
Times are typed and shown in Europe/Berlin and stored in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from ..content.model import Organisation, Region
from ..core.clock import LOCAL_TZ, local
from ..core.db import Database
from ..core.schema import leads
from ..leads import booking, rules
from ..leads.records import load
from ..leads.services import Services
from ..leads.slots import (
    KINDS,
    Booking,
    NewSlot,
    Slot,
    free_slots,
    offered_to,
    open_booking,
    slot_by_id,
)
from .accounts import audit
from .cases import MAX_ID, Viewer

ROWS = 3  # new slots per form
DURATIONS = (15, 30, 45, 60, 90)
HORIZON = timedelta(days=366)
LOCATION_MAX = 300
_DAY_DE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")
_TIME = re.compile(r"([0-9]{1,2})[:.]([0-9]{2})")


@dataclass(frozen=True)
class SlotRow:
    """One row of the "new slot" form as typed; kept when the page comes back."""

    day: str = ""
    time: str = ""
    minutes: str = "30"
    kind: str = "phone"
    location: str = ""
    partner: str = ""

    @property
    def empty(self) -> bool:
        return not (self.day.strip() or self.time.strip())


def parse_day(value: str) -> date | None:
    """``2026-11-03`` (a date field) or ``3.11.2026`` (typed where there is none)."""
    value = value.strip()
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            return date.fromisoformat(value)
        found = _DAY_DE.fullmatch(value)
        return date(int(found[3]), int(found[2]), int(found[1])) if found else None
    except ValueError:
        return None


def parse_time(value: str) -> time | None:
    found = _TIME.fullmatch(value.strip())
    if not found or int(found[1]) > 23 or int(found[2]) > 59:
        return None
    return time(int(found[1]), int(found[2]))


def local_moment(day: date, at: time) -> datetime | None:
    """The moment ``day`` ``at`` in Berlin, in UTC; None for a time the clocks skip when
    summer time begins. Of a time that happens twice in autumn, the first is meant."""
    moment = datetime.combine(day, at, tzinfo=LOCAL_TZ)
    in_utc = moment.astimezone(UTC)
    if local(in_utc).replace(tzinfo=None) != moment.replace(tzinfo=None):
        return None
    return in_utc


def partner_choices(region: Region, org: str) -> list[Organisation]:
    """Who may join a three-way conversation: the tourism association that covers the
    organisation's places (every one when it covers none) and the skilled-worker contact."""
    own = region.organisations.get(org)
    covers = set(own.covers) if own else set()
    tourism = [o for o in region.orgs_of_kind("tourism") if not covers or covers & set(o.covers)]
    found = tourism + region.orgs_of_kind("skilled_workers")
    return [o for o in found if o.slug != org]


def check_row(row: SlotRow, n: int, now: datetime, partners: Mapping[str, Organisation]
              ) -> tuple[NewSlot | None, dict[str, str]]:
    """A checked slot, or the problems keyed by field id (``day-1``, ``location-2`` …)."""
    errors: dict[str, str] = {}
    day, at = parse_day(row.day), parse_time(row.time)
    start = local_moment(day, at) if day and at else None
    if day is None:
        errors[f"day-{n}"] = "Bitte ein Datum wie 03.11.2026 angeben."
    if at is None:
        errors[f"time-{n}"] = "Bitte eine Uhrzeit wie 10:30 angeben."
    elif day is not None and start is None:
        errors[f"time-{n}"] = ("Diese Uhrzeit gibt es an diesem Tag nicht "
                               "(Umstellung auf die Sommerzeit).")
    elif start is not None and start <= now:
        errors[f"day-{n}"] = "Der Termin muss in der Zukunft liegen."
    elif start is not None and start > now + HORIZON:
        errors[f"day-{n}"] = "Termine lassen sich höchstens ein Jahr im Voraus anbieten."
    minutes = int(row.minutes) if row.minutes.isdigit() and len(row.minutes) < 4 else 0
    if minutes not in DURATIONS:
        errors[f"minutes-{n}"] = "Bitte eine Dauer aus der Liste wählen."
    if row.kind not in KINDS:
        errors[f"kind-{n}"] = "Bitte eine Art aus der Liste wählen."
    location = row.location.strip()
    problem = rules.line_problem([location]) or rules.length_problem(location, LOCATION_MAX)
    if problem:
        errors[f"location-{n}"] = problem
    elif row.kind == "onsite" and not location:
        errors[f"location-{n}"] = "Bitte den Treffpunkt angeben (Adresse)."
    elif row.kind == "video" and not re.fullmatch(r"https://\S+", location):
        errors[f"location-{n}"] = "Bitte den Link zum Videoraum angeben (beginnt mit https://)."
    if row.partner and row.partner not in partners:
        errors[f"partner-{n}"] = "Bitte eine Stelle aus der Liste wählen."
    if errors or start is None:
        return None, errors
    return NewSlot(start, minutes, row.kind, location if row.kind != "phone" else "",
                   row.partner or None), {}


# -- the page -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotsPage:
    """The lead's conversation with the viewer's organisation."""

    received: bool  # the organisation received the lead: it may offer and change
    booking: Booking | None
    slot: Slot | None
    offered: tuple[Slot, ...]  # every slot ever offered to this family
    free: tuple[Slot, ...]  # the organisation's free slots to come (to offer or move to)


async def page(db: Database, viewer: Viewer, lead_id: int, now: datetime) -> SlotsPage:
    async with db.reading() as conn:
        mine = await booking.received(conn, lead_id, viewer.org, lock=False)
        if not mine:
            return SlotsPage(False, None, None, (), ())
        current = await open_booking(conn, lead_id, viewer.org)
        slot = await slot_by_id(conn, current.slot_id) if current else None
        offered = await offered_to(conn, lead_id, viewer.org)
        free = await free_slots(conn, viewer.org, now)
    return SlotsPage(True, current, slot, tuple(offered), tuple(free))


# -- actions ----------------------------------------------------------------------------------


async def offer(svc: Services, viewer: Viewer, lead_id: int, new: Sequence[NewSlot],
                chosen: Sequence[int]) -> int | None:
    """Create the new slots (hosted by the viewer) and offer them and the ``chosen`` free
    ones to the family, which gets one mail; None when the lead is not the viewer's."""
    if viewer.user is None or not 0 < lead_id <= MAX_ID:
        return None
    now = svc.clock.now()
    orgs = svc.content.region.organisations
    async with svc.db.transaction() as conn:
        if not await booking.received(conn, lead_id, viewer.org, lock=True):
            return None
        ids = [await booking.create_slot(
            conn, viewer.org, item, host_user_id=viewer.user.id, host_email=viewer.user.email,
            partner_email=orgs[item.partner_org].email if item.partner_org else None,
            now=now) for item in new]
        added = await booking.offer(conn, svc, lead_id, viewer.org, [*ids, *chosen], now)
        await audit(conn, viewer.user, "Termin", now,
                    f"angeboten: {added}" if added else "keine neuen angeboten",
                    lead_id, viewer.org)
    return added


async def change(svc: Services, viewer: Viewer, lead_id: int, slot_id: int | None) -> str | None:
    """Move the family's booking to ``slot_id`` (or book it for the family, say after a
    call), or cancel it when ``slot_id`` is None. The outcome of ``booking.take`` /
    ``booking.cancel_in``; None when the lead is not the viewer's."""
    if not 0 < lead_id <= MAX_ID:
        return None
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        found = await load(conn, leads.c.id == lead_id)
        if not found:
            return None
        lead = found[0]
        if slot_id is None:
            outcome = await booking.cancel_in(conn, lead, viewer.org, now, by="staff")
        else:
            outcome = await booking.take(conn, svc, lead, viewer.org, slot_id, now,
                                         offered_only=False)
        if outcome in ("gone", "unknown"):
            return None
        if outcome in ("booked", "moved", "cancelled"):
            detail = {"booked": "für die Familie gebucht", "moved": "verlegt",
                      "cancelled": "abgesagt"}[outcome]
            await audit(conn, viewer.user, "Termin", now, detail, lead_id, viewer.org)
    return outcome


async def remove(svc: Services, viewer: Viewer, lead_id: int, slot_id: int) -> bool | None:
    """Withdraw one of the organisation's free slots (from this page); False when it
    was booked meanwhile, None when the lead is not the viewer's."""
    if not 0 < lead_id <= MAX_ID:
        return None
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        if not await booking.received(conn, lead_id, viewer.org, lock=False):
            return None
        done = await booking.remove_slot(conn, viewer.org, slot_id, now)
        if done:
            await audit(conn, viewer.user, "Termin", now, "zurückgezogen", lead_id, viewer.org)
    return done
