"""The mails of a booking: the offer with its link, calendar invitations, cancellations
and the reminder the day before.

They are queued as outbox recipes in the transaction that changes the booking and
built by the worker (``render``). A recipe names the booking, the slot and the
SEQUENCE of the change it announces, so a mail built later still describes that
change; the family's recipe is dropped once its address is gone (an erasure). The
``.ics`` is written with the ``icalendar`` package: METHOD:REQUEST with one UID per
booking and a SEQUENCE that rises with every change, METHOD:CANCEL when it is
cancelled, times in UTC. The family's mails are in its language (with its booking
and self-service links), the staff side's in German (with the portal link); a
cancellation after an erasure names the lead only by its number.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address
from typing import Any

import icalendar
from sqlalchemy.ext.asyncio import AsyncConnection

from ..content.model import Organisation
from ..core.i18n import gettext as _
from ..core.i18n import language
from ..core.schema import leads
from ..delivery.message import addr_spec, address, header_safe
from ..delivery.outbox import enqueue_recipe
from .mails import self_service_url
from .records import Lead, load
from .services import Services
from .slots import (
    KIND_LABELS,
    TOKEN_MAX_AGE,
    Booking,
    Slot,
    booking_by_id,
    booking_url,
    offered_free,
    slot_by_id,
)

RECIPE = "booking"
OUTBOX_KINDS = {"offer": "booking_offer", "request": "booking_invite",
                "cancel": "booking_cancel", "reminder": "booking_reminder"}
PRODID = "-//Suedwestfalen Agentur//Vom Touristen zum Neubuerger//DE"
PORTAL_PATH = "/partner/lead/{lead_id}/termine"  # the route "partner_slots"


def _name(org: Organisation | None) -> str:
    return org.name if org is not None else ""


def message_id(uid: str, event: str, seq: int, to: str) -> str:
    """Stable per (booking, change, recipient): a retry or a second worker sends the same."""
    local, _, domain = uid.partition("@")
    who = "family" if to == "family" else hashlib.sha256(to.lower().encode()).hexdigest()[:12]
    return f"<{event}.{seq}.{who}.{local}@{domain or 'localhost'}>"


# -- queueing -------------------------------------------------------------------------------


async def queue_offer(conn: AsyncConnection, svc: Services, lead: Lead, org: str,
                      now: datetime) -> int:
    """The family's mail with the link to its booking page (the worker lists the slots)."""
    return await enqueue_recipe(
        conn, kind=OUTBOX_KINDS["offer"], recipient=addr_spec(lead.email or ""),
        message_id=svc.mailer.new_message_id(),
        recipe={"mail": RECIPE, "event": "offer", "lead": lead.id, "org": org},
        lead_id=lead.id, org=org, now=now)


async def queue_change(conn: AsyncConnection, event: str, *, booking_id: int, lead_id: int,
                       org: str, uid: str, seq: int, slot: Slot, lead: Lead | None,
                       now: datetime, staff: Sequence[str] | None = None,
                       moved: bool = False) -> int:
    """One recipe per recipient of a change ('request', 'cancel', 'reminder'): the family
    (when ``lead`` with an address is given) and the staff side (``staff``, by default
    the slot's host and partner)."""
    recipe = {"mail": RECIPE, "event": event, "booking": booking_id, "slot": slot.id,
              "seq": seq, "moved": moved}
    count = 0
    targets = ([("family", lead.email)] if lead is not None and lead.email else []) + [
        (a, a) for a in (slot.staff_side if staff is None else staff)]
    for to, email in targets:
        await enqueue_recipe(conn, kind=OUTBOX_KINDS[event], recipient=addr_spec(email),
                             message_id=message_id(uid, event, seq, to),
                             recipe={**recipe, "to": to}, lead_id=lead_id, org=org, now=now)
        count += 1
    return count


# -- the calendar file ------------------------------------------------------------------------


