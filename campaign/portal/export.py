"""CSV that German Excel opens correctly: UTF-8 with BOM, ';' separator, ISO dates.

Cells are neutralised against formula injection: a value a spreadsheet would
treat as a formula (starting with = + - @, or tab / carriage return, which
some programs strip before parsing) gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ..core.clock import local
from .cases import Case

BOM = "\ufeff"
_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value: Any) -> str:
    """The cell text, prefixed with ' when a spreadsheet would evaluate it."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_DANGEROUS_START):
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
    return local(value).date().isoformat() if value else ""


LEAD_HEADER = (
    "ID", "Eingang", "Bestätigt", "Name", "E-Mail", "Telefon", "Erwachsene", "Kinder",
    "Altersgruppen", "Interessen", "Zeitrahmen", "Gemeinden", "Bearbeitungsstand",
    "Quittiert", "Quelle", "Medium", "Kampagne", "Ort-Code", "Quiz", "Sprache", "Nachricht",
)


def lead_rows(cases: Iterable[Case]) -> Iterable[list[Any]]:
    for c in cases:
        yield [
            c.id, iso_date(c.created_at), iso_date(c.confirmed_at), c.name, c.email, c.phone,
            c.adults, c.children, ", ".join(c.child_ages), ", ".join(c.interests), c.timeframe,
            ", ".join(c.municipalities), c.follow_up or "", iso_date(c.acknowledged_at),
            c.utm_source, c.utm_medium, c.utm_campaign, c.place_code, c.quiz, c.language,
            c.message,
        ]


def leads_csv(cases: Iterable[Case]) -> str:
    return to_csv(LEAD_HEADER, lead_rows(cases))
