"""Base date and base price of each security (loss-rules.md section 2), and ex-rights factors.

SPC-2022 Art. 26 / SPC-2003 Art. 33: the base date is the day, counted in trading days from the
disclosure date D, on which the cumulative turnover of the tradable shares reaches 100%, bounded by the
rule's window; the base price is the mean closing price from D to the base date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from redress.errors import CaseError, Problem
from redress.law.plan import CaseConfig, DayOne, Rules, TurnoverDenominator
from redress.rounding import PRICE_UNITS, half_up_units

TURNOVER_TOLERANCE = 1e-12  # cumulative turnover is a sum of ratios; 1 - 1e-12 counts as 100%


@dataclass(frozen=True)
class ExRights:
    """Share-ratio actions of one security, as sorted ex-dates (day numbers) and ratios."""

    ex_days: np.ndarray
    ratios: np.ndarray
    cash: np.ndarray

    def factor(self, days: np.ndarray) -> np.ndarray:
        """Product of the ratios of every action whose ex-date is after each day (SPC-2022 Art. 29)."""
        f = np.ones(days.shape, dtype=np.float64)
        for ex_day, ratio in zip(self.ex_days, self.ratios, strict=True):
            f[days < ex_day] *= ratio
        return f

    def total(self) -> float:
        return float(np.prod(self.ratios)) if self.ratios.size else 1.0


def ex_rights_by_security(case: CaseConfig, actions: pl.DataFrame) -> dict[str, ExRights]:
    out = {}
    for sec in case.securities:
        a = actions.filter(pl.col("security") == sec).sort("ex_date")
        out[sec] = ExRights(a["ex_date"].cast(pl.Int32).to_numpy().astype(np.int64),
                            a["share_ratio"].to_numpy().astype(np.float64),
                            a["cash_dividend"].to_numpy().astype(np.float64))
    return out


@dataclass(frozen=True)
class BaseDate:
    security: str
    base_date: dt.date
    base_price: float
    trading_days: int  # number of trading days from D to B inclusive (B's day number)
    cumulative_turnover: float  # through B
    flags: tuple[str, ...]
    k_star: int | None  # first trading day with cumulative turnover >= 100%, if reached in the data
    rule: str  # the reasoning, with its article, for explain
    days: np.ndarray  # day numbers of trading days 1..B
    closes: np.ndarray  # ex-rights adjusted closes of those days
    turnover: np.ndarray  # cumulative turnover of those days
    price_fixed: bool = False

    @property
    def base_day(self) -> int:
        return (self.base_date - dt.date(1970, 1, 1)).days

    def as_json(self) -> dict:
        return {
            "security": self.security,
            "base_date": self.base_date.isoformat(),
            "base_price": float(half_up_units(np.array([self.base_price]), PRICE_UNITS)[0]) / PRICE_UNITS,
            "trading_days": self.trading_days,
            "cumulative_turnover": float(self.cumulative_turnover),
            "flags": list(self.flags),
        }


def _rule_day(rules: Rules, k_star: int | None, day_one: DayOne = DayOne.DISCLOSURE_DATE,
              traded_on_d: bool = False) -> tuple[int, str]:
    """The rule's base day, as a number of the security's trading days counted from D (D is day 1 when the
    security traded on D), and the reason.  ``day_one = day_after`` (SPC-2003 only) counts the fallback's 30
    trading days from the first trading day after D."""
    if rules == Rules.SPC2022:
        if k_star is not None and k_star <= 10:
            return 10, f"SPC-2022 Art. 26: turnover reached 100% on trading day {k_star} (<= 10), so B is day 10"
        if k_star is not None and k_star <= 30:
            return k_star, f"SPC-2022 Art. 26: turnover reached 100% on trading day {k_star} (10 < k <= 30), so B is that day"
        return 30, "SPC-2022 Art. 26: turnover did not reach 100% within 30 trading days, so B is day 30"
    if k_star is not None:
        return k_star, (f"SPC-2003 Art. 33(1): turnover reached 100% on trading day {k_star}, so B is that day "
                        f"(there is no cap at day 30)")
    if day_one == DayOne.DAY_AFTER:
        day = 30 + int(traded_on_d)
        counted = (f"the 30th trading day after D (plan.day_one = day_after: \"揭露日后第30个交易日\"), which is "
                   f"trading day {day} counted from D" if traded_on_d else
                   "the 30th trading day after D (plan.day_one = day_after; the security did not trade on D, so "
                   "that is trading day 30)")
        return day, ("SPC-2003 Art. 33(2): turnover never reaches 100% in the market data (the day cannot be "
                     f"determined), so B is {counted}")
    return 30, ("SPC-2003 Art. 33(2): turnover never reaches 100% in the market data (the day cannot be "
                "determined), so B is day 30")


def float_on_disclosure_date(rows: pl.DataFrame, d_day: int) -> float:
    """The tradable shares on D: the market row dated D (whatever its volume), else the last row before D,
    else the first row after D.  ``rows``: one security's market rows sorted by date."""
    days = rows["date"].cast(pl.Int32).to_numpy().astype(np.int64)
    shares = rows["tradable_shares"].to_numpy()
    j = int(np.searchsorted(days, d_day, side="right")) - 1
    return float(shares[j] if j >= 0 else shares[0])


