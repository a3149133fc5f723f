"""The route table: every route named, templates build links with url_for."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from . import STATIC_DIR


def build_routes() -> list[BaseRoute]:
    """Each view module exposes ``routes``; order matters only for overlapping paths."""
    from .views import delivery, easy, leads, partner, quiz, share, showcase

    routes: list[BaseRoute] = []
    for module in (showcase, quiz, leads, delivery, partner, share, easy):
        routes.extend(module.routes)
    routes.append(Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static"))
    return routes
