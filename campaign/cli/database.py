"""``init-db``: create the database and apply the migrations not applied yet."""

from __future__ import annotations

import argparse

from sqlalchemy.engine import make_url

from ..core.db import Database
from ..core.settings import Settings, sqlite_path
from .common import run


def describe(settings: Settings) -> str:
    """The database for people: the file, or the server without the password."""
    path = sqlite_path(settings.database)
    if path is not None:
        return str(path)
    return make_url(str(settings.database)).render_as_string(hide_password=True)


def init_db(args: argparse.Namespace, settings: Settings) -> int:
    async def go() -> list[str]:
        db = Database(settings.database)
        try:
            return await db.open()
        finally:
            await db.close()

    applied = run(go())
    names = ", ".join(applied) if applied else "none"
    print(f"database {describe(settings)}: applied {len(applied)} migration(s) ({names}), "
          "up to date")
    return 0
