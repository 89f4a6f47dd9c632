"""From a case directory to one result row per (investor, security).

``prepare`` reads and validates the case once (tables, base dates, ex-rights restatement, grouping of
the trades by investor); ``compute`` runs the compiled walk for one plan and applies the vectorised
formulas of loss-rules.md sections 6 and 7.  ``redress compare`` prepares once and computes per plan.
"""

from __future__ import annotations

import dataclasses
import os
import time
from contextlib import contextmanager
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from redress.engine import finish as F
from redress.engine import grouping as G
from redress.engine import records as R
from redress.engine import walk as W
from redress.errors import CaseError, Problem
from redress.exports import safe_text_expr
from redress.law.plan import (ActualCostSells, CaseConfig, CostMethod, Direction, Plan, Statement, SystemicMethod,
                              load_case)
from redress.market.base_date import BaseDate, ExRights, compute_base_dates, ex_rights_by_security
from redress.market.calendar import day_number
from redress.market.market_model import MarketFit, fit_market_models, market_model_ratios
from redress.rounding import PRICE_UNITS, rounded
from redress.trades.tables import CaseTables, read_case_tables, string_views

OUTPUT_COLUMNS = [
    "investor_id", "security", "status", "flags", "eligible_bought", "q_sold", "q_held", "avg_buy", "avg_sell",
    "base_price", "difference_loss", "systemic_deduction", "net_loss", "commission", "stamp_duty", "interest",
    "compensation",
]
STATEMENT_COLUMN = "statement"  # a case with several statements: the statement's id, right after security
MONEY_COLUMNS = ["difference_loss", "systemic_deduction", "net_loss", "commission", "stamp_duty", "interest",
                 "compensation"]
PRICE_COLUMNS = ["avg_buy", "avg_sell", "base_price"]
QUANTITY_COLUMNS = ["eligible_bought", "q_sold", "q_held"]
TEXT_COLUMNS = ["investor_id", "security"]   # as the input files gave them: made safe for spreadsheets in CSV
STATUSES = ["excluded", "no_eligible_shares", "no_loss", "below_minimum", "eligible"]
FLAG_TEXTS = ["", "oversold", "base_date_truncated", "oversold;base_date_truncated"]  # oversold + 2 * truncated
COST_CODES = {CostMethod.MOVING_AVERAGE: W.COST_MOVING, CostMethod.WEIGHTED_AVERAGE: W.COST_WEIGHTED,
              CostMethod.ACTUAL_COST: W.COST_ACTUAL, CostMethod.FIFO: W.COST_FIFO}
OPENING_DAY = np.iinfo(np.int32).min + 1


