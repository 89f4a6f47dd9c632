import re

import polars as pl
import pytest

from redress.engine.pipeline import OUTPUT_COLUMNS
from redress.report.html import write_report

COLUMNS = OUTPUT_COLUMNS

ROWS = [
    # investor, status, flags, bought, sold, held, avg_buy, avg_sell, difference, deduction, net, compensation
    ("INV00000001", "eligible", "", 2000, 500, 1500, 11.5, 8.0, 7750.0, 0.0, 7750.0, 7760.08),
    ("INV00000002", "eligible", "oversold", 1000, 0, 1000, 20.0, None, 12500.0, 2500.0, 10000.0, 10013.0),
    ('INV<b>&"3"', "eligible", "", 300, 300, 0, 15.0, 9.0, 1800.0, 0.0, 1800.0, 1802.34),
    ("INV00000004", "no_loss", "", 800, 800, 0, 7.0, 9.0, -1600.0, 0.0, -1600.0, 0.0),
    ("INV00000005", "no_eligible_shares", "", 0, 0, 0, None, None, 0.0, 0.0, 0.0, 0.0),
    ("INV00000006", "excluded", "", 50000, 0, 50000, 30.0, None, 1_125_000.0, 0.0, 1_125_000.0, 0.0),
    ("INV00000007", "below_minimum", "", 100, 100, 0, 10.0, 9.99, 1.0, 0.0, 1.0, 0.0),
]


def results_frame(rows=ROWS) -> pl.DataFrame:
    records = []
    for inv, status, flags, bought, sold, held, buy, sell, diff, ded, net, comp in rows:
        paying = comp > 0
        records.append(
            {
                "investor_id": inv,
                "security": "688123",
                "status": status,
                "flags": flags,
                "eligible_bought": bought,
                "q_sold": sold,
                "q_held": held,
                "avg_buy": buy,
                "avg_sell": sell,
                "base_price": 7.5,
                "difference_loss": diff,
                "systemic_deduction": ded,
                "net_loss": net,
                "commission": round(net * 0.0003, 2) if paying else 0.0,
                "stamp_duty": round(net * 0.001, 2) if paying else 0.0,
                "interest": 0.0,
                "compensation": comp,
            }
        )
    return pl.DataFrame(
        records,
        schema={
            c: (
                pl.Utf8
                if c in ("investor_id", "security", "status", "flags")
                else pl.Int64
                if c in ("eligible_bought", "q_sold", "q_held")
                else pl.Float64
            )
            for c in COLUMNS
        },
    )


BASE_DATES = [
    {
        "security": "688123",
        "base_date": "2022-03-15",
        "base_price": 7.5,
        "trading_days": 16,
        "cumulative_turnover": 1.0213,
        "flags": [],
    },
]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    results = results_frame()
    other = results.with_columns(pl.col("compensation") * 0.9)
    path = write_report(
        tmp_path_factory.mktemp("report") / "out" / "report.html",
        case_name="Example <Storage> & Co",
        results=results,
        base_dates=BASE_DATES,
        plan_results={"moving_average": results, "uniform 10%": other},
    )
    return path, path.read_text(encoding="utf-8")


def test_report_is_one_self_contained_file(report):
    path, text = report
    assert path.exists() and path.name == "report.html"
    assert text.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in text
    assert "<style>" in text
    assert not re.search(r"<(script|link|img)\b", text)
    assert not re.search(r"""(src|href)=["']https?:""", text)
    assert "@import" not in text and "url(http" not in text


def test_report_has_bilingual_headings(report):
    _, text = report
    for heading in (
        "案件概要",
        "Case summary",
        "基准日与基准价",
        "Base dates and base prices",
        "赔付金额分布",
        "Distribution of compensation",
        "赔付金额与持股规模",
        "Compensation by holding size",
        "方案比较",
        "Plan comparison",
        "赔付金额最高的20笔",
        "The 20 largest claims",
    ):
        assert heading in text, heading


def test_one_svg_per_chart(report):
    _, text = report
    assert text.count("<svg") == 3
    assert 'aria-label="Distribution of compensation"' in text
    assert 'aria-label="Compensation by holding size"' in text
    assert 'aria-label="Plan comparison"' in text
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids))


def test_chart_text_is_ascii(report):
    _, text = report
    for svg in re.findall(r"<svg.*?</svg>", text, flags=re.DOTALL):
        for label in re.findall(r">([^<>]+)<", svg):
            assert label.isascii(), label


def test_investor_ids_and_case_name_are_escaped(report):
    _, text = report
    assert "INV&lt;b&gt;&amp;&quot;3&quot;" in text
    assert "<b>&" not in text
    assert "Example &lt;Storage&gt; &amp; Co" in text


def test_summary_counts_and_totals(report):
    _, text = report
    assert "19,575.42" in text  # 7760.08 + 10013.00 + 1802.34
    assert "应予赔付" in text and "Eligible" in text
    assert "Excluded" in text and "No eligible shares" in text and "Below minimum" in text
    assert "卖出超过持仓" in text  # the oversold flag
    assert "2022-03-15" in text and "7.5000" in text and "102.1%" in text


def test_largest_claims_in_order(report):
    _, text = report
    largest = text[text.index('id="largest"') :]
    positions = [largest.index(i) for i in ("INV00000002", "INV00000001", "INV&lt;b&gt;")]
    assert positions == sorted(positions)
    assert "INV00000006" not in largest  # excluded: paid nothing


def test_comparison_table_from_plan_results(report):
    _, text = report
    plans = text[text.index('id="plans"') :]
    assert "moving_average" in plans and "uniform 10%" in plans
    assert "17,617.88" in plans  # 0.9 * 19,575.42


def test_given_comparison_without_plan_results(tmp_path):
    comparison = pl.DataFrame(
        {
            "plan": ["a", "b<script>"],
            "eligible_investors": [3, 3],
            "total_compensation": [100.0, 90.0],
            "mean": [33.33, 30.0],
            "p50": [30.0, 27.0],
            "p90": [50.0, 45.0],
            "p99": [50.0, 45.0],
            "max": [50.0, 45.0],
            "gainers": [0, 0],
            "losers": [0, 3],
        }
    )
    path = write_report(
        tmp_path / "r.html",
        case_name="c",
        results=results_frame(),
        base_dates=BASE_DATES,
        comparison=comparison,
    )
    text = path.read_text(encoding="utf-8")
    assert text.count("<svg") == 3
    assert "b&lt;script&gt;" in text and "<script>" not in text


def test_without_comparison_or_paid_claims(tmp_path):
    unpaid = [r for r in ROWS if r[-1] == 0]
    path = write_report(tmp_path / "r.html", case_name="c", results=results_frame(unpaid), base_dates=[])
    text = path.read_text(encoding="utf-8")
    assert text.count("<svg") == 2
    assert "Plan comparison" not in text
    assert "No eligible investors" in text
    assert "无获赔记录" in text
