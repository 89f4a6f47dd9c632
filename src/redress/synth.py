"""Synthetic case directories for tests, demos and benchmarks.

`generate_case` writes a complete case directory in the interchange format (see the case-directory
specification): a STAR-market-like security whose price is inflated between the implementation date I
and the disclosure date D and collapses on D, two correlated indices, one bonus-share action inside the
buy window, opening positions, exclusions and a clearing-house style trade extract.

Everything is generated with vectorised NumPy. Trades are produced in chunks of investors (about
`CHUNK_ROWS` trades each) and written chunk by chunk while the next chunk is generated, so tens of
millions of rows need well under a gigabyte of memory. With `shuffle=True` the investors are spread
over the chunks in random order and the rows of each chunk are shuffled, so the file is not sorted by
investor, as with a clearing-house extract. The output depends only on the arguments, not on the file
format: a CSV and a Parquet case with the same seed hold the same rows.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import itertools
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

CALENDAR = "XSHG"
PERIOD_START = "2019-07-22"
PERIOD_END = "2022-06-30"

BROAD_INDEX = "000001"
INDUSTRY_INDEX = "801150"

SHARE_RATIO = 1.3
CASH_DIVIDEND_YUAN = 0.1

CHUNK_ROWS = 1_000_000
TRADES_PER_INVESTOR = 20

TRADES_SCHEMA = pa.schema(
    [
        ("investor_id", pa.string()),
        ("account_id", pa.string()),
        ("security", pa.string()),
        ("date", pa.date32()),
        ("time", pa.string()),
        ("seq", pa.int64()),
        ("side", pa.string()),
        ("quantity", pa.int64()),
        ("price", pa.float64()),
    ]
)

EXCLUSION_REASONS = (
    "控股股东 controlling shareholder",
    "实际控制人 actual controller",
    "董事 director",
    "监事 supervisor",
    "高级管理人员 senior manager",
    "财务顾问 financial adviser found liable",
)

# Investor profiles: where in the timeline an investor trades.
WINDOW = 0  # buys in [I, D); exits before D, in the weeks after D, or much later
PRE_AND_WINDOW = 1  # starts before I and continues into the window
PRE_ONLY = 2  # trades only before I: nothing eligible
POST_ONLY = 3  # trades only from D on: nothing eligible
WINDOW_HOLDER = 4  # buys in the window and never sells
PROFILE_SHARES = (0.60, 0.15, 0.10, 0.10, 0.05)

OVERSOLD_SHARE = 0.005
POSITIONS_SHARE = 0.05
ODD_LOT_SHARE = 0.003
EMPTY_TIME_SHARE = 0.01
MORNING_OPEN_S = 9 * 3600 + 30 * 60
AFTERNOON_OPEN_S = 13 * 3600
SESSION_HALF_S = 2 * 3600


@dataclass(frozen=True)
class CaseInfo:
    """What `generate_case` wrote."""

    case_dir: Path
    trades_path: Path
    security: str
    n_trades: int
    n_investors: int
    n_accounts: int
    n_positions: int
    n_exclusions: int
    first_date: dt.date
    last_date: dt.date
    implementation_date: dt.date
    disclosure_date: dt.date
    ex_date: dt.date | None  # None when the case has no corporate action
    turnover_day: int  # trading day (1 = first trading day on or after D) on which turnover reaches 100%

    @property
    def case_toml(self) -> Path:
        return self.case_dir / "case.toml"

    @property
    def market_path(self) -> Path:
        return self.case_dir / "market.csv"

    @property
    def indices_path(self) -> Path:
        return self.case_dir / "indices.csv"

    @property
    def actions_path(self) -> Path:
        return self.case_dir / "actions.csv"

    @property
    def positions_path(self) -> Path:
        return self.case_dir / "positions.csv"

    @property
    def exclusions_path(self) -> Path:
        return self.case_dir / "exclusions.csv"


@dataclass(frozen=True)
class _Timeline:
    sessions: np.ndarray  # datetime64[D], every XSHG session of the period
    implementation: int  # session index of I
    disclosure: int  # session index of D
    ex_date: int  # session index of the bonus-share ex-date
    zero_volume: np.ndarray  # session indices with volume 0


@dataclass(frozen=True)
class _Market:
    raw_close: np.ndarray  # unadjusted close per session (pre-action scale before the ex-date)
    volume: np.ndarray
    tradable_shares: np.ndarray
    broad_index: np.ndarray
    industry_index: np.ndarray
    turnover_day: int


@dataclass(frozen=True)
class _Investors:
    numbers: np.ndarray  # the number in "INV%08d"
    trade_counts: np.ndarray
    profiles: np.ndarray
    account_counts: np.ndarray
    first_account: np.ndarray  # number of the investor's first account in "A%09d"
    oversold: np.ndarray  # bool


# ---------------------------------------------------------------------------------------------------
# Strings as Arrow arrays, built from bytes without a Python loop per row.


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """ASCII digit matrix (n, width) of non-negative integers, zero-padded."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((values.astype(np.int64)[:, None] // powers) % 10 + ord("0")).astype(np.uint8)


