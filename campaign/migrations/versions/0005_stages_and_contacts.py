"""Stages to the goal and a named contact: the follow-up state becomes a stage
(with a close reason), a lead gets an assignee per organisation, staff get a
profile, and the work on a lead is kept in ``lead_history``.

Existing states move to the nearest stage: "Besuch geplant" becomes
"Gespräch oder Besuch vereinbart", "kein Interesse" becomes "geschlossen"
with the reason "anderes" (the old state did not say why). The status
changes and notes of the audit log are copied into the history, so a lead
page shows what was done before the upgrade.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD_TO_NEW = {"besuch_geplant": "termin_vereinbart", "kein_interesse": "geschlossen"}
NEW_TO_OLD = {"termin_vereinbart": "besuch_geplant", "vor_ort": "besuch_geplant",
              "umzug_geplant": "besuch_geplant", "geblieben": "zugezogen",
              "geschlossen": "kein_interesse"}

recipients = sa.table("lead_recipients", sa.column("status", sa.String),
                      sa.column("close_reason", sa.String))
audit = sa.table("audit_log", sa.column("id", sa.Integer),
                 sa.column("at", sa.DateTime(timezone=True)), sa.column("user_id", sa.Integer), sa.column("actor", sa.Text),
                 sa.column("org", sa.String), sa.column("lead_id", sa.Integer),
                 sa.column("action", sa.String), sa.column("detail", sa.Text))
history = sa.table("lead_history", sa.column("lead_id", sa.Integer), sa.column("org", sa.String),
                   sa.column("event", sa.String), sa.column("from_stage", sa.String),
                   sa.column("to_stage", sa.String), sa.column("detail", sa.Text),
                   sa.column("user_id", sa.Integer), sa.column("actor", sa.Text),
                   sa.column("at", sa.DateTime(timezone=True)))


def upgrade() -> None:
    with warnings.catch_warnings():
        # SQLite copies the table; reflecting ``leads`` (its foreign key) skips the
        # expression index on lower(email) with a warning. That index is not copied.
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        with op.batch_alter_table("lead_recipients") as batch:
            batch.add_column(sa.Column("close_reason", sa.String(length=32), nullable=True))
            batch.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
            batch.add_column(sa.Column("assigned_at", sa.DateTime(timezone=True),
                                       nullable=True))
            batch.create_foreign_key(op.f("fk_lead_recipients_assignee_id_users"), "users",
                                     ["assignee_id"], ["id"], ondelete="SET NULL")
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("display_name", sa.Text(), nullable=True))
        batch.add_column(sa.Column("job_title", sa.Text(), nullable=True))
        batch.add_column(sa.Column("phone", sa.Text(), nullable=True))
        batch.add_column(sa.Column("photo", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("photo_alt", sa.Text(), nullable=True))
    op.create_table(
        "lead_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("org", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("from_stage", sa.String(length=32), nullable=True),
        sa.Column("to_stage", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), server_default="", nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("event IN ('stage', 'assign', 'call', 'note')",
                           name=op.f("ck_lead_history_event")),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"],
                                name=op.f("fk_lead_history_lead_id_leads"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_lead_history_user_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_history")),
    )
    op.create_index("ix_lead_history_lead_org_at", "lead_history", ["lead_id", "org", "at"],
                    unique=False)
    for old, new in OLD_TO_NEW.items():
        op.execute(recipients.update().where(recipients.c.status == old).values(
            status=new, close_reason="anderes" if new == "geschlossen" else None))
    _copy_audit_log()


def _stage(code: str) -> str:
    return OLD_TO_NEW.get(code, code)


def _copy_audit_log() -> None:
    """Status changes ("alt → neu") and notes of the audit log become history rows."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(audit).where(audit.c.action.in_(("status", "note")),
                               audit.c.lead_id.isnot(None), audit.c.org.isnot(None))
        .order_by(audit.c.id)).all()
    copied = []
    for row in rows:
        values = {"lead_id": row.lead_id, "org": row.org, "user_id": row.user_id,
                  "actor": row.actor, "at": row.at, "detail": ""}
        if row.action == "note":
            copied.append({**values, "event": "note", "from_stage": None, "to_stage": None})
            continue
        parts = row.detail.split(" → ")
        if len(parts) == 2:
            copied.append({**values, "event": "stage", "from_stage": _stage(parts[0]),
                           "to_stage": _stage(parts[1])})
    if copied:
        bind.execute(history.insert(), copied)


def downgrade() -> None:
    for new, old in NEW_TO_OLD.items():
        op.execute(recipients.update().where(recipients.c.status == new).values(status=old))
    op.drop_index("ix_lead_history_lead_org_at", table_name="lead_history")
    op.drop_table("lead_history")
    with op.batch_alter_table("users") as batch:
        for name in ("photo_alt", "photo", "phone", "job_title", "display_name"):
            batch.drop_column(name)
    with op.batch_alter_table("lead_recipients") as batch:
        batch.drop_constraint(op.f("fk_lead_recipients_assignee_id_users"), type_="foreignkey")
        for name in ("assigned_at", "assignee_id", "close_reason"):
            batch.drop_column(name)
