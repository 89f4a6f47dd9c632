"""The ``redress`` command line."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from redress.cli import admin as admin_cli
from redress.cli import fairfund_cli
from redress.cli import access_cli, help_cli, ipf_cli, notify_cli, recovery_cli
from redress.cli import tools as tools_cli
from redress.errors import CaseError

app = typer.Typer(
    name="redress",
    help="Redress: exact, explainable compensation for investors harmed by false statements.\n\n"
         "Redress 证券虚假陈述投资者损失计算与先行赔付。",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
law_app = typer.Typer(help="Dated legal parameters (stamp duty, deposit rates) / 法定参数", no_args_is_help=True)
app.add_typer(law_app, name="law")
admin_cli.register(app)
tools_cli.register(app)
fairfund_cli.register(app)
recovery_cli.register(app)
access_cli.register(app)
notify_cli.register(app)
help_cli.register(app)
ipf_cli.register(app)

out = Console()
err = Console(stderr=True)

CaseDir = Annotated[Path, typer.Argument(help="Case directory (case.toml, market.csv, trades.csv, ...) / 案件目录",
                                         exists=True, file_okay=False, resolve_path=True)]
SkipBad = Annotated[bool, typer.Option("--skip-bad-rows", help="Compute the rest and list bad rows in rejected.csv "
                                                              "beside the output / 跳过错误行")]


def _fail(exc: CaseError) -> typer.Exit:
    err.print("[bold red]Error / 错误:[/] the case was refused; nothing was written.")
    total = getattr(exc, "problems_total", len(exc.problems))
    for p in exc.problems[:50]:
        err.print(f"  {p}", highlight=False, markup=False)
    if total > 50:
        err.print(f"  ... and {total - 50} more", highlight=False)
    if exc.hint:
        err.print(exc.hint, highlight=False, markup=False)
    return typer.Exit(code=2)


@contextmanager
def _progress(enabled: bool, total: int):
    if not enabled:
        yield lambda _msg: None
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("starting", total=total)

        def step(message: str) -> None:
            bar.update(task, description=message, advance=1)

        yield step


MEMORY_HELP = ("Compute out of core within about this much memory (e.g. 4GB, 512MB): the trades are streamed "
               "into partitions by investor on disk and computed one at a time, so peak memory is bounded by "
               "this setting, not by the size of the case; the output is identical / 内存上限")
CLUSTER_HELP = ("Compute the partitions on a Dask cluster: local:N (N worker processes here) or tcp://host:port "
                "(a running scheduler; --work-dir must be on storage every worker sees) / 集群计算")
WORK_HELP = "Folder for the partitions (default: beside the output); removed afterwards / 临时目录"


def _cluster_runner(cluster: str | None):
    """A context giving (runner, n_workers): a Dask runner for --cluster, or (None, 1)."""
    from contextlib import nullcontext

    if not cluster:
        return nullcontext((None, 1))
    from redress.engine.cluster import dask_runner, parse_cluster

    try:
        parse_cluster(cluster)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--cluster") from None

    @contextmanager
    def started():
        with dask_runner(cluster) as runner:
            yield runner, runner.n_workers

    return started()


def _memory(memory: str | None) -> int | None:
    if memory is None:
        return None
    from redress.engine.partition import parse_memory

    try:
        return parse_memory(memory)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--memory") from None


def _warn_low_memory(memory_bytes: int | None, quiet: bool = False) -> None:
    from redress.engine.partition import RUNTIME_BYTES

    if memory_bytes is not None and memory_bytes < RUNTIME_BYTES and not quiet:
        err.print(f"[yellow]--memory is below the runtime's own ~{RUNTIME_BYTES // 2**20} MiB (Python, Polars, "
                  f"compiled kernels): partitions will be as small as they go, peak memory will exceed the "
                  f"setting / 内存设置低于运行时下限[/]")


@app.command()
def compute(
    case_dir: CaseDir,
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Output file, .csv or .parquet / 输出文件")],
    skip_bad_rows: SkipBad = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary, no progress")] = False,
    summary_json: Annotated[Path | None, typer.Option("--summary-json", help="Also write the summary as JSON")] = None,
    memory: Annotated[str | None, typer.Option("--memory", help=MEMORY_HELP)] = None,
    cluster: Annotated[str | None, typer.Option("--cluster", help=CLUSTER_HELP)] = None,
    work_dir: Annotated[Path | None, typer.Option("--work-dir", help=WORK_HELP, file_okay=False)] = None,
    partitions: Annotated[int | None, typer.Option("--partitions", min=1,
                                                   help="Number of partitions (overrides the one --memory "
                                                        "gives) / 分区数")] = None,
) -> None:
    """Compute every investor's compensation and write one row per (investor, security).

    计算每位投资者的损失与赔付金额。With --memory the case is computed out of core: peak memory is bounded by the setting, not by the case size.
    """
    from redress.engine.batch import compute_case, write_rejected

    memory_bytes = _memory(memory)
    _warn_low_memory(memory_bytes, quiet)
    try:
        with _cluster_runner(cluster) as (runner, n_workers):
            with _progress(not quiet and sys.stderr.isatty(), 7) as step:
                run = compute_case(case_dir, out_path, skip_bad_rows=skip_bad_rows, memory_bytes=memory_bytes,
                                   n_partitions=partitions, runner=runner, n_workers=n_workers, work_dir=work_dir,
                                   progress=step)
    except CaseError as exc:
        raise _fail(exc) from None
    rejected = run.rejected
    if skip_bad_rows:
        write_rejected(rejected, out_path)
    summary = run.summary
    if summary_json:
        summary_json.write_text(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    if not quiet:
        print_summary(run, summary, out_path, rejected.height if skip_bad_rows else 0)


@app.command()
def batch(
    cases_dir: Annotated[Path, typer.Argument(help="Folder of case directories (each a subfolder with case.toml)",
                                              exists=True, file_okay=False, resolve_path=True)],
    out_dir: Annotated[Path | None, typer.Option("--out-dir", help="Where <case>/results.csv go "
                                                                    "(default: CASES_DIR)")] = None,
    skip_bad_rows: SkipBad = False,
    memory: Annotated[str | None, typer.Option("--memory", help=MEMORY_HELP)] = None,
    cluster: Annotated[str | None, typer.Option("--cluster", help=CLUSTER_HELP)] = None,
    work_dir: Annotated[Path | None, typer.Option("--work-dir", help=WORK_HELP, file_okay=False)] = None,
) -> None:
    """Compute every case directory of a folder; a refused case is reported and does not stop the others.

    批量计算。Exit code 1 when any case was refused.
    """
    from redress.engine.batch import find_cases, run_one

    memory_bytes = _memory(memory)
    _warn_low_memory(memory_bytes)
    cases = find_cases(cases_dir)
    out_dir = out_dir or cases_dir
    if not cases:
        err.print(f"No case directories (subfolders with case.toml) in {cases_dir}")
        raise typer.Exit(code=2)
    outcomes = []
    with _cluster_runner(cluster) as (runner, n_workers):
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/"
                      "{task.total}"), TimeElapsedColumn(), console=err, transient=True,
                      disable=not sys.stderr.isatty()) as bar:
            task = bar.add_task("cases", total=len(cases))
            for case_dir in cases:
                bar.update(task, description=f"case {case_dir.name}")
                outcomes.append(run_one(case_dir, out_dir, skip_bad_rows=skip_bad_rows, memory_bytes=memory_bytes,
                                        runner=runner, n_workers=n_workers, work_dir=work_dir,
                                        progress=lambda m, name=case_dir.name: bar.update(
                                            task, description=f"case {name}: {m}")))
                bar.advance(task)
    print_batch(outcomes)
    if any(not o.ok for o in outcomes):
        raise typer.Exit(code=1)


def print_batch(outcomes) -> None:
    from redress.engine.summary import STATUS_LABELS

    t = Table(title="Cases / 案件", title_justify="left")
    t.add_column("case 案件")
    t.add_column("result 结果")
    for status in STATUS_LABELS:
        t.add_column(status, justify="right")
    t.add_column("compensation 赔付金额 (yuan)", justify="right")
    t.add_column("seconds 秒", justify="right")
    for o in outcomes:
        if o.ok:
            rows = {s["status"]: s["rows"] for s in o.run.summary.by_status}
            t.add_row(o.name, "[green]ok[/]", *[f"{rows.get(s, 0):,}" for s in STATUS_LABELS],
                      f"{o.run.summary.total_fen / 100:,.2f}", f"{o.seconds:.1f}")
        else:
            t.add_row(o.name, "[red]refused 拒绝[/]", *[""] * len(STATUS_LABELS), "", f"{o.seconds:.1f}")
    out.print(t)
    for o in outcomes:
        if o.ok:
            out.print(f"{o.name}: results in {o.out_path}", highlight=False)
        else:
            out.print(f"[bold red]{o.name}: refused; nothing was written / 案件被拒绝[/]")
            for line in o.problems:
                out.print(f"  {line}", highlight=False, markup=False)


def print_summary(prep, summary, out_path: Path | None, n_rejected: int = 0) -> None:
    case = prep.case
    out.print(f"[bold]{case.name}[/] ({case.id}) · {case.rules.value} · {case.direction.value} · "
              f"{prep.n_trades:,} trades / 笔交易", highlight=False)
    by_statement = getattr(prep, "statement_bases", None)
    if by_statement:
        out.print(f"{len(by_statement)} statements 虚假陈述, rule 规则 {case.statements_rule.value}",
                  highlight=False)
    for sid, bases in (by_statement or {None: prep.base}).items():
        if sid is not None:
            st = next(x for x in case.statements if x.id == sid)
            out.print(f" statement {sid}: I {st.implementation_date} · D {st.disclosure_date}",
                      highlight=False)
        for b in bases.values():
            flags = f" [yellow]{', '.join(b.flags)}[/]" if b.flags else ""
            out.print(f"  {b.security}: base date 基准日 {b.base_date} · base price 基准价 {b.base_price:.4f} · "
                      f"{b.trading_days} trading days{flags}", highlight=False)
    t = Table(title="Investors by status / 按状态统计", title_justify="left")
    t.add_column("status 状态")
    t.add_column("rows 行数", justify="right")
    t.add_column("compensation 赔付金额 (yuan)", justify="right")
    for s in summary.by_status:
        t.add_row(s["label"], f"{s['rows']:,}", f"{s['compensation_fen'] / 100:,.2f}")
    t.add_row("[bold]total 合计[/]", f"{summary.rows:,}", f"[bold]{summary.total_fen / 100:,.2f}[/]")
    out.print(t)
    d = Table(title="Distribution by size of compensation / 赔付金额分布 (eligible investors)", title_justify="left")
    d.add_column("band 区间")
    d.add_column("investors 人数", justify="right")
    d.add_column("compensation 金额 (yuan)", justify="right")
    for band in summary.bands:
        d.add_row(band["label"], f"{band['investors']:,}", f"{band['compensation_fen'] / 100:,.2f}")
    out.print(d)
    notes = [f"{n:,} {f}" for f, n in summary.flags.items() if n]
    if notes:
        out.print("Flags / 标记: " + ", ".join(notes), highlight=False)
    if n_rejected:
        out.print(f"[yellow]{n_rejected:,} bad rows set aside in {out_path.parent / 'rejected.csv'} / 错误行已另存[/]")
    if out_path:
        out.print(f"Results written to / 结果已写入 {out_path}", highlight=False)


@app.command("base-date")
def base_date(
    case_dir: CaseDir,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (one object per security)")] = False,
    skip_bad_rows: SkipBad = False,
) -> None:
    """Base date and base price of each security (SPC-2022 Art. 26 / SPC-2003 Art. 33).

    计算基准日与基准价。A case with several statements gives one per (statement, security), with "statement".
    """
    from redress.law.plan import load_case
    from redress.market.base_date import compute_base_dates, ex_rights_by_security
    from redress.trades.tables import read_case_tables

    try:
        case = load_case(case_dir)
        tables = read_case_tables(case_dir, case, skip_bad_rows=skip_bad_rows)
        ex = ex_rights_by_security(case, tables.actions)
        by_statement = [(st.id, compute_base_dates(case.for_statement(st), tables.market, ex,
                                                   tables.files["market"], skip=tables.without_market))
                        for st in case.statements]
    except CaseError as exc:
        raise _fail(exc) from None
    if as_json:
        items = [({"statement": sid} if case.has_statements else {}) | bases[s].as_json()
                 for sid, bases in by_statement for s in case.securities if s in bases]
        sys.stdout.write(json.dumps(items, ensure_ascii=False, indent=2) + "\n")
        return
    for sid, bases in by_statement:
        if case.has_statements:
            st = case.for_statement(sid)
            out.print(f"[bold]statement {sid}[/]: I {st.implementation_date}, D {st.disclosure_date}",
                      highlight=False)
        for s in case.securities:
            if s not in bases:
                out.print(f"[yellow]{s}: no market data; its rows were set aside / 无行情数据[/]")
                continue
            b = bases[s]
            out.print(f"[bold]{s}[/]: base date 基准日 {b.base_date}, base price 基准价 {b.base_price:.4f}, "
                      f"{b.trading_days} trading days, cumulative turnover {b.cumulative_turnover:.2%}"
                      + (f", flags {', '.join(b.flags)}" if b.flags else ""), highlight=False)
            out.print(f"  {b.rule}", highlight=False)


@app.command()
def explain(
    case_dir: CaseDir,
    investor_id: Annotated[str, typer.Argument(help="Investor id as in trades.csv / 投资者编号")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the explanation as JSON")] = False,
    skip_bad_rows: SkipBad = False,
) -> None:
    """Show how one investor's compensation was computed: trades, lots, formulas and articles.

    逐笔说明某位投资者的赔偿计算过程及法律依据。
    """
    from redress.engine.explain import explain as run
    from redress.engine.pipeline import prepare

    try:
        expl = run(prepare(case_dir, skip_bad_rows=skip_bad_rows), investor_id)
    except CaseError as exc:
        raise _fail(exc) from None
    if as_json:
        sys.stdout.write(json.dumps(expl.as_dict(), ensure_ascii=False, indent=2, default=str) + "\n")
        return
    from redress.cli.render import render_explanation

    render_explanation(out if out.is_terminal else Console(width=160), expl)


@app.command()
def compare(
    case_dir: CaseDir,
    plans: Annotated[list[Path], typer.Option("--plan", help="A plan file (a \\[plan] table); repeat for each plan",
                                              exists=True, dir_okay=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON")] = False,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Also write the comparison table as CSV")] = None,
    skip_bad_rows: SkipBad = False,
    without_case_plan: Annotated[bool, typer.Option("--without-case-plan",
                                                    help="Do not include case.toml's own plan as the baseline")] = False,
) -> None:
    """Compute the same case under several plans and compare them side by side.

    对比不同赔付方案的效果（听证用）。The first plan is the baseline for gainers and losers.
    A case with several statements is compared on each investor's total under its statements_rule (the sum
    over the statements for "each", the best statement for "best_for_investor"); a plan file applies to
    every statement, keys it omits keeping each statement's own values. 多项虚假陈述：按投资者合计比较。
    """
    from redress.engine.compare import compare as run
    from redress.engine.pipeline import prepare
    from redress.law.plan import load_case, load_plan_override

    try:
        case = load_case(case_dir)
        named = [] if without_case_plan else [("case.toml", None)]
        # one plan per statement: a plan file's omitted keys keep that statement's own values
        named += [(p.stem, tuple(load_plan_override(p, case.for_statement(st)) for st in case.statements))
                  for p in plans]
        used = ([] if without_case_plan else [case.plan]) + [one for _, c in named if c for one in c]
        extra = tuple(c for pl_ in used if pl_.systemic_risk.uses_index
                      for c, _w in pl_.systemic_risk.indices)
        with _progress(not as_json and sys.stderr.isatty(), 5 + 3 * len(named)) as step:
            prep = prepare(case_dir, skip_bad_rows=skip_bad_rows, extra_index_codes=extra, progress=step, case=case,
                           keep_trade_columns=False)
            comparison = run(prep, named, progress=step)
    except CaseError as exc:
        raise _fail(exc) from None
    if csv_out:
        from redress.exports import write_frame_csv

        write_frame_csv(comparison.table, csv_out)
    if as_json:
        sys.stdout.write(json.dumps(comparison.table.to_dicts(), ensure_ascii=False, indent=2) + "\n")
        return
    from redress.cli.render import render_comparison

    render_comparison(out, comparison.table, case.name)
    out.print("Gainers and losers are counted against the first plan / 增减人数以第一个方案为基准。")


@law_app.command("show")
def law_show(
    name: Annotated[str, typer.Argument(help="stamp_duty | deposit_rate | conventions")],
    on: Annotated[str | None, typer.Option("--on", help="Only the value in force on this date (YYYY-MM-DD)")] = None,
) -> None:
    """Show a dated legal parameter with its sources."""
    import datetime as dt

    from redress.law import parameters

    try:
        param = parameters.load(name)
    except FileNotFoundError:
        err.print(f"Unknown parameter {name!r}; known: stamp_duty, deposit_rate, conventions")
        raise typer.Exit(2) from None
    out.print(f"[bold]{param.name}[/] ({param.unit}): {param.description}", highlight=False)
    if on:
        try:
            date = dt.date.fromisoformat(on)
            for key in param.value_keys:
                v = param.at(date, key)
                out.print(f"  {key} on {on}: {v.value:g} (since {v.effective}; {v.source})", highlight=False)
        except (ValueError, LookupError) as exc:
            err.print(f"--on: {exc}")
            raise typer.Exit(2) from None
        return
    t = Table()
    t.add_column("effective 生效日")
    for key in param.value_keys:
        t.add_column(key, justify="right")
    t.add_column("source 依据")
    for p in param.periods:
        t.add_row(p.effective.isoformat(), *[f"{p.value(k):g}" for k in param.value_keys], p.source)
    out.print(t)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