def cost_code(plan: Plan) -> int:
    """The walk's code for the plan's cost method (with its ``actual_cost_sells`` choice)."""
    if plan.cost_method == CostMethod.ACTUAL_COST and plan.actual_cost_sells == ActualCostSells.ALL_WINDOW_SELLS:
        return W.COST_ACTUAL_ALL
    return COST_CODES[plan.cost_method]

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass
class Prepared:
    """A validated case with its trades grouped by (investor, security), ready for any plan."""

    case_dir: Path
    case: CaseConfig
    tables: CaseTables
    ex_rights: dict[str, ExRights]
    base: dict[str, BaseDate]
    n_trades: int
    rec: np.ndarray  # the engine's records (``engine.records``), grouped and in time order within each group
    starts: np.ndarray  # records starts[g]:starts[g+1] hold group g (one investor, one security)
    max_len: int
    last_trade_day: int  # the latest trade date, as a day number (OPENING_DAY when there are no trades)
    timings: dict[str, float] = field(default_factory=dict)
    # a case with [[case.statements]]: statement id -> its securities' base dates and prices (``base`` holds
    # the first statement's); None for a one-statement case
    statement_bases: dict[str, dict[str, BaseDate]] | None = None

    @property
    def n_groups(self) -> int:
        return len(self.starts) - 1

    # The fields of the records, as arrays (for explanations and other small uses).
    @property
    def kind(self) -> np.ndarray:
        return R.unpack_meta(self.rec[:, R.R_META])[0]

    @property
    def sec(self) -> np.ndarray:
        return R.unpack_meta(self.rec[:, R.R_META])[1]

    @property
    def day(self) -> np.ndarray:
        return R.unpack_meta(self.rec[:, R.R_META])[2]

    @property
    def qty(self) -> np.ndarray:
        return self.rec[:, R.R_QTY].view(np.float64)

    @property
    def price(self) -> np.ndarray:
        return self.rec[:, R.R_PRICE].view(np.float64)

    @property
    def rowid(self) -> np.ndarray:
        """Original row of each record: trades first, then opening positions."""
        return self.rec[:, R.R_ROW].astype(np.int64)

    def group_sec(self, positions: np.ndarray) -> np.ndarray:
        """Security code of the records at some positions."""
        return R.unpack_meta(self.rec[positions, R.R_META])[1]

    def base_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Base day, base price and truncation flag per security code (zeros for a security set aside)."""
        bases = [self.base.get(s) for s in self.case.securities]
        return (np.array([b.base_day if b else 0 for b in bases], dtype=np.int64),
                np.array([b.base_price if b else 0.0 for b in bases], dtype=np.float64),
                np.array([bool(b and "base_date_truncated" in b.flags) for b in bases]))

    def for_statement(self, statement: Statement | str | None) -> Prepared:
        """The prepared case as a one-statement case of one of its statements (``CaseConfig.for_statement``):
        the same grouped trades, that statement's dates, base dates and plan."""
        case = self.case.for_statement(statement)
        if self.statement_bases is None:
            return dataclasses.replace(self, case=case)
        sid = case.statements[0].id
        return dataclasses.replace(self, case=case, base=self.statement_bases[sid], statement_bases=None)

    def statement_preps(self) -> list[Prepared]:
        """One prepared one-statement case per statement, in case.toml's order."""
        if self.statement_bases is None:
            return [self]
        return [self.for_statement(s) for s in self.case.statements]

    def subset(self, rows: np.ndarray) -> Prepared:
        """The same case restricted to some original rows (for explaining one investor)."""
        positions = np.nonzero(np.isin(self.rec[:, R.R_ROW], rows.astype(np.uint64)))[0]
        positions = positions[np.argsort(self.group_sec(positions), kind="stable")]
        rec = np.ascontiguousarray(self.rec[positions])
        starts = G.group_starts(self.group_sec(positions).astype(np.int64))
        return dataclasses.replace(self, rec=rec, starts=starts,
                                   max_len=int(np.max(np.diff(starts))) if len(starts) > 1 else 1, timings={})

    def investor_ids(self, rows: np.ndarray) -> pl.Series:
        """Investor ids of combined row numbers (trades first, then opening positions)."""
        trades_ids = self.tables.trades["investor_id"]
        pos_ids = self.tables.positions["investor_id"]
        is_trade = rows < self.n_trades
        if is_trade.all():
            return trades_ids.gather(rows).alias("investor_id")
        split = int(np.searchsorted(rows, self.n_trades))
        if not is_trade[split:].any() and np.all(is_trade[:split]):  # trades' rows first, as in sorted rows
            return pl.concat([trades_ids.gather(rows[:split]), pos_ids.gather(rows[split:] - self.n_trades)]
                             ).alias("investor_id")
        from_trades = trades_ids.gather(np.where(is_trade, rows, 0))
        from_positions = pos_ids.gather(np.where(is_trade, 0, rows - self.n_trades))
        return from_trades.zip_with(pl.Series(is_trade), from_positions).alias("investor_id")


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - started


