"""Dates, times, numbers and durations for people: in the region's time zone
and the reader's language (Babel), never as stored codes or in UTC.

This is the one place where a stored moment (UTC) becomes text: pages, mails,
``/meine-daten`` and the portal's CSV all go through it, so a lead that came
in at 23:30 UTC on 30 June reads "1 July, 01:30" everywhere."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel import dates
from babel.numbers import format_decimal
from babel.units import format_unit

from .clock import LOCAL_TZ, as_utc
from .i18n import current_language


def _lang(lang: str | None = None) -> str:
    return lang or current_language.get()


def _as_moment(value: Any) -> date | datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value.strip() \
            else date.fromisoformat(value)
    if isinstance(value, datetime):
        return as_utc(value)
    return value  # type: ignore[no-any-return]


def format_date(value: Any, format: str = "long", lang: str | None = None) -> str:
    """``25. November 2026`` / ``25 november 2026`` / ``November 25, 2026``."""
    if value in (None, ""):
        return ""
    moment = _as_moment(value)
    if isinstance(moment, datetime):
        moment = moment.astimezone(LOCAL_TZ).date()
    return dates.format_date(moment, format, locale=_lang(lang))


def format_datetime(value: Any, format: str = "medium", lang: str | None = None) -> str:
    """Date and time (no seconds) in the region's time zone: ``25.11.2026, 14:05``."""
    if value in (None, ""):
        return ""
    moment = _as_moment(value)
    locale = _lang(lang)
    width: Any = format  # one of Babel's widths: full, long, medium, short
    pattern = str(dates.get_datetime_format(width, locale=locale)).format(
        dates.get_time_format("short", locale=locale).pattern,
        dates.get_date_format(width, locale=locale).pattern)
    return dates.format_datetime(moment, pattern, tzinfo=LOCAL_TZ, locale=locale)


def format_time(value: datetime, lang: str | None = None) -> str:
    """A time of day in the region's time zone, without seconds: ``14:05``."""
    return dates.format_time(as_utc(value), "short", tzinfo=LOCAL_TZ, locale=_lang(lang))


def iso_day(value: datetime | None) -> str:
    """The day in the region's time zone as ISO ``2026-07-01`` (spreadsheets read it
    as a date), or ""."""
    return as_utc(value).astimezone(LOCAL_TZ).date().isoformat() if value else ""


def iso_time(value: datetime | None) -> str:
    """The time of day in the region's time zone as ``01:30`` (24 h), or ""."""
    return as_utc(value).astimezone(LOCAL_TZ).strftime("%H:%M") if value else ""


def format_number(value: float) -> str:
    return format_decimal(value, locale=_lang())


def format_minutes(value: int) -> str:
    """A travel time: ``70 Minuten`` / ``70 minuten`` / ``70 minutes``."""
    return format_unit(value, "duration-minute", length="long", locale=_lang())
