"""The hearing procedure's time limit (three months by default) and the warnings as it nears."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redress.hearing.timeline import Procedure, TimelineError, Urgency, add_months

STARTED = date(2025, 3, 10)
PROCEDURE = Procedure(STARTED)          # deadline 2025-06-10


def on(days_left: int) -> date:
    return PROCEDURE.deadline - timedelta(days=days_left)


def test_three_months_by_default_ending_on_the_corresponding_day():
    assert PROCEDURE.limit_months == 3
    assert PROCEDURE.deadline == date(2025, 6, 10)
    assert Procedure(STARTED, limit_months=6).deadline == date(2025, 9, 10)
    assert Procedure(date(2025, 11, 15)).deadline == date(2026, 2, 15)     # across the year end


@pytest.mark.parametrize(
    ("started", "deadline"),
    [
        (date(2024, 11, 30), date(2025, 2, 28)),    # no 30 February: the month's last day
        (date(2023, 11, 30), date(2024, 2, 29)),    # leap year
        (date(2025, 5, 31), date(2025, 8, 31)),
        (date(2025, 3, 31), date(2025, 6, 30)),
    ],
)
def test_no_corresponding_day_means_the_last_day_of_that_month(started, deadline):
    assert Procedure(started).deadline == deadline


def test_days_left():
    assert PROCEDURE.days_left(STARTED) == 92
    assert PROCEDURE.days_left(date(2025, 6, 10)) == 0
    assert PROCEDURE.days_left(date(2025, 6, 12)) == -2


@pytest.mark.parametrize(
    ("days_left", "urgency"),
    [
        (92, None), (31, None),
        (30, Urgency.DAYS_30), (15, Urgency.DAYS_30),
        (14, Urgency.DAYS_14), (8, Urgency.DAYS_14),
        (7, Urgency.DAYS_7), (2, Urgency.DAYS_7),
        (1, Urgency.DAYS_1), (0, Urgency.DAYS_1),
        (-1, Urgency.OVERDUE), (-40, Urgency.OVERDUE),
    ],
)
def test_warnings_at_30_14_7_and_1_days_left_then_overdue(days_left, urgency):
    warnings = PROCEDURE.warnings(on(days_left))
    if urgency is None:
        assert warnings == ()
    else:
        (warning,) = warnings
        assert warning.urgency is urgency
        assert warning.days_left == days_left
        assert warning.deadline == PROCEDURE.deadline


def test_warnings_are_bilingual():
    (seven,) = PROCEDURE.warnings(on(7))
    assert seven.message_en == "7 day(s) left: the hearing procedure must finish by 2025-06-10"
    assert seven.message_zh == "剩余 7 日：听证程序最迟须于 2025-06-10 完成"
    assert str(seven) == f"{seven.message_en} / {seven.message_zh}"
    (last,) = PROCEDURE.warnings(on(0))
    assert "last day" in last.message_en and "最后一日" in last.message_zh
    (late,) = PROCEDURE.warnings(on(-3))
    assert late.message_en.startswith("overdue") and "3 day(s) ago" in late.message_en
    assert late.message_zh.startswith("已逾期") and "逾期 3 日" in late.message_zh


def test_warning_dates_for_scheduling_reminders():
    assert PROCEDURE.warning_dates() == (
        (Urgency.DAYS_30, date(2025, 5, 11)),
        (Urgency.DAYS_14, date(2025, 5, 27)),
        (Urgency.DAYS_7, date(2025, 6, 3)),
        (Urgency.DAYS_1, date(2025, 6, 9)),
        (Urgency.OVERDUE, date(2025, 6, 11)),
    )
    for urgency, first_day in PROCEDURE.warning_dates():
        assert PROCEDURE.warnings(first_day)[0].urgency is urgency
        assert not PROCEDURE.warnings(first_day - timedelta(days=1)) or (
            PROCEDURE.warnings(first_day - timedelta(days=1))[0].urgency is not urgency
        )


@pytest.mark.parametrize("months", [0, -1, 25, 1.5, True])
def test_the_limit_must_be_a_sensible_whole_number_of_months(months):
    with pytest.raises(TimelineError, match="limit_months must be a whole number from 1 to 24"):
        Procedure(STARTED, limit_months=months)


def test_started_must_be_a_date():
    with pytest.raises(TimelineError, match="date.fromisoformat"):
        Procedure("2025-03-10")


@given(st.dates(date(2000, 1, 1), date(2100, 1, 1)), st.integers(1, 24), st.integers(-100, 800))
def test_warnings_follow_days_left(started, months, offset):
    procedure = Procedure(started, months)
    day = started + timedelta(days=offset)
    left = procedure.days_left(day)
    assert left == procedure.days_left(day + timedelta(days=1)) + 1
    warnings = procedure.warnings(day)
    assert len(warnings) <= 1
    assert bool(warnings) == (left <= 30)
    if left < 0:
        assert warnings[0].urgency is Urgency.OVERDUE


@given(st.dates(date(2000, 1, 1), date(2100, 1, 1)), st.integers(1, 24))
def test_deadline_is_in_the_right_month_and_never_past_the_corresponding_day(started, months):
    deadline = add_months(started, months)
    assert (deadline.year * 12 + deadline.month) - (started.year * 12 + started.month) == months
    assert deadline.day <= started.day
    assert deadline.day == started.day or (deadline + timedelta(days=1)).day == 1
