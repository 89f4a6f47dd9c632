"""The per-investor walk, compiled with Numba (loss-rules.md sections 3 to 7, up to the formulas).

Trades arrive grouped by (investor, security) (``engine.grouping``), each group sorted by (date, time, seq,
row), and each group is walked once: buys open lots, sells consume lots first in, first out, and the running
sums needed by every cost method, both directions, the systemic-risk ratios and interest are kept on the way.
The result per group is a dozen floats (``O_*``); ``engine.finish`` turns them into the output rows.

Groups are independent, so chunks of groups run in parallel, and the same function serves one group at a
time in trace mode for ``redress explain``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from redress.engine.records import (CLASS_ELIGIBLE, CLASS_POST, CLASS_PRE, KIND_BUY, KIND_SELL, R_PRICE,
                                    R_QTY, rec_day, rec_kind, rec_sec)

COST_MOVING, COST_WEIGHTED, COST_ACTUAL, COST_FIFO = 0, 1, 2, 3
COST_ACTUAL_ALL = 4  # actual_cost with plan.actual_cost_sells = all_window_sells
EPS = 1e-6  # shares: remainders below this are float noise from ex-rights restatement
RATIO_EPS = 1e-12  # a stock or index move smaller than this is no move

# Output columns of the walk, one row per group.
(O_ELIGIBLE_BOUGHT, O_Q_SOLD, O_Q_HELD, O_AVG_BUY, O_AVG_SELL, O_DIFF_LOSS, O_RATIO, O_DAYS, O_SURVIVING,
 O_GROSS, O_STOCK_START, O_STOCK_END) = range(12)
N_OUT = 12
N_INDEX_OUT = 2  # per index: start level, end level


@njit(cache=True, inline="always")
def _index_close(idx_table, k, idx_day0, d):
    """The index's last close on or before day d (NaN before its first close)."""
    if d < idx_day0:
        return np.nan
    j = d - idx_day0
    if j >= idx_table.shape[1]:
        j = idx_table.shape[1] - 1
    return idx_table[k, j]


@njit(cache=True, inline="always")
def _relative_ratio(idx_out, idx_base, idx_weights, open_qty, rest_qty, close_qty, start, end, sign):
    """SPC-2022 Art. 31, Redress's per-investor relative ratio: sum of w_k * min(1, x_k / s).

    ``idx_out[k]`` holds the index's quantity-weighted sums at opening and closing; they are turned into
    levels here (the rest of the position closes at the base level ``idx_base[k]``).  ``sign`` is 1 for
    induced buying (declines count) and -1 for induced selling (rises count).  NaN when an index had no
    close on a needed date.
    """
    s = sign * (start - end) / start if start > 0 else 0.0
    ratio = 0.0
    for k in range(idx_weights.shape[0]):
        i_start = idx_out[k, 0] / open_qty
        i_end = (idx_out[k, 1] + idx_base[k] * rest_qty) / close_qty
        idx_out[k, 0] = i_start
        idx_out[k, 1] = i_end
        x = sign * (i_start - i_end) / i_start
        if s > RATIO_EPS and x > RATIO_EPS:
            ratio += idx_weights[k] * min(1.0, x / s)
        elif np.isnan(x):
            ratio = np.nan
    return ratio


