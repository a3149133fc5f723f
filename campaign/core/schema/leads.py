"""Leads, their choices and consent, the outbox, counters, accounts and limits."""

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
    func,
    true,
)

from .base import Bytes, Json, UTCDateTime, metadata

leads = Table(
    "leads", metadata,
    Column("id", Integer, primary_key=True),
    Column("public_id", String(32), nullable=False, unique=True),  # tokens carry this
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime),
    Column("withdrawn_at", UTCDateTime),
    Column("erased_at", UTCDateTime),
    Column("language", String(2), nullable=False, server_default="de"),
    # personal fields: NULL after an erasure or anonymisation
    Column("name", Text),
    Column("email", Text),
    Column("phone", Text),
    Column("message", Text),
    # family profile (not identifying on its own)
    Column("adults", Integer),
    Column("children", Integer),
    Column("child_ages", Json, nullable=False),  # list of age-group codes
    Column("consents", Json, nullable=False),  # list of consent group codes
    Column("timeframe", String(32)),
    Column("consent_version", String(64)),
    Column("consent_hash", String(64)),  # sha256 of the consent texts agreed to
    # attribution
    Column("utm_source", String(64)),
    Column("utm_medium", String(64)),
    Column("utm_campaign", String(64)),
    Column("place_code", String(64)),
    Column("quiz", String(64)),
    Column("quiz_outcome", Json),  # [{"slug": .., "score": .., "reasons": [..]}]
    # A hash of the request body: the same POST again finds the lead it made.
    Column("submission_key", String(32), unique=True),
    CheckConstraint("status IN ('pending', 'confirmed', 'withdrawn', 'erased', 'anonymised')",
                    name="status"),
)
Index("ix_leads_status_created", leads.c.status, leads.c.created_at)
# "Send me a new link" looks a lead up by its address, case-insensitively.
Index("ix_leads_email_lower", func.lower(leads.c.email),
      sqlite_where=leads.c.email.isnot(None), postgresql_where=leads.c.email.isnot(None))

lead_municipalities = Table(
    "lead_municipalities", metadata,
    Column("lead_id", Integer, ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True),
    Column("slug", String(64), primary_key=True),
    Column("position", Integer, nullable=False),  # the family's order
)
Index("ix_lead_municipalities_slug", lead_municipalities.c.slug)

lead_interests = Table(
    "lead_interests", metadata,
    Column("lead_id", Integer, ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True),
    Column("code", String(32), primary_key=True),
)
Index("ix_lead_interests_code", lead_interests.c.code)

