"""Jinja environment: compiled once per app, translations through campaign.i18n."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import jinja2
from jinja2.nodes import EvalContext
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from . import TEMPLATES_DIR, i18n
from .content import LANGUAGES, Text, TextList
from .security import CSRF_FIELD, csrf_token

LANGUAGE_NAMES = {"de": "Deutsch", "nl": "Nederlands", "en": "English"}


def make_environment(settings: Any) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(["html", "xml", "svg"], default=True),
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,  # templates are compiled once per process
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
    )
    env.globals["_"] = _gettext  # the same result as the extension's alias, cheaper
    env.globals.update(
        url_for=_url_for,
        static_url=_static_url,
        csrf_input=_csrf_input,
        alternates=_alternates,
        current_lang=lambda: i18n.current_language.get(),
        languages=LANGUAGES,
        language_names=LANGUAGE_NAMES,
        base_url=settings.base_url,
        share_result_url=_share_result_url,
        share_names=_share_names,
        share_ttl_days=getattr(settings, "share_ttl_days", 90),
    )
    env.filters["t"] = _translate_content
    env.filters["number"] = _format_number
    env.filters["date"] = format_date
    env.filters["datetime"] = format_datetime
    env.filters["minutes"] = format_minutes
    env.globals["language_hint"] = _language_hint
    return env


@jinja2.pass_eval_context
def _gettext(eval_ctx: EvalContext, message: str, **variables: Any) -> str:
    """``_()`` in templates: new-style gettext (see ``i18n.template_gettext``)."""
    return i18n.template_gettext(message, eval_ctx.autoescape, variables)


def _lang() -> str:
    return i18n.current_language.get()


@jinja2.pass_context
def _url_for(context: Mapping[str, Any], name: str, /, query: Mapping[str, Any] | None = None,
             **path_params: Any) -> str:
    """Path for a named route in the page's language (``/nl/…`` for Dutch)."""
    request: Request = context["request"]
    path = route_path(request.app, name, path_params)
    url = i18n.with_language(path, _lang())
    if query:
        items = [(k, v) for k, v in query.items() if v not in (None, "")]
        if items:
            url += "?" + urlencode(items, doseq=True)
    return url


@jinja2.pass_context
def _static_url(context: Mapping[str, Any], path: str) -> str:
    return route_path(context["request"].app, "static", {"path": path})


def route_path(app: Any, name: str, params: Mapping[str, Any]) -> str:
    """``app.url_path_for`` memoised per app (a page builds dozens of links, and the
    router's search raises an exception per non-matching route). For parameters
    from content (slugs, numbers); a visitor's token would only fill the memo."""
    cache: dict[Any, str] | None = getattr(app.state, "route_paths", None)
    if cache is None:
        cache = app.state.route_paths = {}
    try:
        key = (name, tuple(sorted(params.items())))
        return cache[key]
    except KeyError:
        pass
    except TypeError:  # unhashable parameter: no memo
        return str(app.url_path_for(name, **params))
    value = str(app.url_path_for(name, **params))
    if len(cache) < 20_000:  # bounded: slugs come from content, not from visitors
        cache[key] = value
    return value


@jinja2.pass_context
def _csrf_input(context: Mapping[str, Any]) -> Markup:
    token = csrf_token(context["request"])
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{token}">')


@jinja2.pass_context
def _alternates(context: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(language, path) of this page in every language, query kept."""
    request: Request = context["request"]
    path = request.scope.get("campaign_path", request.url.path)
    query = request.url.query
    out = []
    for lang in LANGUAGES:
        if lang != i18n.DEFAULT_LANGUAGE and i18n.german_only(path):
            continue  # offered in German only
        url = i18n.with_language(path, lang)
        out.append((lang, url + (f"?{query}" if query else "")))
    return out


@jinja2.pass_context
def _share_result_url(context: Mapping[str, Any], quiz: Any, ranking: Any) -> str | None:
    """Path of the public result page for a ranking's top three (no answers in it)."""
    from .views.share import result_path

    return result_path(context["request"], quiz, ranking)


@jinja2.pass_context
def _share_names(context: Mapping[str, Any], ranking: Any) -> str:
    from .share import top_slugs

    region = context["request"].app.state.content.region
    return ", ".join(region.municipalities[s].name for s in top_slugs(ranking)
                     if s in region.municipalities)


def _translate_content(value: Any) -> Any:
    if isinstance(value, (Text, TextList)):
        return value.get(_lang())
    return value


def _format_number(value: int | float) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, locale=_lang())


LOCAL_TZ = "Europe/Berlin"  # the region's clock, for every visitor and mail


def _as_datetime(value: Any) -> Any:
    from datetime import UTC, date, datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value.strip() \
            else date.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # the database stores UTC
    return value


def format_date(value: Any, format: str = "long") -> str:
    """``25. November 2026`` / ``25 november 2026`` / ``November 25, 2026``."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from babel import dates

    if value in (None, ""):
        return ""
    value = _as_datetime(value)
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(LOCAL_TZ)).date()
    return dates.format_date(value, format, locale=_lang())


def format_datetime(value: Any, format: str = "medium") -> str:
    """Date and time (no seconds) in the region's time zone: ``25.11.2026, 14:05``."""
    from zoneinfo import ZoneInfo

    from babel import dates

    if value in (None, ""):
        return ""
    value = _as_datetime(value)
    width: Any = format  # one of Babel's widths: full, long, medium, short
    pattern = str(dates.get_datetime_format(width, locale=_lang())).format(
        dates.get_time_format("short", locale=_lang()).pattern,
        dates.get_date_format(width, locale=_lang()).pattern)
    return dates.format_datetime(value, pattern, tzinfo=ZoneInfo(LOCAL_TZ), locale=_lang())


def format_minutes(value: int) -> str:
    """A travel time: ``70 Minuten`` / ``70 minuten`` / ``70 minutes``."""
    from babel.units import format_unit

    return format_unit(value, "duration-minute", length="long", locale=_lang())


@jinja2.pass_context
def _language_hint(context: Mapping[str, Any]) -> dict[str, str] | None:
    from .i18n_prefs import language_hint

    return language_hint(context["request"])


class Renderer:
    """Thin wrapper so views call ``render(request, name, ctx)``."""

    def __init__(self, settings: Any) -> None:
        self.env = make_environment(settings)
        self.templates = Jinja2Templates(env=self.env)

    def __call__(self, request: Request, name: str, context: dict[str, Any] | None = None,
                 status_code: int = 200, headers: Mapping[str, str] | None = None
                 ) -> HTMLResponse:
        ctx = dict(context or {})
        ctx.setdefault("lang", _lang())
        return self.templates.TemplateResponse(request, name, ctx, status_code=status_code,
                                               headers=headers)

    def render_string(self, name: str, context: Mapping[str, Any]) -> str:
        return self.env.get_template(name).render(**context)