@njit(cache=True)
def walk_group(start, count, rec, frec, i_day, d_day, b_day, base_price, deflation, cost_method,
               idx_table, idx_day0, idx_base, idx_weights, use_index,
               lot_qty, lot_price, lot_class, out, idx_out,
               trace, tr_class, tr_h, tr_c, ev_sell, ev_lot, ev_qty):
    """Walk one (investor, security) group: records start..start+count of ``rec`` (``frec`` is the same memory
    read as floats), sorted.  Returns (oversold, n_events)."""
    n_idx = idx_weights.shape[0]
    head = 0
    tail = 0
    oversold = False
    n_ev = 0
    # induced buying
    h = 0.0
    c = 0.0
    elig_bought = 0.0
    elig_cost = 0.0
    cons_before_d = 0.0
    proceeds_before_d = 0.0
    cost_before_d = 0.0
    all_win_sold = 0.0  # every sell in [I, D): shares (as far as there were shares to sell) and proceeds
    all_win_proceeds = 0.0
    q_sold = 0.0
    sell_amt = 0.0
    cost_sold = 0.0
    open_day_w = 0.0
    close_day_w = 0.0
    # induced selling
    win_sold = 0.0
    win_bought = 0.0
    win_sell_amt = 0.0
    q_bb = 0.0
    bb_amt = 0.0
    for k in range(n_idx):
        idx_out[k, 0] = 0.0
        idx_out[k, 1] = 0.0

    for pos in range(count):
        r = start + pos
        d = rec_day(rec, r)
        q = frec[r, R_QTY]
        p = frec[r, R_PRICE]
        kd = rec_kind(rec, r)
        if kd != KIND_SELL:
            cls = CLASS_PRE
            if kd == KIND_BUY:
                if d >= d_day:
                    cls = CLASS_POST
                elif d >= i_day:
                    cls = CLASS_ELIGIBLE
            lot_qty[tail] = q
            lot_price[tail] = p
            lot_class[tail] = cls
            tail += 1
            if trace:
                tr_class[pos] = cls
            if kd == KIND_BUY:
                if deflation:
                    if d >= i_day and d < d_day:
                        win_bought += q
                    elif d >= d_day and d <= b_day:
                        q_short = win_sold - win_bought
                        take = min(q, q_short - q_bb)
                        if take > EPS:
                            q_bb += take
                            bb_amt += take * p
                            close_day_w += d * take
                            if use_index:
                                for k in range(n_idx):
                                    idx_out[k, 1] += _index_close(idx_table, k, idx_day0, d) * take
                elif cls == CLASS_ELIGIBLE:
                    elig_bought += q
                    elig_cost += p * q
                    c = (c * h + p * q) / (h + q)
                    h += q
                    open_day_w += d * q
                    if use_index:
                        for k in range(n_idx):
                            idx_out[k, 0] += _index_close(idx_table, k, idx_day0, d) * q
        else:
            if trace:
                tr_class[pos] = -1
            if deflation and d >= i_day and d < d_day:
                win_sold += q
                win_sell_amt += q * p
                open_day_w += d * q
                if use_index:
                    for k in range(n_idx):
                        idx_out[k, 0] += _index_close(idx_table, k, idx_day0, d) * q
            rem = q
            while rem > EPS and head < tail:
                take = min(rem, lot_qty[head])
                if lot_class[head] == CLASS_ELIGIBLE and not deflation:
                    if d < d_day:
                        h -= take
                        if h < EPS:
                            h = 0.0
                        cons_before_d += take
                        proceeds_before_d += take * p
                        cost_before_d += take * lot_price[head]
                    elif d <= b_day:
                        q_sold += take
                        sell_amt += take * p
                        cost_sold += take * lot_price[head]
                        close_day_w += d * take
                        if use_index:
                            for k in range(n_idx):
                                idx_out[k, 1] += _index_close(idx_table, k, idx_day0, d) * take
                if trace:
                    ev_sell[n_ev] = pos
                    ev_lot[n_ev] = head
                    ev_qty[n_ev] = take
                    n_ev += 1
                lot_qty[head] -= take
                rem -= take
                if lot_qty[head] <= EPS:
                    head += 1
            if rem > EPS:
                oversold = True
            if not deflation and d >= i_day and d < d_day:
                all_win_sold += q - max(rem, 0.0)
                all_win_proceeds += (q - max(rem, 0.0)) * p
        if trace:
            tr_h[pos] = h
            tr_c[pos] = c

    for j in range(N_OUT):
        out[j] = 0.0
    if deflation:
        q_short = max(0.0, win_sold - win_bought)
        if q_short <= EPS:
            q_short = 0.0
        q_nbb = max(0.0, q_short - q_bb)
        avg_sell = win_sell_amt / win_sold if win_sold > 0 else 0.0
        avg_bb = bb_amt / q_bb if q_bb > 0 else 0.0
        out[O_ELIGIBLE_BOUGHT] = q_short
        out[O_Q_SOLD] = q_bb
        out[O_Q_HELD] = q_nbb
        out[O_AVG_BUY] = avg_bb
        out[O_AVG_SELL] = avg_sell
        out[O_SURVIVING] = q_short
        if q_short > 0:
            out[O_DIFF_LOSS] = (avg_bb - avg_sell) * q_bb + (base_price - avg_sell) * q_nbb
            out[O_GROSS] = bb_amt + avg_sell * q_short + base_price * q_nbb
            out[O_DAYS] = (close_day_w + b_day * q_nbb) / q_short - open_day_w / win_sold
            start = avg_sell
            end = (bb_amt + base_price * q_nbb) / q_short
            out[O_STOCK_START] = start
            out[O_STOCK_END] = end
            if use_index:
                out[O_RATIO] = _relative_ratio(idx_out, idx_base, idx_weights, win_sold, q_nbb, q_short, start,
                                               end, -1.0)
        return oversold, n_ev

    surviving = elig_bought - cons_before_d
    if surviving <= EPS:
        surviving = 0.0
    q_held = max(0.0, surviving - q_sold)
    if q_held <= EPS:
        q_held = 0.0
    cost_held = elig_cost - cost_before_d - cost_sold
    avg_sell = sell_amt / q_sold if q_sold > 0 else 0.0
    if cost_method == COST_MOVING:
        avg_buy = c  # C at D: a sell leaves C unchanged, so it stays defined after H reaches 0
    elif cost_method == COST_WEIGHTED:
        avg_buy = elig_cost / elig_bought if elig_bought > 0 else 0.0
    elif cost_method == COST_ACTUAL:
        avg_buy = (elig_cost - proceeds_before_d) / surviving if surviving > 0 else 0.0
    elif cost_method == COST_ACTUAL_ALL:
        net_bought = elig_bought - all_win_sold
        if net_bought <= EPS:  # on a net basis nothing bought in the window is left at D
            surviving = 0.0
            q_held = 0.0
            q_sold = 0.0
            sell_amt = 0.0
            avg_sell = 0.0
        avg_buy = (elig_cost - all_win_proceeds) / net_bought if surviving > 0 else 0.0
    else:
        avg_buy = (cost_sold + cost_held) / surviving if surviving > 0 else 0.0
    out[O_ELIGIBLE_BOUGHT] = elig_bought
    out[O_Q_SOLD] = q_sold
    out[O_Q_HELD] = q_held
    out[O_AVG_BUY] = avg_buy
    out[O_AVG_SELL] = avg_sell
    out[O_SURVIVING] = surviving
    if surviving > 0:
        if cost_method == COST_FIFO:
            out[O_DIFF_LOSS] = (cost_sold - sell_amt) + (cost_held - base_price * q_held)
        else:
            out[O_DIFF_LOSS] = (avg_buy - avg_sell) * q_sold + (avg_buy - base_price) * q_held
        out[O_GROSS] = abs(avg_buy) * surviving + sell_amt + base_price * q_held
        out[O_DAYS] = (close_day_w + b_day * q_held) / surviving - open_day_w / elig_bought
        start = avg_buy
        end = (sell_amt + base_price * q_held) / surviving
        out[O_STOCK_START] = start
        out[O_STOCK_END] = end
        if use_index:
            out[O_RATIO] = _relative_ratio(idx_out, idx_base, idx_weights, elig_bought, q_held, surviving, start,
                                           end, 1.0)
    return oversold, n_ev


