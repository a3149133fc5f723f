"""CSV that German Excel opens correctly: UTF-8 with BOM, ';' separator, ISO dates.

Every value is in German words as the portal shows it (municipality names,
"Kita und Schule", "in ein bis drei Jahren", "Besuch geplant", "Deutsch", the
quiz's title), never a stored code; days and times are those of Berlin.

Cells are neutralised against formula injection (``neutralise``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ..content import Content
from ..core.formatting import iso_day, iso_time
from ..core.vocab import (
    CHILD_AGE_LABELS,
    FOLLOW_UP_LABELS,
    INTEREST_LABELS,
    LANGUAGE_LABELS_DE,
    TIMEFRAME_LABELS,
    german,
    german_list,
)
from .cases import Case

BOM = "\ufeff"
# What makes a spreadsheet evaluate a cell: = and @ always; tab, CR and LF
# because some programs strip them before looking at the first character.
_FORMULA_START = ("=", "@", "\t", "\r", "\n")
# + and - start formulas too, but also phone numbers ("+49 271 12345"): a cell
# of only digits, spaces and ( ) / . - after its sign has no function, name or
# reference in it, so at worst a spreadsheet reads it as a number.
_PHONE_LIKE = re.compile(r"[+-][0-9 ()/.\-]*")


def neutralise(value: Any) -> str:
    """The cell text, prefixed with ' when a spreadsheet would run it as a formula.

    Phone numbers stay as written: a leading + or - is left alone when only
    digits, spaces and ``( ) / . -`` follow, since such a cell cannot call a
    function or reach another cell; ``+1+cmd|…``, ``-A1``, ``=…``, ``@…`` and
    values starting with tab or a line break are prefixed."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START) or (
            text.startswith(("+", "-")) and not _PHONE_LIKE.fullmatch(text)):
        return "'" + text
    return text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    return BOM + buf.getvalue()


def iso_date(value: datetime | None) -> str:
    """The day in the region's time zone, as ISO (Excel reads it as a date)."""
    return iso_day(value)


LEAD_HEADER = (
    "Nummer", "Eingang", "Uhrzeit", "Bestätigt", "Name", "E-Mail", "Telefon", "Erwachsene",
    "Kinder", "Altersgruppen", "Interessen", "Zeitrahmen", "Gemeinden", "Bearbeitungsstand",
    "Quittiert", "Quelle", "Medium", "Kampagne", "Ort-Code", "Quiz", "Sprache", "Nachricht",
)


def lead_rows(cases: Iterable[Case], content: Content | None = None) -> Iterable[list[Any]]:
    """One row per lead in German words (names from ``content``, when given)."""
    towns = content.region.municipalities if content else {}
    quizzes = content.quizzes if content else {}
    for c in cases:
        quiz = quizzes.get(c.quiz or "")
        yield [
            c.number, iso_day(c.created_at), iso_time(c.created_at), iso_day(c.confirmed_at),
            c.name, c.email, c.phone, c.adults, c.children,
            ", ".join(german_list(CHILD_AGE_LABELS, c.child_ages)),
            ", ".join(german_list(INTEREST_LABELS, c.interests)),
            german(TIMEFRAME_LABELS, c.timeframe),
            ", ".join(towns[s].name if s in towns else s for s in c.municipalities),
            german(FOLLOW_UP_LABELS, c.follow_up), iso_day(c.acknowledged_at),
            c.utm_source, c.utm_medium, c.utm_campaign, c.place_code,
            str(quiz.title) if quiz is not None else c.quiz,
            LANGUAGE_LABELS_DE.get(c.language, c.language), c.message,
        ]


def leads_csv(cases: Iterable[Case], content: Content | None = None) -> str:
    return to_csv(LEAD_HEADER, lead_rows(cases, content))
