"""Alembic, run from the application: one history for SQLite and PostgreSQL.

``upgrade`` runs on a connection the caller holds (and has locked), so the
app at start-up and ``python -m campaign init-db`` apply migrations the same
way; it returns the revisions it applied.
"""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

SCRIPT_LOCATION = "campaign:migrations"


def config(connection: Any = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def current(connection: Any) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Any) -> list[str]:
    """Upgrade to head on ``connection`` (a sync Connection); the revisions applied."""
    if "schema_migrations" in inspect(connection).get_table_names() \
            and current(connection) is None:
        raise RuntimeError(
            "this database was made by an earlier version of the service (before Alembic "
            "migrations); start with a new database file")
    cfg = config(connection)
    before = current(connection)
    command.upgrade(cfg, "head")
    after = current(connection)
    if after == before:
        return []
    script = ScriptDirectory.from_config(cfg)
    applied = [rev.revision for rev in script.iterate_revisions(after, before)]
    return list(reversed(applied))
