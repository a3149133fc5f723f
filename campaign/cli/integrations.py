"""``create-api-token`` and ``add-webhook``: an organisation's own systems.

Both print their secret once (the token, the signing secret); the database
keeps only a hash of the token, and the portal never shows either again.
"""

from __future__ import annotations

import argparse
import sys

from ..content import load_content
from ..core.clock import utcnow
from ..core.settings import Settings
from ..delivery import webhooks
from ..portal import api
from .common import opened, run


def _org_known(settings: Settings, slug: str) -> bool:
    region = load_content(settings.content_dir).region
    if slug in region.organisations:
        return True
    print(f"unknown organisation {slug!r}; known: " + ", ".join(sorted(region.organisations)),
          file=sys.stderr)
    return False


def token_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--org", required=True, help="organisation slug from the content")
    p.add_argument("--name", default="", help="what the token is for (shown in the portal)")


def create_api_token(args: argparse.Namespace, settings: Settings) -> int:
    if not _org_known(settings, args.org):
        return 2

    async def create() -> str:
        async with opened(settings) as db:
            return await api.create_token(db, args.org, name=args.name[:200], now=utcnow(),
                                          created_by="command line")

    token = run(create())
    print(f"API token for {args.org} (shown only now; keep it secret):\n{token}")
    return 0


def webhook_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--org", required=True, help="organisation slug from the content")
    p.add_argument("--url", required=True, help="where events are POSTed (https:// in production)")


def add_webhook(args: argparse.Namespace, settings: Settings) -> int:
    if not _org_known(settings, args.org):
        return 2
    problem = webhooks.url_problem(args.url, settings)
    if problem is not None:
        print(f"--url: {problem}", file=sys.stderr)
        return 2

    async def add() -> tuple[int, str]:
        async with opened(settings) as db:
            return await webhooks.add(db, args.org, args.url, now=utcnow(),
                                      created_by="command line")

    hook_id, secret = run(add())
    print(f"webhook {hook_id} for {args.org}: {args.url}\n"
          f"signing secret (shown only now; verify X-Campaign-Signature with it):\n{secret}")
    return 0
