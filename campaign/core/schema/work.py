"""The work on a lead after routing: notes, history, audit, places, jobs, bookings."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from .base import UTCDateTime, metadata

lead_notes = Table(
    "lead_notes", metadata,
    Column("id", Integer, primary_key=True),
    Column("lead_id", Integer, ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
    Column("org", String(64), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("author", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_lead_notes_lead_org", lead_notes.c.lead_id, lead_notes.c.org)

# The work on a lead per organisation, shown on the lead page: stage changes
# (from, to, close reason), assignments, logged calls and notes, with who and
# when. Only codes and staff names, no data of the family: it outlives an erasure.
lead_history = Table(
    "lead_history", metadata,
    Column("id", Integer, primary_key=True),
    Column("lead_id", Integer, ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
    Column("org", String(64), nullable=False),
    Column("event", String(16), nullable=False),
    Column("from_stage", String(32)),
    Column("to_stage", String(32)),
    Column("reason", String(32)),  # close reason, or the outcome of a call
    Column("detail", Text, nullable=False, server_default=""),  # e.g. who was assigned
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("actor", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    CheckConstraint("event IN ('stage', 'assign', 'call', 'note', 'reply')", name="event"),
)
Index("ix_lead_history_lead_org_at", lead_history.c.lead_id, lead_history.c.org,
      lead_history.c.at)

# One follow-up per family that moved in (``leads.followup``): asked for consent when
# a first organisation recorded "zugezogen", asked the three questions twelve months
# after moving in if it agreed, answered once. The free text goes with an erasure.
followups = Table(
    "followups", metadata,
    Column("lead_id", Integer, ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True),
    Column("moved_at", UTCDateTime, nullable=False),
    Column("asked_at", UTCDateTime, nullable=False),
    Column("consented_at", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("answered_at", UTCDateTime),
    Column("still_here", Boolean),
    Column("satisfaction", Integer),
    Column("feedback", Text),
    CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction"),
)
Index("ix_followups_consented_moved", followups.c.consented_at, followups.c.moved_at)

# Who changed what and when. Details never contain personal data of the
# family (note texts stay in lead_notes), so the log can outlive an erasure.
audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("actor", Text, nullable=False),
    Column("org", String(64)),
    Column("lead_id", Integer, ForeignKey("leads.id", ondelete="SET NULL")),
    Column("action", String(32), nullable=False),
    Column("detail", Text, nullable=False, server_default=""),
)
Index("ix_audit_log_lead_at", audit_log.c.lead_id, audit_log.c.at)

# Print campaigns: places with a short code /q/{code}; scans are daily counts.
places = Table(
    "places", metadata,
    Column("code", String(16), primary_key=True),
    Column("label", Text, nullable=False),
    Column("org", String(64), nullable=False),
    Column("target_kind", String(16), nullable=False),
    Column("target_slug", String(64), nullable=False, server_default=""),
    Column("utm_medium", String(8), nullable=False, server_default="qr"),
    Column("utm_campaign", String(64), nullable=False),
    Column("pitch", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", Text),
    CheckConstraint("target_kind IN ('landing', 'quiz', 'municipality', 'lead_form')",
                    name="target_kind"),
    CheckConstraint("utm_medium IN ('qr', 'print')", name="utm_medium"),
)
Index("ix_places_org_created", places.c.org, places.c.created_at)

place_scans = Table(
    "place_scans", metadata,
    Column("place_code", String(16), ForeignKey("places.code", ondelete="CASCADE"),
           primary_key=True),
    Column("day", Date, primary_key=True),
    Column("count", Integer, nullable=False),
)

# Entry visits per campaign channel (utm_* from outside the site), daily.
channel_visits = Table(
    "channel_visits", metadata,
    Column("day", Date, primary_key=True),
    Column("utm_source", String(64), primary_key=True),
    Column("utm_medium", String(64), primary_key=True),
    Column("utm_campaign", String(64), primary_key=True),
    Column("count", Integer, nullable=False),
)

# Periodic jobs run once across all instances: the instance holding a
# job's unexpired lease runs it.
job_leases = Table(
    "job_leases", metadata,
    Column("name", String(64), primary_key=True),
    Column("owner", String(128), nullable=False),
    Column("until", UTCDateTime, nullable=False),
    Column("last_run_at", UTCDateTime),
)

# Bookable conversations (see campaign/leads/booking.py). A slot is an
# organisation's free time; it may be offered to several families, and the
# family that books it first gets it: ``booked_by`` is set by one guarded
# statement that only finds the slot while it is still NULL.
booking_slots = Table(
    "booking_slots", metadata,
    Column("id", Integer, primary_key=True),
    Column("org", String(64), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("location", Text, nullable=False, server_default=""),  # address or video link
    Column("partner_org", String(64)),  # a three-way conversation: the other organisation
    Column("host_user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    # Who gets the staff side's invitations, taken when the slot was offered.
    Column("host_email", Text, nullable=False),
    Column("partner_email", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("removed_at", UTCDateTime),  # withdrawn by the organisation before anyone booked it
    Column("booked_by", Integer, ForeignKey("leads.id", ondelete="SET NULL")),
    CheckConstraint("kind IN ('phone', 'video', 'onsite')", name="kind"),
)
Index("ix_booking_slots_org_starts", booking_slots.c.org, booking_slots.c.starts_at)

# Which slots a family was offered (its booking page lists these).
slot_offers = Table(
    "slot_offers", metadata,
    Column("slot_id", Integer, ForeignKey("booking_slots.id", ondelete="CASCADE"),
           primary_key=True),
    Column("lead_id", Integer, ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True),
    Column("offered_at", UTCDateTime, nullable=False),
)
Index("ix_slot_offers_lead", slot_offers.c.lead_id)

# A family's appointment with one organisation: one calendar event (``uid``)
# whose ``sequence`` rises with every change, moved from slot to slot.
bookings = Table(
    "bookings", metadata,
    Column("id", Integer, primary_key=True),
    Column("uid", String(160), nullable=False, unique=True),
    Column("lead_id", Integer, ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
    Column("org", String(64), nullable=False),
    Column("slot_id", Integer, ForeignKey("booking_slots.id"), nullable=False),
    Column("status", String(16), nullable=False, server_default="booked"),
    Column("sequence", Integer, nullable=False, server_default="0"),
    Column("phone", Text),  # personal: the number to call; NULL after an erasure
    Column("booked_at", UTCDateTime, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    Column("cancelled_at", UTCDateTime),
    Column("cancelled_by", String(16)),
    Column("reminded_at", UTCDateTime),
    CheckConstraint("status IN ('booked', 'cancelled')", name="status"),
)
# At most one open appointment per family and organisation.
Index("ix_bookings_open", bookings.c.lead_id, bookings.c.org, unique=True,
      sqlite_where=bookings.c.status == "booked", postgresql_where=bookings.c.status == "booked")
Index("ix_bookings_status_reminded", bookings.c.status, bookings.c.reminded_at)
