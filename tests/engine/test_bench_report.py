"""The engine benchmark's report: the median of several end-to-end runs, with their spread and highest peaks."""

from __future__ import annotations

from redress.bench.__main__ import markdown, median_run, runs_for


def _run(seconds, peak, engine_peak):
    return {"seconds": seconds, "kernel_seconds": seconds / 20, "peak_rss_bytes": peak, "groups": 1,
            "phases": {"read_validate": seconds / 2}, "engine_peak_bytes": engine_peak}


def test_the_median_run_is_reported_with_every_time_and_the_highest_peaks():
    runs = [_run(0.21, 5, 3), _run(0.18, 9, 2), _run(0.19, 4, 7)]
    middle = median_run(runs)
    assert middle["seconds"] == 0.19 and middle["kernel_seconds"] == 0.19 / 20
    assert middle["runs_seconds"] == [0.18, 0.19, 0.21]
    assert (middle["peak_rss_bytes"], middle["engine_peak_bytes"]) == (9, 7)
    assert median_run(runs[:2])["seconds"] == 0.21  # of an even number, the slower middle one
    assert median_run([_run(0.2, 1, None), _run(0.3, 1, 5)])["engine_peak_bytes"] is None


def test_small_cases_run_more_often():
    assert [runs_for(n) for n in (20_000, 1_000_000, 1_000_001, 10_000_000, 50_000_000)] == [5, 5, 3, 3, 1]


def test_the_table_shows_the_median_and_the_spread():
    row = {"trades": 1_000_000, "floor_seconds": 0.26, "floor_trades_bytes": 60 * 2**20,
           **median_run([_run(0.21, 2**30, 2**27), _run(0.18, 2**30, 2**27), _run(0.19, 2**30, 2**27)])}
    text = markdown({"date": "2026-11-24", "machine": "2 cores", "python": "3.11", "results": [row]})
    line = next(x for x in text.splitlines() if x.startswith("| 1,000,000 |"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[2:5] == ["0.19", "median of 3 runs, 0.180 to 0.210 s", "5.3"]
