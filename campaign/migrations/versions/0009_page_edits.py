"""Partners keep their pages current: ``page_proposals`` (edits waiting for the
agency's review, with the decision and its comment), ``published_pages`` (what
families see, per kind and target), ``pictures`` and ``picture_variants`` (uploaded
pictures re-encoded into sizes and formats, stored as bytes so every instance
serves them).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import BYTEA, JSONB

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

JSON = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
BYTES = sa.LargeBinary().with_variant(BYTEA(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "page_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("org", sa.String(length=64), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')",
                           name=op.f("ck_page_proposals_status")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_page_proposals_user_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_proposals")),
    )
    op.create_index("ix_page_proposals_kind_target_status", "page_proposals",
                    ["kind", "target", "status"], unique=False)
    op.create_table(
        "published_pages",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["page_proposals.id"],
                                name=op.f("fk_published_pages_proposal_id_page_proposals"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("kind", "target", name=op.f("pk_published_pages")),
    )
    op.create_table(
        "pictures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pictures")),
        sa.UniqueConstraint("key", name=op.f("uq_pictures_key")),
    )
    op.create_table(
        "picture_variants",
        sa.Column("picture_id", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("data", BYTES, nullable=False),
        sa.ForeignKeyConstraint(["picture_id"], ["pictures.id"],
                                name=op.f("fk_picture_variants_picture_id_pictures"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("picture_id", "width", "format",
                                name=op.f("pk_picture_variants")),
    )


def downgrade() -> None:
    op.drop_table("picture_variants")
    op.drop_table("pictures")
    op.drop_table("published_pages")
    op.drop_index("ix_page_proposals_kind_target_status", table_name="page_proposals")
    op.drop_table("page_proposals")
