"""``explain`` shows every factor of the relative-ratio deduction: the stock's move s, each index's move x_k,
why each ratio_k is what it is (capped at 1, or 0), and the weighted sum that gives the plan's ratio."""

from __future__ import annotations

import re
from pathlib import Path

from support.cases import day, write_case

from redress.engine.explain import explain
from redress.engine.pipeline import prepare

LEGAL_H = Path(__file__).parents[1] / "legal" / "cases" / "h_relative_ratio_two_indices"


def _steps(case_dir: Path, investor: str) -> dict[str, dict]:
    found = explain(prepare(case_dir), investor)
    return {s.label: {"formula": s.formula, "value": s.value} for s in found.securities[0].steps}


def _weighted_sum(formula: str) -> float:
    terms = formula.rsplit(" = ", 1)[1].split(" + ")
    return sum(float(w) * float(r) for w, r in (t.split(" * ") for t in terms))


def test_relative_ratio_steps_name_the_cap_and_the_rising_index():
    capped = _steps(LEGAL_H, "INV001")
    assert "fall s = 0.1" in capped["stock move"]["formula"]
    assert "fall x = 0.05; ratio x / s = 0.05 / 0.1 = 0.5" in capped["index moves"]["formula"]
    assert "fall x = 0.128; x >= s, so ratio min(1, 0.128 / 0.1) = 1" in capped["index moves"]["formula"]
    assert capped["relative ratio"]["formula"].endswith("= 0.6 * 0.5 + 0.4 * 1")
    rising = _steps(LEGAL_H, "INV002")
    assert "fall x = -0.037037; x <= 0, so ratio 0" in rising["index moves"]["formula"]
    for steps in (capped, rising):  # the terms shown add up to the ratio the engine applied
        ratio = steps["relative ratio"]
        assert abs(_weighted_sum(ratio["formula"]) - float(ratio["value"])) < 1e-6


def test_deflation_explains_rises(tmp_path):
    closes = "".join(f"IDX,{day(k)},{1000 if k < 20 else 1100}\n" for k in range(1, 61))
    case = write_case(
        tmp_path / "case", direction="deflation", positions=["A,a1,600001,1000"],
        trades=[f"A,a1,600001,{day(5)},10:00:00,1,S,1000,6.00", f"A,a1,600001,{day(22)},10:00:00,1,B,400,9.00"],
        extra_plan='[plan.systemic_risk]\nmethod = "relative_ratio"\nindices = { "IDX" = 1.0 }\n',
        files={"indices.csv": "index,date,close\n" + closes})
    steps = _steps(case, "A")
    # stock: 6.00 -> (9.00 * 400 + 7.50 * 600) / 1,000 = 8.10, a rise of 0.35; the index rose 10%
    assert steps["stock move"]["value"] == "6 -> 8.1"
    assert "rise s = 0.35" in steps["stock move"]["formula"]
    assert "rise x = 0.1; ratio x / s = 0.1 / 0.35 = 0.285714" in steps["index moves"]["formula"]
    assert steps["relative ratio"]["value"] == "0.285714"
    assert re.search(r"= 1 \* 0\.285714$", steps["relative ratio"]["formula"])


def test_deflation_steps_use_numbers_and_cite_each_article_once():
    legal_n = LEGAL_H.parent / "n_spc2003_deflation_interest"
    found = explain(prepare(legal_n), "INV001").securities[0].steps
    steps = {s.label: s for s in found}
    window = steps["sell window [I, D)"]
    assert window.article.count("SPC-2003 Art. 20;") == 1  # Art. 20 defines both I and D in the 2003 provisions
    assert steps["difference loss"].formula.endswith("(10.3444 - 8.5) * 1,800 + (10.45 - 8.5) * 600")
    # the window sells (2,000 on 4 March, 1,000 on 16 March) weigh to 8 March; the closings to 47 2/3 days later
    assert steps["interest days"].value == "47.6667"
    assert "the sells in [I, D)" in steps["interest days"].formula


def test_deflation_trades_table_has_no_moving_average_columns():
    from typer.testing import CliRunner

    from redress.cli.main import app

    runner = CliRunner()
    deflation = runner.invoke(app, ["explain", str(LEGAL_H.parent / "n_spc2003_deflation_interest"), "INV001"])
    inflation = runner.invoke(app, ["explain", str(LEGAL_H), "INV001"])
    assert deflation.exit_code == 0 and inflation.exit_code == 0
    assert "moving average cost" not in deflation.output and "sell window" in deflation.output
    assert "moving average cost" in inflation.output
