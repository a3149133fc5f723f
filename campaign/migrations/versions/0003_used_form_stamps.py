"""Lead-form start stamps already used by a stored lead (each counts once).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "used_form_stamps",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_used_form_stamps")),
    )
    op.create_index("ix_used_form_stamps_expires", "used_form_stamps", ["expires_at"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_used_form_stamps_expires", table_name="used_form_stamps")
    op.drop_table("used_form_stamps")
