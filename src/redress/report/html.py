"""A self-contained HTML report of a computed case, for the administrator of the compensation.

One file, no external resources: the styles are inline and the charts are inline SVG drawn with
matplotlib. Headings and labels are bilingual (Chinese and English); the text inside the charts is
English only, so that the charts render the same whether or not a CJK font is installed.

A case with several false statements (loss-rules.md section 9) has a ``statement`` column in its results:
the report then adds a section per statement (its dates, the rule, its totals and its investors by
status), a statement column to the base dates and the largest claims, and keeps the case totals as the
sum of the rows the investors are owed.
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import polars as pl
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

STATUS_ORDER = ("eligible", "below_minimum", "no_loss", "no_eligible_shares", "excluded")
STATUS_LABELS = {
    "eligible": ("应予赔付", "Eligible"),
    "below_minimum": ("低于最低赔付额", "Below minimum"),
    "no_loss": ("无损失", "No loss"),
    "no_eligible_shares": ("无适格股份", "No eligible shares"),
    "excluded": ("不予赔付", "Excluded"),
}
FLAG_LABELS = {
    "oversold": ("卖出超过持仓", "Oversold"),
    "base_date_truncated": ("基准日截断", "Base date truncated"),
}
TOP_CLAIMS = 20
COLOURS = ("#1f5fa8", "#d9822b", "#3c9a5f", "#b23a48", "#7a5ea8", "#5f7f8f", "#c9a227", "#2b9fa6")

_CHART_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "redress",
    "font.family": "DejaVu Sans",
    "font.size": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#8a94a3",
    "axes.labelcolor": "#2b3440",
    "xtick.color": "#4a5564",
    "ytick.color": "#4a5564",
    "axes.grid": True,
    "grid.color": "#e3e7ed",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "axes.unicode_minus": False,
}

_CSS = """
:root { --ink:#1f2933; --muted:#5f6b7a; --line:#dde3ea; --accent:#1f5fa8; --bg:#f5f7fa; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 15px/1.55 -apple-system, "Segoe UI", "Helvetica Neue", Arial, "PingFang SC", "Hiragino Sans GB",
  "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 32px 28px 56px; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 14px; margin-bottom: 8px; }
h1 { font-size: 27px; margin: 0 0 4px; letter-spacing: .01em; }
h1 .en, h2 .en, h3 .en { color: var(--muted); font-weight: 500; }
.subtitle { color: var(--muted); margin: 0; }
h2 { font-size: 20px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 8px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 4px 22px 20px;
  margin-top: 22px; }
section > h2:first-child { margin-top: 18px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 12px;
  margin: 14px 0 6px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; background: #fbfcfe; }
.card .label { color: var(--muted); font-size: 13px; }
.card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; margin: 6px 0 4px; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #f0f3f7; font-weight: 600; white-space: nowrap; }
th .en { display: block; font-weight: 400; color: var(--muted); font-size: 12px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fafbfd; }
tfoot td { font-weight: 600; border-top: 2px solid var(--line); }
td.id { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px;
  word-break: break-all; }
table.compact { font-size: 12.5px; }
table.compact th, table.compact td { padding: 5px 6px; }
table.compact th .en { font-size: 11px; }
.flag { display: inline-block; padding: 0 6px; margin: 1px 2px 1px 0; border-radius: 9px;
  background: #fdf0e1; color: #8a4b0f; font-size: 12px; white-space: nowrap; }
.figure { margin: 10px 0 4px; }
.figure svg { width: 100%; height: auto; display: block; }
.caption { color: var(--muted); font-size: 13px; margin: 2px 0 0; }
.note { color: var(--muted); font-size: 13px; }
footer { color: var(--muted); font-size: 12.5px; margin-top: 28px; }
"""


# ---------------------------------------------------------------------------------------------------
# Formatting


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _money(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.2f}"


def _price(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.4f}"


def _count(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{int(value):,}"


def _shares(value: float | None) -> str:
    """Share quantities: whole numbers, or up to two decimals where ex-rights restatement left a fraction."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _percent(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.1f}%"


def _bilingual(zh: str, en: str) -> str:
    return f'{_esc(zh)} <span class="en">{_esc(en)}</span>'


def _status_label(status: str) -> str:
    zh, en = STATUS_LABELS.get(status, (status, status))
    return _bilingual(zh, en)


def _flags_html(flags: Iterable[str]) -> str:
    parts = []
    for flag in flags:
        zh, en = FLAG_LABELS.get(flag, (flag, flag))
        parts.append(f'<span class="flag" title="{_esc(flag)}">{_esc(zh)} {_esc(en)}</span>')
    return "".join(parts)


def _split_flags(flags: str | None) -> list[str]:
    return [f for f in (flags or "").split(";") if f]


def _short_yuan(value: float, _pos: object = None) -> str:
    """Axis tick label: 1500 -> '1.5k', 2000000 -> '2M'."""
    magnitude = abs(value)
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= threshold:
            return f"{value / threshold:g}{suffix}"
    return f"{value:g}"


def _compact_yuan(value: float) -> str:
    """A figure for a chart annotation, to four significant digits: 31756.36 -> '31.76k'."""
    magnitude = abs(value)
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= threshold:
            return f"{value / threshold:.4g}{suffix}"
    return f"{value:.4g}"


def _th(zh: str, en: str, numeric: bool = False) -> str:
    cls = ' class="num"' if numeric else ""
    return f'<th{cls}>{_esc(zh)}<span class="en">{_esc(en)}</span></th>'


def _table(
    head: Sequence[str],
    rows: Iterable[Sequence[str]],
    foot: Sequence[str] | None = None,
    compact: bool = False,
) -> str:
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    tfoot = "<tfoot><tr>" + "".join(foot) + "</tr></tfoot>" if foot else ""
    table = '<table class="compact">' if compact else "<table>"
    return (
        f'<div class="table-wrap">{table}<thead><tr>'
        + "".join(head)
        + f"</tr></thead><tbody>{body}</tbody>{tfoot}</table></div>"
    )


def _td(text: str, cls: str | None = None) -> str:
    return f'<td class="{cls}">{text}</td>' if cls else f"<td>{text}</td>"


# ---------------------------------------------------------------------------------------------------
# Charts


_SVG_ID = re.compile(r'(\bid="|url\(#|href="#)')


def _svg(fig: Figure, key: str, title: str) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = _SVG_ID.sub(lambda m: f"{m.group(1)}{key}-", text)
    text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", text, count=1)
    text = text.replace("<svg", f'<svg role="img" aria-label="{_esc(title)}"', 1)
    return text


def _figure(width_in: float = 10.0, height_in: float = 3.8) -> Figure:
    return Figure(figsize=(width_in, height_in), layout="constrained")


def _log_axis(axis, values: np.ndarray) -> None:
    """Plain yuan labels on a log axis; minor ticks are labelled only when the data span less than
    two decades, so that an axis always carries a few labels."""
    axis.set_major_formatter(FuncFormatter(_short_yuan))
    lo, hi = float(values.min()), float(values.max())
    if lo > 0 and hi / lo < 100:
        axis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
        axis.set_minor_formatter(FuncFormatter(_short_yuan))
    else:
        axis.set_minor_formatter(NullFormatter())


def _no_data(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#5f6b7a")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)


def _log_bins(values: np.ndarray, n: int = 40) -> np.ndarray:
    """n logarithmically spaced bins covering the positive values."""
    lo = max(float(values.min()), 0.01)
    hi = max(float(values.max()), lo * 1.5)
    return np.geomspace(lo / 1.02, hi * 1.02, n + 1)


def _distribution_chart(paid: np.ndarray) -> str:
    title = "Distribution of compensation"
    with rc_context(_CHART_RC):
        fig = _figure()
        ax = fig.add_subplot()
        if paid.size == 0:
            _no_data(ax, "No eligible investors")
        else:
            bins = _log_bins(paid)
            ax.hist(paid, bins=bins, color=COLOURS[0], alpha=0.85, edgecolor="white", linewidth=0.5)
            ax.set_xscale("log")
            _log_axis(ax.xaxis, paid)
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            for q, style in ((0.5, "--"), (0.9, ":")):
                v = float(np.quantile(paid, q))
                ax.axvline(
                    v,
                    color=COLOURS[1],
                    linestyle=style,
                    linewidth=1.4,
                    label=f"p{int(q * 100)} = {_compact_yuan(v)}",
                )
            ax.legend(loc="upper right", fontsize=9)
            ax.set_xlabel("Compensation per claim (CNY, log scale)")
            ax.set_ylabel("Investors")
        return _svg(fig, "dist", title)


def _holding_chart(shares: np.ndarray, paid: np.ndarray) -> str:
    title = "Compensation by holding size"
    with rc_context(_CHART_RC):
        fig = _figure(10.0, 3.9)
        left, right = fig.subplots(1, 2)
        keep = shares > 0
        shares, paid = shares[keep], paid[keep]
        if shares.size == 0:
            _no_data(left, "No eligible investors")
            _no_data(right, "No eligible investors")
            return _svg(fig, "hold", title)
        edges = _log_bins(shares, 16)
        which = np.clip(np.searchsorted(edges, shares, side="right") - 1, 0, len(edges) - 2)
        totals = np.bincount(which, weights=paid, minlength=len(edges) - 1)
        counts = np.bincount(which, minlength=len(edges) - 1)
        centres = np.sqrt(edges[:-1] * edges[1:])
        widths = np.diff(edges) * 0.85

        left.bar(edges[:-1], totals, width=widths, align="edge", color=COLOURS[0], alpha=0.85)
        left.set_xscale("log")
        _log_axis(left.xaxis, edges)
        left.yaxis.set_major_formatter(FuncFormatter(_short_yuan))
        left.set_xlabel("Eligible shares sold in [D, B] + held at B (log scale)")
        left.set_ylabel("Total compensation (CNY)")
        left.set_title("Total compensation per size band", fontsize=10)

        occupied = np.flatnonzero(counts)
        med = np.array([np.median(paid[which == k]) for k in occupied])
        p10 = np.array([np.quantile(paid[which == k], 0.1) for k in occupied])
        p90 = np.array([np.quantile(paid[which == k], 0.9) for k in occupied])
        positive = med > 0
        right.vlines(
            centres[occupied],
            np.maximum(p10, 0.01),
            np.maximum(p90, 0.01),
            color=COLOURS[0],
            alpha=0.45,
            linewidth=5,
        )
        right.plot(
            centres[occupied][positive], med[positive], "o", color=COLOURS[1], markersize=5, label="median"
        )
        right.plot([], [], color=COLOURS[0], alpha=0.45, linewidth=5, label="10th-90th percentile")
        right.set_xscale("log")
        right.set_yscale("log")
        _log_axis(right.xaxis, edges)
        _log_axis(right.yaxis, np.concatenate([np.maximum(p10, 0.01), np.maximum(p90, 0.01)]))
        right.set_xlabel("Eligible shares sold in [D, B] + held at B (log scale)")
        right.set_ylabel("Compensation per claim (CNY)")
        right.set_title("Compensation per claim by size band", fontsize=10)
        right.legend(loc="upper left", fontsize=8.5)
        return _svg(fig, "hold", title)


def _plan_chart(comparison: pl.DataFrame, plan_results: dict[str, pl.DataFrame] | None) -> str:
    title = "Plan comparison"
    plans = comparison["plan"].to_list()
    totals = comparison["total_compensation"].to_numpy()
    with rc_context(_CHART_RC):
        fig = _figure(10.0, 3.9)
        if plan_results:
            left, right = fig.subplots(1, 2, width_ratios=[1, 1.4])
        else:
            left, right = fig.add_subplot(), None
        colours = [COLOURS[k % len(COLOURS)] for k in range(len(plans))]
        bars = left.barh(range(len(plans)), totals, color=colours, alpha=0.9)
        left.set_yticks(range(len(plans)), [_ascii_label(p) for p in plans])
        left.invert_yaxis()
        left.xaxis.set_major_formatter(FuncFormatter(_short_yuan))
        left.set_xlabel("Total compensation (CNY)")
        left.set_title("Total compensation per plan", fontsize=10)
        left.grid(axis="y", visible=False)
        left.bar_label(bars, labels=[_compact_yuan(float(t)) for t in totals], padding=3, fontsize=8.5)
        left.margins(x=0.18)
        if right is not None:
            distributions = {
                name: _paid_per_investor(table) for name, table in plan_results.items() if table.height
            }
            everything = np.concatenate([v for v in distributions.values() if v.size] or [np.zeros(0)])
            if everything.size == 0:
                _no_data(right, "No eligible investors")
            else:
                bins = _log_bins(everything)
                for k, (name, paid) in enumerate(distributions.items()):
                    if paid.size:
                        right.hist(
                            paid,
                            bins=bins,
                            histtype="step",
                            linewidth=1.6,
                            color=COLOURS[plans.index(name) % len(COLOURS)]
                            if name in plans
                            else COLOURS[k % len(COLOURS)],
                            label=_ascii_label(name),
                        )
                right.set_xscale("log")
                _log_axis(right.xaxis, bins)
                right.set_xlabel("Compensation per investor (CNY, log scale)")
                right.set_ylabel("Investors")
                right.yaxis.set_major_locator(MaxNLocator(integer=True))
                right.set_title("Distribution per plan", fontsize=10)
                right.legend(fontsize=8.5)
        return _svg(fig, "plans", title)


def _ascii_label(text: str) -> str:
    """Plan names go into the charts, which use a Latin font: other characters become '?'."""
    return "".join(c if c.isascii() and c.isprintable() else "?" for c in text)


# ---------------------------------------------------------------------------------------------------
# Data


def _fen(column: str) -> pl.Expr:
    """A money column (yuan, to 0.01) as integer fen, so that sums are exact."""
    return (pl.col(column).fill_null(0.0).fill_nan(0.0) * 100).round().cast(pl.Int64)


def _yuan_total(frame: pl.DataFrame, column: str) -> float:
    return int(frame.select(_fen(column).sum()).item() or 0) / 100


def _paid_per_investor(results: pl.DataFrame) -> np.ndarray:
    if results.height == 0:
        return np.zeros(0)
    per = results.group_by("investor_id").agg(_fen("compensation").sum())
    paid = per["compensation"].to_numpy() / 100
    return paid[paid > 0]


def _comparison_from(plan_results: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One row per plan, as produced by `redress compare`, when only the plans' results are given."""
    rows = []
    baseline: pl.DataFrame | None = None
    for name, table in plan_results.items():
        per = table.group_by("investor_id").agg(_fen("compensation").sum())
        paid = per.filter(pl.col("compensation") > 0)["compensation"].to_numpy() / 100
        q = np.quantile(paid, [0.5, 0.9, 0.99]) if paid.size else np.zeros(3)
        if baseline is None:
            baseline, gainers, losers = per, 0, 0
        else:
            joined = baseline.join(
                per, on="investor_id", how="full", coalesce=True, suffix="_plan"
            ).fill_null(0)
            gainers = int((joined["compensation_plan"] > joined["compensation"]).sum())
            losers = int((joined["compensation_plan"] < joined["compensation"]).sum())
        rows.append(
            {
                "plan": name,
                "eligible_investors": int(paid.size),
                "total_compensation": int(per["compensation"].sum() or 0) / 100,
                "mean": float(paid.mean()) if paid.size else 0.0,
                "p50": float(q[0]),
                "p90": float(q[1]),
                "p99": float(q[2]),
                "max": float(paid.max()) if paid.size else 0.0,
                "gainers": gainers,
                "losers": losers,
            }
        )
    return pl.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------
# Sections


def _summary_section(results: pl.DataFrame) -> str:
    n_investors = results["investor_id"].n_unique() if results.height else 0
    paying = results.filter(pl.col("compensation") > 0)
    total = _yuan_total(paying, "compensation")
    paid = _paid_per_investor(results)
    eligible = results.filter(pl.col("status") == "eligible")
    net_loss_total = _yuan_total(eligible, "net_loss")
    deduction_total = _yuan_total(eligible, "systemic_deduction")
    cards = [
        ("投资者", "Investors", _count(n_investors)),
        ("获赔投资者", "Investors compensated", _count(paid.size)),
        ("赔付总额（元）", "Total compensation (CNY)", _money(total)),
        ("人均赔付（元）", "Mean per investor compensated", _money(float(paid.mean()) if paid.size else 0.0)),
        (
            "赔付中位数（元）",
            "Median per investor compensated",
            _money(float(np.median(paid)) if paid.size else 0.0),
        ),
        ("系统风险扣除（元）", "Systemic-risk deduction (CNY)", _money(deduction_total)),
    ]
    cards_html = "".join(
        f'<div class="card"><div class="label">{_esc(zh)}<br>{_esc(en)}</div>'
        f'<div class="value">{value}</div></div>'
        for zh, en, value in cards
    )

    by_status = _status_rows(results)
    rows = [
        [
            _td(_status_label(r["status"])),
            _td(_count(r["investors"]), "num"),
            _td(_count(r["claims"]), "num"),
            _td(_shares(r["eligible_bought"]), "num"),
            _td(_money(r["difference_loss"]), "num"),
            _td(_money(r["net_loss"]), "num"),
            _td(_money(r["compensation"]), "num"),
        ]
        for r in by_status
    ]
    foot = [
        _td(_bilingual("合计", "Total")),
        _td(_count(n_investors), "num"),
        _td(_count(results.height), "num"),
        _td(_shares(results["eligible_bought"].sum() if results.height else 0), "num"),
        _td(_money(_yuan_total(results, "difference_loss")), "num"),
        _td(_money(_yuan_total(results, "net_loss")), "num"),
        _td(_money(total), "num"),
    ]
    head = [
        _th("状态", "Status"),
        _th("投资者", "Investors", True),
        _th("索赔记录", "Claims", True),
        _th("适格买入股数", "Eligible shares bought", True),
        _th("投资差额损失（元）", "Difference loss (CNY)", True),
        _th("扣除后损失（元）", "Net loss (CNY)", True),
        _th("赔付金额（元）", "Compensation (CNY)", True),
    ]
    flag_counts: dict[str, int] = {}
    for flags, n in results.group_by("flags").len().iter_rows():
        for flag in _split_flags(flags):
            flag_counts[flag] = flag_counts.get(flag, 0) + n
    flags_html = ""
    if flag_counts:
        flags_html = (
            '<p class="note">标记 Flags: '
            + "; ".join(f"{_flags_html([f])} {_count(n)}" for f, n in sorted(flag_counts.items()))
            + "</p>"
        )
    return (
        f'<section id="summary"><h2>{_bilingual("案件概要", "Case summary")}</h2>'
        f'<div class="cards">{cards_html}</div>'
        f"<h3>{_bilingual('按状态统计', 'Investors by status')}</h3>"
        + _table(head, rows, foot)
        + flags_html
        + f'<p class="note">扣除后损失合计仅含应予赔付的记录。Net loss of eligible claims: {_money(net_loss_total)} CNY. '
        "金额单位：元（人民币）。Amounts in yuan (CNY).</p>"
        "</section>"
    )


def _status_rows(results: pl.DataFrame) -> list[dict]:
    """Investors, rows and exact totals (fen) per status, best status first."""
    by_status = (
        results.group_by("status")
        .agg(
            pl.col("investor_id").n_unique().alias("investors"),
            pl.len().alias("claims"),
            pl.col("eligible_bought").sum(),
            (_fen("difference_loss").sum() / 100).alias("difference_loss"),
            (_fen("net_loss").sum() / 100).alias("net_loss"),
            (_fen("compensation").sum() / 100).alias("compensation"),
        )
        .to_dicts()
    )
    order = {s: k for k, s in enumerate(STATUS_ORDER)}
    by_status.sort(key=lambda r: (order.get(r["status"], len(order)), str(r["status"])))
    return by_status


def _statement_section(results: pl.DataFrame, statements: Sequence[dict], rule: str | None) -> str:
    """One table of totals per statement, then each statement's investors by status."""
    ids = [str(x) for x in dict.fromkeys(results["statement"].to_list())]
    known = {str(st.get("id")): st for st in statements}
    order = [st for st in known if st in ids] + [x for x in ids if x not in known]
    best = rule == "best_for_investor"
    head = [
        _th("虚假陈述", "Statement"),
        _th("实施日", "Implementation date"),
        _th("揭露日", "Disclosure date"),
        _th("投资者", "Investors", True),
        _th("索赔记录", "Claims", True),
        _th("适格买入股数", "Eligible shares bought", True),
        _th("扣除后损失（元）", "Net loss (CNY)", True),
        _th("赔付金额（元）", "Compensation (CNY)", True),
    ]
    rows, parts = [], []
    for sid in order:
        part = results.filter(pl.col("statement") == sid)
        st = known.get(sid, {})
        paid = part.filter(pl.col("compensation") > 0)
        rows.append(
            [
                _td(_esc(sid), "id"),
                _td(_esc(st.get("implementation_date", "–"))),
                _td(_esc(st.get("disclosure_date", "–"))),
                _td(_count(part["investor_id"].n_unique()), "num"),
                _td(_count(part.height), "num"),
                _td(_shares(part["eligible_bought"].sum() if part.height else 0), "num"),
                _td(_money(_yuan_total(part.filter(pl.col("status") == "eligible"), "net_loss")), "num"),
                _td(_money(_yuan_total(paid, "compensation")), "num"),
            ]
        )
        status_rows = [
            [
                _td(_status_label(r["status"])),
                _td(_count(r["investors"]), "num"),
                _td(_count(r["claims"]), "num"),
                _td(_shares(r["eligible_bought"]), "num"),
                _td(_money(r["net_loss"]), "num"),
                _td(_money(r["compensation"]), "num"),
            ]
            for r in _status_rows(part)
        ]
        dates = (
            f"{_esc(st.get('implementation_date'))} – {_esc(st.get('disclosure_date'))}"
            if st
            else ""
        )
        parts.append(
            f'<h3 id="statement-{_esc(sid)}">{_bilingual(f"虚假陈述 {sid}", f"Statement {sid}")}</h3>'
            + (f'<p class="note">买入期间 Buy window [I, D): {dates}</p>' if dates else "")
            + _table(
                [
                    _th("状态", "Status"),
                    _th("投资者", "Investors", True),
                    _th("索赔记录", "Claims", True),
                    _th("适格买入股数", "Eligible shares bought", True),
                    _th("扣除后损失（元）", "Net loss (CNY)", True),
                    _th("赔付金额（元）", "Compensation (CNY)", True),
                ],
                status_rows,
            )
        )
    paying = results.filter(pl.col("compensation") > 0)
    foot = [
        _td(_bilingual("合计", "Total")),
        _td(""),
        _td(""),
        _td(_count(results["investor_id"].n_unique()), "num"),
        _td(_count(results.height), "num"),
        _td(_shares(results["eligible_bought"].sum() if results.height else 0), "num"),
        _td(_money(_yuan_total(results.filter(pl.col("status") == "eligible"), "net_loss")), "num"),
        _td(_money(_yuan_total(paying, "compensation")), "num"),
    ]
    if best:
        note = (
            "规则 best_for_investor：每位投资者每只证券只取赔付金额最高的一项虚假陈述（同额时取状态较优者，"
            "再取列于前者）；表中为所取各项。Rule best_for_investor: for each investor and security only the "
            "statement with the highest compensation is paid (ties: the better status, then the statement "
            "listed first); the rows above are the ones chosen."
        )
    else:
        note = (
            "规则 each：各项虚假陈述分别计算，投资者获赔各项之和。Rule each: every statement is computed on "
            "its own and an investor is owed the sum of the rows."
        )
    return (
        f'<section id="statements"><h2>{_bilingual("按虚假陈述统计", "By false statement")}</h2>'
        + _table(head, rows, foot)
        + f'<p class="note">{note}</p>'
        + "".join(parts)
        + "</section>"
    )


def _base_dates_section(base_dates: list[dict]) -> str:
    several = any("statement" in b for b in base_dates)
    head = [_th("虚假陈述", "Statement")] if several else []
    head += [
        _th("证券代码", "Security"),
        _th("基准日", "Base date"),
        _th("基准价（元）", "Base price (CNY)", True),
        _th("交易日数", "Trading days", True),
        _th("累计换手率", "Cumulative turnover", True),
        _th("标记", "Flags"),
    ]
    rows = [
        ([_td(_esc(b.get("statement")), "id")] if several else [])
        + [
            _td(_esc(b.get("security")), "id"),
            _td(_esc(b.get("base_date"))),
            _td(_price(b.get("base_price")), "num"),
            _td(_count(b.get("trading_days")), "num"),
            _td(_percent(b.get("cumulative_turnover")), "num"),
            _td(_flags_html(b.get("flags") or [])),
        ]
        for b in base_dates
    ]
    if not rows:
        body = f'<p class="note">{_bilingual("无基准日数据", "No base dates given")}</p>'
    else:
        body = _table(head, rows)
    return f'<section id="base-dates"><h2>{_bilingual("基准日与基准价", "Base dates and base prices")}</h2>{body}</section>'


def _chart_section(anchor: str, zh: str, en: str, svg: str, caption: str) -> str:
    return (
        f'<section id="{anchor}"><h2>{_bilingual(zh, en)}</h2>'
        f'<div class="figure">{svg}</div><p class="caption">{caption}</p></section>'
    )


def _comparison_table(comparison: pl.DataFrame) -> str:
    head = [
        _th("方案", "Plan"),
        _th("获赔投资者", "Investors compensated", True),
        _th("赔付总额（元）", "Total (CNY)", True),
        _th("平均", "Mean", True),
        _th("中位数", "p50", True),
        _th("90分位", "p90", True),
        _th("99分位", "p99", True),
        _th("最高", "Max", True),
        _th("增加", "Gainers", True),
        _th("减少", "Losers", True),
    ]
    rows = [
        [
            _td(_esc(r["plan"])),
            _td(_count(r["eligible_investors"]), "num"),
            _td(_money(r["total_compensation"]), "num"),
            _td(_money(r["mean"]), "num"),
            _td(_money(r["p50"]), "num"),
            _td(_money(r["p90"]), "num"),
            _td(_money(r["p99"]), "num"),
            _td(_money(r["max"]), "num"),
            _td(_count(r["gainers"]), "num"),
            _td(_count(r["losers"]), "num"),
        ]
        for r in comparison.iter_rows(named=True)
    ]
    return _table(head, rows)


def _comparison_section(comparison: pl.DataFrame, plan_results: dict[str, pl.DataFrame] | None) -> str:
    first = _esc(comparison["plan"][0]) if comparison.height else ""
    svg = _plan_chart(comparison, plan_results)
    caption = (
        "左：各方案赔付总额；右：各方案每位投资者赔付金额的分布（对数刻度）。"
        "Left: total compensation per plan; right: distribution of compensation per investor (log scale)."
        if plan_results
        else "各方案赔付总额。Total compensation per plan."
    )
    return (
        f'<section id="plans"><h2>{_bilingual("方案比较", "Plan comparison")}</h2>'
        f'<div class="figure">{svg}</div><p class="caption">{caption}</p>'
        f"<h3>{_bilingual('方案比较表', 'Comparison table')}</h3>"
        + _comparison_table(comparison)
        + f'<p class="note">“增加/减少”为与第一个方案（{first}）相比赔付增加或减少的投资者人数。'
        f"Gainers and losers are counted against the first plan ({first}).</p></section>"
    )


def _largest_claims_section(results: pl.DataFrame) -> str:
    top = results.filter(pl.col("compensation") > 0).top_k(TOP_CLAIMS, by="compensation")
    top = top.sort(["compensation", "investor_id"], descending=[True, False])
    several_securities = results["security"].n_unique() > 1
    any_flags = any(_split_flags(f) for f in top["flags"].to_list())
    columns = [
        (_th("序号", "#", True), lambda k, r: _td(str(k), "num")),
        (_th("投资者", "Investor"), lambda k, r: _td(_esc(r["investor_id"]), "id")),
        (_th("证券", "Security"), lambda k, r: _td(_esc(r["security"]), "id"))
        if several_securities
        else None,
        (_th("虚假陈述", "Statement"), lambda k, r: _td(_esc(r["statement"]), "id"))
        if "statement" in results.columns
        else None,
        (_th("适格买入", "Eligible bought", True), lambda k, r: _td(_shares(r["eligible_bought"]), "num")),
        (_th("揭露后卖出", "Sold in [D, B]", True), lambda k, r: _td(_shares(r["q_sold"]), "num")),
        (_th("基准日持有", "Held at B", True), lambda k, r: _td(_shares(r["q_held"]), "num")),
        (_th("买入均价", "Avg buy", True), lambda k, r: _td(_price(r["avg_buy"]), "num")),
        (
            _th("卖出均价", "Avg sell", True),
            lambda k, r: _td(_price(r["avg_sell"]) if r["q_sold"] else "–", "num"),
        ),
        (_th("基准价", "Base price", True), lambda k, r: _td(_price(r["base_price"]), "num")),
        (_th("扣除后损失", "Net loss", True), lambda k, r: _td(_money(r["net_loss"]), "num")),
        (_th("赔付金额", "Compensation", True), lambda k, r: _td(_money(r["compensation"]), "num")),
        (_th("标记", "Flags"), lambda k, r: _td(_flags_html(_split_flags(r["flags"]))))
        if any_flags
        else None,
    ]
    columns = [c for c in columns if c is not None]
    rows = [[cell(k, r) for _, cell in columns] for k, r in enumerate(top.iter_rows(named=True), start=1)]
    body = (
        _table([head for head, _ in columns], rows, compact=True)
        if rows
        else f'<p class="note">{_bilingual("无获赔记录", "No compensated claims")}</p>'
    )
    heading = _bilingual(f"赔付金额最高的{TOP_CLAIMS}笔", f"The {TOP_CLAIMS} largest claims")
    return (
        f'<section id="largest"><h2>{heading}</h2>{body}'
        '<p class="note">价格单位为元/股，金额单位为元。Prices in CNY per share, amounts in CNY.</p></section>'
    )


# ---------------------------------------------------------------------------------------------------


def write_report(
    path: Path,
    *,
    case_name: str,
    results: pl.DataFrame,
    base_dates: list[dict],
    comparison: pl.DataFrame | None = None,
    plan_results: dict[str, pl.DataFrame] | None = None,
    statements: Sequence[dict] = (),
    statements_rule: str | None = None,
) -> Path:
    """Write the report of one computed case to `path` (an .html file) and return the path.

    `results` holds the output columns of `redress compute`; `base_dates` the entries printed by
    `redress base-date --json`; `comparison` the table of `redress compare` (one row per plan) and
    `plan_results` each plan's results table. Without `comparison`, one is derived from
    `plan_results` when those are given. A case with several statements has a `statement` column in
    `results`; `statements` then gives each statement's `id`, `implementation_date` and
    `disclosure_date`, and `statements_rule` its rule ("each" or "best_for_investor").
    """
    path = Path(path)
    if comparison is None and plan_results:
        comparison = _comparison_from(plan_results)

    eligible = results.filter((pl.col("status") == "eligible") & (pl.col("compensation") > 0))
    paid_claims = eligible["compensation"].to_numpy()
    shares = (eligible["q_sold"].fill_null(0) + eligible["q_held"].fill_null(0)).to_numpy().astype(float)

    sections = [
        _summary_section(results),
    ]
    if "statement" in results.columns:
        sections.append(_statement_section(results, statements, statements_rule))
    sections += [
        _base_dates_section(base_dates),
        _chart_section(
            "distribution",
            "赔付金额分布",
            "Distribution of compensation",
            _distribution_chart(paid_claims),
            "仅含应予赔付的记录，横轴为对数刻度；虚线为中位数，点线为90分位。"
            "Eligible claims only, log-scaled bins; dashed line: median (p50), dotted line: 90th percentile (p90).",
        ),
        _chart_section(
            "holding",
            "赔付金额与持股规模",
            "Compensation by holding size",
            _holding_chart(shares, paid_claims),
            "持股规模为揭露日至基准日间卖出的适格股份与基准日仍持有的适格股份之和。"
            "Holding size: eligible shares sold in [D, B] plus eligible shares still held at B.",
        ),
    ]
    if comparison is not None and comparison.height:
        sections.append(_comparison_section(comparison, plan_results))
    sections.append(_largest_claims_section(results))

    document = (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(case_name)} · 赔付报告 Compensation report</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<header><h1>{_bilingual('赔付报告', 'Compensation report')}</h1>"
        f'<p class="subtitle">{_esc(case_name)}</p></header>\n'
        + "\n".join(sections)
        + "\n<footer>本报告由 Redress 生成。Generated by Redress.</footer>\n</main>\n</body>\n</html>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document, encoding="utf-8")
    return path
