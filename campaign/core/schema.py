"""The one schema of the service, for SQLite and PostgreSQL alike.

Alembic migrations (``campaign/migrations``) are written against these
tables. Times are ``UTCDateTime`` (``timestamptz`` on PostgreSQL, UTC text on
SQLite), lists a family chose are join tables (so the portal filters them
with plain joins on both backends), small structured values are JSON
(``jsonb`` on PostgreSQL).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
    true,
)
from sqlalchemy.dialects.postgresql import BYTEA, JSONB
from sqlalchemy.types import TypeDecorator

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on both backends.

    SQLite has no time zones: values are stored as UTC without an offset and
    read back as UTC, so comparisons in SQL stay correct."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


Json = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
Bytes = LargeBinary().with_variant(BYTEA(), "postgresql")


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
    CheckConstraint("status IN ('queued', 'sent', 'dead')", name="status"),
)
Index("ix_outbox_due", outbox.c.status, outbox.c.next_attempt_at)

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
    CheckConstraint("event IN ('stage', 'assign', 'call', 'note')", name="event"),
)
Index("ix_lead_history_lead_org_at", lead_history.c.lead_id, lead_history.c.org,
      lead_history.c.at)

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
