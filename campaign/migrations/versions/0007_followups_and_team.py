"""Staying in touch after the move, and the team: the ``followups`` table (consent,
the twelve-month questions and their answers per family that moved in), and
``users.invited_at`` / ``users.deactivated_at`` (an invited colleague's account is
inactive until the password is set; a deactivated one stays, marked).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("invited_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("deactivated_at", sa.DateTime(timezone=True),
                                   nullable=True))
    op.create_table(
        "followups",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("still_here", sa.Boolean(), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.CheckConstraint("satisfaction BETWEEN 1 AND 5",
                           name=op.f("ck_followups_satisfaction")),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"],
                                name=op.f("fk_followups_lead_id_leads"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_followups")),
    )
    op.create_index("ix_followups_consented_moved", "followups",
                    ["consented_at", "moved_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_followups_consented_moved", table_name="followups")
    op.drop_table("followups")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("deactivated_at")
        batch.drop_column("invited_at")
