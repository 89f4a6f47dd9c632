"""``redress compare``: the same case under several plans, side by side (for hearings on the plan).

A case with several statements is compared on what each investor is owed under the case's
``statements_rule`` (the sum of the statements' rows under ``each``, the best statement's row under
``best_for_investor``); a plan is then one per statement (``engine.statements.PlanChoice``), each with the
defaults in force on that statement's disclosure date."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from redress.engine.pipeline import Prepared, Result
from redress.engine.statements import PlanChoice, compute_case_results

COMPARISON_COLUMNS = ["plan", "eligible_investors", "total_compensation", "mean", "p50", "p90", "p99", "max",
                      "gainers", "losers"]


@dataclass(frozen=True)
class Comparison:
    table: pl.DataFrame  # COMPARISON_COLUMNS, one row per plan
    results: dict[str, Result]


def _per_investor(result: Result) -> pl.DataFrame:
    return (result.table.select("investor_id").with_columns(pl.Series("fen", result.compensation_fen))
            .group_by("investor_id").agg(pl.col("fen").sum()))


def compare(prep: Prepared, plans: list[tuple[str, PlanChoice]], progress=None) -> Comparison:
    results: dict[str, Result] = {}
    rows = []
    baseline: pl.DataFrame | None = None
    for name, plan in plans:
        if progress:
            progress(f"plan {name}")
        result = compute_case_results(prep, plan)
        results[name] = result
        per = _per_investor(result)
        paid = per.filter(pl.col("fen") > 0)["fen"].to_numpy() / 100
        q = np.quantile(paid, [0.5, 0.9, 0.99]) if paid.size else np.zeros(3)
        if baseline is None:
            baseline = per
            gainers = losers = 0
        else:
            joined = baseline.join(per, on="investor_id", how="full", coalesce=True, suffix="_new").fill_null(0)
            gainers = int((joined["fen_new"] > joined["fen"]).sum())
            losers = int((joined["fen_new"] < joined["fen"]).sum())
        rows.append({"plan": name, "eligible_investors": int(paid.size),
                     "total_compensation": int(per["fen"].sum() or 0) / 100,
                     "mean": float(paid.mean()) if paid.size else 0.0, "p50": float(q[0]), "p90": float(q[1]),
                     "p99": float(q[2]), "max": float(paid.max()) if paid.size else 0.0,
                     "gainers": gainers, "losers": losers})
    return Comparison(pl.DataFrame(rows, schema_overrides={"gainers": pl.Int64, "losers": pl.Int64}), results)