def compute_base_dates(case: CaseConfig, market: pl.DataFrame, ex_rights: dict[str, ExRights],
                       market_file: str = "market.csv", skip: tuple[str, ...] = ()) -> dict[str, BaseDate]:
    """Base date of every security of the case but those in ``skip`` (set aside for want of market data)."""
    d_day = (case.disclosure_date - dt.date(1970, 1, 1)).days
    out: dict[str, BaseDate] = {}
    for sec in case.securities:
        if sec in skip:
            continue
        every = market.filter(pl.col("security") == sec).sort("date")
        m = every.filter(pl.col("volume") > 0)
        days_all = m["date"].cast(pl.Int32).to_numpy().astype(np.int64)
        after = days_all >= d_day
        days = days_all[after]
        if days.size == 0:
            raise CaseError(Problem(market_file, None, f"security {sec} has no trading day (volume > 0) on or "
                                                       f"after the disclosure date {case.disclosure_date}"))
        closes = (m["close"].to_numpy()[after] / ex_rights[sec].factor(days))
        by_float_on_d = case.plan.turnover_denominator == TurnoverDenominator.DISCLOSURE_DATE
        shares = (float_on_disclosure_date(every, d_day) if by_float_on_d
                  else m["tradable_shares"].to_numpy()[after])
        turnover = np.cumsum(m["volume"].to_numpy()[after] / shares)
        reached = np.nonzero(turnover >= 1.0 - TURNOVER_TOLERANCE)[0]
        k_star = int(reached[0]) + 1 if reached.size else None
        flags: tuple[str, ...] = ()
        if case.base_date is not None:
            b_day = (case.base_date - dt.date(1970, 1, 1)).days
            n = int(np.searchsorted(days, b_day, side="right"))
            if n == 0:
                raise CaseError(Problem("case.toml", None, f"no trading day of {sec} between the disclosure date "
                                                          f"and the fixed base date {case.base_date}", "case.base_date"))
            rule = f"case.base_date fixes B = {case.base_date} (decided by a court or expert)"
            base_date = case.base_date
        else:
            target, rule = _rule_day(case.rules, k_star, case.plan.day_one, bool(days[0] == d_day))
            if by_float_on_d:
                rule += (f"; each day's turnover is its volume / the tradable shares on D ({shares:,.0f}; "
                         f"plan.turnover_denominator = disclosure_date)")
            n = target
            if days.size < target:
                n = int(days.size)
                flags = ("base_date_truncated",)
                rule += (f"; the market data ends after {n} trading days, so B is the last trading day in the file "
                         f"(base_date_truncated)")
            base_date = dt.date(1970, 1, 1) + dt.timedelta(days=int(days[n - 1]))
        price = float(np.mean(closes[:n]))
        fixed = case.base_price is not None
        if fixed:
            price = float(case.base_price)
        out[sec] = BaseDate(sec, base_date, price, n, float(turnover[n - 1]), flags, k_star, rule,
                            days[:n], closes[:n], turnover[:n], fixed)
    return out
