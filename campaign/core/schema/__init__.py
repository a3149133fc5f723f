"""The one schema of the service, for SQLite and PostgreSQL alike.

Alembic migrations (``campaign/migrations``) are written against these
tables. Times are ``UTCDateTime`` (``timestamptz`` on PostgreSQL, UTC text on
SQLite), lists a family chose are join tables (so the portal filters them
with plain joins on both backends), small structured values are JSON
(``jsonb`` on PostgreSQL).
"""

from __future__ import annotations

from .api import api_tokens, webhooks
from .base import Bytes, Json, UTCDateTime, metadata
from .leads import (
    consent_events,
    funnel_counts,
    lead_interests,
    lead_municipalities,
    lead_recipients,
    leads,
    outbox,
    rate_counts,
    sessions,
    throttles,
    used_form_stamps,
    users,
)
from .offers import offer_counters, offer_requests
from .pages import page_proposals, picture_variants, pictures, published_pages
from .pool import (
    TEMPLATE_CATEGORIES,
    article_files,
    article_marks,
    articles,
    reply_templates,
    template_uses,
)
from .work import (
    audit_log,
    booking_slots,
    bookings,
    channel_visits,
    followups,
    job_leases,
    lead_history,
    lead_notes,
    place_scans,
    places,
    slot_offers,
)

__all__ = [
    "Bytes",
    "Json",
    "UTCDateTime",
    "metadata",
    "api_tokens",
    "webhooks",
    "consent_events",
    "funnel_counts",
    "lead_interests",
    "lead_municipalities",
    "lead_recipients",
    "leads",
    "outbox",
    "rate_counts",
    "sessions",
    "throttles",
    "used_form_stamps",
    "users",
    "offer_counters",
    "offer_requests",
    "page_proposals",
    "picture_variants",
    "pictures",
    "published_pages",
    "audit_log",
    "booking_slots",
    "bookings",
    "channel_visits",
    "followups",
    "job_leases",
    "lead_history",
    "lead_notes",
    "place_scans",
    "places",
    "slot_offers",
    "TEMPLATE_CATEGORIES",
    "article_files",
    "article_marks",
    "articles",
    "reply_templates",
    "template_uses",
]
