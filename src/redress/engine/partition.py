"""Out-of-core computation: a case split by investor into partitions, each computed as a case of its own.

The engine's kernel needs every trade of one investor at once, and nothing of any other investor: a case
split by a hash of the investor id is a set of independent cases.  ``split_case`` streams the trades (and
opening positions) in batches into one Parquet file per partition, never holding the whole table; each
partition is a case directory of its own (the same case.toml and market, index, action and exclusion
tables, that partition's trades and positions), computed by the same ``prepare``/``compute``.  The results
are merged in the in-memory path's order (investor id, then the security's place in case.securities), so
the output is the same file, byte for byte for CSV.

What does not depend on the trades is the same in every partition: base dates and base prices come from
market.csv, actions.csv and case.toml only (``redress.market.base_date.compute_base_dates``), ex-rights
factors from actions.csv, index closes from indices.csv.  Every check of a trade or position row depends on
that row and those tables only, so a partition rejects exactly the rows the whole case would; the rejected
rows are numbered back to their file and line in the original case (each partition's trades keep a
``__line`` column, which the table reader ignores as an extra column).
"""

from __future__ import annotations

import csv
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from redress.engine.pipeline import (MONEY_COLUMNS, PRICE_COLUMNS, QUANTITY_COLUMNS, STATEMENT_COLUMN, _fixed,
                                     _quantity, output_columns, prepare, text_columns)
from redress.engine.statements import compute_case_results, security_order
from redress.engine.summary import BANDS, STATUS_LABELS, Summary
from redress.errors import CaseError, Problem
from redress.exports import safe_text_expr
from redress.law.plan import load_case
from redress.rounding import PRICE_UNITS
from redress.trades.tables import TABLE_COLUMNS, csv_names, first_line, table_path

LINE = "__line"
PART_PREFIX = "part-"
SMALL_TABLES = ("market", "indices", "actions", "exclusions")
SPLIT_TABLES = ("trades", "positions")
REJECTED_SCHEMA = {"file": pl.String, "line": pl.Int64, "reason": pl.String, "row": pl.String}

# Sizing (measured with redress.synth cases, see docs/operations.md): the engine holds about this many bytes
# per trade while preparing and computing one partition, on top of a fixed runtime (interpreter, Polars,
# Numba kernels).  A partition gets the memory setting less the runtime.
BYTES_PER_TRADE = 400
RUNTIME_BYTES = 448 * 2**20
MAX_PARTITIONS = 1024
BATCH_ROWS = 100_000  # trade rows read at a time while splitting
MERGE_ROWS = 500_000  # result rows held at a time by the merge, over all partitions

_UNITS = {"": 1, "B": 1, "K": 2**10, "KB": 2**10, "KIB": 2**10, "M": 2**20, "MB": 2**20, "MIB": 2**20,
          "G": 2**30, "GB": 2**30, "GIB": 2**30, "T": 2**40, "TB": 2**40, "TIB": 2**40}


