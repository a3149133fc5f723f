"""Applications to offers: which offer a lead applied for, and seats of visit days."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Index, Integer, String, Table

from .base import UTCDateTime, metadata

# One row per lead made by an offer's form (trial stay, visit days, job interest).
# The lead holds the family's data; this row says what it asked for. Its ``place``
# (visit days) is decided when the family confirms: a seat or the waiting list.
# The row goes when the lead is withdrawn, erased or anonymised (its seat with it).
offer_requests = Table(
    "offer_requests", metadata,
    Column("lead_id", Integer, ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True),
    Column("offer", String(64), nullable=False),  # offer slug from content
    Column("kind", String(16), nullable=False),
    Column("starts", Date),  # trial stay: the first day asked for
    Column("weeks", Integer),  # trial stay: how many weeks
    Column("place", String(8)),  # visit days: 'seat' or 'waiting', once confirmed
    Column("placed_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("place IN ('seat', 'waiting')", name="place"),
)
Index("ix_offer_requests_offer_place", offer_requests.c.offer, offer_requests.c.place)

# One row per offer with seats: the confirming transaction updates it first, which
# locks it (PostgreSQL) so seats are counted by one transaction at a time.
offer_counters = Table(
    "offer_counters", metadata,
    Column("offer", String(64), primary_key=True),
    Column("count", Integer, nullable=False),
)
