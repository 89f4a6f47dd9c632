"""redress batch: every case of a folder, a refused case reported without stopping the others."""

from __future__ import annotations

import shutil
from pathlib import Path

from redress.engine.pipeline import compute, prepare
from tests.scale.helpers import cli, insert_lines, small_case


def test_batch_good_broken_and_bad_trades(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    good = small_case(cases / "a-good", n_trades=1500)
    broken = small_case(cases / "b-broken-toml", n_trades=500, seed=2)
    (broken / "case.toml").write_text((broken / "case.toml").read_text() + "\nnonsense_key = 3\n")
    bad = small_case(cases / "c-bad-trades", n_trades=500, seed=3)
    insert_lines(bad / "trades.csv", {3: "X1,ACC,688123,2021-01-04,,1,B,-5,1.0"})
    (cases / "not-a-case").mkdir()
    out = tmp_path / "out"
    result = cli("batch", cases, "--out-dir", out, "--memory", "1KB")
    assert result.exit_code == 1, result.output
    text = result.output
    assert "a-good" in text and "b-broken-toml" in text and "c-bad-trades" in text
    assert "nonsense_key" in text
    assert "trades.csv:4" in text
    compute(prepare(good, keep_trade_columns=False)).write(tmp_path / "memory.csv")
    assert (out / "a-good" / "results.csv").read_bytes() == (tmp_path / "memory.csv").read_bytes()
    assert not (out / "b-broken-toml" / "results.csv").exists()
    assert not (out / "c-bad-trades" / "results.csv").exists()
    assert not (out / "not-a-case").exists()


def test_batch_all_good_exit_zero(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    small_case(cases / "one", n_trades=300)
    shutil.copytree(cases / "one", cases / "two")
    result = cli("batch", cases, "--skip-bad-rows")
    assert result.exit_code == 0, result.output
    assert (cases / "one" / "results.csv").read_bytes() == (cases / "two" / "results.csv").read_bytes()
