"""Working days in North Rhine-Westphalia: pure arithmetic for response targets.

A target such as "two working days" counts Monday to Friday in Europe/Berlin
and skips the public holidays of NRW (the maintained ``holidays`` package knows
the movable ones, Easter and Corpus Christi included).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

from .clock import LOCAL_TZ, as_utc


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("DE", subdiv="NW", years=year).keys())


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a public holiday in NRW."""
    return day.weekday() < 5 and day not in _holidays(day.year)


def add_working_days(moment: datetime, days: int) -> datetime:
    """The moment ``days`` working days after ``moment``: the same Berlin clock time on
    the ``days``-th working day after the (Berlin) day of ``moment``, as UTC.

    A lead routed on the Thursday before Easter with two days is due on the Wednesday
    after Easter (Good Friday and Easter Monday are holidays)."""
    here = as_utc(moment).astimezone(LOCAL_TZ)
    day = here.date()
    left = days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    due = datetime.combine(day, here.timetz().replace(tzinfo=None), LOCAL_TZ)
    return as_utc(due)


def working_days_between(start: datetime, end: datetime) -> int:
    """Whole working days from ``start`` to ``end`` (0 when ``end`` is not later):
    how many working days a lead is overdue."""
    count = 0
    while add_working_days(start, count + 1) <= end:
        count += 1
        if count > 3660:  # ten years: a bound, not a case
            break
    return count
