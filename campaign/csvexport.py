"""CSV that German Excel opens correctly: UTF-8 with BOM, ';' separator, ISO dates.

Cells are neutralised against formula injection: a value a spreadsheet would
treat as a formula (starting with = + - @, or tab / carriage return, which
some programs strip before parsing) gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

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


def iso_date(value: str | None) -> str:
    """'2026-11-25T10:00:00+00:00' → '2026-11-25' (Excel reads ISO dates as dates)."""
    return (value or "")[:10]


LEAD_HEADER = (
    "ID", "Eingang", "Bestätigt", "Name", "E-Mail", "Telefon", "Erwachsene", "Kinder",
    "Altersgruppen", "Interessen", "Zeitrahmen", "Gemeinden", "Bearbeitungsstand",
    "Quittiert", "Quelle", "Medium", "Kampagne", "Ort-Code", "Quiz", "Sprache", "Nachricht",
)


def lead_rows(leads: Iterable[dict[str, Any]]) -> Iterable[list[Any]]:
    for lead in leads:
        yield [
            lead["id"], iso_date(lead["created_at"]), iso_date(lead["confirmed_at"]),
            lead["name"], lead["email"], lead["phone"], lead["adults"], lead["children"],
            ", ".join(lead["child_ages"]), ", ".join(lead["interests"]), lead["timeframe"],
            ", ".join(lead["municipalities"]), lead.get("follow_up") or "",
            iso_date(lead.get("acknowledged_at")), lead["utm_source"], lead["utm_medium"],
            lead["utm_campaign"], lead["place_code"], lead["quiz"], lead["language"],
            lead["message"],
        ]


def leads_csv(leads: Iterable[dict[str, Any]]) -> str:
    return to_csv(LEAD_HEADER, lead_rows(leads))
