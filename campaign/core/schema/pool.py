"""The knowledge pool between organisations: reply templates, how-tos with their
attachments and "hilfreich" marks.

None of these rows holds data of a family: a template's use names only the lead
and the stage it was at (for "how many reached a later stage"); the reply itself
went through the outbox, which an erasure clears.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from .base import Bytes, UTCDateTime, metadata

TEMPLATE_CATEGORIES = ("erstantwort", "kita", "wohnen", "jobsuche", "probewohnen")

reply_templates = Table(
    "reply_templates", metadata,
    Column("id", Integer, primary_key=True),
    Column("org", String(64), nullable=False),
    Column("category", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("shared", Boolean, nullable=False, server_default="0"),
    # The shared template this one was copied from (kept when the original goes).
    Column("origin_id", Integer, ForeignKey("reply_templates.id", ondelete="SET NULL")),
    Column("origin_org", String(64)),
    Column("created_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("category IN ('erstantwort', 'kita', 'wohnen', 'jobsuche', 'probewohnen')",
                    name="category"),
)
Index("ix_reply_templates_org", reply_templates.c.org)

# One reply sent with a template: which lead, by which organisation, at which stage.
template_uses = Table(
    "template_uses", metadata,
    Column("id", Integer, primary_key=True),
    Column("template_id", Integer, ForeignKey("reply_templates.id", ondelete="CASCADE"),
           nullable=False),
    Column("lead_id", Integer, ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
    Column("org", String(64), nullable=False),
    Column("stage", String(32), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("at", UTCDateTime, nullable=False),
)
Index("ix_template_uses_template", template_uses.c.template_id)

# How-tos (Wissenspool): searchable with the database's own full-text search
# (an FTS5 table kept by triggers on SQLite, a GIN index on PostgreSQL; both made
# by the migration, queried through ``core.db.text_matches``).
articles = Table(
    "articles", metadata,
    Column("id", Integer, primary_key=True),
    Column("org", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("tags", Text, nullable=False, server_default=""),  # "kita wohnen", lower case
    Column("created_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_articles_created", articles.c.created_at)

# Attachments live in the database, so every instance serves them.
article_files = Table(
    "article_files", metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("media_type", String(32), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", Bytes, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_article_files_article", article_files.c.article_id)

article_marks = Table(
    "article_marks", metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"),
           primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
)
