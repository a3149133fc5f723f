"""Translation and locale handling.

The active language lives in a context variable set per request by the
locale middleware, so templates, forms and mails all translate through one
``gettext`` without passing the request around. Catalogs (Babel ``.po``
files under ``campaign/locale``) are compiled in memory at start-up.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from io import BytesIO
from pathlib import Path

from markupsafe import Markup

from . import PACKAGE_DIR
from .content import DEFAULT_LANGUAGE, LANGUAGES

LOCALE_DIR = PACKAGE_DIR / "locale"
current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)

_catalogs: dict[str, _gettext.NullTranslations] = {}


def load_catalogs(locale_dir: Path = LOCALE_DIR) -> Mapping[str, _gettext.NullTranslations]:
    """Compile every ``messages.po`` into an in-memory catalog (no committed .mo files)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalogs: dict[str, _gettext.NullTranslations] = {}
    for lang in LANGUAGES:
        po = locale_dir / lang / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            catalogs[lang] = _gettext.NullTranslations()
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        buf = BytesIO()
        write_mo(buf, catalog, use_fuzzy=False)
        buf.seek(0)
        catalogs[lang] = _gettext.GNUTranslations(buf)
    _catalogs.clear()
    _catalogs.update(catalogs)
    _formatted.clear()
    return catalogs


def _catalog() -> _gettext.NullTranslations:
    return _catalogs.get(current_language.get()) or _gettext.NullTranslations()


def gettext(message: str) -> str:
    return _catalog().gettext(message)


# (language, message, autoescape) -> the finished text of a template's ``_()``
# without variables: a page has dozens of them, and they never change.
_formatted: dict[tuple[str, str, bool], str] = {}
_FORMATTED_MAX = 8192  # msgids × languages × 2, with room for computed messages


def template_gettext(message: str, autoescape: bool, variables: Mapping[str, object]) -> str:
    """What Jinja's new-style ``_()`` gives, without its three calls per text:
    the translation, Markup when the template escapes, always %-formatted
    (so "%%" is "%" even without variables)."""
    if variables:
        return _format(message, autoescape, variables)
    key = (current_language.get(), message, autoescape)
    done = _formatted.get(key)
    if done is None:
        done = _format(message, autoescape, {})
        if len(_formatted) >= _FORMATTED_MAX:
            _formatted.clear()
        _formatted[key] = done
    return done


def _format(message: str, autoescape: bool, variables: Mapping[str, object]) -> str:
    rv = gettext(message)
    return (Markup(rv) if autoescape else rv) % variables


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalog().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return _catalog().pgettext(context, message)


_ = gettext


class lazy_gettext(str):
    """A string translated when rendered; for labels defined at import time (forms)."""

    def __new__(cls, message: str) -> lazy_gettext:
        obj = super().__new__(cls, message)
        obj.message = message  # type: ignore[attr-defined]
        return obj

    def __str__(self) -> str:
        return gettext(self.message)  # type: ignore[attr-defined]

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))


def split_language(path: str) -> tuple[str, str]:
    """``/nl/orte/olpe`` → ("nl", "/orte/olpe"); German has no prefix."""
    for lang in LANGUAGES:
        if lang == DEFAULT_LANGUAGE:
            continue
        prefix = f"/{lang}"
        if path == prefix or path.startswith(prefix + "/"):
            return lang, path[len(prefix):] or "/"
    return DEFAULT_LANGUAGE, path


# Pages only offered in German (the partner portal and the receipt link are
# for staff of German municipalities and tourism associations); /nl/… and
# /en/… of these redirect to the German address.
GERMAN_ONLY_PATHS = ("/partner", "/quittung")


def german_only(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in GERMAN_ONLY_PATHS)


def with_language(path: str, lang: str) -> str:
    if lang == DEFAULT_LANGUAGE or german_only(path):
        return path
    return f"/{lang}{path}" if path != "/" else f"/{lang}/"


def languages() -> Iterator[str]:
    return iter(LANGUAGES)
