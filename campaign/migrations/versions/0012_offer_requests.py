"""Offer applications: which offer a lead applied for, and seats of visit days.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "offer_requests",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("offer", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("starts", sa.Date(), nullable=True),
        sa.Column("weeks", sa.Integer(), nullable=True),
        sa.Column("place", sa.String(length=8), nullable=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("place IN ('seat', 'waiting')", name=op.f("ck_offer_requests_place")),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"],
                                name=op.f("fk_offer_requests_lead_id_leads"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_offer_requests")),
    )
    op.create_index("ix_offer_requests_offer_place", "offer_requests", ["offer", "place"],
                    unique=False)
    op.create_table(
        "offer_counters",
        sa.Column("offer", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("offer", name=op.f("pk_offer_counters")),
    )


def downgrade() -> None:
    op.drop_table("offer_counters")
    op.drop_index("ix_offer_requests_offer_place", table_name="offer_requests")
    op.drop_table("offer_requests")
