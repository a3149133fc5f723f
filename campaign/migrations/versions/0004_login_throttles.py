"""Throttles by delay for the portal sign-in (per account and per client address).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "throttles",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttles")),
    )
    op.create_index("ix_throttles_not_before", "throttles", ["not_before"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_throttles_not_before", table_name="throttles")
    op.drop_table("throttles")
