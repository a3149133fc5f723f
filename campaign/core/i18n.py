"""Languages, message catalogs and the active language of a request or mail.

The active language lives in a context variable (set per request by the
language middleware, per mail by the mail renderer), so templates, forms
and mails all translate through one ``gettext`` without passing the request
around. Catalogs (Babel ``.po`` files under ``campaign/locale``) are compiled
in memory at start-up; no ``.mo`` file is committed or built.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Mapping
from contextvars import ContextVar
from io import BytesIO
from pathlib import Path

from markupsafe import escape

from .. import PACKAGE_DIR

LANGUAGES = ("de", "nl", "en")
DEFAULT_LANGUAGE = "de"
LANGUAGE_NAMES = {"de": "Deutsch", "nl": "Nederlands", "en": "English"}
LOCALE_DIR = PACKAGE_DIR / "locale"

current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)
_catalogs: dict[str, _gettext.NullTranslations] = {}


def load_catalogs(locale_dir: Path = LOCALE_DIR) -> Mapping[str, _gettext.NullTranslations]:
    """Compile every ``messages.po`` into an in-memory catalog."""
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
    return catalogs


def _catalog() -> _gettext.NullTranslations:
    return _catalogs.get(current_language.get()) or _gettext.NullTranslations()


def gettext(message: str) -> str:
    return _catalog().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalog().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return _catalog().pgettext(context, message)


def N_(message: str) -> str:
    """Marks a msgid for extraction; it is translated later, where it is shown."""
    return message


class lazy_gettext(str):
    """A string translated when rendered; for labels defined at import time."""

    message: str

    def __new__(cls, message: str) -> lazy_gettext:
        obj = super().__new__(cls, message)
        obj.message = message
        return obj

    def __str__(self) -> str:
        return gettext(self.message)

    def __html__(self) -> str:
        return str(escape(str(self)))


class language:
    """``with language("nl"):`` translate in another language for a while (mails)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE

    def __enter__(self) -> str:
        self._token = current_language.set(self.lang)
        return self.lang

    def __exit__(self, *exc: object) -> None:
        current_language.reset(self._token)


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