def prepare(case_dir: Path, *, skip_bad_rows: bool = False, extra_index_codes: tuple[str, ...] = (),
            progress: Progress = _quiet, case: CaseConfig | None = None, keep_trade_columns: bool = True,
            base: dict | None = None) -> Prepared:
    """Read, validate and group a case.  ``keep_trade_columns=False`` keeps only the investor ids of the trades
    table once the engine's arrays are built (enough for ``compute`` and ``compare``; ``explain`` needs all).
    ``base``: the securities' base dates and prices when already computed from the same market tables (a
    partition of a case receives them from the first partition); for a case with several statements, a dict
    of them by statement id (``Prepared.statement_bases``).  Everything but the base dates is read once,
    whatever the number of statements."""
    case_dir = Path(case_dir)
    timings: dict[str, float] = {}
    plain_pages()
    case = case or load_case(case_dir)
    progress("reading and checking the tables")
    with _timed(timings, "read_validate"):
        tables = read_case_tables(case_dir, case, skip_bad_rows=skip_bad_rows, extra_index_codes=extra_index_codes,
                                  keep_accounts=keep_trade_columns)
    ex = ex_rights_by_security(case, tables.actions)
    progress("base dates")
    statement_bases = None
    if case.has_statements:
        statement_bases = base or {
            s.id: compute_base_dates(case.for_statement(s), tables.market, ex, tables.files["market"],
                                     skip=tables.without_market) for s in case.statements}
        base = statement_bases[case.statements[0].id]
    elif base is None:
        base = compute_base_dates(case, tables.market, ex, tables.files["market"], skip=tables.without_market)

    progress("restating ex-rights and grouping trades by investor")
    with _timed(timings, "group"):
        columns = _trade_columns(case, tables, ex)
        # what the columns now hold need not stay in the table through the memory-hungry grouping
        tables = dataclasses.replace(tables, trades=tables.trades.drop("security") if keep_trade_columns
                                     else tables.trades.select("investor_id"))
        last_day = columns.last_day
        rec, starts = _group(case, tables, columns)
    max_len = int(np.max(np.diff(starts))) if len(starts) > 1 else 1
    return Prepared(case_dir, case, tables, ex, base, tables.trades.height, rec, starts, max_len, last_day,
                    timings, statement_bases)


def plain_pages() -> None:
    """Stop NumPy asking Linux to back its large arrays with transparent huge pages (``madvise``), as setting
    ``NUMPY_MADVISE_HUGEPAGE=0`` does.  Where the kernel compacts memory to find huge pages on demand, the
    engine's fresh arrays waited on it: grouping 10M trades took 0.84 to 1.11 s with the advice and 0.58 s
    without it (docs/decisions.md)."""
    try:
        from numpy._core import multiarray
    except ImportError:  # an older NumPy
        from numpy.core import multiarray  # type: ignore[no-redef]
    setter = getattr(multiarray, "_set_madvise_hugepage", None)
    if setter is not None:
        setter(False)


def _frozen(array: np.ndarray) -> np.ndarray:
    """The array marked read-only: Polars hands out read-only views or writable copies depending on how a
    column is stored, and Numba compiles a separate version for each; fixing the flag keeps one."""
    array = np.asarray(array)
    array.setflags(write=False)
    return array


def _factors(case: CaseConfig, ex: dict[str, ExRights], span: tuple[int, int] | None
             ) -> tuple[np.ndarray, int, np.ndarray]:
    """Ex-rights factor of each security on each day of the trades' range ``span`` (first and last day; None
    without trades), and for opening positions."""
    secs = case.securities
    if span is None or not any(ex[s].ratios.size for s in secs):
        return np.ones((len(secs), 1)), 0, np.ones(len(secs))
    day0, day1 = span
    span = np.arange(day0, day1 + 1, dtype=np.int64)
    table = np.vstack([ex[s].factor(span) for s in secs])
    return table, day0, np.array([ex[s].total() for s in secs])


@dataclass
class _Columns:
    """The trades and positions as the grouping kernel takes them (``grouping.scatter_rows``); ``release`` lets
    them go."""

    chunks: list | None  # per chunk of the trades: key, check, tkey, tsec, seq, is_buy, sec, day, quantity, price
    d0: int  # first day and smallest seq the time keys are packed from
    s0: int
    mix: bool  # several securities: the security is folded into the grouping key
    positions: tuple | None  # key, check, sec, quantity
    factor: tuple | None  # factor table, its first day, factor of opening positions
    last_day: int  # the latest trade date, as a day number (OPENING_DAY when there are no trades)
    views: bool = False  # the keys are the ids' string views, hashed by the kernel (``_id_words``)

    def release(self) -> None:
        self.chunks = self.positions = self.factor = None


