"""The knowledge pool: reply templates and their uses, how-tos with attachments and
"hilfreich" marks, the full-text search over how-tos, and "reply" in the history.

Full-text search is the database's own: on SQLite an FTS5 table over title, body and
tags (``unicode61``, umlauts folded), kept in step with ``articles`` by triggers;
on PostgreSQL a GIN index on the German ``to_tsvector`` of the same text (the
expression ``campaign.core.db`` queries).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

EVENTS_OLD = "event IN ('stage', 'assign', 'call', 'note')"
EVENTS_NEW = "event IN ('stage', 'assign', 'call', 'note', 'reply')"
PG_DOCUMENT = "to_tsvector('german', title || ' ' || body || ' ' || tags)"
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, tags, content='articles', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN "
    "INSERT INTO articles_fts(rowid, title, body, tags) "
    "VALUES (new.id, new.title, new.body, new.tags); END",
    "CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN "
    "INSERT INTO articles_fts(articles_fts, rowid, title, body, tags) "
    "VALUES ('delete', old.id, old.title, old.body, old.tags); END",
    "CREATE TRIGGER articles_fts_update AFTER UPDATE ON articles BEGIN "
    "INSERT INTO articles_fts(articles_fts, rowid, title, body, tags) "
    "VALUES ('delete', old.id, old.title, old.body, old.tags); "
    "INSERT INTO articles_fts(rowid, title, body, tags) "
    "VALUES (new.id, new.title, new.body, new.tags); END",
]


def _events(allowed: str) -> None:
    """Replace the history's check of its events (SQLite copies the table for it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        with op.batch_alter_table("lead_history", recreate="auto") as batch:
            batch.drop_constraint(op.f("ck_lead_history_event"), type_="check")
            batch.create_check_constraint(op.f("ck_lead_history_event"), sa.text(allowed))


def upgrade() -> None:
    op.create_table(
        "reply_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("origin_id", sa.Integer(), nullable=True),
        sa.Column("origin_org", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "category IN ('erstantwort', 'kita', 'wohnen', 'jobsuche', 'probewohnen')",
            name=op.f("ck_reply_templates_category")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"],
                                name=op.f("fk_reply_templates_created_by_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["origin_id"], ["reply_templates.id"],
                                name=op.f("fk_reply_templates_origin_id_reply_templates"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_templates")),
    )
    op.create_index("ix_reply_templates_org", "reply_templates", ["org"], unique=False)
    op.create_table(
        "template_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("org", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"],
                                name=op.f("fk_template_uses_lead_id_leads"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["template_id"], ["reply_templates.id"],
                                name=op.f("fk_template_uses_template_id_reply_templates"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_template_uses_user_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_uses")),
    )
    op.create_index("ix_template_uses_template", "template_uses", ["template_id"], unique=False)
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"],
                                name=op.f("fk_articles_created_by_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
    )
    op.create_index("ix_articles_created", "articles", ["created_at"], unique=False)
    op.create_table(
        "article_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary().with_variant(sa.dialects.postgresql.BYTEA(),
                                                        "postgresql"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"],
                                name=op.f("fk_article_files_article_id_articles"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_files")),
    )
    op.create_index("ix_article_files_article", "article_files", ["article_id"], unique=False)
    op.create_table(
        "article_marks",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"],
                                name=op.f("fk_article_marks_article_id_articles"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_article_marks_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "user_id", name=op.f("pk_article_marks")),
    )
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    else:
        op.execute(f"CREATE INDEX ix_articles_fts ON articles USING gin (({PG_DOCUMENT}))")
    _events(EVENTS_NEW)


def downgrade() -> None:
    _events(EVENTS_OLD)
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER articles_fts_{name}")
        op.execute("DROP TABLE articles_fts")
    else:
        op.execute("DROP INDEX ix_articles_fts")
    op.drop_table("article_marks")
    op.drop_index("ix_article_files_article", table_name="article_files")
    op.drop_table("article_files")
    op.drop_index("ix_articles_created", table_name="articles")
    op.drop_table("articles")
    op.drop_index("ix_template_uses_template", table_name="template_uses")
    op.drop_table("template_uses")
    op.drop_index("ix_reply_templates_org", table_name="reply_templates")
    op.drop_table("reply_templates")
