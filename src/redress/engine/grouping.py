"""Grouping the trades by (investor, security), in two compiled passes over the engine's records.

``scatter_rows`` writes every trade and opening position as a record (``engine.records``) into one of up to
2,048 partitions by the top bits of a hash of its investor (and security); ``sort_partitions`` then sorts each
partition in cache by (key, time key, row) and finds the groups.  Ids short enough to sit inline in Arrow
string views are hashed straight from the views.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from redress.engine.records import (KIND_BUY, KIND_OPENING, KIND_SELL, MAX_PARTITION_BITS, N_REC, R_CHECK, R_KEY,
                                    R_META, R_PRICE, R_QTY, R_ROW, R_TIME, _pack_meta)


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


@njit(cache=True, parallel=True)
def pack_time_keys(day, tsec, seq, d0, s0):
    """One 64-bit key per trade ordering by (date, time, seq): 20 bits of day from ``d0`` (from 1), 17 bits of
    seconds + 2 (an empty time, -1, sorts first), 27 bits of seq from ``s0``.  The caller checks the ranges."""
    n = day.shape[0]
    out = np.empty(n, dtype=np.uint64)
    for i in prange(n):
        out[i] = _time_key(day[i], tsec[i], seq[i], d0, s0)
    return out

