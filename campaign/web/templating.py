"""Rendering pages: the shared Jinja environment plus what needs the request
(links in the page's language, the CSRF field, alternate languages).

Every page goes through ``Renderer``, which also sets a newly issued CSRF
cookie and, for a page reached from a campaign link, counts the entry visit
after the response is sent (never in middleware, never before the answer).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import jinja2
from markupsafe import Markup
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..core import i18n
from ..core.settings import Settings
from ..core.templates import make_environment
from ..reach.channels import count_visit, entry_attribution
from .csrf import CSRF_FIELD, csrf_token, issue_cookie
from .language import alternates, language_hint


def route_path(request: Request, name: str, **params: Any) -> str:
    """The path of a named route. The route is found by its name in the table's index
    (``app.state.named_routes``) instead of by trying every route in turn, which
    raises an exception per route that is not the one; a page builds dozens of links."""
    route = request.app.state.named_routes.get(name)
    if route is None:
        return str(request.app.url_path_for(name, **params))
    return str(route.url_path_for(name, **params))


def path_for(request: Request, name: str, query: Mapping[str, Any] | None = None,
             **params: Any) -> str:
    """Path of a named route in the page's language (``/nl/…`` for Dutch)."""
    url = i18n.with_language(route_path(request, name, **params), i18n.current_language.get())
    items = [(k, v) for k, v in (query or {}).items() if v not in (None, "")]
    return url + ("?" + urlencode(items, doseq=True) if items else "")


@jinja2.pass_context
def _url_for(context: Mapping[str, Any], name: str, /, query: Mapping[str, Any] | None = None,
             **params: Any) -> str:
    return path_for(context["request"], name, query, **params)


@jinja2.pass_context
def _static_url(context: Mapping[str, Any], path: str) -> str:
    return route_path(context["request"], "static", path=path)


@jinja2.pass_context
def _csrf_input(context: Mapping[str, Any]) -> Markup:
    token = csrf_token(context["request"])
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{token}">')


@jinja2.pass_context
def _alternates(context: Mapping[str, Any]) -> list[tuple[str, str]]:
    return alternates(context["request"], not_found=bool(context.get("not_found")))


@jinja2.pass_context
def _language_hint(context: Mapping[str, Any]) -> dict[str, str] | None:
    return language_hint(context["request"], not_found=bool(context.get("not_found")))


class Renderer:
    """``render(request, name, ctx)`` for views; one Jinja environment per app."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.env = make_environment()
        self.env.globals.update(
            url_for=_url_for, static_url=_static_url, csrf_input=_csrf_input,
            alternates=_alternates, language_hint=_language_hint,
            base_url=settings.base_url, share_ttl_days=settings.share_ttl_days)

    def __call__(self, request: Request, name: str, context: Mapping[str, Any] | None = None,
                 status_code: int = 200, headers: Mapping[str, str] | None = None
                 ) -> HTMLResponse:
        ctx = {"request": request, "lang": i18n.current_language.get(),
               "not_found": status_code == 404, **(context or {})}
        body = self.env.get_template(name).render(ctx)
        response = HTMLResponse(body, status_code=status_code, headers=headers,
                                background=self._entry_visit(request))
        issue_cookie(request, response)
        return response

    def _entry_visit(self, request: Request) -> BackgroundTask | None:
        if request.method != "GET":
            return None
        own = {request.headers.get("host", ""), self.settings.base_url.split("://")[-1]}
        attribution = entry_attribution(request.url.path, request.url.query,
                                        request.headers.get("referer", ""), own)
        if attribution is None:
            return None
        return BackgroundTask(_count_visit, request.app.state.services.db, attribution)


async def _count_visit(db: Any, attribution: dict[str, str]) -> None:
    try:
        await count_visit(db, attribution)
    except Exception:  # counting must never disturb a visitor
        logging.getLogger("campaign").exception("channel visit not counted")