def _trade_columns(case: CaseConfig, tables: CaseTables, ex: dict[str, ExRights]) -> _Columns:
    """The kernel's inputs, chunk by chunk as the trades table holds its columns (a Parquet file reads as one
    chunk per row group), so that no column is copied into one array; every array is read-only."""
    t, p = tables.trades, tables.positions
    sec_t, sec_p = tables.security_codes["trades"], tables.security_codes["positions"]  # found by the checks
    day = t["date"].cast(pl.Int32)
    tkey, parts = _time_key_inputs(t)
    d0, s0 = (parts[3], parts[4]) if parts else (0, 0)
    bounds = np.cumsum([0] + [len(c) for c in t["investor_id"].get_chunks()])
    words_t, words_p = _id_words(t["investor_id"]), _id_words(p["investor_id"])
    views = words_t is not None and words_p is not None
    if views:  # the kernel hashes the ids from their views
        key_t, check_t = words_t, [_frozen(np.zeros(0, np.uint64))] * len(words_t)
        key_p = np.concatenate(words_p) if words_p else np.zeros(0, np.uint64)
        check_p = np.zeros(0, np.uint64)
    else:
        key_t, check_t = _id_hashes(t["investor_id"])
        key_p, check_p = (a.to_numpy() for a in _id_hashes(p["investor_id"]))
    columns = [(key_t, np.uint64), (check_t, np.uint64), (tkey, np.uint64),
               (parts[1] if parts else np.zeros(0, np.int32), np.int32),
               (parts[2] if parts else np.zeros(0, np.int64), np.int64),
               (t["side"], np.bool_), (sec_t, np.int32), (day, np.int32), (t["quantity"], np.int64),
               (t["price"], np.float64)]
    pieces = [_pieces(values, bounds, dtype) for values, dtype in columns]
    chunks = list(zip(*pieces, strict=True))
    positions = (_frozen(key_p), _frozen(check_p), _frozen(sec_p), _frozen(p["quantity"].to_numpy()))
    span = (int(day.min()), int(day.max())) if t.height else None
    return _Columns(chunks, d0, s0, len(case.securities) > 1, positions, _factors(case, ex, span),
                    span[1] if span else OPENING_DAY, views)


def _id_words(ids: pl.Series) -> list[np.ndarray] | None:
    """Each chunk's ids as their Arrow string views, two 64-bit words per row, without copying; None unless every
    id is held inline there (a text column of string views, no nulls, no id longer than 12 bytes), as
    ``grouping.scatter_rows`` hashes them from their views."""
    parts = string_views(ids) if ids.null_count() == 0 else None
    if parts is None:
        return None
    words = [_frozen(views[4 * offset:4 * (offset + n)].view(np.uint64))
             for _, (views, _, _, offset, n) in parts]
    if any(w.size and G.max_view_length(w) > G.MAX_INLINE for w in words):
        return None
    return words


