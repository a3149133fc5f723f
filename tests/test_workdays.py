"""Working days with NRW's public holidays (pure functions, no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from campaign.core.clock import LOCAL_TZ
from campaign.core.workdays import add_working_days, is_working_day, working_days_between


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)  # type: ignore[misc]


def test_two_working_days_on_ordinary_days() -> None:
    assert add_working_days(berlin(2026, 3, 10, 14, 5), 2) == berlin(2026, 3, 12, 14, 5)


def test_a_weekend_is_skipped() -> None:
    assert add_working_days(berlin(2026, 3, 12, 9, 0), 2) == berlin(2026, 3, 16, 9, 0)
    # routed on a Saturday: Monday is the first working day, Tuesday the second
    assert add_working_days(berlin(2026, 3, 14, 9, 0), 2) == berlin(2026, 3, 17, 9, 0)


def test_easter_shifts_the_due_day() -> None:
    """Thursday before Easter 2026 (2 April): Good Friday and Easter Monday are
    holidays, so two working days end on the Wednesday after Easter."""
    assert not is_working_day(date(2026, 4, 3)) and not is_working_day(date(2026, 4, 6))
    assert add_working_days(berlin(2026, 4, 2, 16, 30), 2) == berlin(2026, 4, 8, 16, 30)


def test_nrw_holidays_that_other_states_do_not_have() -> None:
    assert not is_working_day(date(2026, 6, 4))  # Fronleichnam (Corpus Christi)
    assert not is_working_day(date(2027, 11, 1))  # Allerheiligen, a Monday
    assert is_working_day(date(2025, 10, 31))  # Reformationstag is no holiday in NRW
    assert add_working_days(berlin(2026, 6, 3, 10, 0), 1) == berlin(2026, 6, 5, 10, 0)


def test_berlin_day_counts_not_utc() -> None:
    """23:30 in Berlin on a Friday is still Friday there (21:30 UTC): due Tuesday."""
    friday_late = datetime(2026, 6, 12, 21, 30, tzinfo=UTC)
    assert add_working_days(friday_late, 2) == berlin(2026, 6, 16, 23, 30)


def test_days_overdue() -> None:
    due = berlin(2026, 4, 8, 16, 30)
    assert working_days_between(due, berlin(2026, 4, 8, 17, 0)) == 0
    assert working_days_between(due, berlin(2026, 4, 9, 16, 30)) == 1
    assert working_days_between(due, berlin(2026, 4, 13, 9, 0)) == 2
    assert working_days_between(due, berlin(2026, 4, 1, 9, 0)) == 0
