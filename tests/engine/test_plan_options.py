"""The plan options where published practice differs: the turnover denominator, the sells ``actual_cost``
subtracts, and SPC-2003's day counting.  Each is driven through the ``redress`` command as a user types it,
with figures worked by hand, and the defaults leave results as they were."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from tests.support.cases import day, write_case


def redress(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "redress.cli.main", *args], capture_output=True, text=True)


def base_dates(root: Path) -> dict:
    run = redress("base-date", str(root), "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    return {b["security"]: b for b in json.loads(run.stdout)}


def compute(root: Path, tmp_path: Path) -> pl.DataFrame:
    out = tmp_path / f"{root.name}.csv"
    run = redress("compute", str(root), "--out", str(out))
    assert run.returncode == 0, run.stdout + run.stderr
    return pl.read_csv(out)


def _market(root: Path, rows: list[tuple[int, str, int, int]]) -> None:
    lines = ["security,date,close,volume,tradable_shares"]
    lines += [f"600001,{day(k)},{close},{volume},{shares}" for k, close, volume, shares in rows]
    (root / "market.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _float_change_case(root: Path, extra_plan: str = "") -> Path:
    """D = session 20 with 1,000,000 tradable shares; from session 21 the float is 2,000,000 (a lock-up ends).
    Each day trades 100,000 shares: 10% of the float on D, 5% of the later float."""
    write_case(root, i=3, d=20, extra_plan=extra_plan)
    _market(root, [(k, "10.00" if k < 20 else "7.50", 100_000, 1_000_000 if k <= 20 else 2_000_000)
                   for k in range(1, 61)])
    return root


def test_turnover_over_the_float_on_d_reaches_100_percent_sooner(tmp_path):
    # daily: 10% on day 1, then 5% a day: 100% on day 1 + 18 = day 19, so B = day 19 = session 38
    daily = base_dates(_float_change_case(tmp_path / "daily"))["600001"]
    assert daily["base_date"] == day(38) and daily["trading_days"] == 19
    # over the float on D: 10% a day, 100% on day 10, so B = day 10 (Art. 26) = session 29
    on_d = base_dates(_float_change_case(tmp_path / "on_d", 'turnover_denominator = "disclosure_date"\n'))
    assert on_d["600001"]["base_date"] == day(29) and on_d["600001"]["trading_days"] == 10
    assert on_d["600001"]["cumulative_turnover"] == pytest.approx(1.0)
    given = base_dates(_float_change_case(tmp_path / "given", 'turnover_denominator = "daily"\n'))
    assert given == {"600001": daily}


def test_the_float_on_d_is_taken_from_the_row_dated_d_even_without_trading(tmp_path):
    """Suspended on D (volume 0, float 500,000): the float on D is still that row's."""
    root = write_case(tmp_path / "c", i=3, d=20, extra_plan='turnover_denominator = "disclosure_date"\n')
    _market(root, [(k, "10.00" if k < 20 else "7.50", 0 if k == 20 else 100_000, 500_000 if k <= 20 else 2_000_000)
                   for k in range(1, 61)])
    found = base_dates(root)["600001"]
    # 100,000 / 500,000 = 20% a day from session 21 (day 1): 100% on day 5, so B = day 10 = session 30
    assert found["base_date"] == day(30) and found["cumulative_turnover"] == pytest.approx(2.0)


def _never_case(root: Path, rules: str, extra_plan: str, d_volume: int = 10_000) -> Path:
    write_case(root, i=3, d=20, rules=rules, extra_plan=extra_plan)
    _market(root, [(k, "10.00" if k < 20 else "7.50", d_volume if k == 20 else 10_000, 1_000_000)
                   for k in range(1, 70)])
    return root


def test_spc2003_day_after_counts_the_fallback_from_the_day_after_d(tmp_path):
    # 1% a day never reaches 100% in the file: the fallback day 30
    plain = base_dates(_never_case(tmp_path / "plain", "spc2003", ""))["600001"]
    assert plain["base_date"] == day(49) and plain["trading_days"] == 30
    after = base_dates(_never_case(tmp_path / "after", "spc2003", 'day_one = "day_after"\n'))["600001"]
    assert after["base_date"] == day(50) and after["trading_days"] == 31  # D traded: D is day 0, B = 30th after
    # not trading on D: the first trading day after D is day 1 either way
    quiet = base_dates(_never_case(tmp_path / "quiet", "spc2003", 'day_one = "day_after"\n', d_volume=0))
    assert quiet["600001"]["base_date"] == day(50) and quiet["600001"]["trading_days"] == 30
    run = redress("base-date", str(tmp_path / "after"))
    assert "揭露日后第30个交易日" in run.stdout


