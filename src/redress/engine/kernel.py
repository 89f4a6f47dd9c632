"""The per-investor walk, compiled with Numba.

Trades arrive grouped by (investor, security) through a permutation ``order`` and group offsets
``starts``; each group is sorted locally by (date, time, seq, row) and walked once: buys open lots,
sells consume lots first in, first out (loss-rules.md section 3), and the running sums needed by every
cost method, both directions, the systemic-risk ratios and interest are kept on the way.  The result
per group is a handful of floats; everything after that is vectorised (engine/pipeline.py).

Groups are independent, so chunks of groups run in parallel, and the same function serves one group
at a time in trace mode for ``redress explain``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from redress.engine.rounding import FEN_PER_YUAN, PRICE_UNITS, half_up_one

KIND_SELL, KIND_BUY, KIND_OPENING = 0, 1, 2
CLASS_PRE, CLASS_ELIGIBLE, CLASS_POST = 0, 1, 2
COST_MOVING, COST_WEIGHTED, COST_ACTUAL, COST_FIFO = 0, 1, 2, 3
COST_ACTUAL_ALL = 4  # actual_cost with plan.actual_cost_sells = all_window_sells
EPS = 1e-6  # shares: remainders below this are float noise from ex-rights restatement
RATIO_EPS = 1e-12  # a stock or index move smaller than this is no move

# The engine's record: one 56-byte row per trade or opening position, so that moving it while grouping
# touches one or two cache lines, and the walk reads it as it lies.  R_META packs the day (offset by
# 2**31), the security and the kind; R_QTY and R_PRICE hold float64 bits (restated for ex-rights).
R_KEY, R_TIME, R_ROW, R_META, R_CHECK, R_QTY, R_PRICE = range(7)
N_REC = 7
MAX_PARTITION_BITS = 11  # at most 2,048 first-pass partitions: few enough output streams for memory speed

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


@njit(cache=True, inline="always")
def rec_kind(rec, r):
    return np.int64(rec[r, R_META] & np.uint64(3))


@njit(cache=True, inline="always")
def rec_day(rec, r):
    return np.int64(rec[r, R_META] >> np.uint64(32)) - 2**31


@njit(cache=True, inline="always")
def rec_sec(rec, r):
    return np.int64((rec[r, R_META] & np.uint64(0xFFFFFFFF)) >> np.uint64(2))


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


@njit(cache=True)
def group_starts(sorted_keys):
    """Offsets of the runs of equal keys in a sorted key array (n_groups + 1 entries)."""
    n = sorted_keys.shape[0]
    count = 1 if n > 0 else 0
    for i in range(1, n):
        if sorted_keys[i] != sorted_keys[i - 1]:
            count += 1
    starts = np.empty(count + 1, dtype=np.int64)
    g = 0
    if n > 0:
        starts[0] = 0
        g = 1
    for i in range(1, n):
        if sorted_keys[i] != sorted_keys[i - 1]:
            starts[g] = i
            g += 1
    starts[count] = n
    return starts


@njit(cache=True, inline="always")
def _pack_meta(day, sec, kind):
    return (np.uint64(np.int64(day) + 2**31) << np.uint64(32)) | (np.uint64(sec) << np.uint64(2)) | np.uint64(kind)


def unpack_meta(meta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kind, security code and day number of records' R_META words (NumPy; the inverse of ``_pack_meta``,
    which ``rec_kind``, ``rec_sec`` and ``rec_day`` read one record at a time inside the kernels)."""
    kind = (meta & np.uint64(3)).astype(np.int8)
    sec = ((meta & np.uint64(0xFFFFFFFF)) >> np.uint64(2)).astype(np.int32)
    day = ((meta >> np.uint64(32)).astype(np.int64) - 2**31).astype(np.int32)
    return kind, sec, day


@njit(cache=True, inline="always")
def _time_key(day, tsec, seq, d0, s0):
    return ((np.uint64(np.int64(day) - d0 + 1) << np.uint64(44)) | (np.uint64(np.int64(tsec) + 2) << np.uint64(27))
            | np.uint64(seq - s0))


KEY_MIX = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, inline="always")
def _mixed(key, check, sec, mix):
    """The grouping key and check of a row: of the investor alone, or (``mix``) of the investor and security."""
    if mix:
        return key ^ (np.uint64(sec) * KEY_MIX), check ^ (np.uint64(sec) << np.uint64(48))
    return key, check


VIEW_SEED_KEY = np.uint64(0x243F6A8885A308D3)  # two unrelated seeds (digits of pi), one per hash
VIEW_SEED_CHECK = np.uint64(0x13198A2E03707344)
MAX_INLINE = 12  # an Arrow string view holds a value of at most 12 bytes inline


