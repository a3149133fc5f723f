"""``python -m campaign <command>``: operations for cron, editors and admins.

Commands register themselves in COMMANDS; feature modules add theirs by
importing ``command`` and decorating a function (see campaign/cli_*.py).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from .content import ContentError, load_content
from .settings import Settings, SettingsError

Handler = Callable[[argparse.Namespace, Settings], int]
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Handler]] = {}



def command(name: str, help: str, arguments: Callable[[argparse.ArgumentParser], None]
            = lambda p: None) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        COMMANDS[name] = (help, arguments, fn)
        return fn

    return register


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def open_db(settings: Settings) -> Any:
    from .db import Database

    db = Database(settings.database)
    await db.open()
    return db


@command("init-db", "create the database and apply migrations")
def _init_db(args: argparse.Namespace, settings: Settings) -> int:
    async def go() -> list[str]:
        from .db import Database

        db = Database(settings.database)
        await db.open()
        applied = await db.migrate()
        await db.close()
        return applied

    applied = run(go())
    print(f"database {settings.database}: applied {len(applied)} migration(s), up to date")
    return 0


def _check_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dir", help="content folder (default: the shipped one)")


@command("check-content", "validate all content files; non-zero exit on errors",
         _check_args)
def _check_content(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    folder = Path(args.dir) if args.dir else settings.content_dir
    try:
        content = load_content(folder)
    except ContentError as exc:
        print(f"content error: {exc}", file=sys.stderr)
        return 1
    region = content.region
    print(f"content ok: {len(region.districts)} districts, {len(region.municipalities)} "
          f"municipalities, {len(region.organisations)} organisations")
    for name, extra in content.extras.items():
        size = len(extra) if hasattr(extra, "__len__") else 1
        print(f"  {name}: {size}")
    report = _coverage_report(content)
    if report:
        print(report)
    return 0


def _coverage_report(content: Any) -> str:
    """Per-language coverage figures of content and interface texts."""
    from .coverage import report

    return str(report(content))


def main(argv: list[str] | None = None) -> int:
    from . import cli_leads, cli_mail, cli_users  # noqa: F401  (they register their commands)

    parser = argparse.ArgumentParser(prog="python -m campaign")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name, (help_text, arguments, _fn) in COMMANDS.items():
        arguments(sub.add_parser(name, help=help_text))
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"settings error: {exc}", file=sys.stderr)
        return 2
    return COMMANDS[args.command][2](args, settings)
