"""The market model (事件研究法) of the systemic-risk deduction ``market_model`` (loss-rules.md section 6).

For each security, the stock's daily returns over an estimation window before the implementation date I are
regressed by ordinary least squares on the daily returns of an index (or a weighted blend of indices):
``r_t = alpha + beta * m_t + e_t``.  The deduction then takes, for each investor, the part of the stock's move
over the investor's own holding that the index's move over the same dates explains through ``beta``.

The window: the security's trading days (market rows with a positive volume) dated before I, in date order;
the last ``estimation_gap`` of them are left out, and the window is the ``estimation_days`` days before those.
Each day's return is measured from the security's previous trading day, so the window needs one trading day
more before it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from redress.errors import CaseError, Problem
from redress.law.plan import CaseConfig, Plan

RATIO_EPS = 1e-12  # as the walk's: a move smaller than this is no move
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class MarketFit:
    """The fitted market model of one security."""

    security: str
    beta: float
    alpha: float  # reported, not used: the deduction is for the market's part only
    r_squared: float
    returns: int  # number of daily returns in the window
    first_day: dt.date  # first and last trading day whose return is in the window
    last_day: dt.date

    def as_json(self) -> dict:
        return {"security": self.security, "beta": self.beta, "alpha": self.alpha, "r_squared": self.r_squared,
                "returns": self.returns, "first_day": self.first_day.isoformat(),
                "last_day": self.last_day.isoformat()}

    def describe(self) -> str:
        return (f"OLS of the stock's daily returns on the index's over {self.returns} trading days "
                f"{self.first_day} to {self.last_day}: beta = {self.beta:.6f}, alpha = {self.alpha:.6f} "
                f"(not used), R² = {self.r_squared:.4f}")


def _last_close_on_or_before(days: np.ndarray, closes: np.ndarray, when: np.ndarray) -> np.ndarray:
    j = np.searchsorted(days, when, side="right") - 1
    return np.where(j >= 0, closes[np.maximum(j, 0)], np.nan)


def fit_market_models(case: CaseConfig, plan: Plan, market: pl.DataFrame, indices: pl.DataFrame,
                      factors: dict, market_file: str = "market.csv", index_file: str = "indices.csv",
                      skip: tuple[str, ...] = ()) -> dict[str, MarketFit]:
    """The market model of every security of the case (but those in ``skip``), under ``plan``.

    ``factors``: security -> its ex-rights (``ExRights``), whose ``factor(days)`` divides the closes before each
    ex-date.  Refuses, naming the file, a security with too few trading days before I, an index without a close
    where one is needed, and an index that did not move in the window."""
    sr = plan.systemic_risk
    length, gap = int(sr.estimation_days or 0), int(sr.estimation_gap or 0)
    i_day = (case.implementation_date - _EPOCH).days
    series = {}
    for code, _w in sr.indices:
        rows = indices.filter(pl.col("index") == code).sort("date")
        series[code] = (rows["date"].cast(pl.Int32).to_numpy().astype(np.int64), rows["close"].to_numpy())
    out: dict[str, MarketFit] = {}
    for sec in case.securities:
        if sec in skip:
            continue
        m = market.filter((pl.col("security") == sec) & (pl.col("volume") > 0)).sort("date")
        days_all = m["date"].cast(pl.Int32).to_numpy().astype(np.int64)
        before = days_all < i_day
        days = days_all[before]
        need = length + gap + 1
        if days.size < need:
            raise CaseError(Problem(market_file, None,
                                    f"security {sec} has {days.size} trading days before the implementation date "
                                    f"{case.implementation_date}; the market model needs {need} "
                                    f"(estimation_days {length} + estimation_gap {gap} + 1)"),
                            "Add earlier market rows, or shorten plan.systemic_risk.estimation_days.")
        end = days.size - gap
        window = days[end - length - 1:end]  # one day more: the first return is measured from it
        closes = m["close"].to_numpy()[before][end - length - 1:end] / factors[sec].factor(window)
        r = closes[1:] / closes[:-1] - 1.0
        blend = np.zeros(length)
        for code, w in sr.indices:
            idx_days, idx_closes = series[code]
            level = _last_close_on_or_before(idx_days, idx_closes, window)
            if np.isnan(level).any():
                first = dt.date(1970, 1, 1) + dt.timedelta(days=int(idx_days[0])) if idx_days.size else None
                raise CaseError(Problem(index_file, None,
                                        f"index {code} has no close on or before "
                                        f"{_EPOCH + dt.timedelta(days=int(window[0]))}, the start of the market "
                                        f"model's estimation window for {sec} (its first close is {first})"),
                                "Add earlier closes for the index, or shorten the estimation window.")
            blend += w * (level[1:] / level[:-1] - 1.0)
        dm = blend - blend.mean()
        sxx = float(dm @ dm)
        if sxx <= 0.0:
            raise CaseError(Problem(index_file, None,
                                    f"the index returns do not vary over the estimation window of {sec} "
                                    f"({_EPOCH + dt.timedelta(days=int(window[1]))} to "
                                    f"{_EPOCH + dt.timedelta(days=int(window[-1]))}), so no beta can be fitted"))
        dr = r - r.mean()
        beta = float(dm @ dr) / sxx
        alpha = float(r.mean() - beta * blend.mean())
        resid = dr - beta * dm
        syy = float(dr @ dr)
        r2 = 1.0 - float(resid @ resid) / syy if syy > 0 else 1.0
        out[sec] = MarketFit(sec, beta, alpha, r2, length, _EPOCH + dt.timedelta(days=int(window[1])),
                             _EPOCH + dt.timedelta(days=int(window[-1])))
    return out


def market_model_ratios(start: np.ndarray, end: np.ndarray, levels: np.ndarray, betas: np.ndarray,
                        weights: np.ndarray, deflation: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per investor row: the deduction ratio, the stock's move s and the index blend's move x.

    ``start``/``end``: the stock's level at the start and end of the holding; ``levels[:, k, 0/1]``: index k's
    level at the start and end of the same holding; ``betas``: the row's security's beta.  Moves are falls for
    induced buying and rises for induced selling.  ratio = 0 where s <= 0 or beta * x <= 0, else
    min(1, beta * x / s); NaN where an index level is missing."""
    sign = -1.0 if deflation else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(start > 0, sign * (start - end) / np.where(start > 0, start, 1.0), 0.0)
        x = (sign * (levels[:, :, 0] - levels[:, :, 1]) / levels[:, :, 0] * weights[None, :]).sum(axis=1)
        bx = betas * x
        ratio = np.where((s > RATIO_EPS) & (bx > RATIO_EPS), np.minimum(1.0, bx / np.where(s > 0, s, 1.0)), 0.0)
    ratio = np.where(np.isnan(x), np.nan, ratio)
    return ratio, s, x
