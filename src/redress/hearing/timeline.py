"""The time limit on the whole hearing procedure, and warnings as it nears.

The limit is counted in calendar months the way the Civil Code counts periods (arts. 201-202): the day the
procedure starts is not counted, and the period ends on the corresponding day of the last month, or on that
month's last day when it has no corresponding day (started 2024-11-30, three months -> 2025-02-28).  The
deadline is the last day on which the procedure may still finish.  Art. 203 (a last day falling on a public
holiday moves to the day after the holiday ends) needs a holiday calendar: pass ``working_day`` (the
administered hearings use the exchanges' trading sessions, see ``redress.market.calendar.is_working_day``).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum

LIMIT_MONTHS_DEFAULT = 3
LIMIT_MONTHS_MAX = 24
WARNING_DAYS_LEFT = (30, 14, 7, 1)
"""Days left at which a warning starts; each lasts until the next, tighter one."""


class TimelineError(ValueError):
    """The procedure's dates cannot be worked out as given; the message says what to change."""


class Urgency(str, Enum):
    """How close the procedure is to its deadline."""

    DAYS_30 = "30_days"      # 30 days or fewer left
    DAYS_14 = "14_days"      # 14 days or fewer left
    DAYS_7 = "7_days"        # 7 days or fewer left
    DAYS_1 = "1_day"         # the last day or the day before it
    OVERDUE = "overdue"      # the deadline has passed and the procedure has not been closed


_URGENCY_BY_DAYS = {30: Urgency.DAYS_30, 14: Urgency.DAYS_14, 7: Urgency.DAYS_7, 1: Urgency.DAYS_1}


@dataclass(frozen=True)
class DeadlineWarning:
    """One warning, in English and Chinese."""

    urgency: Urgency
    days_left: int        # negative once overdue
    deadline: date
    message_en: str
    message_zh: str

    def __str__(self) -> str:
        return f"{self.message_en} / {self.message_zh}"


def add_months(start: date, months: int) -> date:
    """The corresponding day ``months`` later, or that month's last day when there is none."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Procedure:
    """A hearing procedure started on ``started`` that must finish within ``limit_months``."""

    started: date
    limit_months: int = LIMIT_MONTHS_DEFAULT
    working_day: Callable[[date], bool] | None = field(default=None, compare=False)
    """Civil Code Art. 203: when given, a last day that is not a working day moves to the next working day."""

    def __post_init__(self) -> None:
        if not isinstance(self.started, date):
            raise TimelineError(
                f"started must be a date, got {self.started!r}; parse it with date.fromisoformat"
            )
        if (
            not isinstance(self.limit_months, int)
            or isinstance(self.limit_months, bool)
            or not 1 <= self.limit_months <= LIMIT_MONTHS_MAX
        ):
            raise TimelineError(
                f"limit_months must be a whole number from 1 to {LIMIT_MONTHS_MAX}, got {self.limit_months!r}"
            )

    @property
    def deadline(self) -> date:
        """The last day on which the procedure may finish."""
        last = add_months(self.started, self.limit_months)
        if self.working_day is not None:
            for _ in range(60):   # no run of holidays is that long; stop rather than loop forever
                if self.working_day(last):
                    break
                last += timedelta(days=1)
            else:
                raise TimelineError(f"no working day within 60 days after {add_months(self.started, self.limit_months)}")
        return last

    def days_left(self, on: date) -> int:
        """Whole days from ``on`` to the deadline: 0 on the deadline itself, negative after it."""
        return (self.deadline - on).days

    def warnings(self, on: date) -> tuple[DeadlineWarning, ...]:
        """The warning in force on ``on`` (at most one: the tightest threshold reached), or none."""
        left = self.days_left(on)
        deadline = self.deadline.isoformat()
        if left < 0:
            late = -left
            return (
                DeadlineWarning(
                    Urgency.OVERDUE,
                    left,
                    self.deadline,
                    f"overdue: the hearing procedure passed its deadline {deadline} {late} day(s) ago",
                    f"已逾期：听证程序已超过期限 {deadline}，逾期 {late} 日",
                ),
            )
        reached = [days for days in WARNING_DAYS_LEFT if left <= days]
        if not reached:
            return ()
        tightest = min(reached)
        if left == 0:
            en = f"today {deadline} is the last day of the hearing procedure"
            zh = f"今天（{deadline}）是听证程序的最后一日"
        else:
            en = f"{left} day(s) left: the hearing procedure must finish by {deadline}"
            zh = f"剩余 {left} 日：听证程序最迟须于 {deadline} 完成"
        return (DeadlineWarning(_URGENCY_BY_DAYS[tightest], left, self.deadline, en, zh),)

    def warning_dates(self) -> tuple[tuple[Urgency, date], ...]:
        """The first day of each warning, for scheduling reminders (overdue: the day after the deadline)."""
        firsts = tuple((_URGENCY_BY_DAYS[d], self.deadline - timedelta(days=d)) for d in WARNING_DAYS_LEFT)
        return (*firsts, (Urgency.OVERDUE, self.deadline + timedelta(days=1)))
