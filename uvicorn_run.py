"""Serve the campaign with uvicorn, configured from CAMPAIGN_* environment variables."""

from __future__ import annotations

import sys

import uvicorn

from campaign.content import ContentError
from campaign.core.settings import Settings, SettingsError
from campaign.web.app import create_app
from campaign.web.serving import server_config


def main() -> int:
    try:
        settings = Settings.from_env()
        app = create_app(settings)
    except (ContentError, SettingsError) as exc:
        print(f"campaign: cannot start: {exc}", file=sys.stderr)
        return 2
    print(f"campaign: serving on http://{settings.host}:{settings.port}/", file=sys.stderr)
    uvicorn.Server(server_config(app, settings)).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
