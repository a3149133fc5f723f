"""Time: stored in UTC, shown in Europe/Berlin.

The app holds one ``Clock``; tests move it forward instead of waiting (a
reminder two working days later, a follow-up twelve months later).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Europe/Berlin")  # the region's clock, for every visitor and mail


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """An aware datetime in UTC; a naive one is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def local(value: datetime) -> datetime:
    return as_utc(value).astimezone(LOCAL_TZ)


def local_day_start(day: date) -> datetime:
    """Midnight of ``day`` in Berlin, as a UTC moment (for "from" date filters)."""
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ).astimezone(UTC)


def local_today(now: datetime | None = None) -> date:
    return local(now or utcnow()).date()


class Clock:
    """Real time plus an offset that tests may move."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta
