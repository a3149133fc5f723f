"""The Jinja environment shared by pages and mails: autoescaped, translated
through ``campaign.core.i18n``, with the formatting filters. The web layer adds
what needs a request (links, CSRF field); mails use it as it is."""

from __future__ import annotations

from typing import Any

import jinja2

from .. import TEMPLATES_DIR
from . import i18n
from .formatting import format_date, format_datetime, format_minutes, format_number
from .vocab import CALL_OUTCOME_LABELS, CLOSE_REASON_LABELS, STAGE_LABELS


def translate_content(value: Any) -> Any:
    """``text|t``: a content text (Text, TextList) in the current language."""
    get = getattr(value, "get", None)
    if callable(get) and hasattr(value, "has"):
        return get(i18n.current_language.get())
    return value


def make_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(["html", "xml", "svg"], default=True),
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,  # templates are compiled once per process
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext)
    env.globals.update(languages=i18n.LANGUAGES, language_names=i18n.LANGUAGE_NAMES,
                       current_lang=i18n.current_language.get,
                       # labels of stored codes, from the one vocabulary
                       stage_labels=STAGE_LABELS, close_reason_labels=CLOSE_REASON_LABELS,
                       call_outcome_labels=CALL_OUTCOME_LABELS)
    env.filters.update(t=translate_content, number=format_number, date=format_date,
                       datetime=format_datetime, minutes=format_minutes)
    return env
