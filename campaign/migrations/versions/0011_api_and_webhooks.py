"""API tokens and webhook receivers per organisation; webhook events in the outbox.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False, server_default=""),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_api_tokens_org", "api_tokens", ["org"])
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False, server_default=""),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_webhooks_org", "webhooks", ["org"])
    op.add_column("outbox", sa.Column("webhook_id", sa.Integer, nullable=True))
    op.create_index("ux_outbox_webhook_event", "outbox", ["webhook_id", "message_id"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("ux_outbox_webhook_event", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("webhook_id")
    op.drop_table("webhooks")
    op.drop_table("api_tokens")