def _fixed_width_strings(chars: np.ndarray) -> pa.Array:
    """Arrow string array from an (n, width) uint8 matrix of ASCII characters."""
    n, width = chars.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(chars).reshape(-1)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _prefixed_digits(prefix: str, values: np.ndarray, width: int) -> np.ndarray:
    """Character matrix of `prefix` followed by each value zero-padded to `width` digits."""
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    chars = np.empty((len(values), len(head) + width), dtype=np.uint8)
    chars[:, : len(head)] = head
    chars[:, len(head) :] = _digits(values, width)
    return chars


def _prefixed_numbers(prefix: str, values: np.ndarray, width: int) -> pa.Array:
    return _fixed_width_strings(_prefixed_digits(prefix, values, width))


def _constant_strings(text: str, n: int) -> pa.Array:
    head = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return _fixed_width_strings(np.broadcast_to(head, (n, len(head))))


# ---------------------------------------------------------------------------------------------------
# Market: dates, prices, volumes, indices.


def _timeline(rng: np.random.Generator) -> _Timeline:
    import exchange_calendars as xcals

    calendar = xcals.get_calendar(CALENDAR)
    sessions = calendar.sessions_in_range(PERIOD_START, PERIOD_END)
    days = np.asarray(sessions.values.astype("datetime64[D]"))
    n = len(days)
    implementation = int(rng.integers(80, 200))
    window_len = int(rng.integers(230, 260))
    disclosure = min(implementation + window_len, n - 90)
    ex_date = int(rng.integers(implementation + 40, disclosure - 40))
    zero_volume = np.array(
        [
            int(rng.integers(implementation + 5, ex_date - 5)),  # a suspension inside the window
            int(rng.integers(disclosure + 2, disclosure + 8)),  # a suspension after the disclosure
        ]
    )
    return _Timeline(days, implementation, disclosure, ex_date, zero_volume)


def _post_disclosure_turnover(rng: np.random.Generator, n_days: int, target_day: int) -> np.ndarray:
    """Daily turnover for trading days 1..n_days whose cumulative sum first reaches 1 on target_day."""
    day = np.arange(1, n_days + 1)
    profile = 0.03 + 0.12 * np.exp(-np.abs(day - 3) / 6.0)
    profile[0] *= 0.35  # limit-down on D: few sellers find buyers
    profile *= rng.lognormal(0.0, 0.15, n_days)
    cumulative = np.cumsum(profile)
    before = cumulative[target_day - 2] if target_day >= 2 else 0.0
    scale = 1.0 / (before + 0.5 * profile[target_day - 1])
    return profile * scale