@njit(cache=True, inline="always")
def _fmix(h):
    """MurmurHash3's 64-bit finaliser: a bijection whose every output bit depends on every input bit."""
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


@njit(cache=True, inline="always")
def _view_hashes(w0, w1):
    """Grouping key and check of an id held inline in an Arrow string view: ``w0`` is its length (low half)
    and first 4 bytes, ``w1`` its next 8 bytes.  Bytes past the length are masked off, so that the pair is
    the value's own (length and bytes determine it): equal ids give equal hashes whatever else the view
    holds.  Each hash folds both words through the finaliser with its own seed."""
    n = w0 & np.uint64(0xFFFFFFFF)
    if n < np.uint64(4):
        w0 &= (np.uint64(1) << (np.uint64(32) + np.uint64(8) * n)) - np.uint64(1)
        w1 = np.uint64(0)
    elif n < np.uint64(12):
        w1 &= (np.uint64(1) << (np.uint64(8) * (n - np.uint64(4)))) - np.uint64(1)
    return (_fmix((w0 ^ VIEW_SEED_KEY) * KEY_MIX + w1),
            _fmix((w1 ^ VIEW_SEED_CHECK) * KEY_MIX + w0))


@njit(cache=True, inline="always")
def _row_hashes(key, check, i, views):
    """Key and check of row i: hashed here from string views (``views``: ``key`` holds two words per row)
    or given (``key[i]``, ``check[i]``)."""
    if views:
        return _view_hashes(key[2 * i], key[2 * i + 1])
    return key[i], check[i]