def calendar(method: str, *, uid: str, seq: int, slot: Slot, summary: str, description: str,
             location: str, organizer: tuple[str, str], attendees: Sequence[tuple[str, str]],
             stamp: datetime) -> bytes:
    """One VEVENT in a VCALENDAR with ``method`` (REQUEST or CANCEL), times in UTC."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("sequence", seq)
    event.add("dtstamp", stamp)
    event.add("dtstart", slot.starts_at)
    event.add("dtend", slot.ends_at)
    event.add("summary", header_safe(summary))
    event.add("description", description)
    if location:
        event.add("location", header_safe(location))
    if slot.kind == "video" and slot.location.startswith("https://"):
        event.add("url", slot.location)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("organizer", _party(*organizer))
    for email, name in attendees:
        event.add("attendee", _party(email, name, attendee=True))
    cal.add_component(event)
    return bytes(cal.to_ical())


def _party(email: str, name: str, attendee: bool = False) -> icalendar.vCalAddress:
    party = icalendar.vCalAddress(f"mailto:{addr_spec(email)}")
    if name:
        party.params["cn"] = header_safe(name)
    if attendee:  # replies would reach nobody who reads them: none are asked for
        party.params.update({"role": "REQ-PARTICIPANT", "partstat": "ACCEPTED",
                             "rsvp": "FALSE"})
    return party


# -- building ---------------------------------------------------------------------------------


async def render(svc: Services, recipe: dict[str, Any], message_id: str) -> bytes | None:
    """The message of a booking recipe, or None when there is nothing to send."""
    if recipe.get("event") == "offer":
        return await _offer(svc, recipe, message_id)
    keys = [recipe.get(k) for k in ("booking", "slot", "seq")]
    event, to = recipe.get("event"), recipe.get("to")
    if not all(isinstance(k, int) for k in keys) or event not in ("request", "cancel",
                                                                  "reminder") \
            or not isinstance(to, str):
        return None
    async with svc.db.reading() as conn:
        booking = await booking_by_id(conn, int(recipe["booking"]))
        slot = await slot_by_id(conn, int(recipe["slot"]))
        found = await load(conn, leads.c.id == booking.lead_id) if booking else []
    if booking is None or slot is None or not found:
        return None
    lead = found[0]
    if to == "family" and not lead.email:
        return None
    change = Change(svc, str(event), booking, slot, lead, int(recipe["seq"]),
                    bool(recipe.get("moved")))

    def build() -> bytes:
        return change.family(message_id) if to == "family" else change.staff(to, message_id)

    return await asyncio.to_thread(build)


class Change:
    """One change of a booking as mail and calendar file, for either side. The
    organisations' side names the family only while they may see its data: a
    cancellation after a withdrawal or an erasure names the lead by its number."""

    def __init__(self, svc: Services, event: str, booking: Booking, slot: Slot, lead: Lead,
                 seq: int, moved: bool) -> None:
        self.svc, self.event, self.booking, self.slot, self.lead = svc, event, booking, slot, lead
        self.seq, self.moved = seq, moved
        self.shared = lead.status == "confirmed"
        orgs = svc.content.region.organisations
        self.org = _name(orgs.get(booking.org)) or booking.org
        self.partner = _name(orgs.get(slot.partner_org or "")) or slot.partner_org or ""
        self.method = {"request": "REQUEST", "cancel": "CANCEL"}.get(event)

    def _family(self, own: bool) -> tuple[str, str, str]:
        """(name, address, number to call) of the family as this side may see them."""
        lead = self.lead
        if not (own or self.shared):
            return "", "", ""
        return lead.name or "", lead.email or "", self.booking.phone or ""

    def _context(self, own: bool) -> dict[str, Any]:
        name, email, phone = self._family(own)
        return {"event": self.event, "moved": self.moved, "slot": self.slot,
                "kind_label": KIND_LABELS[self.slot.kind], "phone": phone,
                "org_name": self.org, "partner_name": self.partner, "number": self.lead.number,
                "by": self.booking.cancelled_by or "", "family_name": name,
                "family_email": email}

    def _ics(self, summary: str, description: str, own: bool) -> bytes | None:
        """The calendar file in the language active now (the location's words)."""
        if self.method is None:
            return None
        name, email, phone = self._family(own)
        location = self.slot.location
        if self.slot.kind == "phone":
            label = str(KIND_LABELS["phone"])
            location = f"{label}: {phone}" if phone else label
        attendees = [(email, name)] if email else []
        if self.slot.partner_email:
            attendees.append((self.slot.partner_email, self.partner))
        return calendar(self.method, uid=self.booking.uid, seq=self.seq, slot=self.slot,
                        summary=summary, description=description, location=location,
                        organizer=(self.slot.host_email, self.org), attendees=attendees,
                        stamp=self.svc.clock.now())

    def _mail(self, template: str, ctx: dict[str, Any], lang: str, to: Address,
              reply_to: Address | None, message_id: str, ics: bytes | None) -> bytes:
        mailer = self.svc.mailer
        subject, text, html = mailer.render(template, ctx, lang=lang)
        msg = mailer.build(to=to, subject=subject, text=text, html=html, reply_to=reply_to,
                           message_id=message_id)
        if ics is not None:
            msg.add_attachment(ics, maintype="text", subtype="calendar", filename="termin.ics",
                               params={"method": self.method or "", "charset": "utf-8"})
        return msg.as_bytes()

    def family(self, message_id: str) -> bytes:
        lead, secret, mailer = self.lead, self.svc.settings.secret_key, self.svc.mailer
        lang = lead.language
        link = booking_url(mailer, secret, lead.public_id, self.booking.org, lang)
        with language(lang):
            summary = (_("Gespräch mit %(org)s und %(partner)s")
                       % {"org": self.org, "partner": self.partner} if self.partner
                       else _("Gespräch mit %(org)s") % {"org": self.org})
            description = _("Termin verlegen oder absagen: %(link)s") % {"link": link}
            ics = self._ics(summary, description, own=True)
        ctx = {**self._context(own=True), "lead": lead, "booking_url": link,
               "self_service_url": self_service_url(mailer, secret, lead.public_id, lang)}
        return self._mail("booking_family", ctx, lang, address(lead.email or "", lead.name or ""),
                          address(self.slot.host_email, self.org), message_id, ics)

    def staff(self, to: str, message_id: str) -> bytes:
        lead = self.lead
        name, email, phone = self._family(own=False)
        host = to.lower() == self.slot.host_email.lower()  # the partner may not see the lead
        portal = self.svc.mailer.url(PORTAL_PATH.format(lead_id=lead.id)) if host else ""
        summary = f"Gespräch mit {name or f'Nr. {lead.number}'}" + (
            f" und {self.partner}" if self.partner else "")
        description = "\n".join([f"Anfrage Nr. {lead.number}",
                                 *[v for v in (name, email, phone) if v],
                                 *([f"Im Portal: {portal}"] if portal else [])])
        with language("de"):
            ics = self._ics(summary, description, own=False)
        return self._mail("booking_staff", {**self._context(own=False), "portal_url": portal},
                          "de", address(to), address(email, name) if email else None,
                          message_id, ics)


async def _offer(svc: Services, recipe: dict[str, Any], message_id: str) -> bytes | None:
    lead_id, org_slug = recipe.get("lead"), recipe.get("org")
    orgs = svc.content.region.organisations
    if not isinstance(lead_id, int) or not isinstance(org_slug, str) or org_slug not in orgs:
        return None
    async with svc.db.reading() as conn:
        found = await load(conn, leads.c.id == lead_id)
        free = await offered_free(conn, lead_id, org_slug, svc.clock.now())
    if not found or not found[0].email or found[0].status != "confirmed":
        return None
    lead, org = found[0], orgs[org_slug]
    secret, mailer = svc.settings.secret_key, svc.mailer
    slots = [{"slot": s, "kind_label": KIND_LABELS[s.kind],
              "partner_name": _name(orgs.get(s.partner_org or ""))} for s in free]
    ctx = {"lead": lead, "org_name": org.name, "slots": slots,
           "booking_url": booking_url(mailer, secret, lead.public_id, org_slug, lead.language),
           "self_service_url": self_service_url(mailer, secret, lead.public_id, lead.language),
           "valid_days": TOKEN_MAX_AGE // 86400}

    def build() -> bytes:
        subject, text, html = mailer.render("booking_offer", ctx, lang=lead.language)
        return mailer.build(to=address(lead.email or "", lead.name or ""), subject=subject,
                            text=text, html=html, message_id=message_id).as_bytes()

    return await asyncio.to_thread(build)
