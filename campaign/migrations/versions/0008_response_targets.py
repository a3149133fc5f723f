"""Response targets: when a lead's first contact is due per organisation, when it
happened, and the two overdue reminders (each sent once).

Leads routed before this migration get no due time (they were never promised
one, and reminding about all of them at once would help nobody); their first
contact is taken from the history (the first stage change past "neu" or call),
so the figures on time to first contact include them.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = ("due_at", "first_contact_at", "overdue_reminded_at", "overdue_escalated_at")

recipients = sa.table("lead_recipients", sa.column("lead_id", sa.Integer),
                      sa.column("org", sa.String),
                      sa.column("first_contact_at", sa.DateTime(timezone=True)))
history = sa.table("lead_history", sa.column("lead_id", sa.Integer), sa.column("org", sa.String),
                   sa.column("event", sa.String), sa.column("to_stage", sa.String),
                   sa.column("at", sa.DateTime(timezone=True)))


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("lead_recipients", sa.Column(name, sa.DateTime(timezone=True),
                                                   nullable=True))
    op.create_index("ix_lead_recipients_due", "lead_recipients", ["due_at"], unique=False)
    first = (sa.select(sa.func.min(history.c.at))
             .where(history.c.lead_id == recipients.c.lead_id, history.c.org == recipients.c.org,
                    sa.or_(history.c.event == "call",
                           sa.and_(history.c.event == "stage", history.c.to_stage != "neu")))
             .scalar_subquery())
    op.execute(recipients.update().values(first_contact_at=first))


def downgrade() -> None:
    op.drop_index("ix_lead_recipients_due", table_name="lead_recipients")
    with warnings.catch_warnings():  # SQLite copies the table (see 0005)
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        with op.batch_alter_table("lead_recipients") as batch:
            for name in reversed(COLUMNS):
                batch.drop_column(name)