def _id_hashes(ids: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Two independently seeded 64-bit hashes of investor ids, computed side by side in one Polars call."""
    hashes = pl.DataFrame([ids.alias("id")]).select(pl.col("id").hash(seed=0).alias("key"),
                                                    pl.col("id").hash(seed=0x5EED).alias("check"))
    return hashes["key"], hashes["check"]


def _pieces(values: pl.Series | np.ndarray | list[np.ndarray], bounds: np.ndarray, dtype: type
            ) -> list[np.ndarray]:
    """Rows ``bounds[i]:bounds[i + 1]`` of a column, as read-only arrays: the column's own chunks where it is cut
    there (no copy), else slices of it as one array.  An empty array stays empty in every piece; a list is
    already one array per piece."""
    if isinstance(values, list):
        return values
    n = int(bounds[-1])
    if isinstance(values, pl.Series):
        chunks = values.get_chunks()
        if len(values) == n and [len(c) for c in chunks] == np.diff(bounds).tolist():
            return [_frozen(np.ascontiguousarray(c.to_numpy(), dtype=dtype)) for c in chunks]
        values = values.to_numpy()
    values = _frozen(np.ascontiguousarray(values, dtype=dtype))
    if len(values) != n:
        return [values] * (len(bounds) - 1)
    return [values[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def time_keys(trades: pl.DataFrame) -> np.ndarray:
    """One 64-bit key per trade ordering trades by (date, time, seq); opening positions take key 0.

    Bits: 20 for the day (relative to the first, from 1), 17 for seconds + 2 (an empty time is -1, so it
    sorts first), 27 for seq (relative to the smallest).  When days or seqs are too far apart for that, the
    key is the trade's rank in (date, time, seq) order instead, from 1.
    """
    keys, parts = _time_key_inputs(trades)
    if parts is None:
        return keys
    day, tsec, seq, d0, s0 = parts
    return G.pack_time_keys(day.to_numpy(), tsec.to_numpy(), seq.to_numpy(), d0, s0)


TimeParts = tuple[pl.Series, pl.Series, pl.Series, int, int]  # day, seconds, seq (Int32, Int32, Int64), first day, smallest seq


def _time_key_inputs(trades: pl.DataFrame) -> tuple[np.ndarray, TimeParts | None]:
    """Either the columns the time keys are packed from (when they fit the bits of ``time_keys``: the keys are
    then packed where they are used), or the keys themselves."""
    day, tsec, seq = pl.col("date").cast(pl.Int64), pl.col("time").cast(pl.Int64), pl.col("seq")
    if trades.height == 0:
        return np.zeros(0, np.uint64), None
    cols = (trades["date"].cast(pl.Int32), trades["time"].cast(pl.Int32), trades["seq"].cast(pl.Int64))
    if not any(c.null_count() for c in cols):
        d, t, q = cols
        d0, d1, s0, s1 = int(d.min()), int(d.max()), int(q.min()), int(q.max())
        if d1 - d0 + 1 < 2**20 and s1 - s0 < 2**27 and int(t.min()) >= -1 and int(t.max()) < 2**17 - 2:
            return np.zeros(0, np.uint64), (d, t, q, d0, s0)
    d0, d1, s0, s1 = trades.select(day.min(), day.max().alias("d1"), seq.min(), seq.max().alias("s1")).row(0)
    if d1 - d0 + 1 < 2**20 and s1 - s0 < 2**27:
        u64 = lambda e: e.cast(pl.UInt64)  # noqa: E731
        key = (u64(day - (d0 - 1)) * pl.lit(2**44, pl.UInt64) + u64(tsec + 2) * pl.lit(2**27, pl.UInt64)
               + u64(seq - s0))
        return trades.select(key).to_series().to_numpy(), None
    ranks = np.empty(trades.height, np.uint64)
    order = trades.select(pl.arg_sort_by(day, tsec, seq, maintain_order=True)).to_series().to_numpy()
    ranks[order] = np.arange(1, trades.height + 1, dtype=np.uint64)
    return ranks, None


def _group(case: CaseConfig, tables: CaseTables, c: _Columns):
    """Group trades and positions by (investor, security), each group in time order, restated for ex-rights.

    Investor ids are strings; sorting them is the slowest thing the engine could do.  Rows are grouped by
    a 64-bit hash of the id instead (linear and parallel); a second, independently seeded hash must be
    constant inside every group, and should two ids ever share a 64-bit hash the grouping falls back to
    exact dense ranks of the strings.  ``c`` is released once the first pass has copied it.  Returns the
    records, grouped, and the group offsets.
    """
    ids_t, ids_p = tables.trades["investor_id"], tables.positions["investor_id"]
    n_sec = len(case.securities)
    rec, offsets = G.scatter_rows(c.chunks, c.d0, c.s0, c.mix, *c.positions, *c.factor, views=c.views)
    c.release()
    starts, consistent = G.sort_partitions(rec, offsets)
    if not consistent:
        ranks = pl.concat([ids_t, ids_p]).rank("dense").cast(pl.UInt64).to_numpy()
        rows = rec[:, R.R_ROW].astype(np.int64)
        sec = R.unpack_meta(rec[:, R.R_META])[1].astype(np.uint64)
        exact = ranks[rows] * np.uint64(n_sec) + sec
        rec[:, R.R_KEY] = exact * G.KEY_MIX  # an odd multiplier is a bijection that spreads ranks over the top bits
        rec[:, R.R_CHECK] = exact
        shift = np.uint64(64 - (len(offsets) - 2).bit_length())
        part = rec[:, R.R_KEY] >> shift
        order = np.argsort(part, kind="stable")
        rec, offsets = rec[order], np.searchsorted(part[order], np.arange(len(offsets), dtype=np.uint64))
        starts, consistent = G.sort_partitions(rec, offsets.astype(np.int64))
        assert consistent
    return rec, starts


def index_inputs(prep: Prepared, plan: Plan) -> tuple[np.ndarray, int, np.ndarray, np.ndarray, list[str]]:
    """Forward-filled index closes by day, each security's index base level, and the weights."""
    codes = [c for c, _ in plan.systemic_risk.indices] if plan.systemic_risk.uses_index else []
    weights = np.array([w for c, w in plan.systemic_risk.indices if c in codes], dtype=np.float64)
    n_sec = len(prep.case.securities)
    if not codes:
        return np.zeros((0, 1)), 0, np.zeros((n_sec, 0)), np.zeros(0), []
    idx = prep.tables.indices
    first = int(idx["date"].cast(pl.Int32).min())
    last = max([int(idx["date"].cast(pl.Int32).max()), prep.last_trade_day] + [b.base_day for b in prep.base.values()])
    table = np.full((len(codes), last - first + 1), np.nan)
    for k, code in enumerate(codes):
        rows = idx.filter(pl.col("index") == code).sort("date")
        days = rows["date"].cast(pl.Int32).to_numpy().astype(np.int64) - first
        marks = np.full(last - first + 1, -1, dtype=np.int64)
        marks[days] = np.arange(days.size)
        marks = np.maximum.accumulate(marks)
        closes = rows["close"].to_numpy()
        table[k] = np.where(marks >= 0, closes[np.maximum(marks, 0)], np.nan)
    base_levels = np.zeros((n_sec, len(codes)))
    for s, sec in enumerate(prep.case.securities):
        if sec not in prep.base:
            continue
        b = prep.base[sec]
        for k in range(len(codes)):
            base_levels[s, k] = np.mean([_close_at(table[k], first, int(d)) for d in b.days])
    return table, first, base_levels, weights, codes


def _close_at(row: np.ndarray, first: int, day: int) -> float:
    if day < first:
        return np.nan
    return float(row[min(day - first, row.size - 1)])


@dataclass(frozen=True)
class Result:
    """The results of one plan: the output table plus what summaries and comparisons need."""

    table: pl.DataFrame  # OUTPUT_COLUMNS, Float64 money rounded to the fen, sorted by investor, security
    compensation_fen: np.ndarray  # aligned with table rows
    plan: Plan
    timings: dict[str, float]

    def write(self, path: Path) -> None:
        write_results(self.table, path)


def compute(prep: Prepared, plan: Plan | None = None, *, progress: Progress = _quiet) -> Result:
    """One statement's results under one plan.  A case with several statements is computed by
    ``engine.statements.compute_case_results`` (this function gets one statement's ``Prepared`` from it)."""
    case = prep.case
    if prep.statement_bases is not None and len(case.statements) > 1:
        raise ValueError(f"case {case.id} has {len(case.statements)} statements: compute it with "
                         f"engine.statements.compute_case_results, which combines them by statements_rule")
    plan = plan or case.plan
    timings: dict[str, float] = {}
    b_days, base_prices, _ = prep.base_arrays()
    table, idx_day0, idx_base, weights, codes = index_inputs(prep, plan)
    use_index = bool(codes)
    progress("walking every investor's trades")
    with _timed(timings, "kernel"):
        out, levels, oversold = W.walk_all(
            prep.starts, prep.rec,
            day_number(case.implementation_date), day_number(case.disclosure_date), b_days, base_prices,
            case.direction == Direction.DEFLATION, cost_code(plan), table, idx_day0,
            idx_base, weights, use_index, max(prep.max_len, 1), _chunks(prep.n_groups))
    if plan.systemic_risk.method == SystemicMethod.MARKET_MODEL:
        betas = np.array([f.beta if f else 0.0 for f in
                          (market_fits(prep, plan).get(sec) for sec in case.securities)])
        group_sec = prep.group_sec(prep.starts[:-1]).astype(np.int64)
        out[:, W.O_RATIO] = market_model_ratios(out[:, W.O_STOCK_START], out[:, W.O_STOCK_END], levels,
                                                betas[group_sec], weights, case.direction == Direction.DEFLATION)[0]
    if plan.systemic_risk.uses_index and plan.systemic_risk.deducted_share != 1.0:
        out[:, W.O_RATIO] *= plan.systemic_risk.deducted_share
    progress("applying the formulas")
    with _timed(timings, "formulas"):
        result = _formulas(prep, plan, out, oversold, prep.rec[prep.starts[:-1], R.R_ROW].astype(np.int64), codes,
                           levels)
    return Result(result[0], result[1], plan, {**prep.timings, **timings})


def market_fits(prep: Prepared, plan: Plan) -> dict[str, MarketFit]:
    """The market model of each security under ``plan`` (loss-rules.md section 6, ``market_model``)."""
    return fit_market_models(prep.case, plan, prep.tables.market, prep.tables.indices, prep.ex_rights,
                             prep.tables.files["market"], prep.tables.files["indices"],
                             skip=tuple(s for s in prep.case.securities if s not in prep.base))


def _chunks(n_groups: int) -> int:
    threads = os.cpu_count() or 1
    return max(1, min(n_groups, threads * 16))


def _formulas(prep: Prepared, plan: Plan, out: np.ndarray, oversold: np.ndarray, first_row: np.ndarray,
              codes: list[str], levels: np.ndarray) -> tuple[pl.DataFrame, np.ndarray]:
    group_sec = prep.group_sec(prep.starts[:-1])
    ids, order = _output_order(prep, first_row, group_sec)  # results come out sorted by investor, security
    case = prep.case
    method = plan.systemic_risk.method
    mode = {SystemicMethod.UNIFORM_RATIO: 1, SystemicMethod.RELATIVE_RATIO: 2,
            SystemicMethod.MARKET_MODEL: 2}.get(method, 0)
    excluded = ids.is_in(prep.tables.exclusions["investor_id"].implode()).to_numpy() if prep.tables.exclusions.height \
        else np.zeros(len(ids), dtype=bool)
    _, base_prices, truncated_by_sec = prep.base_arrays()
    values, sec, status, flag_code, paid_fen, missing = F.finish_rows(
        out, order, oversold, group_sec, excluded, rounded(base_prices, PRICE_UNITS), truncated_by_sec, mode,
        float(plan.systemic_risk.ratio or 0.0) if mode == 1 else 0.0, float(plan.commission_rate),
        float(plan.stamp_duty_rate), bool(plan.interest), float(plan.interest_rate if plan.interest else 0.0),
        plan.minimum_payment * 100 - 1e-9)
    if mode == 2 and missing.any():
        _missing_index(prep, codes, levels[order], missing, method.value)
    for j in (F.F_ELIGIBLE_BOUGHT, F.F_Q_SOLD, F.F_Q_HELD):  # float noise of ex-rights restatement dropped
        np.round(values[j], 6, out=values[j])
        values[j] += 0.0  # no -0.0
    cols: dict[str, object] = {
        "investor_id": ids,
        "security": _labels(sec, case.securities),
        "status": _labels(status, STATUSES),
        "flags": _labels(flag_code, FLAG_TEXTS),
    }
    for j, name in enumerate(OUTPUT_COLUMNS[4:]):
        cols[name] = values[j]
    return pl.DataFrame(cols), paid_fen


def _output_order(prep: Prepared, first_row: np.ndarray, group_sec: np.ndarray) -> tuple[pl.Series, np.ndarray]:
    """The groups' investor ids sorted by (investor, security), and the order of the groups that gives.

    Ids are gathered in row order, which reads the (large) id column front to back once (gathering them in
    the groups' order made this step about 0.3 s slower at 50M trades); only the permutation and the small
    per-group arrays are sorted.
    """
    by_row = np.argsort(first_row)  # rows are distinct
    ids = prep.investor_ids(first_row[by_row])
    by_id = pl.DataFrame({"i": ids, "s": group_sec[by_row]}).select(pl.arg_sort_by("i", "s")).to_series().to_numpy()
    return ids.gather(by_id), by_row[by_id]


def _labels(codes: np.ndarray, labels: list[str] | tuple[str, ...]) -> pl.Series:
    """Strings from small integer codes, without a Python object per row."""
    return pl.Series(list(labels), dtype=pl.String).gather(codes.astype(np.uint32))


def _missing_index(prep: Prepared, codes: list[str], levels: np.ndarray, bad: np.ndarray, method: str) -> None:
    g = int(np.nonzero(bad)[0][0])
    k = int(np.nonzero(np.isnan(levels[g, :, 0]) | np.isnan(levels[g, :, 1]))[0][0]) if levels.size else 0
    code = codes[k]
    first = prep.tables.indices.filter(pl.col("index") == code)["date"].min()
    raise CaseError(Problem(prep.tables.files["indices"], None,
                            f"index {code} has no close on or before a date the {method} method needs "
                            f"(its first close is {first}; the buy window starts {prep.case.implementation_date})"),
                    "Add earlier closes for the index, or choose another systemic-risk method.")


def output_columns(columns: list[str] | tuple[str, ...]) -> list[str]:
    """The output's columns: OUTPUT_COLUMNS, with ``statement`` after ``security`` when the table has it."""
    if STATEMENT_COLUMN not in columns:
        return OUTPUT_COLUMNS
    return OUTPUT_COLUMNS[:2] + [STATEMENT_COLUMN] + OUTPUT_COLUMNS[2:]


def text_columns(columns: list[str] | tuple[str, ...]) -> list[str]:
    """The columns written as the input gave them (made safe for spreadsheets in CSV)."""
    return TEXT_COLUMNS + ([STATEMENT_COLUMN] if STATEMENT_COLUMN in columns else [])


def write_results(table: pl.DataFrame, path: Path) -> None:
    """Write results: Parquet (Float64 money) or CSV (money with 2 decimals, prices with 4)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    if path.suffix.lower() == ".parquet":
        # Snappy, as the out-of-core merge's writer (PyArrow's default) and most Parquet readers expect: at
        # 1M trades it writes the results in half the time Polars' default (zstd) takes.
        table.write_parquet(tmp, compression="snappy")
    else:
        text_cols = [_fixed(c, 100, 2) for c in MONEY_COLUMNS] + [_fixed(c, PRICE_UNITS, 4) for c in PRICE_COLUMNS]
        text_cols += [_quantity(c) for c in QUANTITY_COLUMNS]
        text_cols += [safe_text_expr(pl.col(c)).alias(c) for c in text_columns(table.columns)]
        table.with_columns(text_cols).select(output_columns(table.columns)).write_csv(tmp)
    os.replace(tmp, path)


def _fixed(name: str, units: int, decimals: int) -> pl.Expr:
    v = (pl.col(name) * units).round(0).cast(pl.Int64)
    a = v.abs()
    return pl.format("{}{}.{}", pl.when(v < 0).then(pl.lit("-")).otherwise(pl.lit("")), a // units,
                     (a % units).cast(pl.String).str.zfill(decimals)).alias(name)


def _quantity(name: str) -> pl.Expr:
    c = pl.col(name)
    return pl.when(c == c.round(0)).then(c.cast(pl.Int64).cast(pl.String)).otherwise(
        c.round(6).cast(pl.String)).alias(name)


def compute_case_dir(case_dir: Path, *, skip_bad_rows: bool = False) -> pl.DataFrame:
    """The output table of ``redress compute`` for a case directory (used by tests and the API)."""
    from redress.engine.statements import compute_case_results

    prep = prepare(Path(case_dir), skip_bad_rows=skip_bad_rows, keep_trade_columns=False)
    return compute_case_results(prep).table
