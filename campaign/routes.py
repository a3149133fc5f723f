"""The route table: every route named, templates build links with url_for."""

from __future__ import annotations

import importlib

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from . import STATIC_DIR

# Each view module exposes ``routes``; order matters only for overlapping paths.
VIEW_MODULES = [
    "campaign.views.showcase",
    "campaign.views.quiz",
    "campaign.views.leads",
    "campaign.views.delivery",
    "campaign.views.partner",
    "campaign.views.share",
    "campaign.views.easy",
]


def build_routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for name in VIEW_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # that feature is not built yet
            raise
        routes.extend(module.routes)
    routes.append(Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static"))
    return routes