# Anonymous proof of consent events; survives erasure (lead_id set NULL).
consent_events = Table(
    "consent_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("lead_id", Integer, ForeignKey("leads.id", ondelete="SET NULL"), index=True),
    Column("grp", String(32), nullable=False),
    Column("version", String(64), nullable=False),
    Column("text_hash", String(64), nullable=False),
    Column("event", String(16), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    CheckConstraint("event IN ('given', 'confirmed', 'withdrawn', 'erased')", name="event"),
)

# Who received a confirmed lead; the partner portal's per-organisation view.
lead_recipients = Table(
    "lead_recipients", metadata,
    Column("lead_id", Integer, ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True),
    Column("org", String(64), primary_key=True),  # organisation slug from content
    Column("reason", String(32), nullable=False),
    Column("status", String(32), nullable=False, server_default="neu"),  # the stage
    Column("routed_at", UTCDateTime, nullable=False),
    Column("acknowledged_at", UTCDateTime),
    Column("reminded_at", UTCDateTime),
    Column("close_reason", String(32)),  # why the stage is "geschlossen"
    # The organisation's named contact for this family (a staff account).
    Column("assignee_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("assigned_at", UTCDateTime),
    # The response target: first contact due by ``due_at`` (set at routing; NULL for
    # leads routed before targets existed), made at ``first_contact_at`` (the first
    # stage change past "neu" or logged call); overdue reminders sent, each once.
    Column("due_at", UTCDateTime),
    Column("first_contact_at", UTCDateTime),
    Column("overdue_reminded_at", UTCDateTime),
    Column("overdue_escalated_at", UTCDateTime),
)
Index("ix_lead_recipients_org_routed", lead_recipients.c.org, lead_recipients.c.routed_at)
Index("ix_lead_recipients_due", lead_recipients.c.due_at)

# Transactional outbox: every mail the service sends goes through here.
outbox = Table(
    "outbox", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("lead_id", Integer, ForeignKey("leads.id", ondelete="SET NULL"), index=True),
    Column("org", String(64)),
    Column("recipient", Text, nullable=False),
    Column("message_id", Text, nullable=False),
    Column("message", Bytes, nullable=False),  # the full RFC 5322 message
    # A mail the worker builds right before sending (kind and what it needs, no
    # personal data); ``message`` stays empty until then.
    Column("recipe", Json),
    Column("status", String(8), nullable=False, server_default="queued"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_owner", String(128)),
    Column("lease_until", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    # A webhook event (``delivery.webhooks``): the receiver's id; ``message`` holds the
    # JSON body and ``message_id`` the event id, queued once per event and receiver.
    Column("webhook_id", Integer),
    CheckConstraint("status IN ('queued', 'sent', 'dead')", name="status"),
)
Index("ix_outbox_due", outbox.c.status, outbox.c.next_attempt_at)
Index("ux_outbox_webhook_event", outbox.c.webhook_id, outbox.c.message_id, unique=True)

# Cookie-free funnel: daily aggregate counts, no visitor identifier.
funnel_counts = Table(
    "funnel_counts", metadata,
    Column("day", Date, primary_key=True),
    Column("quiz", String(64), primary_key=True),
    Column("step", String(32), primary_key=True),
    Column("utm_source", String(64), primary_key=True),
    Column("utm_medium", String(64), primary_key=True),
    Column("utm_campaign", String(64), primary_key=True),
    Column("count", Integer, nullable=False),
)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("org", String(64), nullable=False),
    Column("email", String(254), nullable=False, unique=True),  # stored lower-case
    Column("role", String(16), nullable=False, server_default="staff"),
    Column("password_hash", Text, nullable=False),  # argon2
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_login_at", UTCDateTime),
    # The profile families see once the person is their contact. The phone is a
    # work number; the e-mail shown to families is the organisation's.
    Column("display_name", Text),
    Column("job_title", Text),
    Column("phone", Text),
    Column("photo", String(64)),  # file name of the re-encoded photo in the data folder
    Column("photo_alt", Text),
    # Team: an account invited by its organisation's admin stays inactive until the
    # colleague sets a password; a deactivated account keeps its row (history names it).
    Column("invited_at", UTCDateTime),
    Column("deactivated_at", UTCDateTime),
    CheckConstraint("role IN ('staff', 'admin')", name="role"),
)

# Only a hash of the session id is stored: a copy of the database does not
# let anyone take over a running session.
sessions = Table(
    "sessions", metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
)

# Counters for rate limits and throttles, per key and fixed window: one
# atomic upsert both counts and tells the new count, on every instance.
rate_counts = Table(
    "rate_counts", metadata,
    Column("key", String(200), primary_key=True),
    Column("window_start", UTCDateTime, primary_key=True),
    Column("count", Integer, nullable=False),
)
Index("ix_rate_counts_window", rate_counts.c.window_start)

# Throttles by delay (portal sign-in), per key: how many attempts were let
# through and when the next one may be; one guarded upsert lets an attempt
# through and moves ``not_before``, on every instance at once.
throttles = Table(
    "throttles", metadata,
    Column("key", String(200), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("not_before", UTCDateTime, nullable=False),
)
Index("ix_throttles_not_before", throttles.c.not_before)

# Signed start stamps of lead forms that a stored lead used: a stamp counts once,
# so a bot cannot fetch the form once and skip the minimum fill time for ever
# after. Only a digest is kept; rows go with the purge once the stamp expired.
used_form_stamps = Table(
    "used_form_stamps", metadata,
    Column("digest", String(64), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False),
)
Index("ix_used_form_stamps_expires", used_form_stamps.c.expires_at)

