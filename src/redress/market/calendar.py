"""Exchange trading calendars: which dates the Shanghai and Shenzhen exchanges were open.

Codes starting with 6 trade on the Shanghai exchange (XSHG), the others on Shenzhen (XSHE).
exchange-calendars ships XSHG only; the two exchanges share the State Council's holiday schedule, so
XSHE sessions are taken from the XSHG calendar (see docs/decisions.md).  Dates outside the calendar's
coverage are not checked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import numpy as np

EPOCH = dt.date(1970, 1, 1)


def exchange_of(security: str) -> str:
    return "XSHG" if security.startswith("6") else "XSHE"


def day_number(date: dt.date) -> int:
    """Days since 1970-01-01 (Arrow's date32), the engine's date unit."""
    return (date - EPOCH).days


def from_day_number(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


@dataclass(frozen=True)
class SessionTable:
    """Sessions of one exchange as a boolean array over day numbers ``first_day .. last_day``."""

    exchange: str
    first_day: int
    last_day: int
    open_mask: np.ndarray

    def is_closed(self, days: np.ndarray) -> np.ndarray:
        """True where a day is inside the coverage and the exchange was closed."""
        from redress.market.closed_days import closed_days

        return closed_days(days, self.first_day, self.open_mask)

    def sessions_between(self, start: dt.date, end: dt.date) -> list[dt.date]:
        lo, hi = max(day_number(start), self.first_day), min(day_number(end), self.last_day)
        idx = np.nonzero(self.open_mask[lo - self.first_day: hi - self.first_day + 1])[0]
        return [from_day_number(lo + int(i)) for i in idx]


@cache
def sessions(exchange: str) -> SessionTable:
    import exchange_calendars as xcals

    calendar = xcals.get_calendar("XSHG")
    index = calendar.sessions
    if index.tz is not None:
        index = index.tz_convert(None)
    days = index.to_numpy().astype("datetime64[D]").astype(np.int64)
    first, last = int(days[0]), int(days[-1])
    mask = np.zeros(last - first + 1, dtype=bool)
    mask[days - first] = True
    return SessionTable(exchange, first, last, mask)


def is_working_day(date: dt.date) -> bool:
    """Whether ``date`` is a working day, read off the Shanghai exchange's sessions: the exchanges close on
    weekends and on the State Council's public holidays.  Weekend make-up working days (调休) are not exchange
    sessions, so they count as days off here: a deadline on one moves on to the next session (the later,
    never the earlier, day).  Outside the calendar's coverage, Monday to Friday are working days."""
    table = sessions("XSHG")
    day = day_number(date)
    if table.first_day <= day <= table.last_day:
        return bool(table.open_mask[day - table.first_day])
    return date.weekday() < 5
