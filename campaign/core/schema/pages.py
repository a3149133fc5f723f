"""Partners' edits of the family pages: proposals waiting for the agency's review,
what is published, and uploaded pictures with their re-encoded variants.

Content files stay the seed and the fallback; what the agency approved lives here,
so every instance reads the same. Pictures are stored as bytes in the database
(not on one instance's disk) for the same reason.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from .base import Bytes, Json, UTCDateTime, metadata

# One proposal of a kind (e.g. "municipality_page") for a target (e.g. a municipality
# slug); a pending one is edited in place until the agency decides.
page_proposals = Table(
    "page_proposals", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("target", String(64), nullable=False),
    Column("org", String(64), nullable=False),
    Column("payload", Json, nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("author", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime),
    Column("decided_by", Text),
    Column("comment", Text, nullable=False, server_default=""),
    CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
)
Index("ix_page_proposals_kind_target_status", page_proposals.c.kind,
      page_proposals.c.target, page_proposals.c.status)

# What families see: the approved payload per kind and target.
published_pages = Table(
    "published_pages", metadata,
    Column("kind", String(32), primary_key=True),
    Column("target", String(64), primary_key=True),
    Column("payload", Json, nullable=False),
    Column("proposal_id", Integer, ForeignKey("page_proposals.id", ondelete="SET NULL")),
    Column("published_at", UTCDateTime, nullable=False),
)

# An uploaded picture (the original is not kept), addressed by a random key.
pictures = Table(
    "pictures", metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(32), nullable=False, unique=True),
    Column("target", String(64), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# The re-encoded sizes of a picture, one row per width and format.
picture_variants = Table(
    "picture_variants", metadata,
    Column("picture_id", Integer, ForeignKey("pictures.id", ondelete="CASCADE"),
           primary_key=True),
    Column("width", Integer, primary_key=True),
    Column("format", String(8), primary_key=True),
    Column("height", Integer, nullable=False),
    Column("data", Bytes, nullable=False),
)