def parse_memory(text: str) -> int:
    """Bytes from a size such as ``4GB``, ``512MB``, ``1.5G`` or ``800000000`` (binary units)."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([A-Za-z]*)\s*", text)
    if not m or m.group(2).upper() not in _UNITS:
        raise ValueError(f"not a memory size: {text!r} (use e.g. 4GB, 512MB)")
    size = int(float(m.group(1)) * _UNITS[m.group(2).upper()])
    if size <= 0:
        raise ValueError(f"not a memory size: {text!r} (must be positive)")
    return size


def estimate_trades(case_dir: Path) -> int:
    """Number of trade and position rows, exact for Parquet, estimated from a sample of lines for CSV."""
    total = 0
    for table in SPLIT_TABLES:
        path = table_path(case_dir, table)
        if path is None:
            continue
        if path.suffix == ".parquet":
            total += pq.ParquetFile(path).metadata.num_rows
            continue
        size = path.stat().st_size
        with path.open("rb") as fh:
            sample = fh.read(1 << 20)
        lines = max(sample.count(b"\n"), 1)
        total += int(size / (len(sample) / lines)) if sample else 0
    return total


def batch_rows_for(memory_bytes: int | None) -> int:
    """Rows read at a time while splitting: a batch of text cells takes a few hundred bytes a row."""
    if not memory_bytes:
        return BATCH_ROWS
    return int(min(BATCH_ROWS, max(10_000, memory_bytes // 5000)))


def merge_rows_for(memory_bytes: int | None) -> int:
    """Result rows the merge holds at a time: about a kilobyte each while they are filtered and sorted."""
    if not memory_bytes:
        return MERGE_ROWS
    return int(min(MERGE_ROWS, max(20_000, (memory_bytes - RUNTIME_BYTES) // 1000)))


def partition_count(case_dir: Path, memory_bytes: int) -> int:
    """Partitions needed so that one partition's working set fits the memory setting (at least 1)."""
    budget = max(memory_bytes - RUNTIME_BYTES, memory_bytes // 8, 1)
    need = estimate_trades(case_dir) * BYTES_PER_TRADE
    return int(min(MAX_PARTITIONS, max(1, math.ceil(need / budget))))


# --------------------------------------------------------------------------------------------------------
# Splitting
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """A case split into partition directories (only those holding trades or positions)."""

    case_dir: Path
    work_dir: Path
    n_partitions: int
    parts: tuple[Path, ...]
    files: dict[str, str]  # trades / positions -> the original file name
    malformed: pl.DataFrame  # rows the CSV reader could not split into fields (file, line, reason, row)
    traded: frozenset[str] = field(default_factory=frozenset)


class _Writers:
    """One Parquet writer per partition, opened on first use.  Rows are held per partition until
    ``flush_rows`` have gathered, so that a partition file has few, large row groups: a writer keeps every
    row group's metadata in memory until it is closed, which with small groups grows with the case."""

    def __init__(self, work_dir: Path, table: str, flush_rows: int = 65_536) -> None:
        self.work_dir, self.table, self.flush_rows = work_dir, table, flush_rows
        self.writers: dict[int, pq.ParquetWriter] = {}
        self.pending: dict[int, list[pa.Table]] = {}
        self.pending_rows: dict[int, int] = {}
        self.schema: pa.Schema | None = None

    def path(self, p: int) -> Path:
        return self.work_dir / f"{PART_PREFIX}{p:05d}" / f"{self.table}.parquet"

    def write(self, frame: pl.DataFrame, n_partitions: int) -> None:
        if frame.height == 0:
            return
        key = frame["investor_id"].cast(pl.String).hash(seed=0x5CA1E) % n_partitions
        frame = frame.with_columns(pl.Series("__part", key))
        for (p,), part in frame.partition_by("__part", maintain_order=True, as_dict=True).items():
            table = part.drop("__part").to_arrow()
            if self.schema is None:
                self.schema = table.schema
            self.pending.setdefault(p, []).append(table.cast(self.schema))
            self.pending_rows[p] = self.pending_rows.get(p, 0) + table.num_rows
            if self.pending_rows[p] >= self.flush_rows:
                self._flush(p)

    def _flush(self, p: int) -> None:
        tables = self.pending.pop(p, [])
        self.pending_rows.pop(p, None)
        if not tables:
            return
        if p not in self.writers:
            self.path(p).parent.mkdir(parents=True, exist_ok=True)
            self.writers[p] = pq.ParquetWriter(self.path(p), self.schema)
        self.writers[p].write_table(pa.concat_tables(tables))

    def close(self) -> set[int]:
        for p in list(self.pending):
            self._flush(p)
        for w in self.writers.values():
            w.close()
        return set(self.writers)

    def discard(self) -> None:
        for p, w in self.writers.items():
            w.close()
            self.path(p).unlink(missing_ok=True)
        self.writers, self.schema, self.pending, self.pending_rows = {}, None, {}, {}


class _Ragged(Exception):
    """The fast CSV reader cannot be trusted with this file (as in ``tables._read_raw``)."""


def _batches_fast(path: Path, wanted: list[str], batch_rows: int) -> Iterator[pl.DataFrame]:
    """Batches of a table with a LINE column, as ``tables._read_raw`` would read it (CSV cells as text).

    Pull-based (nothing is read ahead of the consumer): Parquet by row groups' batches, CSV by blocks of
    whole lines, each parsed by the same Polars reader as the whole file would be.
    """
    offset = first_line(path)
    if path.suffix == ".parquet":
        pf = pq.ParquetFile(path, pre_buffer=False)   # a pre-buffering reader keeps every chunk it read
        cols = [c for c in wanted if c in pf.schema_arrow.names]
        for record_batch in pf.iter_batches(batch_size=batch_rows, columns=cols):
            batch = pl.from_arrow(pa.Table.from_batches([record_batch]))
            yield batch.with_columns(pl.int_range(offset, offset + batch.height, dtype=pl.Int64).alias(LINE))
            offset += batch.height
        return
    names = csv_names(path)
    last = len(names) - 1
    columns = [i for i, c in enumerate(names) if c in wanted or i == last]
    for block in _line_blocks(path, batch_rows):
        try:
            batch = pl.read_csv(block, has_header=False, infer_schema=False, new_columns=names, columns=columns,
                                raise_if_empty=False)
        except Exception:  # noqa: BLE001 - ragged lines or bad bytes: as the in-memory reader, go line by line
            raise _Ragged from None
        if batch.height and batch[names[last]].null_count():
            raise _Ragged
        if names[last] not in wanted:
            batch = batch.drop(names[last])
        yield batch.with_columns(pl.int_range(offset, offset + batch.height, dtype=pl.Int64).alias(LINE))
        offset += batch.height


def _line_blocks(path: Path, batch_rows: int) -> Iterator[bytes]:
    """The CSV file after its header in blocks of whole records (about ``batch_rows`` lines each): a block
    ends at a newline outside quotes (an even number of quote characters before it)."""
    with path.open("rb") as fh:
        fh.readline()  # the header
        sample = fh.read(1 << 16)
        line_bytes = max(len(sample) / max(sample.count(b"\n"), 1), 16.0)
        fh.seek(0)
        fh.readline()
        block_bytes = int(min(max(batch_rows * line_bytes, 1 << 16), 1 << 30))
        carry = b""
        while True:
            chunk = fh.read(block_bytes)
            if not chunk:
                break
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            while cut and data.count(b'"', 0, cut) % 2:  # inside a quoted field: cut at an earlier newline
                cut = data.rfind(b"\n", 0, cut - 1) + 1
            if not cut:
                carry = data
                continue
            yield data[:cut]
            carry = data[cut:]
        if carry.strip():
            yield carry


def _batches_slow(path: Path, wanted: list[str], batch_rows: int, malformed: list[dict]) -> Iterator[pl.DataFrame]:
    """Line by line, as ``tables._read_csv_slowly``: malformed lines go to ``malformed``, the rest in batches."""
    names = csv_names(path)
    cols = [c for c in names if c in wanted]
    order = [c.name for c in TABLE_COLUMNS[path.stem] if c.name in cols]
    rows: dict[str, list] = {c: [] for c in cols}
    lines: list[int] = []

    def flush() -> pl.DataFrame:
        frame = pl.DataFrame({**rows, LINE: lines}, schema={**{c: pl.String for c in cols}, LINE: pl.Int64})
        for v in rows.values():
            v.clear()
        lines.clear()
        return frame

    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            next(reader, None)
            for record in reader:
                bad = None
                if not record:
                    bad = "empty line"
                elif len(record) != len(names):
                    bad = f"{len(record)} fields, the header has {len(names)}"
                if bad:
                    values = {c: record[i] if i < len(record) else "" for i, c in enumerate(names) if c in rows}
                    malformed.append({"file": path.name, "line": reader.line_num, "reason": bad,
                                      "row": ",".join(values[c] for c in order)})
                    continue
                lines.append(reader.line_num)
                for i, c in enumerate(names):
                    if c in rows:
                        rows[c].append(record[i])
                if len(lines) >= batch_rows:
                    yield flush()
    except UnicodeDecodeError as exc:
        raise CaseError(Problem(path.name, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")) from None
    if lines:
        yield flush()


def split_case(case_dir: Path, work_dir: Path, n_partitions: int, *, batch_rows: int = BATCH_ROWS) -> Split:
    """Stream the trades and positions of a case into ``n_partitions`` partition directories by investor."""
    case_dir, work_dir = Path(case_dir), Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    malformed: list[dict] = []
    used: set[int] = set()
    traded: set[str] = set()
    for table in SPLIT_TABLES:
        path = table_path(case_dir, table)
        if path is None:
            if table == "trades":
                raise CaseError(Problem("trades.csv", None, "file not found"),
                                "A case directory needs trades.csv or trades.parquet (see formats.md).")
            continue
        files[table] = path.name
        wanted = [c.name for c in TABLE_COLUMNS[table]]
        # rows held for the writers: at most about 16 read batches in all, whatever the partition count
        writers = _Writers(work_dir, table, max(4_096, 16 * batch_rows // max(n_partitions, 1)))
        try:
            for batch in _batches_fast(path, wanted, batch_rows):
                if "security" in batch.columns:
                    traded.update(s for s in batch["security"].cast(pl.String).unique().to_list() if s)
                writers.write(batch, n_partitions)
        except _Ragged:
            writers.discard()
            for batch in _batches_slow(path, wanted, batch_rows, malformed):
                if "security" in batch.columns:
                    traded.update(s for s in batch["security"].unique().to_list() if s)
                writers.write(batch, n_partitions)
        except BaseException:
            writers.discard()
            raise
        used |= writers.close()
        if table == "trades":
            trades_schema = writers.schema
    parts = []
    for p in sorted(used):
        part = work_dir / f"{PART_PREFIX}{p:05d}"
        if not (part / "trades.parquet").exists():  # opening positions only: an empty trades table
            schema = trades_schema or pa.schema([(c.name, pa.string()) for c in TABLE_COLUMNS["trades"]]
                                                + [(LINE, pa.int64())])
            pq.write_table(schema.empty_table(), part / "trades.parquet")
        shutil.copy2(case_dir / "case.toml", part / "case.toml")
        for table in SMALL_TABLES:
            src = table_path(case_dir, table)
            if src is not None:
                shutil.copy2(src, part / src.name)
        parts.append(part)
    frame = pl.DataFrame(malformed, schema=REJECTED_SCHEMA) if malformed else pl.DataFrame(schema=REJECTED_SCHEMA)
    return Split(case_dir, work_dir, n_partitions, tuple(parts), files, frame, frozenset(traded))


# --------------------------------------------------------------------------------------------------------
# One partition
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartitionTask:
    """Compute one partition directory into ``results/<name>.parquet`` (and its rejected rows)."""

    part_dir: Path
    files: dict[str, str]  # trades / positions -> original file name
    base: dict | None = None  # the securities' base dates and prices, computed once and sent to every task

    @property
    def name(self) -> str:
        return self.part_dir.name

    def result_path(self) -> Path:
        return self.part_dir.parent / "results" / f"{self.name}.parquet"

    def rejected_path(self) -> Path:
        return self.part_dir.parent / "results" / f"{self.name}.rejected.parquet"


@dataclass(frozen=True)
class PartitionOutcome:
    """What a partition task returns to the driver (small, picklable).  A partition the engine refuses returns
    its problems (``refused``) instead of raising: a CaseError does not survive pickling between processes,
    and retrying a refusal would only refuse again."""

    name: str
    n_trades: int = 0
    base: dict = field(default_factory=dict)
    without_market: tuple[str, ...] = ()
    market_file: str = "market.csv"
    refused: tuple[tuple[Problem, ...], str | None, int] | None = None

    def raise_refusal(self) -> None:
        if self.refused is not None:
            problems, hint, total = self.refused
            exc = CaseError(list(problems), hint)
            if total != len(problems):
                exc.problems_total = total  # type: ignore[attr-defined]
            raise exc


RESULT_ROW_GROUP = 8_192


def _atomic_parquet(frame: pl.DataFrame, path: Path) -> None:
    """Write under a unique temporary name, then rename: a reader sees the whole file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        # small row groups: the merge reads every partition's file at once, a row group at a time
        frame.write_parquet(tmp, row_group_size=RESULT_ROW_GROUP)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_partition(task: PartitionTask) -> PartitionOutcome:
    """The task a worker runs: idempotent (the same partition always gives the same files)."""
    try:
        prep = prepare(task.part_dir, skip_bad_rows=True, keep_trade_columns=False, base=task.base)
        result = compute_case_results(prep)
    except CaseError as exc:
        return PartitionOutcome(task.name, refused=(tuple(exc.problems), exc.hint,
                                                    getattr(exc, "problems_total", len(exc.problems))))
    rejected = _renumbered(prep.tables.rejected, task)
    securities = security_order(prep.case) if prep.case.has_statements else prep.case.securities
    table = result.table.with_columns(pl.Series("__sec", _sec_rank(result.table["security"], securities)))
    if STATEMENT_COLUMN in table.columns:
        ranks = {s.id: i for i, s in enumerate(prep.case.statements)}
        table = table.with_columns(pl.col(STATEMENT_COLUMN).replace_strict(ranks, return_dtype=pl.Int32)
                                   .alias("__stmt"))
    _atomic_parquet(rejected, task.rejected_path())
    _atomic_parquet(table, task.result_path())  # last: its presence marks the partition done
    # base dates: by statement id for a case with several statements (what ``prepare`` takes as ``base``)
    base = prep.statement_bases if prep.statement_bases is not None else prep.base
    return PartitionOutcome(task.name, prep.n_trades, base, prep.tables.without_market,
                            prep.tables.files["market"])


def _sec_rank(security: pl.Series, securities: Sequence[str]) -> pl.Series:
    return security.replace_strict({s: i for i, s in enumerate(securities)}, return_dtype=pl.Int32)


def _renumbered(rejected: pl.DataFrame, task: PartitionTask) -> pl.DataFrame:
    """A partition's rejected rows, with the trades and positions rows given their original file and line."""
    parts = []
    for table in SPLIT_TABLES:
        name = f"{table}.parquet"
        mine = rejected.filter(pl.col("file") == name)
        if mine.height:
            lines = pl.read_parquet(task.part_dir / name, columns=[LINE])[LINE]
            mine = mine.with_columns(pl.lit(task.files[table]).alias("file"),
                                     lines.gather(mine["line"] - 1).alias("line"))
        parts.append(mine)
    others = rejected.filter(~pl.col("file").is_in([f"{t}.parquet" for t in SPLIT_TABLES]))
    return pl.concat(parts + [others.with_columns(pl.lit(True).alias("__shared"))], how="diagonal").with_columns(
        pl.col("__shared").fill_null(False)).select(*REJECTED_SCHEMA, "__shared")


# --------------------------------------------------------------------------------------------------------
# Running the partitions, merging
# --------------------------------------------------------------------------------------------------------

Runner = Callable[[Callable[[PartitionTask], PartitionOutcome], list[PartitionTask]], list[PartitionOutcome]]
Progress = Callable[[str], None]


def run_here(fn: Callable[[PartitionTask], PartitionOutcome], tasks: list[PartitionTask],
             progress: Progress = lambda _m: None) -> list[PartitionOutcome]:
    """The partitions one after another in this process."""
    outcomes = []
    for i, task in enumerate(tasks, 1):
        progress(f"partition {i} of {len(tasks)}")
        outcomes.append(fn(task))
    return outcomes


@dataclass(frozen=True)
class OutOfCoreResult:
    """What ``redress compute`` reports about an out-of-core run (the results themselves are in the file)."""

    out_path: Path
    case: object
    base: dict
    n_trades: int
    rejected: pl.DataFrame
    summary: Summary
    n_partitions: int


def compute_out_of_core(case_dir: Path, out_path: Path, *, n_partitions: int, skip_bad_rows: bool = False,
                        work_dir: Path | None = None, runner: Runner | None = None,
                        task_fn: Callable[[PartitionTask], PartitionOutcome] = run_partition,
                        progress: Progress = lambda _m: None, keep_work: bool = False,
                        batch_rows: int = BATCH_ROWS, merge_rows: int = MERGE_ROWS) -> OutOfCoreResult:
    """Split, compute every partition (here, or with ``runner`` on a cluster), merge into ``out_path``."""
    case_dir, out_path = Path(case_dir), Path(out_path)
    case = load_case(case_dir)  # a bad case.toml is refused before anything is split
    parent = Path(work_dir) if work_dir else out_path.parent
    parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".redress-work-", dir=parent))
    try:
        progress(f"splitting the trades into {n_partitions} partitions")
        split = split_case(case_dir, work, n_partitions, batch_rows=batch_rows)
        if not split.parts:  # no trades at all: nothing to split
            prep = prepare(case_dir, skip_bad_rows=skip_bad_rows, keep_trade_columns=False, case=case)
            result = compute_case_results(prep)
            result.write(out_path)
            from redress.engine.summary import summarize
            base = prep.statement_bases if prep.statement_bases is not None else prep.base
            return OutOfCoreResult(out_path, case, base, prep.n_trades, prep.tables.rejected,
                                   summarize(result.table, result.compensation_fen), n_partitions)
        # the first partition computes the per-security data (base dates and prices, from the market tables
        # only); every other task receives it instead of computing it again
        head = PartitionTask(split.parts[0], split.files)
        outcomes = run_here(task_fn, [head], progress) if runner is None else runner(task_fn, [head])
        outcomes[0].raise_refusal()
        tasks = [head] + [PartitionTask(p, split.files, outcomes[0].base) for p in split.parts[1:]]
        if len(tasks) > 1:
            if runner is None:
                outcomes += run_here(task_fn, tasks[1:], progress)
            else:
                progress(f"computing {len(tasks) - 1} more partitions on the cluster")
                outcomes += runner(task_fn, tasks[1:])
        for outcome in outcomes:  # a problem of the whole case (bad market data, ...): every partition has it
            outcome.raise_refusal()
        progress("merging the partitions")
        results, rejected = _collect(tasks)
        rejected = _merged_rejected(split, rejected)
        first = outcomes[0]
        _check_refusal(rejected, skip_bad_rows, first, split)
        _merge(results, out_path, merge_rows)
        summary = summarize_files(results)
        return OutOfCoreResult(out_path, case, first.base, sum(o.n_trades for o in outcomes), rejected, summary,
                               n_partitions)
    finally:
        if not keep_work:
            shutil.rmtree(work, ignore_errors=True)


def _collect(tasks: list[PartitionTask]) -> tuple[list[Path], list[Path]]:
    """Exactly one result file per partition: a partition missing its file is an error, never skipped."""
    missing = [t.name for t in tasks if not (t.result_path().exists() and t.rejected_path().exists())]
    if missing:
        raise RuntimeError(f"partition results missing for {', '.join(missing)}")
    return [t.result_path() for t in tasks], [t.rejected_path() for t in tasks]


def _merged_rejected(split: Split, files: list[Path]) -> pl.DataFrame:
    """Every partition's own rejected rows, the shared tables' rejected rows once, in (file, line) order."""
    frames = [pl.read_parquet(f) for f in files]
    own = [f.filter(~pl.col("__shared")).drop("__shared") for f in frames]
    shared = frames[0].filter(pl.col("__shared")).drop("__shared")
    return pl.concat([split.malformed, shared, *own]).sort("file", "line")


def _check_refusal(rejected: pl.DataFrame, skip_bad_rows: bool, first: PartitionOutcome, split: Split) -> None:
    """Without --skip-bad-rows, refuse the case as ``read_case_tables`` would."""
    if skip_bad_rows:
        return
    if rejected.height:
        problems = [Problem(r["file"], r["line"], r["reason"]) for r in rejected.head(50).iter_rows(named=True)]
        err = CaseError(problems, f"{rejected.height} bad row(s): nothing was written. Fix the rows, or run with "
                                  f"--skip-bad-rows to compute the rest and list these rows in rejected.csv.")
        err.problems_total = rejected.height  # type: ignore[attr-defined]
        raise err
    untraded = [s for s in first.without_market if s not in split.traded]
    if untraded:
        raise CaseError([Problem(first.market_file, None, f"no market data for security {s}") for s in untraded])


def _merge(results: list[Path], out_path: Path, buffer_rows: int = MERGE_ROWS) -> None:
    """The partitions' results merged into one file in the in-memory order, holding a bounded number of rows.

    Each partition's results are sorted by (investor id, security rank) and the partitions' investors are
    disjoint.  Every round reads the next batch of each partition whose buffer ran out, writes every buffered
    row up to the smallest of the buffers' last keys (sorted: all rows up to that key are buffered by then)
    and keeps the rest; at least one buffer empties each round.
    """
    per_part = max(1, buffer_rows // max(len(results), 1))
    sources = [pq.ParquetFile(f).iter_batches(batch_size=per_part) for f in results]
    empty = pl.from_arrow(pq.read_schema(results[0]).empty_table())
    buffers: list[pl.DataFrame | None] = [empty] * len(results)  # None: that partition is exhausted
    keys = ["investor_id", "__sec"] + (["__stmt"] if "__stmt" in empty.columns else [])
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".partial")
    sink = _Sink(tmp, out_path.suffix.lower() == ".parquet")
    try:
        while True:
            for i, buf in enumerate(buffers):
                if buf is not None and buf.height == 0:
                    batch = next(sources[i], None)
                    buffers[i] = None if batch is None else pl.from_arrow(pa.Table.from_batches([batch]))
            live = [b for b in buffers if b is not None and b.height]
            if not live:
                break
            # a buffer's unread rows all come after its last row: nothing unread is at or before the smallest
            tid, tsec = min(b.select("investor_id", "__sec").row(-1) for b in live)
            upto = (pl.col("investor_id") < tid) | ((pl.col("investor_id") == tid) & (pl.col("__sec") <= tsec))
            sink.write(pl.concat([b.filter(upto) for b in live]).sort(keys))
            buffers = [None if b is None else b.filter(~upto) for b in buffers]
        sink.close(empty)
    except BaseException:
        sink.abort()
        raise
    os.replace(tmp, out_path)


class _Sink:
    """Appends sorted result rows to the output, formatted as ``pipeline.write_results`` does."""

    def __init__(self, path: Path, parquet: bool) -> None:
        self.path, self.parquet = path, parquet
        self.fh = None if parquet else path.open("wb")
        self.writer: pq.ParquetWriter | None = None
        self.header = True

    def write(self, rows: pl.DataFrame) -> None:
        columns = output_columns(rows.columns)
        rows = rows.select(columns)
        if self.parquet:
            table = rows.to_arrow()
            if self.writer is None:
                self.writer = pq.ParquetWriter(self.path, table.schema)
            self.writer.write_table(table.cast(self.writer.schema))
            return
        text_cols = [_fixed(c, 100, 2) for c in MONEY_COLUMNS] + [_fixed(c, PRICE_UNITS, 4) for c in PRICE_COLUMNS]
        text_cols += [_quantity(c) for c in QUANTITY_COLUMNS]
        text_cols += [safe_text_expr(pl.col(c)).alias(c) for c in text_columns(columns)]
        rows.with_columns(text_cols).select(columns).write_csv(self.fh, include_header=self.header)
        self.header = False

    def close(self, empty: pl.DataFrame) -> None:
        if self.header or (self.parquet and self.writer is None):
            self.write(empty)  # no rows at all: the header (the schema) only
        if self.writer is not None:
            self.writer.close()
        if self.fh is not None:
            self.fh.close()

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.fh is not None:
            self.fh.close()
        self.path.unlink(missing_ok=True)


def summarize_files(paths: list[Path]) -> Summary:
    """``summary.summarize`` of the partitions' results, one partition at a time: the partitions' investors
    are disjoint, so counts, sums, bands and investors add up."""
    rows = investors = total = eligible = 0
    by_status = {status: [0, 0] for status in STATUS_LABELS}
    bands = [[0, 0] for _ in BANDS]
    flags = {f: 0 for f in ("oversold", "base_date_truncated")}
    for path in paths:
        df = pl.read_parquet(path, columns=["investor_id", "status", "flags", "compensation"]).select(
            "investor_id", "status", pl.col("flags").fill_null(""),
            (pl.col("compensation") * 100).round(0).cast(pl.Int64).alias("fen"))
        rows += df.height
        investors += df["investor_id"].n_unique()
        total += int(df["fen"].sum() or 0)
        for status, acc in by_status.items():
            part = df.filter(pl.col("status") == status)
            acc[0] += part.height
            acc[1] += int(part["fen"].sum() or 0)
        per_investor = df.filter(pl.col("status") == "eligible").group_by("investor_id").agg(pl.col("fen").sum())
        eligible += per_investor.height
        fen = per_investor["fen"].to_numpy()
        lower = 0.0
        for acc, (upper, _label) in zip(bands, BANDS, strict=True):
            mask = (fen / 100 >= lower) & (fen / 100 < upper)
            acc[0] += int(mask.sum())
            acc[1] += int(fen[mask].sum())
            lower = upper
        for f in flags:
            flags[f] += int(df["flags"].str.contains(f).sum())
    return Summary(rows, investors,
                   [{"status": s, "label": STATUS_LABELS[s], "rows": n, "compensation_fen": c}
                    for s, (n, c) in by_status.items()],
                   [{"label": label, "investors": n, "compensation_fen": c}
                    for (n, c), (_u, label) in zip(bands, BANDS, strict=True)],
                   total, eligible, flags)


__all__ = ["compute_out_of_core", "parse_memory", "partition_count", "run_partition", "split_case",
           "summarize_files", "PartitionTask", "PartitionOutcome", "OutOfCoreResult"]
