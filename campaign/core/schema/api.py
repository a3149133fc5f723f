"""What an organisation's own systems use: API tokens and webhook receivers."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from .base import UTCDateTime, metadata

# A token is shown once; only its SHA-256 is kept, so a copy of the database
# lets nobody read the organisation's leads. Revoked tokens keep their row.
api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True),
    Column("org", String(64), nullable=False),
    Column("name", Text, nullable=False, server_default=""),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", Text, nullable=False, server_default=""),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
)
Index("ix_api_tokens_org", api_tokens.c.org)

# A receiver of an organisation's events. The secret signs every body (HMAC), so
# it must be kept as it is; it is shown once and never listed again.
webhooks = Table(
    "webhooks", metadata,
    Column("id", Integer, primary_key=True),
    Column("org", String(64), nullable=False),
    Column("url", Text, nullable=False),
    Column("secret", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", Text, nullable=False, server_default=""),
    Column("revoked_at", UTCDateTime),
)
Index("ix_webhooks_org", webhooks.c.org)
