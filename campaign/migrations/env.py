"""Alembic environment: migrations run on the connection the service hands over
(campaign.core.migrate), never on one Alembic opens itself."""

from __future__ import annotations

from alembic import context

from campaign.core.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `python -m campaign init-db`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite changes a table by copying it; Alembic's batch mode does that.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
