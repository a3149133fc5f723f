"""``python -m campaign <command>``: operations for cron, editors and admins.

The table below lists every command: name, help, its arguments, and the
function that runs it with the settings from the environment.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ..core.settings import Settings, SettingsError
from . import accounts, catalogs, content, database, integrations, mail, retention

Handler = Callable[[argparse.Namespace, Settings], int]
Arguments = Callable[[argparse.ArgumentParser], None]


def _none(p: argparse.ArgumentParser) -> None:
    """No arguments."""


COMMANDS: dict[str, tuple[str, Arguments, Handler]] = {
    "init-db": ("create the database and apply migrations", _none, database.init_db),
    "copy-db": ("copy this database (e.g. the SQLite file) into an empty PostgreSQL database",
                database.copy_arguments, database.copy_db),
    "check-content": ("validate all content files; non-zero exit on errors",
                      content.arguments, content.check_content),
    "create-user": ("create a partner-portal account", accounts.user_arguments,
                    accounts.create_user),
    "outbox": ("list queued and dead mails; 'outbox retry ID|--dead' queues again",
               mail.outbox_arguments, mail.outbox_command),
    "send-outbox": ("send queued mails (a worker loop; --once for cron)", mail.send_arguments,
                    mail.send_command),
    "export-leads": ("write the leads of an organisation as Excel-friendly CSV",
                     accounts.export_arguments, accounts.export_leads),
    "purge": ("delete unconfirmed leads after 7 days, anonymise leads after the retention "
              "period (CAMPAIGN_LEAD_RETENTION_MONTHS), delete unused share images",
              _none, retention.purge_command),
    "create-api-token": ("create an API token for an organisation (printed once)",
                         integrations.token_arguments, integrations.create_api_token),
    "add-webhook": ("add a webhook receiver for an organisation (the secret is printed once)",
                    integrations.webhook_arguments, integrations.add_webhook),
    "i18n": ("message catalogs: extract, update (merge into de/nl/en), check",
             catalogs.arguments, catalogs.command),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m campaign")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name, (help_text, arguments, _run) in COMMANDS.items():
        arguments(sub.add_parser(name, help=help_text))
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"settings error: {exc}", file=sys.stderr)
        return 2
    return COMMANDS[args.command][2](args, settings)