def _market(rng: np.random.Generator, tl: _Timeline) -> _Market:
    n = len(tl.sessions)
    i, d, e = tl.implementation, tl.disclosure, tl.ex_date

    market_factor = rng.normal(0.0, 0.010, n)
    idio = rng.normal(0.0, 0.018, n)
    stock = 1.15 * market_factor + idio
    # Daily moves re-centred so that the price drifts by a chosen factor before I and rises by the
    # inflation factor between I and D.
    for a, b, factor in ((1, i, rng.uniform(0.85, 1.15)), (i, d, rng.uniform(1.4, 1.8))):
        stock[a:b] += (np.log(factor) - stock[a:b].sum()) / (b - a)
    stock[d + 4 :] -= 0.0004
    event = np.zeros(n)
    event[d] = np.log(0.80)  # limit-down on D
    event[d + 1 : d + 4] = np.log(rng.uniform(0.90, 0.94, 3))
    stock[d : d + 4] = event[d : d + 4] + np.r_[0.0, rng.normal(0.0, 0.004, 3)]
    stock = np.clip(stock, np.log(0.80), np.log(1.20))
    stock[0] = 0.0
    zero = tl.zero_volume
    stock[zero] = 0.0  # suspended: the close carries over

    level = np.exp(np.cumsum(stock))
    adjusted_close = level * (rng.uniform(30.0, 60.0) / level[d - 1])
    raw_close = adjusted_close.copy()
    raw_close[:e] = adjusted_close[:e] * SHARE_RATIO + CASH_DIVIDEND_YUAN
    raw_close = np.maximum(np.round(raw_close, 2), 0.01)

    tradable = np.full(n, float(rng.integers(40, 120)) * 1_000_000)
    unlock = int(rng.integers(20, i - 20))
    tradable[unlock:] *= 1.5  # lock-up expiry
    tradable = tradable.astype(np.int64)

    turnover = rng.lognormal(np.log(0.02), 0.35, n)
    turnover[i:d] *= 1.3
    trading_after = np.setdiff1d(np.arange(d, n), zero)
    turnover_day = int(rng.integers(12, 21))
    turnover[trading_after] = _post_disclosure_turnover(rng, len(trading_after), turnover_day)
    volume = (np.round(turnover * tradable / 100.0) * 100).astype(np.int64)
    volume[zero] = 0

    broad_ret = 0.95 * market_factor + rng.normal(0.0, 0.003, n) + 0.05 * event
    industry_ret = market_factor + rng.normal(0.0, 0.007, n) + 0.25 * event
    broad_ret[0] = industry_ret[0] = 0.0
    broad = np.round(rng.uniform(2800.0, 3100.0) * np.exp(np.cumsum(broad_ret)), 2)
    industry = np.round(rng.uniform(8500.0, 11000.0) * np.exp(np.cumsum(industry_ret)), 2)
    return _Market(raw_close, volume, tradable, broad, industry, turnover_day)


# ---------------------------------------------------------------------------------------------------
# Investors and their trades.


