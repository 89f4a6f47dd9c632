"""The result rows, from the walk's per-group floats: deduction, fees, interest, rounding once, statuses."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from redress.engine.walk import (O_AVG_BUY, O_AVG_SELL, O_DAYS, O_DIFF_LOSS, O_ELIGIBLE_BOUGHT, O_GROSS, O_Q_HELD,
                                 O_Q_SOLD, O_RATIO, O_SURVIVING)
from redress.rounding import FEN_PER_YUAN, PRICE_UNITS, half_up_one


@njit(cache=True, inline="always")
def _nan_to_num(x):
    if np.isnan(x):
        return 0.0
    if np.isinf(x):
        return 1.7976931348623157e308 if x > 0 else -1.7976931348623157e308
    return x


# Columns of ``finish_rows``: the numeric output columns, in the output's order.
(F_ELIGIBLE_BOUGHT, F_Q_SOLD, F_Q_HELD, F_AVG_BUY, F_AVG_SELL, F_BASE_PRICE, F_DIFF_LOSS, F_DEDUCTION, F_NET_LOSS,
 F_COMMISSION, F_STAMP_DUTY, F_INTEREST, F_COMPENSATION) = range(13)
N_FINISHED = 13
_FEN = float(FEN_PER_YUAN)  # money is reported to the fen, prices to PRICE_UNITS (4 decimals)
_PRICE = float(PRICE_UNITS)
ST_EXCLUDED, ST_NO_ELIGIBLE_SHARES, ST_NO_LOSS, ST_BELOW_MINIMUM, ST_ELIGIBLE = range(5)


@njit(cache=True, parallel=True)
def finish_rows(out, order, oversold, group_sec, excluded, base_price, truncated, ratio_mode, uniform_ratio,
                commission_rate, stamp_rate, with_interest, interest_rate, min_fen):
    """The result rows, in one pass: row i is group ``order[i]`` of the walk's ``out``.

    Per group: the systemic-risk deduction, net loss, whether there is a loss, commission, stamp duty and
    interest (SPC-2022 Art. 25-28, 31), their total rounded half-up to the fen once, the status (excluded,
    no eligible shares, no loss, below ``min_fen``, eligible; ``excluded`` is given per row), and each figure
    rounded as reported: prices to 4 decimals, money to the fen, and 0 where the status reports no such
    figure (losses from no_loss on, fees from below_minimum on, compensation for eligible rows only).
    ``ratio_mode``: 0 none, 1 uniform, 2 relative (the walk's ratio; a NaN where a ratio is needed is flagged
    in ``missing``).  ``base_price`` is per security, already rounded.  Quantities are left as the walk gives
    them.  Returns the columns (``F_*`` rows), the rows' security, status, flags (oversold + 2 * truncated),
    compensation in fen, and ``missing``."""
    n = order.shape[0]
    cols = np.empty((N_FINISHED, n))
    sec = np.empty(n, dtype=np.int32)
    status = np.empty(n, dtype=np.int8)
    flags = np.empty(n, dtype=np.uint8)
    paid = np.empty(n, dtype=np.int64)
    missing = np.zeros(n, dtype=np.bool_)
    for i in prange(n):
        g = order[i]
        diff = out[g, O_DIFF_LOSS]
        surviving = out[g, O_SURVIVING] > 0
        loss = diff if (diff > 0.0 or np.isnan(diff)) else 0.0
        if ratio_mode == 1:
            ratio = uniform_ratio
        elif ratio_mode == 2:
            ratio = out[g, O_RATIO]
            missing[i] = surviving and loss > 0 and np.isnan(ratio)
        else:
            ratio = 0.0
        d = loss * _nan_to_num(ratio) if surviving else 0.0
        nt = diff - d
        h = surviving and (nt > 1e-11 * out[g, O_GROSS] + 1e-9)
        c = nt * commission_rate if h else 0.0
        s = nt * stamp_rate if h else 0.0
        r = nt * interest_rate * out[g, O_DAYS] / 365.0 if (with_interest and h) else 0.0
        fen = half_up_one(nt + c + s + r, _FEN)
        if excluded[i]:
            st = ST_EXCLUDED
        elif not surviving:
            st = ST_NO_ELIGIBLE_SHARES
        elif not h:
            st = ST_NO_LOSS
        elif fen < min_fen:
            st = ST_BELOW_MINIMUM
        else:
            st = ST_ELIGIBLE
        reports_loss = st >= ST_NO_LOSS
        fees_paid = st >= ST_BELOW_MINIMUM
        sc = group_sec[g]
        sec[i] = sc
        status[i] = st
        flags[i] = np.uint8(oversold[g]) + 2 * np.uint8(truncated[sc])
        paid[i] = fen if st == ST_ELIGIBLE else 0
        cols[F_ELIGIBLE_BOUGHT, i] = out[g, O_ELIGIBLE_BOUGHT]
        cols[F_Q_SOLD, i] = out[g, O_Q_SOLD]
        cols[F_Q_HELD, i] = out[g, O_Q_HELD]
        cols[F_AVG_BUY, i] = half_up_one(out[g, O_AVG_BUY], _PRICE) / _PRICE
        cols[F_AVG_SELL, i] = half_up_one(out[g, O_AVG_SELL], _PRICE) / _PRICE
        cols[F_BASE_PRICE, i] = base_price[sc]
        cols[F_DIFF_LOSS, i] = half_up_one(diff, _FEN) / _FEN if reports_loss else 0.0
        cols[F_DEDUCTION, i] = half_up_one(d, _FEN) / _FEN if reports_loss else 0.0
        cols[F_NET_LOSS, i] = half_up_one(nt, _FEN) / _FEN if reports_loss else 0.0
        cols[F_COMMISSION, i] = half_up_one(c, _FEN) / _FEN if fees_paid else 0.0
        cols[F_STAMP_DUTY, i] = half_up_one(s, _FEN) / _FEN if fees_paid else 0.0
        cols[F_INTEREST, i] = half_up_one(r, _FEN) / _FEN if fees_paid else 0.0
        cols[F_COMPENSATION, i] = paid[i] / FEN_PER_YUAN
    return cols, sec, status, flags, paid, missing