@njit(cache=True)
def max_view_length(words):
    """The longest value of a string-view column given as two 64-bit words per row (its views)."""
    longest = np.uint64(0)
    for i in range(words.shape[0] // 2):
        longest = max(longest, words[2 * i] & np.uint64(0xFFFFFFFF))
    return np.int64(longest)


@njit(cache=True)
def view_hashes(words):
    """The keys and checks ``scatter_rows`` computes from string views (``words``: two per row), as arrays."""
    n = words.shape[0] // 2
    key = np.empty(n, np.uint64)
    check = np.empty(n, np.uint64)
    for i in range(n):
        key[i], check[i] = _view_hashes(words[2 * i], words[2 * i + 1])
    return key, check


@njit(cache=True, parallel=True)
def _chunk_histogram(key, check, views, sec, mix, p_shift, hist):
    """Rows of one chunk per partition, counted separately by each thread's share (``hist[thread, partition]``)."""
    n = sec.shape[0]
    n_threads = hist.shape[0]
    for t in prange(n_threads):
        for i in range(n * t // n_threads, n * (t + 1) // n_threads):
            k0, c0 = _row_hashes(key, check, i, views)
            k, _ = _mixed(k0, c0, sec[i], mix)
            hist[t, np.int64(k >> p_shift)] += 1


@njit(cache=True, parallel=True)
def _scatter_chunk(rec, fill, row0, p_shift, mix, key, check, views, tkey, tsec, seq, d0, s0, is_buy, sec, day, qty,
                   price, factor, factor_day0):
    """One chunk's trades, as records, into their partitions (each thread from its own ``fill`` positions)."""
    fv = rec.view(np.float64)
    n = sec.shape[0]
    n_threads = fill.shape[0]
    packed = tkey.shape[0] == n
    n_days = factor.shape[1]
    for t in prange(n_threads):
        for i in range(n * t // n_threads, n * (t + 1) // n_threads):
            sc = sec[i]
            k0, c0 = _row_hashes(key, check, i, views)
            k, c = _mixed(k0, c0, sc, mix)
            b = np.int64(k >> p_shift)
            p = fill[t, b]
            fill[t, b] = p + 1
            j = day[i] - factor_day0
            f = factor[sc, j] if 0 <= j < n_days else 1.0
            rec[p, R_KEY] = k
            rec[p, R_TIME] = tkey[i] if packed else _time_key(day[i], tsec[i], seq[i], d0, s0)
            rec[p, R_ROW] = np.uint64(row0 + i)
            rec[p, R_META] = _pack_meta(day[i], sc, KIND_BUY if is_buy[i] else KIND_SELL)
            rec[p, R_CHECK] = c
            fv[p, R_QTY] = qty[i] * f
            fv[p, R_PRICE] = price[i] / f


@njit(cache=True)
def _scatter_positions(rec, fill, row0, p_shift, mix, key, check, views, sec, qty, factor_opening):
    fv = rec.view(np.float64)
    for i in range(sec.shape[0]):
        sc = sec[i]
        k0, c0 = _row_hashes(key, check, i, views)
        k, c = _mixed(k0, c0, sc, mix)
        b = np.int64(k >> p_shift)
        p = fill[b]
        fill[b] = p + 1
        rec[p, R_KEY] = k
        rec[p, R_TIME] = 0
        rec[p, R_ROW] = np.uint64(row0 + i)
        rec[p, R_META] = _pack_meta(-2**31 + 1, sc, KIND_OPENING)
        rec[p, R_CHECK] = c
        fv[p, R_QTY] = qty[i] * factor_opening[sc]
        fv[p, R_PRICE] = 0.0


def scatter_rows(chunks, d0, s0, mix, pos_key, pos_check, pos_sec, pos_qty, factor, factor_day0, factor_opening,
                 views=False):
    """First grouping pass: every trade and opening position, as one record, into its partition.

    The trades come in chunks (as a Parquet file of several row groups is read: nothing is copied to make them
    one array), each a tuple ``(key, check, tkey, tsec, seq, is_buy, sec, day, qty, price)`` of arrays of the
    chunk's rows; rows are numbered across chunks in order, then opening positions after them.  ``key`` is a
    well-mixed 64-bit hash of the investor; with ``mix`` the security code is folded into it (several
    securities).  Its top bits pick one of at most 2,048 partitions.  ``check`` is a second, independent hash
    that ``sort_partitions`` verifies is constant within every group.  ``tkey`` orders rows in time
    (``pipeline.time_keys``); when it is empty, the keys are packed here from ``day``, ``tsec``, ``seq``, ``d0``
    and ``s0`` as ``pack_time_keys`` does (so that they need no array of their own).  Opening positions get
    time key 0, so they come first in their group.  Quantities and prices are restated for ex-rights on the
    way (``factor[sec, day - factor_day0]``; ``factor_opening[sec]`` for positions).  With ``views``, ``key``
    holds instead the ids' Arrow string views, two 64-bit words per row, every id inline (at most 12 bytes),
    ``check`` is empty, and both hashes are computed here from the views (``view_hashes``), so that they need
    no arrays of their own.  Returns the records and the partition offsets.
    """
    n_t = sum(len(chunk[6]) for chunk in chunks)
    n_p = len(pos_sec)
    n = n_t + n_p
    p_bits = 1
    while p_bits < MAX_PARTITION_BITS and (1 << p_bits) * 8192 < n:
        p_bits += 1
    p_shift = np.uint64(64 - p_bits)
    n_part = 1 << p_bits
    n_threads = 2 if n > 100_000 else 1
    hist = np.zeros((len(chunks), n_threads, n_part), np.int64)
    for c, (key, check, _, _, _, _, sec, *_) in enumerate(chunks):
        _chunk_histogram(key, check, views, sec, mix, p_shift, hist[c])
    pos_hist = np.zeros((n_part, 1), np.int64)
    _chunk_histogram(pos_key, pos_check, views, pos_sec, mix, p_shift, pos_hist.reshape(1, n_part))
    # within each partition: the positions, then each chunk's rows, thread by thread
    counts = np.concatenate([pos_hist, hist.reshape(-1, n_part).T], axis=1)
    starts = (np.cumsum(counts.ravel()) - counts.ravel()).reshape(counts.shape)
    offsets = np.append(starts[:, 0], n).astype(np.int64)
    fill = np.ascontiguousarray(starts[:, 1:].T.reshape(len(chunks), n_threads, n_part))
    rec = np.empty((n, N_REC), np.uint64)
    row0 = 0
    for c, (key, check, tkey, tsec, seq, is_buy, sec, day, qty, price) in enumerate(chunks):
        _scatter_chunk(rec, fill[c], row0, p_shift, mix, key, check, views, tkey, tsec, seq, d0, s0, is_buy,
                       sec, day, qty, price, factor, factor_day0)
        row0 += len(sec)
    _scatter_positions(rec, np.ascontiguousarray(starts[:, 0]), n_t, p_shift, mix, pos_key, pos_check, views,
                       pos_sec, pos_qty, factor_opening)
    return rec, offsets


@njit(cache=True, inline="always")
def _rec_before(rec, a, b):
    if rec[a, R_KEY] != rec[b, R_KEY]:
        return rec[a, R_KEY] < rec[b, R_KEY]
    if rec[a, R_TIME] != rec[b, R_TIME]:
        return rec[a, R_TIME] < rec[b, R_TIME]
    return rec[a, R_ROW] < rec[b, R_ROW]


@njit(cache=True)
def _sort_records(rec, s, m, idx, tmp):
    """Sort positions s..s+m of ``rec`` by (key, time key, row) into ``idx`` (insertion or merge sort)."""
    for j in range(m):
        idx[j] = s + j
    if m <= 48:
        for i in range(1, m):
            x = idx[i]
            j = i - 1
            while j >= 0 and _rec_before(rec, x, idx[j]):
                idx[j + 1] = idx[j]
                j -= 1
            idx[j + 1] = x
        return
    width = 1
    src, dst = idx[:m], tmp[:m]
    in_tmp = False
    while width < m:
        for lo in range(0, m, 2 * width):
            mid = min(lo + width, m)
            hi = min(lo + 2 * width, m)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if _rec_before(rec, src[j], src[i]):
                    dst[k] = src[j]
                    j += 1
                else:
                    dst[k] = src[i]
                    i += 1
                k += 1
            while i < mid:
                dst[k] = src[i]
                i += 1
                k += 1
            while j < hi:
                dst[k] = src[j]
                j += 1
                k += 1
        src, dst = dst, src
        in_tmp = not in_tmp
        width *= 2
    if in_tmp:
        idx[:m] = src


@njit(cache=True, parallel=True)
def sort_partitions(rec, offsets):
    """Second grouping pass: sort each partition in place, in cache.

    Each partition is counting-sorted on the next bits of the key into a buffer of its thread, each small
    bucket sorted by (key, time key, row), and the result copied back.  Returns the group offsets, and
    whether the verifying hash was constant within every group (False means two ids share a 64-bit key:
    group them exactly instead).
    """
    n = rec.shape[0]
    n_part = offsets.shape[0] - 1
    p_bits = 0
    while (1 << p_bits) < n_part:
        p_bits += 1
    max_m = 1
    for b in range(n_part):
        max_m = max(max_m, offsets[b + 1] - offsets[b])
    is_start = np.zeros(n, np.bool_)
    n_chunks = min(n_part, 16)
    mismatches = np.zeros(n_chunks, np.int64)
    for ch in prange(n_chunks):
        buf = np.empty((max_m, N_REC), np.uint64)
        idx = np.empty(max_m, np.int64)
        tmp = np.empty(max_m, np.int64)
        for b in range(n_part * ch // n_chunks, n_part * (ch + 1) // n_chunks):
            s = offsets[b]
            m = offsets[b + 1] - s
            if m == 0:
                continue
            s_bits = 1
            while s_bits < 20 and (1 << s_bits) * 4 < m:
                s_bits += 1
            shift = np.uint64(max(0, 64 - p_bits - s_bits))
            mask = np.uint64((1 << s_bits) - 1)
            counts = np.zeros((1 << s_bits) + 1, np.int64)
            for j in range(s, s + m):
                counts[np.int64((rec[j, R_KEY] >> shift) & mask) + 1] += 1
            for k in range(1 << s_bits):
                counts[k + 1] += counts[k]
            fill = counts[:-1].copy()
            for j in range(s, s + m):
                k = np.int64((rec[j, R_KEY] >> shift) & mask)
                q = fill[k]
                fill[k] = q + 1
                for c in range(N_REC):
                    buf[q, c] = rec[j, c]
            prev_key = np.uint64(0)
            prev_check = np.uint64(0)
            for k in range(1 << s_bits):
                lo = counts[k]
                cnt = counts[k + 1] - lo
                if cnt == 0:
                    continue
                _sort_records(buf, lo, cnt, idx, tmp)
                for j in range(cnt):
                    src = idx[j]
                    out = s + lo + j
                    key = buf[src, R_KEY]
                    check = buf[src, R_CHECK]
                    if out == s or key != prev_key:
                        is_start[out] = True
                    elif check != prev_check:
                        mismatches[ch] += 1
                    prev_key = key
                    prev_check = check
                    for c in range(N_REC):
                        rec[out, c] = buf[src, c]
    starts = np.append(np.flatnonzero(is_start), n).astype(np.int64)
    return starts, mismatches.sum() == 0


@njit(cache=True, inline="always")
def _byte(w, j):
    return np.int64((w >> np.uint64(8 * j)) & np.uint64(0xFF))


@njit(cache=True, inline="always")
def _digit(w, j):
    c = _byte(w, j) - 48
    return c if 0 <= c <= 9 else -1000


@njit(cache=True, inline="always")
def _hms(w):
    """Seconds of the day of HH:MM:SS held as 8 little-endian bytes in one word; -1 when malformed."""
    h = _digit(w, 0) * 10 + _digit(w, 1)
    m = _digit(w, 3) * 10 + _digit(w, 4)
    s = _digit(w, 6) * 10 + _digit(w, 7)
    if _byte(w, 2) == 58 and _byte(w, 5) == 58 and 0 <= h < 24 and 0 <= m < 60 and 0 <= s < 60:
        return h * 3600 + m * 60 + s
    return -1


@njit(cache=True, parallel=True)
def parse_hms_words(words, missing):
    """Parse HH:MM:SS held as 8 little-endian bytes in one word; ``missing`` rows give -1 and are not bad."""
    n = words.shape[0]
    secs = np.empty(n, dtype=np.int32)
    bad = np.zeros(n, dtype=np.bool_)
    for i in prange(n):
        secs[i] = -1 if missing[i] else _hms(words[i])
        bad[i] = not missing[i] and secs[i] < 0
    return secs, bad


@njit(cache=True, inline="always")
def _view(views, valid, has_valid, i):
    """Length (-1 for a null) and the first 8 inline bytes, as one little-endian word, of Arrow string view i."""
    if has_valid and not (valid[i >> 3] >> (i & 7)) & 1:
        return -1, np.uint64(0)
    return np.int64(views[4 * i]), np.uint64(views[4 * i + 1]) | (np.uint64(views[4 * i + 2]) << np.uint64(32))


@njit(cache=True, parallel=True)
def times_from_views(views, valid, has_valid, offset, secs, bad, odd):
    """``parse_hms_words`` read straight from an Arrow string-view column (``views`` as uint32, four per row;
    ``valid`` its validity bitmap; rows from ``offset``).  A null or empty time gives -1 and is not bad; a
    value of another length than 8 is marked ``odd`` for the caller's exact check."""
    for i in prange(secs.shape[0]):
        n, w = _view(views, valid, has_valid, offset + i)
        secs[i] = -1
        bad[i] = False
        odd[i] = n > 0 and n != 8
        if n == 8:
            secs[i] = _hms(w)
            bad[i] = secs[i] < 0


@njit(cache=True, parallel=True)
def sides_from_views(views, valid, has_valid, offset, is_buy, bad):
    """B/b (buy) or S/s (sell), one byte, from an Arrow string-view column; anything else (a null too) is bad."""
    for i in prange(is_buy.shape[0]):
        n, w = _view(views, valid, has_valid, offset + i)
        c = _byte(w, 0)
        is_buy[i] = n == 1 and (c == 66 or c == 98)
        bad[i] = not (n == 1 and (c == 66 or c == 98 or c == 83 or c == 115))


@njit(cache=True, parallel=True)
def codes_from_views(known, views, valid, has_valid, offset, codes):
    """Which of some known codes each value of an Arrow string-view column is: its index in ``known``, -1 for
    any other value, -2 for a null or empty one.  ``known`` holds one row per code of at most 12 bytes: its
    length, then its bytes zero-padded to 12, as four uint32 words (the inline form of a string view)."""
    for i in prange(codes.shape[0]):
        r = offset + i
        codes[i] = -1
        if has_valid and not (valid[r >> 3] >> (r & 7)) & 1:
            codes[i] = -2
            continue
        n = np.int64(views[4 * r])
        if n == 0:
            codes[i] = -2
            continue
        if n > 12:
            continue  # longer than every known code
        for k in range(known.shape[0]):
            if known[k, 0] != n:
                continue
            same = True
            for j in range(3):  # compare only the value's own bytes, whatever follows them in the view
                left = np.int64(n) - 4 * j
                mask = np.uint32(0) if left <= 0 else (np.uint32(0xFFFFFFFF) if left >= 4
                                                       else np.uint32((1 << (8 * left)) - 1))
                if (views[4 * r + 1 + j] & mask) != known[k, 1 + j]:
                    same = False
                    break
            if same:
                codes[i] = k
                break


@njit(cache=True, parallel=True)
def closed_days(days, first_day, open_mask):
    """True where a day number is inside the calendar's coverage and the exchange was closed."""
    n = days.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    size = open_mask.shape[0]
    for i in prange(n):
        j = np.int64(days[i]) - first_day
        if 0 <= j < size:
            out[i] = not open_mask[j]
    return out


@njit(cache=True, parallel=True)
def pack_time_keys(day, tsec, seq, d0, s0):
    """One 64-bit key per trade ordering by (date, time, seq): 20 bits of day from ``d0`` (from 1), 17 bits of
    seconds + 2 (an empty time, -1, sorts first), 27 bits of seq from ``s0``.  The caller checks the ranges."""
    n = day.shape[0]
    out = np.empty(n, dtype=np.uint64)
    for i in prange(n):
        out[i] = _time_key(day[i], tsec[i], seq[i], d0, s0)
    return out


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
