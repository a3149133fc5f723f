"""Dates, times, numbers and durations for people: in the region's time zone
and the reader's language (Babel), never as stored codes or in UTC."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel import dates
from babel.numbers import format_decimal
from babel.units import format_unit

from .clock import LOCAL_TZ, as_utc
from .i18n import current_language


def _lang() -> str:
    return current_language.get()


def _as_moment(value: Any) -> date | datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value.strip() \
            else date.fromisoformat(value)
    if isinstance(value, datetime):
        return as_utc(value)
    return value  # type: ignore[no-any-return]


def format_date(value: Any, format: str = "long") -> str:
    """``25. November 2026`` / ``25 november 2026`` / ``November 25, 2026``."""
    if value in (None, ""):
        return ""
    moment = _as_moment(value)
    if isinstance(moment, datetime):
        moment = moment.astimezone(LOCAL_TZ).date()
    return dates.format_date(moment, format, locale=_lang())


def format_datetime(value: Any, format: str = "medium") -> str:
    """Date and time (no seconds) in the region's time zone: ``25.11.2026, 14:05``."""
    if value in (None, ""):
        return ""
    moment = _as_moment(value)
    width: Any = format  # one of Babel's widths: full, long, medium, short
    pattern = str(dates.get_datetime_format(width, locale=_lang())).format(
        dates.get_time_format("short", locale=_lang()).pattern,
        dates.get_date_format(width, locale=_lang()).pattern)
    return dates.format_datetime(moment, pattern, tzinfo=LOCAL_TZ, locale=_lang())


def format_time(value: datetime) -> str:
    """A time of day in the region's time zone, without seconds: ``14:05``."""
    return dates.format_time(as_utc(value), "short", tzinfo=LOCAL_TZ, locale=_lang())


def format_number(value: float) -> str:
    return format_decimal(value, locale=_lang())


def format_minutes(value: int) -> str:
    """A travel time: ``70 Minuten`` / ``70 minuten`` / ``70 minutes``."""
    return format_unit(value, "duration-minute", length="long", locale=_lang())
