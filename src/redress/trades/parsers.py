"""Compiled parsers of the trades' text columns, read in place from Arrow string views (``trades.tables``)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


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

