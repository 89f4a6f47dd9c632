"""The market-model deduction: the fitted beta against statsmodels' OLS, the window, and every refusal."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

from redress.engine.pipeline import compute_case_dir, market_fits, prepare
from redress.errors import CaseError
from tests.property.test_engine_vs_reference import compare
from tests.reference.loss_reference import compute_reference
from tests.support.cases import day, write_case

LEGAL = Path(__file__).parents[1] / "legal" / "cases" / "t_market_model_deduction"


def _random_case(root: Path, *, days: int = 40, gap: int = 5, two_indices: bool = False, seed: int = 7,
                 extra_systemic: str = "", fall: float = 0.004) -> tuple[Path, list[float], dict[str, list[float]]]:
    """A case whose market follows an index (beta about 1.3) with noise; I = session 60, D = session 75."""
    rng = random.Random(seed)
    n = 110
    stock, idx_a, idx_b = [20.0], [3000.0], [1500.0]
    for k in range(1, n):
        drift = -fall if k >= 60 else 0.0  # the market falls from I on: part of every loss is the market's
        ma, mb = rng.gauss(drift, 0.012), rng.gauss(drift, 0.01)
        idx_a.append(idx_a[-1] * (1 + ma))
        idx_b.append(idx_b[-1] * (1 + mb))
        stock.append(max(1.0, stock[-1] * (1 + 1.3 * (0.7 * ma + 0.3 * mb) + rng.gauss(0, 0.006))))
    closes = [round(c, 2) for c in stock]
    weights = '{ "000001" = 0.7, "399001" = 0.3 }' if two_indices else '{ "000001" = 1.0 }'
    market = ["security,date,close,volume,tradable_shares"]
    market += [f"600001,{day(k + 1)},{closes[k]:.2f},20000,1000000" for k in range(n)]
    indices = ["index,date,close"] + [f"000001,{day(k + 1)},{idx_a[k]:.2f}" for k in range(n)]
    indices += [f"399001,{day(k + 1)},{idx_b[k]:.2f}" for k in range(n)]
    write_case(root, i=60, d=75, market_days=0,
               trades=[f"A,a1,600001,{day(62)},10:00:00,1,B,1000,{closes[61] * 1.5:.2f}",
                       f"B,b1,600001,{day(70)},10:00:00,1,B,600,{closes[69] * 1.4:.2f}",
                       f"B,b1,600001,{day(80)},10:00:00,1,S,300,{closes[79]:.2f}"],
               extra_plan=f'\n[plan.systemic_risk]\nmethod = "market_model"\nindices = {weights}\n'
                          f"estimation_days = {days}\nestimation_gap = {gap}\n{extra_systemic}",
               files={"indices.csv": "\n".join(indices) + "\n"})
    (root / "market.csv").write_text("\n".join(market) + "\n", encoding="utf-8")
    return root, [float(c) for c in closes], {"000001": [round(x, 2) for x in idx_a],
                                              "399001": [round(x, 2) for x in idx_b]}


@pytest.mark.parametrize("two_indices", [False, True])
def test_beta_is_statsmodels_ols_on_the_estimation_window(tmp_path, two_indices):
    root, closes, idx = _random_case(tmp_path / "c", two_indices=two_indices)
    prep = prepare(root)
    fit = market_fits(prep, prep.case.plan)["600001"]
    # I is session 60: 59 trading days before it; leave out 5, keep 40 returns, so closes of sessions 14..54
    window = np.array(closes[13:54])
    r = window[1:] / window[:-1] - 1
    weights = {"000001": 0.7, "399001": 0.3} if two_indices else {"000001": 1.0}
    m = sum(w * (np.array(idx[c][14:54]) / np.array(idx[c][13:53]) - 1) for c, w in weights.items())
    ols = sm.OLS(r, sm.add_constant(m)).fit()
    assert fit.returns == 40
    assert fit.first_day == dt.date.fromisoformat(day(15)) and fit.last_day == dt.date.fromisoformat(day(54))
    assert fit.beta == pytest.approx(ols.params[1], rel=1e-12, abs=1e-12)
    assert fit.alpha == pytest.approx(ols.params[0], rel=1e-9, abs=1e-12)
    assert fit.r_squared == pytest.approx(ols.rsquared, rel=1e-9)
    assert 0.5 < fit.beta < 2.5  # the case is built with beta 1.3: a wrong window would not find it


def test_the_legal_case_beta_is_fifteen_sevenths_by_statsmodels_too():
    r = np.array([0.05, -0.10, 0.05])
    m = np.array([0.02, -0.05, 0.02])
    assert sm.OLS(r, sm.add_constant(m)).fit().params[1] == pytest.approx(15 / 7, rel=1e-12)
    prep = prepare(LEGAL)
    assert market_fits(prep, prep.case.plan)["600301"].beta == pytest.approx(15 / 7, rel=1e-12)


@pytest.mark.parametrize("two_indices,share", [(False, ""), (True, ""), (True, "deducted_share = 0.5")])
def test_results_match_the_exact_reference(tmp_path, two_indices, share):
    root, _, _ = _random_case(tmp_path / "c", two_indices=two_indices, extra_systemic=share)
    got = compute_case_dir(root)
    assert not compare(compute_reference(root), got.to_dicts())
    assert (got["systemic_deduction"] > 0).any()


def test_half_the_deduction_with_deducted_share(tmp_path):
    full = compute_case_dir(_random_case(tmp_path / "a")[0])
    half = compute_case_dir(_random_case(tmp_path / "b", extra_systemic="deducted_share = 0.5")[0])
    assert half["systemic_deduction"].to_list() == pytest.approx(
        [round(x / 2, 2) for x in full["systemic_deduction"].to_list()], abs=0.011)


def _refusal(root: Path) -> str:
    with pytest.raises(CaseError) as err:
        compute_case_dir(root)
    return str(err.value)


def test_too_few_trading_days_before_i_is_refused_naming_the_security(tmp_path):
    root, _, _ = _random_case(tmp_path / "c", days=55, gap=5)
    text = _refusal(root)
    assert "market.csv" in text and "600001" in text and "needs 61" in text


def test_a_flat_index_has_no_beta(tmp_path):
    root, _, _ = _random_case(tmp_path / "c")
    flat = ["index,date,close"] + [f"000001,{day(k)},3000.00" for k in range(1, 111)]
    (root / "indices.csv").write_text("\n".join(flat) + "\n", encoding="utf-8")
    assert "no beta can be fitted" in _refusal(root)


def test_an_index_starting_after_the_window_is_refused(tmp_path):
    root, _, _ = _random_case(tmp_path / "c")
    late = ["index,date,close"] + [f"000001,{day(k)},{3000 + k}.00" for k in range(30, 111)]
    (root / "indices.csv").write_text("\n".join(late) + "\n", encoding="utf-8")
    text = _refusal(root)
    assert "indices.csv" in text and "000001" in text and "estimation window" in text


@pytest.mark.parametrize("systemic,message", [
    ('method = "market_model"\nindices = { "000001" = 1.0 }', "estimation_days"),
    ('method = "market_model"\nindices = { "000001" = 1.0 }\nestimation_days = 1\nestimation_gap = 0',
     "estimation_days"),
    ('method = "market_model"\nindices = { "000001" = 1.0 }\nestimation_days = 30.5\nestimation_gap = 0',
     "whole number"),
    ('method = "market_model"\nestimation_days = 30\nestimation_gap = 0', "indices"),
    ('method = "uniform_ratio"\nratio = 0.2\ndeducted_share = 0.5', "deducted_share"),
    ('method = "relative_ratio"\nindices = { "000001" = 1.0 }\ndeducted_share = 1.5', "deducted_share"),
])
def test_bad_market_model_keys_are_refused_by_the_command(tmp_path, systemic, message):
    root = write_case(tmp_path / "c", extra_plan=f"\n[plan.systemic_risk]\n{systemic}\n")
    out = tmp_path / "out.csv"
    run = subprocess.run([sys.executable, "-m", "redress.cli.main", "compute", str(root), "--out", str(out)],
                         capture_output=True, text=True)
    assert run.returncode != 0
    assert message in run.stdout + run.stderr and "case.toml" in run.stdout + run.stderr
    assert not out.exists()


def test_explain_shows_beta_and_the_ratio(tmp_path):
    run = subprocess.run([sys.executable, "-m", "redress.cli.main", "explain", str(LEGAL), "INV002", "--json"],
                         capture_output=True, text=True, check=True)
    doc = json.loads(run.stdout)
    steps = {s["label"]: s for sec in doc["securities"] for s in sec["steps"]}
    assert steps["market model beta"]["value"] == "2.142857"
    assert steps["market-model ratio"]["value"] == "0.270677"
    assert steps["systemic-risk deduction"]["value"] == "812.03"
    assert pl.read_csv(LEGAL / "expected.csv")["systemic_deduction"].to_list()[1] == 812.03


def _as_statements(root: Path) -> Path:
    """The same case with two chained statements: each fits its own beta on the window before its own I."""
    toml = (root / "case.toml").read_text(encoding="utf-8")
    toml = toml.replace(f'implementation_date = "{day(60)}"\ndisclosure_date = "{day(75)}"\n',
                        'statements_rule = "each"\n'
                        f'\n[[case.statements]]\nid = "s1"\nimplementation_date = "{day(60)}"\n'
                        f'disclosure_date = "{day(68)}"\n'
                        f'\n[[case.statements]]\nid = "s2"\nimplementation_date = "{day(68)}"\n'
                        f'disclosure_date = "{day(75)}"\n')
    assert "[[case.statements]]" in toml
    (root / "case.toml").write_text(toml, encoding="utf-8")
    return root


@pytest.mark.parametrize("path", ["out_of_core", "cluster"])
def test_market_model_with_statements_out_of_core_and_on_a_cluster(tmp_path, path):
    from redress.engine.batch import compute_case
    from tests.property.test_statements import compare_statements, read_output

    root = _as_statements(_random_case(tmp_path / "c", extra_systemic="deducted_share = 0.5", fall=0.012)[0])
    prep = prepare(root)
    fits = [market_fits(prep.for_statement(s), prep.case.for_statement(s).plan)["600001"]
            for s in prep.case.statements]
    assert fits[0].last_day < fits[1].last_day  # each statement's window ends before its own I
    out = tmp_path / "out" / "results.csv"
    if path == "cluster":
        pytest.importorskip("distributed")
        from redress.engine.cluster import dask_runner

        with dask_runner("local:2") as runner:
            compute_case(root, out, runner=runner, n_workers=2, work_dir=tmp_path / "work")
    else:
        compute_case(root, out, n_partitions=3, work_dir=tmp_path / "work")
    expected = compute_reference(root)
    assert {r["statement"] for r in expected} == {"s1", "s2"}
    assert sum(Decimal(str(r["systemic_deduction"])) > 0 for r in expected) == 2  # one under each statement
    columns, rows = read_output(out)
    assert not compare_statements(expected, rows, columns)
