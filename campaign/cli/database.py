"""``init-db``: create the database and apply the migrations not applied yet."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.engine import make_url

from ..core.copy import Copied, TargetNotEmpty, copy_database
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


def copy_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to", required=True, metavar="URL",
                   help="the target database, e.g. postgresql://user:pw@host:5432/name "
                        "(it must be empty; it is migrated first)")


def copy_db(args: argparse.Namespace, settings: Settings) -> int:
    """Copy CAMPAIGN_DATABASE (e.g. the SQLite file) into an empty database."""
    async def go() -> list[Copied]:
        source = Database(settings.database)
        target = Database(args.to)
        await source.open()
        try:
            await target.open()
            try:
                return await copy_database(source, target)
            finally:
                await target.close()
        finally:
            await source.close()

    target_name = describe(Settings(database=args.to))
    try:
        copied = run(go())
    except TargetNotEmpty as exc:
        print(f"copy-db: refused: {exc}; copy only into an empty database", file=sys.stderr)
        return 1
    for item in copied:
        print(f"{item.table:<22}{item.rows:>8}")
    print(f"copy-db: {sum(c.rows for c in copied)} rows in {len(copied)} tables copied from "
          f"{describe(settings)} to {target_name}")
    return 0