@njit(cache=True, parallel=True)
def walk_all(starts, rec, i_day, d_day, b_days, base_prices,
             deflation, cost_method, idx_table, idx_day0, idx_base, idx_weights, use_index, max_len, n_chunks):
    """Walk every group: records ``starts[g]:starts[g+1]`` are group g, sorted by (date, time, seq, row)."""
    frec = rec.view(np.float64)
    n_groups = starts.shape[0] - 1
    n_idx = idx_weights.shape[0]
    out = np.zeros((n_groups, N_OUT), dtype=np.float64)
    idx_levels = np.zeros((n_groups, n_idx, N_INDEX_OUT), dtype=np.float64)
    oversold = np.zeros(n_groups, dtype=np.bool_)
    per_chunk = (n_groups + n_chunks - 1) // n_chunks
    for ch in prange(n_chunks):
        lot_qty = np.empty(max_len, dtype=np.float64)
        lot_price = np.empty(max_len, dtype=np.float64)
        lot_class = np.empty(max_len, dtype=np.int8)
        dummy_i8 = np.empty(0, dtype=np.int8)
        dummy_f = np.empty(0, dtype=np.float64)
        dummy_i = np.empty(0, dtype=np.int64)
        idx_out = np.zeros((n_idx, N_INDEX_OUT), dtype=np.float64)
        g_end = min(n_groups, (ch + 1) * per_chunk)
        for g in range(ch * per_chunk, g_end):
            s = starts[g]
            m = starts[g + 1] - s
            sc = rec_sec(rec, s)
            ov, _ = walk_group(s, m, rec, frec, i_day, d_day, b_days[sc], base_prices[sc],
                               deflation, cost_method, idx_table, idx_day0, idx_base[sc], idx_weights,
                               use_index, lot_qty, lot_price, lot_class, out[g], idx_out,
                               False, dummy_i8, dummy_f, dummy_f, dummy_i, dummy_i, dummy_f)
            oversold[g] = ov
            for k in range(n_idx):
                idx_levels[g, k, 0] = idx_out[k, 0]
                idx_levels[g, k, 1] = idx_out[k, 1]
    return out, idx_levels, oversold

