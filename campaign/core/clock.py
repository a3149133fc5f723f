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
    """Real time plus an offset that tests may move (or stop, to count exact waits)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self.stopped_at: datetime | None = None

    def now(self) -> datetime:
        return (self.stopped_at or utcnow()) + self.offset

    def stop(self, at: datetime | None = None) -> datetime:
        """Stand still at ``at`` (or now) until moved by ``advance``; returns that moment."""
        self.stopped_at, self.offset = as_utc(at or self.now()), timedelta(0)
        return self.stopped_at

    def advance(self, delta: timedelta) -> None:
        self.offset += delta
