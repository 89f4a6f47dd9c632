"""``redress compute``, ``batch``, ``base-date`` and ``compare`` on cases with several false statements."""

from __future__ import annotations

import json

import polars as pl
from typer.testing import CliRunner

from redress.cli.main import app
from redress.engine.pipeline import OUTPUT_COLUMNS
from support.cases import day
from tests.engine.test_statements import CHAINED, TRADES, multi_case, single_case

runner = CliRunner()
STATEMENT_COLUMNS = OUTPUT_COLUMNS[:2] + ["statement"] + OUTPUT_COLUMNS[2:]


def test_compute_csv_and_parquet_carry_the_statement_column(tmp_path):
    case = multi_case(tmp_path / "case")
    out = tmp_path / "out.csv"
    res = runner.invoke(app, ["compute", str(case), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text().splitlines()[0] == ",".join(STATEMENT_COLUMNS)
    table = pl.read_csv(out, infer_schema=False)
    assert table.filter(pl.col("investor_id") == "A")["statement"].to_list() == ["s1", "s2"]
    assert "statement s1" in res.output and "statement s2" in res.output
    res = runner.invoke(app, ["compute", str(case), "--out", str(tmp_path / "o.parquet"), "-q"])
    assert res.exit_code == 0, res.output
    assert pl.read_parquet(tmp_path / "o.parquet").columns == STATEMENT_COLUMNS


def test_one_statement_output_has_no_statement_column(tmp_path):
    case = single_case(tmp_path / "case", 3, 20)
    out = tmp_path / "out.csv"
    assert runner.invoke(app, ["compute", str(case), "--out", str(out), "-q"]).exit_code == 0
    assert out.read_text().splitlines()[0] == ",".join(OUTPUT_COLUMNS)


def test_a_refused_statement_list_writes_nothing(tmp_path):
    case = multi_case(tmp_path / "case", [("s1", 3, 12, ""), ("s2", 10, 20, "")])
    out = tmp_path / "out.csv"
    res = runner.invoke(app, ["compute", str(case), "--out", str(out)])
    assert res.exit_code == 2 and "overlap" in res.output and "'s1'" in res.output
    assert not out.exists()


def test_memory_out_of_core_and_local_cluster_give_the_same_file(tmp_path):
    case = multi_case(tmp_path / "case", rule="best_for_investor")
    paths = {name: tmp_path / f"{name}.csv" for name in ("memory", "partitions", "cluster")}
    assert runner.invoke(app, ["compute", str(case), "--out", str(paths["memory"]), "-q"]).exit_code == 0
    res = runner.invoke(app, ["compute", str(case), "--out", str(paths["partitions"]), "--partitions", "3",
                              "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["compute", str(case), "--out", str(paths["cluster"]), "--cluster", "local:2",
                              "-q"])
    assert res.exit_code == 0, res.output
    memory = paths["memory"].read_bytes()
    assert paths["partitions"].read_bytes() == memory and paths["cluster"].read_bytes() == memory
    assert b",statement," in memory.splitlines()[0]


def test_skip_bad_rows_rejects_a_row_once(tmp_path):
    case = multi_case(tmp_path / "case", trades=TRADES + [f"E,e1,600001,{day(7)},10:00:00,1,B,-5,10.00"])
    out = tmp_path / "o" / "results.csv"
    res = runner.invoke(app, ["compute", str(case), "--out", str(out), "--skip-bad-rows", "-q"])
    assert res.exit_code == 0, res.output
    assert pl.read_csv(out.parent / "rejected.csv").height == 1


def test_batch_computes_a_case_with_statements(tmp_path):
    multi_case(tmp_path / "cases" / "multi")
    single_case(tmp_path / "cases" / "single", 3, 20)
    res = runner.invoke(app, ["batch", str(tmp_path / "cases"), "--out-dir", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "statement" in pl.read_csv(tmp_path / "out" / "multi" / "results.csv").columns
    assert "statement" not in pl.read_csv(tmp_path / "out" / "single" / "results.csv").columns


def test_base_date_json_one_object_per_statement_and_security(tmp_path):
    case = multi_case(tmp_path / "case")
    res = runner.invoke(app, ["base-date", str(case), "--json"])
    assert res.exit_code == 0, res.output
    items = json.loads(res.stdout)
    assert [(i["statement"], i["security"]) for i in items] == [("s1", "600001"), ("s2", "600001")]
    assert set(items[0]) == {"statement", "security", "base_date", "base_price", "trading_days",
                             "cumulative_turnover", "flags"}
    for item, (sid, i, d, _) in zip(items, CHAINED, strict=True):
        alone = json.loads(runner.invoke(app, ["base-date", str(single_case(tmp_path / sid, i, d)), "--json"]
                                         ).stdout)[0]
        assert {k: v for k, v in item.items() if k != "statement"} == alone
    assert items[0]["base_date"] != items[1]["base_date"]
    text = runner.invoke(app, ["base-date", str(case)])
    assert text.exit_code == 0 and "statement s2" in text.output


def test_compare_totals_per_investor_over_the_statements(tmp_path):
    case = multi_case(tmp_path / "case")
    half = tmp_path / "half.toml"
    half.write_text('[plan.systemic_risk]\nmethod = "uniform_ratio"\nratio = 0.5\n')
    res = runner.invoke(app, ["compare", str(case), "--plan", str(half), "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["plan"]: r for r in json.loads(res.stdout)}
    computed = tmp_path / "out.csv"
    assert runner.invoke(app, ["compute", str(case), "--out", str(computed), "-q"]).exit_code == 0
    table = pl.read_csv(computed)
    assert abs(rows["case.toml"]["total_compensation"] - table["compensation"].sum()) < 0.005
    paid = table.filter(pl.col("compensation") > 0)["investor_id"].n_unique()
    assert rows["case.toml"]["eligible_investors"] == paid
    assert rows["half"]["total_compensation"] < rows["case.toml"]["total_compensation"]
    assert rows["half"]["losers"] == paid