def _investors(rng: np.random.Generator, n_trades: int, n_investors: int) -> _Investors:
    min_trades = 2 if n_trades >= 2 * n_investors else 1
    spare = n_trades - min_trades * n_investors
    weights = rng.gamma(1.5, 1.0, n_investors)
    extra = np.floor(weights / weights.sum() * spare).astype(np.int64)
    leftover = int(spare - extra.sum())
    if leftover:
        extra[rng.choice(n_investors, leftover, replace=False)] += 1
    counts = extra + min_trades

    stride = max(1, 10**8 // max(n_investors, 1))
    numbers = np.arange(n_investors, dtype=np.int64) * stride
    if stride > 1:
        numbers += rng.integers(0, stride, n_investors)
    profiles = rng.choice(len(PROFILE_SHARES), n_investors, p=PROFILE_SHARES).astype(np.int8)
    account_counts = rng.choice(3, n_investors, p=[0.7, 0.22, 0.08]).astype(np.int64) + 1
    first_account = (np.cumsum(account_counts) - account_counts) * max(1, 10**9 // (3 * n_investors))
    oversold = (rng.random(n_investors) < OVERSOLD_SHARE) & (counts >= 2) & (profiles != WINDOW_HOLDER)
    if not oversold.any() and n_investors >= 50:
        oversold[rng.integers(0, n_investors)] = True
        oversold &= counts >= 2
    return _Investors(numbers, counts, profiles, account_counts, first_account, oversold)


def _activity_intervals(
    rng: np.random.Generator, profiles: np.ndarray, tl: _Timeline, n_sessions: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First and last session index (inclusive) on which each investor trades, and whether the
    investor's last trade sells everything."""
    m = len(profiles)
    i, d, last = tl.implementation, tl.disclosure, n_sessions - 1
    start = np.empty(m, dtype=np.int64)
    end = np.empty(m, dtype=np.int64)

    exit_kind = rng.choice(3, m, p=[0.35, 0.35, 0.30])
    w_start = rng.integers(i, d - 5, m)
    early_end = w_start + 5 + (rng.random(m) * (d - 1 - (w_start + 5))).astype(np.int64)
    after_end = rng.integers(d, d + 30, m)
    late_end = rng.integers(d + 30, last + 1, m)
    w_end = np.choose(exit_kind, [early_end, after_end, late_end])

    pre_start = rng.integers(0, i - 10, m)
    pre_end = pre_start + 5 + (rng.random(m) * (i - 1 - (pre_start + 5))).astype(np.int64)
    post_start = rng.integers(d, last - 10, m)
    post_end = rng.integers(post_start + 5, last + 1)
    mixed_end = rng.integers(i + 10, d + 60, m)

    for profile, s, e in (
        (WINDOW, w_start, w_end),
        (PRE_AND_WINDOW, pre_start, mixed_end),
        (PRE_ONLY, pre_start, pre_end),
        (POST_ONLY, post_start, post_end),
        (WINDOW_HOLDER, w_start, early_end),
    ):
        sel = profiles == profile
        start[sel] = s[sel]
        end[sel] = e[sel]
    close_out_share = np.choose(profiles, [0.0, 0.4, 0.5, 0.3, 0.0])
    close_out_share = np.where((profiles == WINDOW) & (exit_kind == 0), 0.5, close_out_share)
    close_out_share = np.where((profiles == WINDOW) & (exit_kind == 1), 1.0, close_out_share)
    closes_out = rng.random(m) < close_out_share
    return start, end, closes_out


@dataclass(frozen=True)
class _Groups:
    """Rows laid out investor by investor: group k occupies rows starts[k] .. starts[k] + counts[k] - 1."""

    counts: np.ndarray
    starts: np.ndarray

    @classmethod
    def of(cls, counts: np.ndarray) -> _Groups:
        return cls(counts, np.cumsum(counts) - counts)

    def spread(self, per_group: np.ndarray) -> np.ndarray:
        """One value per group -> one value per row."""
        return np.repeat(per_group, self.counts)

    def cumsum(self, values: np.ndarray) -> np.ndarray:
        """Inclusive running sum restarting with each group."""
        total = np.cumsum(values)
        before = total[self.starts] - values[self.starts]
        return total - self.spread(before)


def _sell_quantities(
    groups: _Groups,
    sell: np.ndarray,
    step: np.ndarray,
    buy_qty: np.ndarray,
    ratio_tenths: np.ndarray,
) -> np.ndarray:
    """Quantity of each sell row (0 where a sell would find nothing to sell).

    The share of everything bought so far that has been sold rises with each sell, g = 1 - exp(-W)
    with W the running sum of `step` over the investor's sells; W >= 30 sells everything. Holdings are
    counted in tenths of a share on the post-action scale (`ratio_tenths` is 13 before the ex-date of
    a 10-for-3 bonus issue, 10 after), so that bonus shares are sold too and the arithmetic is exact;
    partial sells are round lots, selling everything may leave an odd lot.
    """
    n = len(sell)
    bought = groups.cumsum(np.where(sell, 0, buy_qty * ratio_tenths))
    w = groups.cumsum(np.where(sell, step, 0.0))
    sell_all = sell & (w >= 30.0)
    target = np.where(sell_all, bought, np.floor(-np.expm1(-w) * bought).astype(np.int64))

    # Target of the investor's previous sell (0 before the first one).
    last_sell = np.maximum.accumulate(np.where(sell, np.arange(n), -1))
    prev_sell = np.empty(n, dtype=np.int64)
    prev_sell[0] = -1
    prev_sell[1:] = last_sell[:-1]
    row_group_start = groups.spread(groups.starts)
    prev_target = np.where(prev_sell >= row_group_start, target[np.maximum(prev_sell, 0)], 0)
    delta = np.where(sell, target - prev_target, 0)

    lot_tenths = ratio_tenths * 100
    partial_qty = np.where(sell & ~sell_all, delta // lot_tenths * 100, 0)
    shortfall = groups.cumsum(np.where(sell & ~sell_all, delta - partial_qty * ratio_tenths, 0))
    first_sell_all = sell_all & (groups.cumsum(sell_all.astype(np.int64)) == 1)
    all_qty = (delta + np.where(first_sell_all, shortfall, 0)) // ratio_tenths
    return np.where(sell_all, all_qty, partial_qty)


def _string_rows(chars: np.ndarray, rows: np.ndarray) -> pa.Array:
    """Arrow strings: row k is the character row chars[rows[k]]."""
    return _fixed_width_strings(chars[rows])


def _trading_clock_chars() -> np.ndarray:
    """'HH:MM:SS' for every second of the two trading sessions, as a (14400, 8) character matrix."""
    second = np.arange(2 * SESSION_HALF_S, dtype=np.int64)
    clock = np.where(
        second < SESSION_HALF_S, MORNING_OPEN_S + second, AFTERNOON_OPEN_S + second - SESSION_HALF_S
    )
    chars = np.empty((len(clock), 8), dtype=np.uint8)
    chars[:, 0:2] = _digits(clock // 3600, 2)
    chars[:, 3:5] = _digits((clock // 60) % 60, 2)
    chars[:, 6:8] = _digits(clock % 60, 2)
    chars[:, 2] = chars[:, 5] = ord(":")
    return chars


def _clock_rows(clock_chars: np.ndarray, second: np.ndarray) -> pa.Array:
    """Trading-clock strings for each row's trading second; a negative second gives a null (empty)."""
    present = second >= 0
    data = clock_chars[second[present]]
    offsets = np.zeros(len(second) + 1, dtype=np.int32)
    np.cumsum(present.astype(np.int32) * 8, out=offsets[1:])
    valid = pa.py_buffer(np.packbits(present, bitorder="little"))
    return pa.StringArray.from_buffers(
        len(second), pa.py_buffer(offsets), pa.py_buffer(data.reshape(-1)), valid
    )


def _trade_chunk(
    rng: np.random.Generator,
    inv: _Investors,
    members: np.ndarray,
    tl: _Timeline,
    mk: _Market,
    security: str,
    shuffle: bool,
    clock_chars: np.ndarray,
) -> pa.Table:
    """All trades of the investors `members` (indices into `inv`) as an Arrow table."""
    n_sessions = len(tl.sessions)
    counts = inv.trade_counts[members]
    groups = _Groups.of(counts)
    m = len(members)
    n = int(counts.sum())
    local = groups.spread(np.arange(m, dtype=np.int64))

    # Dates are drawn among sessions on which the security traded; the trading second is counted
    # from the morning open over both sessions, -1 for an empty time.
    traded = np.flatnonzero(mk.volume > 0)
    start, end, closes_out = _activity_intervals(rng, inv.profiles[members], tl, n_sessions)
    lo = np.searchsorted(traded, start)
    span = np.maximum(np.searchsorted(traded, end, side="right") - lo, 1)
    pos = groups.spread(lo) + (rng.random(n) * groups.spread(span)).astype(np.int64)
    session = traded[np.minimum(pos, len(traded) - 1)]
    second = rng.integers(0, 2 * SESSION_HALF_S, n)
    second[rng.random(n) < EMPTY_TIME_SHARE] = -1

    # Each investor's trades in (date, time) order, an empty time first.
    order = np.argsort((local * n_sessions + session) * (2 * SESSION_HALF_S + 1) + (second + 1))
    session = session[order]
    second = second[order]

    row = np.arange(n, dtype=np.int64)
    seq = row - groups.spread(groups.starts) + 1
    first_row = seq == 1
    last_row = seq == groups.spread(counts)

    # Sides and quantities.
    holder = groups.spread(inv.profiles[members] == WINDOW_HOLDER)
    closing = groups.spread(closes_out) & last_row & ~first_row
    sell = ((rng.random(n) < 0.38) & ~first_row & ~holder) | closing
    lots = np.clip(np.rint(rng.lognormal(np.log(6.0), 1.0, n)), 1, 2000).astype(np.int64)
    buy_qty = lots * 100
    odd = np.flatnonzero(rng.random(n) < ODD_LOT_SHARE)
    buy_qty[odd] += rng.integers(1, 100, len(odd))

    ratio_tenths = np.where(session < tl.ex_date, round(SHARE_RATIO * 10), 10)
    step = np.where((rng.random(n) < 0.3) | closing, 30.0, -np.log1p(-rng.uniform(0.15, 0.85, n)))
    for _ in range(2):
        sell_qty = _sell_quantities(groups, sell, step, buy_qty, ratio_tenths)
        sell &= sell_qty > 0  # nothing left to sell: the trade becomes a buy
    quantity = np.where(sell, sell_qty, buy_qty)

    # A few investors sell more than they hold on their last trade.
    over = groups.spread(inv.oversold[members]) & last_row
    if over.any():
        signed = np.where(sell, -quantity, quantity) * ratio_tenths
        held_before = np.maximum(groups.cumsum(signed) - signed, 0)
        over_qty = -(-held_before // ratio_tenths) + rng.integers(1, 11, n) * 100
        sell |= over
        quantity = np.where(over, over_qty, quantity)

    price = np.rint(mk.raw_close[session] * (100.0 + rng.uniform(-2.0, 2.0, n))) / 100.0
    np.maximum(price, 0.01, out=price)

    account_offset = np.cumsum(inv.account_counts[members]) - inv.account_counts[members]
    account = groups.spread(account_offset) + (
        rng.random(n) * groups.spread(inv.account_counts[members])
    ).astype(np.int64)

    if shuffle:
        perm = rng.permutation(n)
        local, account, session, second = local[perm], account[perm], session[perm], second[perm]
        seq, sell, quantity, price = seq[perm], sell[perm], quantity[perm], price[perm]

    investor_chars = _prefixed_digits("INV", inv.numbers[members], 8)
    account_numbers = np.repeat(inv.first_account[members], inv.account_counts[members]) + (
        np.arange(int(inv.account_counts[members].sum()))
        - np.repeat(account_offset, inv.account_counts[members])
    )
    account_chars = _prefixed_digits("A", account_numbers, 9)
    side_chars = np.where(sell, ord("S"), ord("B")).astype(np.uint8)[:, None]
    return pa.Table.from_arrays(
        [
            _string_rows(investor_chars, local),
            _string_rows(account_chars, account),
            _constant_strings(security, n),
            pa.array(tl.sessions[session], type=pa.date32()),
            _clock_rows(clock_chars, second),
            pa.array(seq),
            _fixed_width_strings(side_chars),
            pa.array(quantity),
            pa.array(price),
        ],
        schema=TRADES_SCHEMA,
    )


def _chunks(counts_in_order: np.ndarray, chunk_rows: int) -> list[tuple[int, int]]:
    """[start, stop) ranges over investors (in file order) holding about chunk_rows trades each."""
    cumulative = np.cumsum(counts_in_order)
    if len(cumulative) == 0:
        return []
    total = int(cumulative[-1])
    edges = np.searchsorted(cumulative, np.arange(chunk_rows, total, chunk_rows), side="left") + 1
    edges = np.unique(np.concatenate(([0], edges, [len(counts_in_order)])))
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges)]


# ---------------------------------------------------------------------------------------------------
# Writing.


_CSV_OPTIONS = pacsv.WriteOptions(include_header=False, quoting_style="none")


def _write_csv(table: pa.Table, path: Path) -> None:
    with open(path, "wb") as f:
        f.write((",".join(table.schema.names) + "\n").encode("utf-8"))
        pacsv.write_csv(table, f, _CSV_OPTIONS)


def _trades_writer(path: Path, trades_format: str, stack: contextlib.ExitStack):
    """A writer of trade tables (`write_table`), closed with `stack`."""
    if trades_format == "parquet":
        return stack.enter_context(pq.ParquetWriter(path, TRADES_SCHEMA, compression="zstd"))
    sink = stack.enter_context(open(path, "wb"))
    sink.write((",".join(TRADES_SCHEMA.names) + "\n").encode("utf-8"))
    return stack.enter_context(pacsv.CSVWriter(sink, TRADES_SCHEMA, write_options=_CSV_OPTIONS))


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _case_toml(case_id: str, name: str, security: str, i: dt.date, d: dt.date) -> str:
    return (
        "[case]\n"
        f"id = {_toml_string(case_id)}\n"
        f"name = {_toml_string(name)}\n"
        'rules = "spc2022"\n'
        'direction = "inflation"\n'
        f"securities = [{_toml_string(security)}]\n"
        f'implementation_date = "{i.isoformat()}"\n'
        f'disclosure_date = "{d.isoformat()}"\n'
        "\n"
        "[plan]\n"
        'cost_method = "moving_average"\n'
        "commission_rate = 0.0003\n"
        "stamp_duty_rate = 0.001\n"
        "interest = false\n"
        "minimum_payment = 0.0\n"
        "\n"
        "[plan.systemic_risk]\n"
        'method = "relative_ratio"\n'
        "ratio = 0.0\n"
        f'indices = {{ "{BROAD_INDEX}" = 0.5, "{INDUSTRY_INDEX}" = 0.5 }}\n'
    )


def _to_date(day: np.datetime64) -> dt.date:
    return dt.date.fromisoformat(str(day))


def generate_case(
    out_dir: Path,
    *,
    n_trades: int,
    n_investors: int | None = None,
    seed: int = 0,
    trades_format: str = "csv",
    security: str = "688123",
    name: str = "Synthetic STAR Market misstatement case",
    realistic: bool = True,
    shuffle: bool = True,
    chunk_rows: int = CHUNK_ROWS,
) -> CaseInfo:
    """Write a synthetic case directory to `out_dir` and describe it.

    `n_trades` rows are written to trades.csv or trades.parquet (`trades_format`), spread over
    `n_investors` investors (default: one per 20 trades). The same `seed` gives the same case.
    `realistic=False` leaves out the corporate action, the zero-volume days, the opening positions,
    the oversold investors and the exclusions: a plain case for simple checks. `shuffle=False` writes
    the trades sorted by investor, then date, time and seq. `chunk_rows` is the number of trades
    generated and written at a time (a Parquet row group); it bounds the memory used.
    """
    if trades_format not in ("csv", "parquet"):
        raise ValueError(f"trades_format must be 'csv' or 'parquet', not {trades_format!r}")
    if n_trades < 1:
        raise ValueError("n_trades must be at least 1")
    if n_investors is None:
        n_investors = max(1, n_trades // TRADES_PER_INVESTOR)
    if not 1 <= n_investors <= min(n_trades, 10**8):
        raise ValueError("n_investors must be between 1 and n_trades (and below 10**8)")
    if not (len(security) == 6 and security.isdigit()):
        raise ValueError("security must be a six-digit code")
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("trades.csv", "trades.parquet", "positions.csv", "actions.csv", "exclusions.csv"):
        (out_dir / stale).unlink(missing_ok=True)

    root = np.random.SeedSequence(seed)
    market_seq, investor_seq, chunk_seq, extras_seq = root.spawn(4)
    tl = _timeline(np.random.default_rng(market_seq))
    if not realistic:
        tl = dataclasses.replace(tl, ex_date=0, zero_volume=np.zeros(0, dtype=np.int64))
    mk = _market(np.random.default_rng(market_seq.spawn(1)[0]), tl)
    sessions = tl.sessions
    n_sessions = len(sessions)

    # market.csv, indices.csv, actions.csv
    market = pa.table(
        {
            "security": _constant_strings(security, n_sessions),
            "date": pa.array(sessions, type=pa.date32()),
            "close": pa.array(mk.raw_close),
            "volume": pa.array(mk.volume),
            "tradable_shares": pa.array(mk.tradable_shares),
        }
    )
    _write_csv(market, out_dir / "market.csv")
    indices = pa.table(
        {
            "index": pa.concat_arrays(
                [_constant_strings(BROAD_INDEX, n_sessions), _constant_strings(INDUSTRY_INDEX, n_sessions)]
            ),
            "date": pa.array(np.concatenate([sessions, sessions]), type=pa.date32()),
            "close": pa.array(np.concatenate([mk.broad_index, mk.industry_index])),
        }
    )
    _write_csv(indices, out_dir / "indices.csv")
    if realistic:
        actions = pa.table(
            {
                "security": [security],
                "ex_date": pa.array(sessions[tl.ex_date : tl.ex_date + 1], type=pa.date32()),
                "share_ratio": [SHARE_RATIO],
                "cash_dividend": [CASH_DIVIDEND_YUAN],
            }
        )
        _write_csv(actions, out_dir / "actions.csv")

    # Investors, then trades chunk by chunk in file order.
    inv = _investors(np.random.default_rng(investor_seq), n_trades, n_investors)
    if not realistic:
        inv = dataclasses.replace(inv, oversold=np.zeros(n_investors, dtype=bool))
    file_order = (
        np.random.default_rng(investor_seq.spawn(1)[0]).permutation(n_investors)
        if shuffle
        else np.arange(n_investors)
    )
    trades_path = out_dir / f"trades.{trades_format}"
    clock_chars = _trading_clock_chars()
    ranges = _chunks(inv.trade_counts[file_order], chunk_rows)
    chunk_seqs = chunk_seq.spawn(len(ranges))
    with contextlib.ExitStack() as stack:
        sink = _trades_writer(trades_path, trades_format, stack)
        # One chunk is written while the next one is generated.
        with ThreadPoolExecutor(max_workers=1) as writer:
            pending = None
            for (a, b), seq in zip(ranges, chunk_seqs, strict=True):
                members = file_order[a:b]
                if not shuffle:
                    members = np.sort(members)
                table = _trade_chunk(
                    np.random.default_rng(seq), inv, members, tl, mk, security, shuffle, clock_chars
                )
                if pending is not None:
                    pending.result()
                pending = writer.submit(sink.write_table, table)
                del table
            if pending is not None:
                pending.result()

    # positions.csv and exclusions.csv
    extras = np.random.default_rng(extras_seq)
    n_positions = n_exclusions = 0
    if realistic:
        with_position = np.flatnonzero((extras.random(n_investors) < POSITIONS_SHARE) & ~inv.oversold)
        n_positions = len(with_position)
        if n_positions:
            positions = pa.table(
                {
                    "investor_id": _prefixed_numbers("INV", inv.numbers[with_position], 8),
                    "account_id": _prefixed_numbers("A", inv.first_account[with_position], 9),
                    "security": _constant_strings(security, n_positions),
                    "quantity": pa.array(extras.integers(1, 200, n_positions).astype(np.int64) * 100),
                }
            )
            _write_csv(positions, out_dir / "positions.csv")

        window_buyers = np.flatnonzero(np.isin(inv.profiles, (WINDOW, PRE_AND_WINDOW, WINDOW_HOLDER)))
        pool = window_buyers if len(window_buyers) else np.arange(n_investors)
        n_exclusions = int(min(len(pool), max(1, min(6, n_investors // 50))))
        excluded = np.sort(extras.choice(pool, n_exclusions, replace=False))
        exclusions = pa.table(
            {
                "investor_id": _prefixed_numbers("INV", inv.numbers[excluded], 8),
                "reason": pa.array(
                    [EXCLUSION_REASONS[k % len(EXCLUSION_REASONS)] for k in range(n_exclusions)]
                ),
            }
        )
        _write_csv(exclusions, out_dir / "exclusions.csv")

    i_date, d_date = _to_date(sessions[tl.implementation]), _to_date(sessions[tl.disclosure])
    case_id = f"synth-{security}-{seed}"
    (out_dir / "case.toml").write_text(_case_toml(case_id, name, security, i_date, d_date), encoding="utf-8")

    return CaseInfo(
        case_dir=out_dir,
        trades_path=trades_path,
        security=security,
        n_trades=n_trades,
        n_investors=n_investors,
        n_accounts=int(inv.account_counts.sum()),
        n_positions=n_positions,
        n_exclusions=n_exclusions,
        first_date=_to_date(sessions[0]),
        last_date=_to_date(sessions[-1]),
        implementation_date=i_date,
        disclosure_date=d_date,
        ex_date=_to_date(sessions[tl.ex_date]) if realistic else None,
        turnover_day=mk.turnover_day,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m redress.synth", description="Write a synthetic case directory."
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--trades", type=int, default=100_000, help="number of trades")
    parser.add_argument("--investors", type=int, default=None, help="number of investors")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv", dest="trades_format")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--security", default="688123")
    parser.add_argument("--name", default="Synthetic STAR Market misstatement case")
    parser.add_argument("--plain", action="store_true", help="no action, positions, exclusions, oversells")
    parser.add_argument("--no-shuffle", action="store_true", help="write trades sorted by investor")
    args = parser.parse_args(argv)
    info = generate_case(
        args.out_dir,
        n_trades=args.trades,
        n_investors=args.investors,
        seed=args.seed,
        trades_format=args.trades_format,
        security=args.security,
        name=args.name,
        realistic=not args.plain,
        shuffle=not args.no_shuffle,
    )
    print(
        f"{info.case_dir}: {info.n_trades} trades, {info.n_investors} investors, "
        f"I={info.implementation_date} D={info.disclosure_date} ex-date={info.ex_date}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
