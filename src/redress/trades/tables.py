"""Reading and validating the tables of a case directory (formats.md).

Every table may be CSV or Parquet.  Each row is checked; a bad row is reported with its file, line and
reason.  By default any bad row refuses the whole case; with ``skip_bad_rows`` the bad rows are set
aside (returned as ``rejected``) and the rest is used, so nothing is lost silently.

CSV lines are counted as in a text editor: the header is line 1, the first record line 2.  Parquet rows
are numbered from 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from redress.trades import parsers as P
from redress.errors import CaseError, Problem
from redress.law.plan import CaseConfig
from redress.market.calendar import exchange_of, sessions

LINE = "__line"
REASON = "__reason"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # text | code | date | time | seq | side | pos_int | nonneg_int | pos_num | nonneg_num
    required: bool = True  # the column must exist
    optional_value: bool = False  # an empty cell is allowed


TABLE_COLUMNS: dict[str, tuple[Column, ...]] = {
    "market": (Column("security", "code"), Column("date", "date"), Column("close", "pos_num"),
               Column("volume", "nonneg_num"), Column("tradable_shares", "pos_num")),
    "trades": (Column("investor_id", "code"), Column("security", "code"), Column("date", "date"),
               Column("time", "time", optional_value=True), Column("seq", "seq", optional_value=True),
               Column("side", "side"), Column("quantity", "pos_int"), Column("price", "pos_num")),
    "positions": (Column("investor_id", "code"), Column("security", "code"),
                  Column("quantity", "nonneg_int")),
    "indices": (Column("index", "code"), Column("date", "date"), Column("close", "pos_num")),
    "actions": (Column("security", "code"), Column("ex_date", "date"), Column("share_ratio", "pos_num"),
                Column("cash_dividend", "nonneg_num", required=False, optional_value=True)),
    "exclusions": (Column("investor_id", "code"), Column("reason", "text", required=False, optional_value=True)),
}
REQUIRED_TABLES = ("market", "trades")
_EXTRA = {"trades": ("account_id",), "positions": ("account_id",)}


@dataclass(frozen=True)
class CaseTables:
    """The validated tables, typed: dates as Date, times as seconds (-1 when empty), sides as is_buy."""

    market: pl.DataFrame
    trades: pl.DataFrame
    positions: pl.DataFrame
    indices: pl.DataFrame
    actions: pl.DataFrame
    exclusions: pl.DataFrame
    rejected: pl.DataFrame  # file, line, reason, row
    files: dict[str, str]  # table -> file name it was read from
    without_market: tuple[str, ...] = ()  # securities set aside (with --skip-bad-rows) for want of market data
    # each row's index in case.securities, for trades and positions (int32, aligned with their rows)
    security_codes: dict[str, np.ndarray] = field(default_factory=dict)


def table_path(case_dir: Path, name: str) -> Path | None:
    csv, parquet = case_dir / f"{name}.csv", case_dir / f"{name}.parquet"
    if csv.exists() and parquet.exists():
        raise CaseError(Problem(parquet.name, None, f"both {csv.name} and {parquet.name} exist; keep one"))
    if parquet.exists():
        return parquet
    if csv.exists():
        return csv
    return None


def _read_raw(path: Path, wanted: list[str], same: str | None = None) -> pl.DataFrame:
    """Read a table; CSV cells stay text for exact checking.

    Row i of the result is on line ``i + first_line(path)``, unless the slow CSV reader had to number the
    lines itself (a LINE column then gives each row's line).  ``same``: the security every row of a Parquet
    file names (``single_security``); that column is then not read but held once, as that code in every row.
    """
    if path.suffix == ".parquet":
        try:
            schema = pl.read_parquet_schema(path)
            cols = [c for c in wanted if c in schema]
            same = same if "security" in cols else None
            df = pl.read_parquet(path, columns=[c for c in cols if not (same and c == "security")])
        except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file
            raise CaseError(Problem(path.name, None, f"cannot read Parquet file: {exc}")) from None
        if same:
            df = df.select(pl.lit(same, pl.String).alias(c) if c == "security" else pl.col(c) for c in cols)
        return df
    names = csv_names(path)
    last = len(names) - 1
    try:
        df = pl.read_csv(path, infer_schema=False, new_columns=names, raise_if_empty=False,
                         columns=[i for i, c in enumerate(names) if c in wanted or i == last])
    except Exception:  # noqa: BLE001 - ragged lines or bad bytes: find the lines with the slow reader
        return _read_csv_slowly(path, names, wanted)
    if df.height and df[names[last]].null_count():
        # A short line reads as nulls at its end, like an empty last field: let the slow reader tell them apart.
        return _read_csv_slowly(path, names, wanted)
    if names[last] not in wanted:
        df = df.drop(names[last])
    return df


def single_security(path: Path, securities: tuple[str, ...]) -> str | None:
    """The security every row of a Parquet file names, when the file's own statistics prove it: in each row
    group the ``security`` column has no nulls and its smallest and largest values are the same listed code.
    A writer may cut long strings in statistics, but only past 64 bytes, and a cut maximum is raised above the
    minimum; a code of at most 32 bytes found as both is every row's value.  None when that is not shown."""
    if path.suffix != ".parquet":
        return None
    try:
        meta = pq.ParquetFile(path).metadata
    except Exception:  # noqa: BLE001 - a file that cannot be read is reported by the reader itself
        return None
    column = next((i for i in range(meta.num_columns) if meta.schema.column(i).path == "security"), None)
    if column is None:
        return None
    same = None
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        if group.num_rows == 0:
            continue
        stats = group.column(column).statistics
        if stats is None or not stats.has_min_max or not stats.has_null_count or stats.null_count != 0:
            return None
        low, high = stats.min, stats.max
        if not isinstance(low, str) or low != high or low not in securities or len(low.encode()) > 32:
            return None
        if same not in (None, low):
            return None
        same = low
    return same


def csv_names(path: Path) -> list[str]:
    """The column names of a CSV file's header line (a byte-order mark and spaces around names dropped)."""
    import csv

    line = b""
    with path.open("rb") as fh:  # only the header's own bytes: a bad byte further down is the rows' problem
        for part in fh:
            line += part
            if line.count(b'"') % 2 == 0:  # a quoted name may hold a line break
                break
    try:
        header = next(csv.reader([line.decode("utf-8")]), None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CaseError(Problem(path.name, 1, f"cannot read CSV header: {exc}")) from None
    if not header:
        raise CaseError(Problem(path.name, 1, "cannot read CSV header: the file is empty"))
    return [c.lstrip("\ufeff").strip() for c in header]


def first_line(path: Path) -> int:
    """The line (Parquet: the row number, from 1) of a table's first row: CSV has a header on line 1."""
    return 1 if path.suffix == ".parquet" else 2


def _read_csv_slowly(path: Path, names: list[str], wanted: list[str]) -> pl.DataFrame:
    """Line-by-line reader for CSV files the fast reader refuses; marks each malformed line."""
    import csv

    rows: dict[str, list] = {c: [] for c in names if c in wanted}
    lines: list[int] = []
    bad: list[str | None] = []
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            next(reader, None)
            for record in reader:
                lines.append(reader.line_num)
                if not record:
                    bad.append("empty line")
                elif len(record) != len(names):
                    bad.append(f"{len(record)} fields, the header has {len(names)}")
                else:
                    bad.append(None)
                for i, c in enumerate(names):
                    if c in rows:
                        rows[c].append(record[i] if i < len(record) else "")
    except UnicodeDecodeError as exc:
        raise CaseError(Problem(path.name, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")) from None
    df = pl.DataFrame({**rows, LINE: lines, "__malformed": bad},
                      schema={**{c: pl.String for c in rows}, LINE: pl.Int64, "__malformed": pl.String})
    return df


def _parse(col: Column, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(typed value, bad-row mask, reason text) for one column.

    The mask is cheap and computed for every row; the reason text is only built for the bad rows.
    """
    c = pl.col(col.name)
    is_text = dtype == pl.String
    num = c.str.strip_chars() if is_text else c
    empty = (c.is_null() | (c == "")) if is_text else c.is_null()
    shown = pl.format("'{}'", c.cast(pl.String).fill_null(""))
    missing = pl.lit(f"missing {col.name}")
    k = col.kind

    def reason(bad_text: pl.Expr) -> pl.Expr:
        if col.optional_value:
            return bad_text
        return pl.when(empty).then(missing).otherwise(bad_text)

    if k in ("text", "code"):
        return c.cast(pl.String), empty & pl.lit(not col.optional_value), missing
    if k == "date":
        if is_text:
            value = pl.when(c.str.len_bytes() == 10).then(c.str.strptime(pl.Date, "%Y-%m-%d", strict=False))
        else:
            value = c.cast(pl.Date, strict=False)
        return value, value.is_null(), reason(pl.format("{} is not a valid date (YYYY-MM-DD)", shown))
    if k == "side":
        byte = c.cast(pl.String).cast(pl.Binary).bin.reinterpret(dtype=pl.UInt8)  # null unless one byte long
        value = (byte == ord("B")) | (byte == ord("b"))
        return value, ~byte.is_in([ord(x) for x in "BSbs"]).fill_null(False), reason(
            pl.format("side {} must be B (buy) or S (sell)", shown))
    if k in ("seq", "pos_int", "nonneg_int"):
        if dtype.is_integer():
            value = c.cast(pl.Int64)
            if k == "seq":
                return value.fill_null(0), pl.lit(False), pl.format("seq {} must be an integer", shown)
        else:
            as_float = num.cast(pl.Float64, strict=False)
            integral = as_float.is_finite() & (as_float == as_float.floor()) & (as_float.abs() < 2**53)
            value = pl.when(integral).then(as_float.cast(pl.Int64))
        if k == "seq":
            value = pl.when(empty).then(pl.lit(0, pl.Int64)).otherwise(value)
            return value, value.is_null(), pl.format("seq {} must be an integer", shown)
        floor = 1 if k == "pos_int" else 0
        word = "a positive" if k == "pos_int" else "a non-negative"
        return value, (value.is_null() | (value < floor)).fill_null(True), reason(
            pl.format(f"{col.name} {{}} must be {word} integer", shown))
    if k in ("pos_num", "nonneg_num"):
        value = num.cast(pl.Float64, strict=False)
        ok = value.is_between(0.0, float("inf"), closed="none" if k == "pos_num" else "left")  # finite, > 0 or >= 0
        word = "a positive" if k == "pos_num" else "a non-negative"
        text = pl.format(f"{col.name} {{}} must be {word} number", shown)
        if col.optional_value:
            return pl.when(empty).then(pl.lit(0.0)).otherwise(value), (~empty & ~ok.fill_null(False)), text
        return value, ~ok.fill_null(False), reason(text)
    raise AssertionError(k)


def _parse_times(series: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Seconds of the day from HH:MM:SS text (-1 when empty) and a mask of malformed values.

    Eight-byte values are read as one 64-bit word each, straight from the column's string views where it
    is held as such (no per-row Python); anything else that is not empty (extra spaces, a wrong length)
    goes through a plain Python check.
    """
    if series.dtype == pl.Time:
        secs = (series.cast(pl.Int64) // 1_000_000_000).fill_null(-1).to_numpy().astype(np.int32)
        return secs, np.zeros(len(series), dtype=bool)
    read = _from_views(series, P.times_from_views, (np.int32, np.bool_, np.bool_))
    if read is None:
        return _times_by_words(series)
    secs, bad, odd = read
    for i in np.flatnonzero(odd):
        secs[i], bad[i] = _parse_time_text(series[int(i)])
    return secs, bad


def _times_by_words(series: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """``_parse_times`` for a column of any other type: each 8-byte value as a word through Polars."""
    text = pl.col("t")
    words = text.cast(pl.Binary).bin.reinterpret(dtype=pl.UInt64, endianness="little")  # null unless 8 bytes
    texts = series.cast(pl.String)
    parts = pl.DataFrame([texts.alias("t")]).select(
        words.fill_null(0).alias("w"), words.is_null().alias("missing"),
        (words.is_null() & (text.str.len_bytes() > 0)).fill_null(False).alias("odd"))
    secs, bad = P.parse_hms_words(parts["w"].to_numpy(), parts["missing"].to_numpy())
    odd = parts["odd"]
    if odd.any():
        for i in np.flatnonzero(odd.to_numpy()):
            secs[i], bad[i] = _parse_time_text(texts[int(i)])
    return secs, bad


def string_views(series: pl.Series) -> list[tuple[int, tuple[np.ndarray, np.ndarray, bool, int, int]]] | None:
    """The Arrow string views of a text column, chunk by chunk, without copying: (first row, (views as uint32,
    validity bitmap, whether it has one, offset, rows)).  None when the column is not held that way."""
    if series.dtype != pl.String:
        return None
    parts, start = [], 0
    for chunk in series.get_chunks():
        arr = chunk.to_arrow(compat_level=pl.CompatLevel.newest())
        if not isinstance(arr, pa.Array) or arr.type != pa.string_view():
            return None
        validity, views = arr.buffers()[:2]
        valid = np.frombuffer(validity, dtype=np.uint8) if validity is not None else np.zeros(1, np.uint8)
        parts.append((start, (np.frombuffer(views, dtype=np.uint32), valid, validity is not None, arr.offset,
                              len(arr))))
        start += len(arr)
    return parts


def _from_views(series: pl.Series, kernel, dtypes: tuple) -> tuple[np.ndarray, ...] | None:
    """A compiled reader of string views (``kernel(views, valid, has_valid, offset, *outputs)``) run over a text
    column chunk by chunk, into new arrays of ``dtypes``; None when the column is not held as string views."""
    views = string_views(series)
    if views is None:
        return None
    outputs = tuple(np.empty(len(series), dtype=t) for t in dtypes)
    for start, (buf, valid, has_valid, offset, n) in views:
        kernel(buf, valid, has_valid, offset, *(out[start:start + n] for out in outputs))
    return outputs


def _parse_sides(series: pl.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """is_buy and the bad-side mask of a text column held as string views (None otherwise: use the expressions)."""
    return _from_views(series, P.sides_from_views, (np.bool_, np.bool_))  # type: ignore[return-value]


def _chunked_like(values: pl.Series, like: pl.Series) -> pl.Series:
    """``values`` cut into the chunks of ``like`` (a Parquet file reads as one chunk per row group): a frame
    whose columns are chunked alike is never realigned, which would copy every string column."""
    if like.n_chunks() == 1:
        return values
    parts, start = [], 0
    for chunk in like.get_chunks():
        parts.append(values.slice(start, len(chunk)).rechunk())
        start += len(chunk)
    return pl.concat(parts, rechunk=False)


def _parse_time_text(value: str) -> tuple[int, bool]:
    v = value.strip()
    if not v:
        return -1, False
    parts = v.split(":")
    if len(v) == 8 and len(parts) == 3 and all(p.isdigit() and len(p) == 2 for p in parts):
        h, m, sec = (int(p) for p in parts)
        if h < 24 and m < 60 and sec < 60:
            return h * 3600 + m * 60 + sec, False
    return -1, True


@dataclass
class _Checked:
    """One table being checked: its typed rows, and the lines found bad so far with their reasons.

    Bad rows are few, so they are kept as line numbers and reason texts rather than as a column of the
    (possibly very large) table; the good rows are only filtered out at the end, and only when there are any.
    """

    frame: pl.DataFrame  # typed columns, plus LINE when row i is not on line i + first
    first: int  # line of row 0 when the frame has no LINE column
    raw: pl.DataFrame | None  # the rows as read, for the text of rejected rows
    bad_lines: list[np.ndarray] = field(default_factory=list)
    reasons: list[pl.Series] = field(default_factory=list)

    def lines(self, positions: np.ndarray) -> np.ndarray:
        if LINE in self.frame.columns:
            return self.frame[LINE].gather(positions).cast(pl.Int64).to_numpy()
        return positions.astype(np.int64) + self.first

    def numbered(self) -> None:
        """Give every row its line in a LINE column (before rows are filtered out of a small table)."""
        if LINE not in self.frame.columns:
            self.frame = self.frame.with_row_index(LINE, offset=self.first).with_columns(pl.col(LINE).cast(pl.Int64))

    def known_bad(self) -> np.ndarray:
        return np.concatenate(self.bad_lines) if self.bad_lines else np.zeros(0, np.int64)

    def reject(self, positions: np.ndarray, reasons: pl.Series) -> None:
        self.bad_lines.append(self.lines(positions))
        self.reasons.append(reasons.cast(pl.String).rename(REASON))

    def rejected(self) -> pl.DataFrame:
        return pl.DataFrame({LINE: self.known_bad(), REASON: pl.concat(self.reasons) if self.reasons else
                             pl.Series(REASON, [], pl.String)})

    def good_rows(self) -> np.ndarray | None:
        """Mask of the rows not rejected (None when every row is good)."""
        if not self.bad_lines:
            return None
        bad = self.known_bad()
        if LINE in self.frame.columns:
            return ~np.isin(self.frame[LINE].to_numpy(), bad)
        keep = np.ones(self.frame.height, dtype=bool)
        keep[bad - self.first] = False
        return keep

    def good(self, keep: np.ndarray | None) -> pl.DataFrame:
        """The rows not rejected; ``keep``: their mask, as ``good_rows`` gives it."""
        frame = self.frame if keep is None else self.frame.filter(pl.Series(keep))
        return frame.drop(LINE) if LINE in frame.columns else frame

    def raw_rows(self, table: str, lines: np.ndarray) -> pl.Series:
        """The rejected rows as read, comma-joined, in the order of ``lines``."""
        raw = self.raw
        names = [c.name for c in TABLE_COLUMNS[table] if c.name in raw.columns]
        if LINE in raw.columns:
            rows = raw.join(pl.DataFrame({LINE: lines}), on=LINE, how="right")
        else:
            rows = raw[lines - self.first]
        return rows.select(pl.concat_str([pl.col(n).cast(pl.String).fill_null("") for n in names], separator=",")
                           .alias("row")).to_series()


def _validate(df: pl.DataFrame, table: str, file: str, first: int) -> _Checked:
    """Typed columns, with the rows that fail a column's check rejected; missing columns are a file-level error.

    Every check is a cheap mask over the whole table, computed in one pass; reason texts are built only for
    the bad rows (the first failing check of a row gives its reason).
    """
    columns = TABLE_COLUMNS[table]
    absent = [c.name for c in columns if c.required and c.name not in df.columns]
    if absent:
        raise CaseError(Problem(file, 1, f"missing column(s) {', '.join(absent)}; "
                                         f"expected {', '.join(c.name for c in columns)}"))
    values: list[pl.Expr] = []
    masks: list[pl.Expr | np.ndarray] = []  # an expression over the table, or a mask computed outside Polars
    texts: list[pl.Expr] = []
    if "__malformed" in df.columns:
        masks.append(pl.col("__malformed").is_not_null())
        texts.append(pl.col("__malformed"))
    for col in columns:
        if col.name not in df.columns:
            values.append(pl.lit(None, pl.String).alias(col.name))
            continue
        if col.kind == "time":
            secs, time_bad = _parse_times(df[col.name])
            values.append(pl.lit(_chunked_like(pl.Series(col.name, secs), df[col.name])))
            masks.append(time_bad)
            texts.append(pl.format("time '{}' is not HH:MM:SS", pl.col(col.name).cast(pl.String)))
            continue
        value, bad, text = _parse(col, df.schema[col.name])
        sides = _parse_sides(df[col.name]) if col.kind == "side" else None
        if sides is not None:
            value, bad = pl.lit(_chunked_like(pl.Series(col.name, sides[0]), df[col.name])), sides[1]
        values.append(value.alias(col.name))
        masks.append(bad)
        texts.append(text)

    def as_expr(mask: pl.Expr | np.ndarray, rows: np.ndarray | None = None) -> pl.Expr:
        if isinstance(mask, np.ndarray):
            return pl.lit(pl.Series(mask if rows is None else mask[rows]))
        return mask

    keep = [LINE] if LINE in df.columns else []
    extras = [pl.col(c).cast(pl.String) for c in _EXTRA.get(table, ()) if c in df.columns]
    any_bad = pl.any_horizontal([as_expr(m) for m in masks]) if masks else pl.lit(False)
    parsed = df.select(*keep, *values, *extras, any_bad.fill_null(True).alias("__bad"))
    bad = parsed.drop_in_place("__bad")  # in place: each eager Polars call costs a query's overhead
    checked = _Checked(parsed, first, df)
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())
        reasons = df[rows].select(pl.coalesce([pl.when(as_expr(m, rows)).then(t) for m, t in zip(masks, texts,
                                                                                                 strict=True)]))
        checked.reject(rows, reasons.to_series())
    return checked


def _flag(checked: _Checked, mask: pl.Expr | pl.Series, reason: pl.Expr) -> None:
    """Reject the rows matching ``mask`` (and still good) with the reason ``reason``, built for those rows only."""
    frame = checked.frame
    if isinstance(mask, pl.Series):
        m = mask.fill_null(False) if mask.null_count() else mask
    else:
        m = frame.select(mask.fill_null(False)).to_series()
    if not m.any():
        return
    rows = np.flatnonzero(m.to_numpy())
    fresh = ~np.isin(checked.lines(rows), checked.known_bad())
    rows = rows[fresh]
    if rows.size:
        checked.reject(rows, frame[rows].select(reason).to_series())


def _closed_dates(df: pl.DataFrame, securities: list[str], codes: np.ndarray) -> pl.Series:
    """Mask of rows dated on a day the security's exchange was closed (within calendar coverage).  ``codes``:
    each row's security as ``security_codes`` gives it (rows of no listed security are not checked here)."""
    exchanges = [exchange_of(code) for code in securities]
    days = df["date"].cast(pl.Int32).fill_null(0).to_numpy()
    if len(set(exchanges)) == 1:
        closed = sessions(exchanges[0]).is_closed(days)
    else:
        closed = np.zeros(len(df), dtype=bool)
        for exchange in set(exchanges):
            mask = np.isin(codes, [k for k, e in enumerate(exchanges) if e == exchange])
            closed[mask] = sessions(exchange).is_closed(days[mask])
    return pl.Series("closed", closed) & df["date"].is_not_null()


def security_codes(series: pl.Series, securities: list[str] | tuple[str, ...]) -> np.ndarray:
    """Each row's index in ``securities`` (int32): -1 for a code not listed, -2 for a missing (null or empty) one.

    Read straight from the column's string views where it is held as such and every listed code is short
    enough to be held inline (12 bytes; exchange codes are 6); otherwise through Polars.
    """
    known = [code.encode("utf-8") for code in securities]
    if known and all(len(b) <= 12 for b in known):
        words = np.zeros((len(known), 4), dtype=np.uint32)
        for k, b in enumerate(known):
            words[k, 0] = len(b)
            words[k, 1:] = np.frombuffer(b.ljust(12, b"\0"), dtype=np.uint32)
        read = _from_views(series, lambda *a: P.codes_from_views(words, *a), (np.int32,))
        if read is not None:
            return read[0]
    text = series.cast(pl.String)
    mapping = {code: k for k, code in enumerate(securities)}
    codes = text.replace_strict(mapping, default=-1, return_dtype=pl.Int32)
    return pl.select(pl.when(text.is_null() | (text == "")).then(pl.lit(-2, pl.Int32)).otherwise(codes)
                     ).to_series().to_numpy().astype(np.int32)


def _duplicates(checked: _Checked, keys: list[str], what: str) -> None:
    good = ~pl.col(LINE).is_in(pl.Series(checked.known_bad()).implode())
    first = pl.col(LINE).filter(good).min().over(keys)
    _flag(checked, good & (pl.col(LINE) != first) & pl.all_horizontal([pl.col(k).is_not_null() for k in keys]),
          pl.format(f"duplicate {what} (first given on line {{}})", first))


def _concerns(column: str, codes: list[str]) -> pl.Expr:
    """Rows about the case's codes, and rows whose code is missing (those are bad rows, not someone else's)."""
    return pl.col(column).is_in(codes) | pl.col(column).is_null() | (pl.col(column) == "")


def _keep_rows(checked: _Checked, rows: pl.Expr) -> None:
    """Keep only some rows of a small table (numbering them first, so that their lines stay right)."""
    checked.numbered()
    checked.frame = checked.frame.filter(rows)


def read_case_tables(case_dir: Path, case: CaseConfig, *, skip_bad_rows: bool = False,
                     extra_index_codes: tuple[str, ...] = (), keep_accounts: bool = False) -> CaseTables:
    """Read and check every table.  ``keep_accounts`` also keeps the (unchecked) account_id columns."""
    case_dir = Path(case_dir)
    securities = list(case.securities)
    uses_index = case.plan.systemic_risk.uses_index
    index_codes = [code for code, _ in case.plan.systemic_risk.indices] if uses_index else []
    index_codes += [c for c in extra_index_codes if c not in index_codes]
    checks: dict[str, _Checked] = {}
    files: dict[str, str] = {}
    same: dict[str, str | None] = {}  # the one security of every row, where Parquet statistics show it
    for table, columns in TABLE_COLUMNS.items():
        path = table_path(case_dir, table)
        if path is None:
            if table in REQUIRED_TABLES:
                raise CaseError(Problem(f"{table}.csv", None, "file not found"),
                                f"A case directory needs {table}.csv or {table}.parquet (see formats.md).")
            files[table] = f"{table}.csv"
            empty = pl.DataFrame([pl.Series(c.name, [], pl.String) for c in columns])
            checks[table] = _validate(empty, table, files[table], 2)
            continue
        files[table] = path.name
        if table in ("trades", "positions"):
            same[table] = single_security(path, tuple(securities))
        raw = _read_raw(path, [c.name for c in columns] + list(_EXTRA.get(table, ()) if keep_accounts else ()),
                        same.get(table))
        checks[table] = _validate(raw, table, path.name, first_line(path))

    # Cross-row checks, table by table.
    market = checks["market"]
    _keep_rows(market, _concerns("security", securities))
    _duplicates(market, ["security", "date"], "market row for this security and date")
    trades = checks["trades"]
    codes = {table: np.full(checks[table].frame.height, securities.index(same[table]), np.int32)
             if same.get(table) else security_codes(checks[table].frame["security"], securities)
             for table in ("trades", "positions")}
    _flag(trades, pl.Series(codes["trades"] == -1),
          pl.format("unknown security '{}' (case.securities lists {})", pl.col("security"), pl.lit(", ".join(securities))))
    _flag(trades, _closed_dates(trades.frame, securities, codes["trades"]),
          pl.format("the exchange was closed on {}", pl.col("date").cast(pl.String)))
    _flag(checks["positions"], pl.Series(codes["positions"] == -1), pl.format("unknown security '{}'", pl.col("security")))
    # A security the case names but market.csv never mentions cannot be computed: its rows are bad rows.
    with_market = set(market.good(market.good_rows())["security"].unique().to_list())
    no_market = [s for s in securities if s not in with_market]
    if no_market:
        for table in ("trades", "positions"):
            _flag(checks[table], pl.Series(np.isin(codes[table], [securities.index(s) for s in no_market])),
                  pl.format(f"no market data for security {{}} in {files['market']}", pl.col("security")))
    _keep_rows(checks["indices"], _concerns("index", index_codes))
    _duplicates(checks["indices"], ["index", "date"], "close for this index and date")
    _keep_rows(checks["actions"], _concerns("security", securities))
    _duplicates(checks["actions"], ["security", "ex_date"], "action for this security and ex-date")

    parts = []
    for table, checked in checks.items():
        bad = checked.rejected()
        if bad.height:
            parts.append(pl.DataFrame({"file": [files[table]] * bad.height, "line": bad[LINE], "reason": bad[REASON],
                                       "row": checked.raw_rows(table, bad[LINE].to_numpy())}))
    rejected = pl.concat(parts).sort("file", "line") if parts else pl.DataFrame(
        schema={"file": pl.String, "line": pl.Int64, "reason": pl.String, "row": pl.String})
    if rejected.height and not skip_bad_rows:
        problems = [Problem(r["file"], r["line"], r["reason"]) for r in rejected.head(50).iter_rows(named=True)]
        err = CaseError(problems, f"{rejected.height} bad row(s): nothing was written. Fix the rows, or run with "
                                  f"--skip-bad-rows to compute the rest and list these rows in rejected.csv.")
        err.problems_total = rejected.height  # type: ignore[attr-defined]
        raise err
    kept = {table: checked.good_rows() for table, checked in checks.items()}
    clean = {table: checked.good(kept[table]) for table, checked in checks.items()}

    problems = []
    if not skip_bad_rows and no_market:
        traded = set(trades.frame["security"].unique().to_list()) | set(
            checks["positions"].frame["security"].unique().to_list())
        problems += [Problem(files["market"], None, f"no market data for security {s}")
                     for s in no_market if s not in traded]
    for code in index_codes:
        if clean["indices"].filter(pl.col("index") == code).height == 0:
            problems.append(Problem(files["indices"], None, f"no closes for index {code} "
                                                            f"(named in plan.systemic_risk.indices)"))
    if problems:
        raise CaseError(problems)
    codes = {table: c if kept[table] is None else c[kept[table]] for table, c in codes.items()}
    return CaseTables(clean["market"], clean["trades"], clean["positions"], clean["indices"], clean["actions"],
                      clean["exclusions"], rejected, files, tuple(no_market), codes)
