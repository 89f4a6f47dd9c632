"""The command line, as a user (or an acceptance test) runs it."""

from __future__ import annotations

import json

import polars as pl
from typer.testing import CliRunner

from redress.cli.main import app
from redress.engine.pipeline import OUTPUT_COLUMNS
from support.cases import day, write_case

runner = CliRunner()


def test_compute_writes_the_spec_columns_and_a_summary(tmp_path):
    case = write_case(tmp_path / "case")
    out = tmp_path / "out" / "results.csv"
    res = runner.invoke(app, ["compute", str(case), "--out", str(out)])
    assert res.exit_code == 0, res.output
    header = out.read_text().splitlines()[0]
    assert header == ",".join(OUTPUT_COLUMNS)
    row = pl.read_csv(out, infer_schema=False).row(0, named=True)
    # 1000 eligible shares at 12.00; 400 sold at 8.00 in [D, B]; base price 7.50 (all closes from D)
    assert row["difference_loss"] == f"{(12 - 8) * 400 + (12 - 7.5) * 600:.2f}"
    assert row["avg_buy"] == "12.0000"
    assert "eligible" in res.output and "基准日" in res.output


def test_compute_parquet_output(tmp_path):
    case = write_case(tmp_path / "case")
    out = tmp_path / "results.parquet"
    assert runner.invoke(app, ["compute", str(case), "--out", str(out), "-q"]).exit_code == 0
    assert pl.read_parquet(out).columns == OUTPUT_COLUMNS


def test_bad_input_exits_nonzero_and_writes_nothing(tmp_path):
    case = write_case(tmp_path / "case", trades=[f"A,a1,600001,{day(5)},10:00:00,1,B,-1,12.00"])
    out = tmp_path / "results.csv"
    res = runner.invoke(app, ["compute", str(case), "--out", str(out)])
    assert res.exit_code == 2
    assert "trades.csv:2" in res.output and "positive integer" in res.output
    assert not out.exists()
    assert not (tmp_path / "rejected.csv").exists()


def test_bad_case_toml_exits_nonzero(tmp_path):
    case = write_case(tmp_path / "case", extra_plan="foo = 1\n")
    res = runner.invoke(app, ["compute", str(case), "--out", str(tmp_path / "r.csv")])
    assert res.exit_code == 2 and "plan.foo" in res.output
    assert not (tmp_path / "r.csv").exists()


def test_skip_bad_rows_writes_rejected_beside_output(tmp_path):
    case = write_case(tmp_path / "case", trades=[f"A,a1,600001,{day(5)},10:00:00,1,B,1000,12.00",
                                                 f"B,b1,600001,{day(5)},10:00:00,1,B,-1,12.00"])
    out = tmp_path / "o" / "results.csv"
    res = runner.invoke(app, ["compute", str(case), "--out", str(out), "--skip-bad-rows"])
    assert res.exit_code == 0, res.output
    rejected = pl.read_csv(out.parent / "rejected.csv")
    assert rejected.columns == ["file", "line", "reason", "row"]
    assert rejected.row(0, named=True)["line"] == 3
    assert pl.read_csv(out)["investor_id"].to_list() == ["A"]


def test_base_date_json(tmp_path):
    case = write_case(tmp_path / "case")
    res = runner.invoke(app, ["base-date", str(case), "--json"])
    assert res.exit_code == 0, res.output
    items = json.loads(res.stdout)
    assert items[0]["security"] == "600001"
    assert set(items[0]) == {"security", "base_date", "base_price", "trading_days", "cumulative_turnover", "flags"}
    # 1% turnover a day never reaches 100% -> SPC-2022 Art. 26: day 30 after D (day 20) is session 49
    assert items[0]["base_date"] == day(49) and items[0]["trading_days"] == 30
    assert abs(items[0]["cumulative_turnover"] - 0.30) < 1e-12


def test_explain_shows_lots_formulas_and_articles(tmp_path):
    case = write_case(tmp_path / "case")
    res = runner.invoke(app, ["explain", str(case), "A"])
    assert res.exit_code == 0, res.output
    assert "SPC-2022 Art. 27" in res.output and "#1 eligible" in res.output
    assert "a1" in res.output  # accounts merged per investor (SPC-2022 Art. 30) are shown
    data = json.loads(runner.invoke(app, ["explain", str(case), "A", "--json"]).stdout)
    assert data["securities"][0]["result"]["compensation"] > 0
    assert runner.invoke(app, ["explain", str(case), "nobody"]).exit_code == 2


def test_compare_plans(tmp_path):
    case = write_case(tmp_path / "case", trades=[f"A,a1,600001,{day(5)},10:00:00,1,B,1000,12.00",
                                                 f"A,a1,600001,{day(8)},10:00:00,1,B,1000,10.00",
                                                 f"A,a1,600001,{day(10)},10:00:00,1,S,1000,11.00"])
    fifo = tmp_path / "fifo.toml"
    fifo.write_text('[plan]\ncost_method = "fifo"\n')
    half = tmp_path / "half.toml"
    half.write_text('[plan.systemic_risk]\nmethod = "uniform_ratio"\nratio = 0.5\n')
    res = runner.invoke(app, ["compare", str(case), "--plan", str(fifo), "--plan", str(half), "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["plan"]: r for r in json.loads(res.stdout)}
    assert set(rows) == {"case.toml", "fifo", "half"}
    # moving average: C = 11.00 after both buys, 1000 held at D -> (11 - 7.5) * 1000
    # fifo: the sell consumed the 12.00 lot, the 10.00 lot is held -> (10 - 7.5) * 1000
    assert rows["fifo"]["total_compensation"] < rows["case.toml"]["total_compensation"]
    assert rows["fifo"]["losers"] == 1 and rows["half"]["losers"] == 1
    assert runner.invoke(app, ["compare", str(case), "--plan", str(fifo)]).exit_code == 0


def test_law_show(tmp_path):
    res = runner.invoke(app, ["law", "show", "stamp_duty", "--on", "2023-09-01"])
    assert res.exit_code == 0 and "0.0005" in res.output


def test_help_is_bilingual():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0 and "赔付" in res.output
