"""Bookable conversations: an organisation's slots, the slots offered to a family,
and the family's bookings (one calendar event each).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "booking_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("location", sa.Text(), server_default="", nullable=False),
        sa.Column("partner_org", sa.String(length=64), nullable=True),
        sa.Column("host_user_id", sa.Integer(), nullable=True),
        sa.Column("host_email", sa.Text(), nullable=False),
        sa.Column("partner_email", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("booked_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('phone', 'video', 'onsite')",
                           name=op.f("ck_booking_slots_kind")),
        sa.ForeignKeyConstraint(["booked_by"], ["leads.id"],
                                name=op.f("fk_booking_slots_booked_by_leads"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["host_user_id"], ["users.id"],
                                name=op.f("fk_booking_slots_host_user_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_slots")),
    )
    op.create_index("ix_booking_slots_org_starts", "booking_slots", ["org", "starts_at"],
                    unique=False)
    op.create_table(
        "slot_offers",
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"],
                                name=op.f("fk_slot_offers_lead_id_leads"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["slot_id"], ["booking_slots.id"],
                                name=op.f("fk_slot_offers_slot_id_booking_slots"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("slot_id", "lead_id", name=op.f("pk_slot_offers")),
    )
    op.create_index("ix_slot_offers_lead", "slot_offers", ["lead_id"], unique=False)
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=160), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("org", sa.String(length=64), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="booked", nullable=False),
        sa.Column("sequence", sa.Integer(), server_default="0", nullable=False),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=16), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('booked', 'cancelled')", name=op.f("ck_bookings_status")),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_bookings_lead_id_leads"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["slot_id"], ["booking_slots.id"],
                                name=op.f("fk_bookings_slot_id_booking_slots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        sa.UniqueConstraint("uid", name=op.f("uq_bookings_uid")),
    )
    op.create_index("ix_bookings_open", "bookings", ["lead_id", "org"], unique=True,
                    sqlite_where=sa.text("status = 'booked'"),
                    postgresql_where=sa.text("status = 'booked'"))
    op.create_index("ix_bookings_status_reminded", "bookings", ["status", "reminded_at"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_bookings_status_reminded", table_name="bookings")
    op.drop_index("ix_bookings_open", table_name="bookings")
    op.drop_table("bookings")
    op.drop_index("ix_slot_offers_lead", table_name="slot_offers")
    op.drop_table("slot_offers")
    op.drop_index("ix_booking_slots_org_starts", table_name="booking_slots")
    op.drop_table("booking_slots")