def test_day_after_is_refused_under_spc2022(tmp_path):
    root = _never_case(tmp_path / "c", "spc2022", 'day_one = "day_after"\n')
    run = redress("compute", str(root), "--out", str(tmp_path / "o.csv"))
    assert run.returncode != 0 and "plan.day_one" in run.stdout + run.stderr
    assert not (tmp_path / "o.csv").exists()


def _actual_cost_case(root: Path, sells: str, window_sell: int) -> Path:
    """1,000 shares held before the file; 1,000 bought at 12.00 in the window; ``window_sell`` sold at 13.00 in
    the window (FIFO takes them from the opening position); P_B = 7.50."""
    return write_case(root, i=3, d=20, positions=["A,a1,600001,1000"],
                      trades=[f"A,a1,600001,{day(5)},10:00:00,1,B,1000,12.00",
                              f"A,a1,600001,{day(8)},10:00:00,1,S,{window_sell},13.00"],
                      extra_plan=f'actual_cost_sells = "{sells}"\n')


def _with_cost(root: Path) -> Path:
    toml = (root / "case.toml").read_text(encoding="utf-8").replace('"moving_average"', '"actual_cost"')
    (root / "case.toml").write_text(toml, encoding="utf-8")
    return root


def test_actual_cost_every_window_sell(tmp_path):
    part = compute(_with_cost(_actual_cost_case(tmp_path / "part", "eligible_part", 600)), tmp_path).row(0, named=True)
    every = compute(_with_cost(_actual_cost_case(tmp_path / "all", "all_window_sells", 600)), tmp_path).row(0, named=True)
    # the window sell used up opening shares only: the eligible part subtracts nothing, avg 12.00
    assert part["avg_buy"] == 12.0 and part["difference_loss"] == pytest.approx(4500.0)
    # every window sell: (12,000 - 600 x 13.00) / (1,000 - 600) = 4,200 / 400 = 10.50
    assert every["avg_buy"] == 10.5 and every["q_held"] == 1000
    assert every["difference_loss"] == pytest.approx(3000.0)  # (10.50 - 7.50) x 1,000


def test_actual_cost_every_window_sell_with_nothing_left_net(tmp_path):
    """Sold 1,200 in the window after buying 1,000 in it: nothing bought in the window is left on a net basis."""
    root = _with_cost(_actual_cost_case(tmp_path / "net", "all_window_sells", 1200))
    row = compute(root, tmp_path).row(0, named=True)
    assert row["status"] == "no_eligible_shares" and row["compensation"] == 0 and row["eligible_bought"] == 1000
    run = redress("explain", str(root), "A", "--json")
    assert run.returncode == 0, run.stderr
    steps = {s["label"]: s for s in json.loads(run.stdout)["securities"][0]["steps"]}
    assert "every sell dated in [I, D)" in steps["avg_buy (actual_cost, all_window_sells)"]["formula"]
    assert "net basis" in steps["status"]["formula"]


def test_the_defaults_are_today_s_behaviour(tmp_path):
    plain = compute(_float_change_case(tmp_path / "plain"), tmp_path)
    spelled = compute(_float_change_case(tmp_path / "spelled", 'turnover_denominator = "daily"\n'
                                         'actual_cost_sells = "eligible_part"\nday_one = "disclosure_date"\n'),
                      tmp_path)
    assert plain.equals(spelled)


def test_a_compared_plan_cannot_change_the_base_date_keys(tmp_path):
    root = _float_change_case(tmp_path / "c")
    other = tmp_path / "other.toml"
    other.write_text('[plan]\nturnover_denominator = "disclosure_date"\n', encoding="utf-8")
    run = redress("compare", str(root), "--plan", str(other))
    assert run.returncode != 0 and "turnover_denominator" in run.stdout + run.stderr
    fine = tmp_path / "fine.toml"
    fine.write_text('[plan]\ncost_method = "actual_cost"\nactual_cost_sells = "all_window_sells"\n', encoding="utf-8")
    assert redress("compare", str(root), "--plan", str(fine)).returncode == 0
