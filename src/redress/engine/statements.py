"""Several false statements in one case (loss-rules.md section 9).

Every statement is computed exactly as a one-statement case with its own dates, base dates and plan, on the
same prepared trades (read, checked, restated for ex-rights and grouped once).  The rows of the statements
are then combined by the case's ``statements_rule``:

- ``each``: every row, in the order (investor id, security, statement's place in case.toml);
- ``best_for_investor``: per (investor, security), the statement whose row pays the most; ties go to the
  better status (eligible, below_minimum, no_loss, no_eligible_shares, excluded), then to the statement
  listed first.

Both add the column ``statement`` (the statement's id) right after ``security``, and list an investor's
securities by code.  A one-statement case is computed as it always was: no such column, an investor's
securities in the order of ``case.securities``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from redress.engine.pipeline import (STATEMENT_COLUMN, Prepared, Progress, Result, compute,
                                     output_columns)
from redress.law.plan import CaseConfig, Plan, StatementsRule

# The better status first (loss-rules.md section 9): the tie-break of ``best_for_investor``.
STATUS_PREFERENCE = ("eligible", "below_minimum", "no_loss", "no_eligible_shares", "excluded")
STATUS_RANK = {status: k for k, status in enumerate(STATUS_PREFERENCE)}

PlanChoice = Plan | Sequence[Plan] | None  # one plan for every statement, one per statement, or the case's


def _quiet(_: str) -> None:
    return None


def statement_plans(case: CaseConfig, plan: PlanChoice) -> list[Plan]:
    """The plan each statement is computed under: its own (``None``, or ``case.plan`` itself, which stands for
    the case's plan as each statement reads it), the one given, or the given list."""
    if plan is None or plan is case.plan:
        return [case.for_statement(s).plan for s in case.statements]
    if isinstance(plan, Plan):
        return [plan] * len(case.statements)
    plans = list(plan)
    if len(plans) != len(case.statements):
        raise ValueError(f"{len(plans)} plans for {len(case.statements)} statements")
    return plans


def compute_case_results(prep: Prepared, plan: PlanChoice = None, *, progress: Progress = _quiet) -> Result:
    """The results a case owes: ``pipeline.compute`` for a one-statement case, else every statement computed
    on the same prepared trades and combined by ``statements_rule``."""
    case = prep.case
    if not case.has_statements:
        one = plan if plan is None or isinstance(plan, Plan) else statement_plans(case, plan)[0]
        return compute(prep, one, progress=progress)
    results = []
    for statement, one, plan_k in zip(case.statements, prep.statement_preps(), statement_plans(case, plan),
                                      strict=True):
        progress(f"statement {statement.id}")
        results.append(compute(one, plan_k, progress=progress))
    return combine(case, results)


def combine(case: CaseConfig, results: list[Result]) -> Result:
    """One table from the statements' tables (each with the same (investor, security) rows in the same
    order, as the statements share the grouped trades), by ``case.statements_rule``."""
    ids = [s.id for s in case.statements]
    n = results[0].table.height
    first = results[0].table.select("investor_id", "security")
    for r in results[1:]:
        if not r.table.select("investor_id", "security").equals(first):
            raise AssertionError("statements computed on different (investor, security) rows")
    stacked = pl.concat([r.table for r in results])
    fen = np.concatenate([np.asarray(r.compensation_fen, dtype=np.int64) for r in results])
    k_of = np.arange(n, dtype=np.int64)
    if case.statements_rule == StatementsRule.EACH:
        order = (np.arange(len(results), dtype=np.int64)[None, :] * n + k_of[:, None]).ravel()
    else:
        order = _best_rows(stacked["status"], fen, len(results), n)
    statement = pl.Series(STATEMENT_COLUMN, ids, dtype=pl.String).gather(order // n if n else order)
    table = stacked[order].with_columns(statement)
    fen = fen[order]
    if list(case.securities) != security_order(case):
        # the one-statement results list an investor's securities in case.securities' order; the rows of
        # several statements are in the order loss-rules.md section 9 gives: (investor_id, security, ...)
        resort = table.select(pl.arg_sort_by("investor_id", "security", maintain_order=True)).to_series()
        table, fen = table[resort], fen[resort.to_numpy()]
    table = table.select(output_columns(table.columns) + [c for c in table.columns
                                                          if c not in output_columns(table.columns)])
    timings: dict[str, float] = {}
    for r in results:
        for key, seconds in r.timings.items():
            timings[key] = timings.get(key, 0.0) + seconds
    return Result(table, fen, results[0].plan, timings)


def security_order(case: CaseConfig) -> list[str]:
    """The order of an investor's securities in the results of several statements: by security code."""
    return sorted(case.securities)


def _best_rows(status: pl.Series, fen: np.ndarray, n_statements: int, n: int) -> np.ndarray:
    """Per (investor, security), the stacked row of the statement paying the most; ties to the better status,
    then to the statement listed first."""
    rank = status.replace_strict({s: i for i, s in enumerate(STATUS_PREFERENCE)}, return_dtype=pl.Int8)
    rank = rank.to_numpy().reshape(n_statements, n)
    paid = fen.reshape(n_statements, n)
    best = np.zeros(n, dtype=np.int64)
    columns = np.arange(n)
    for k in range(1, n_statements):
        best_paid, best_rank = paid[best, columns], rank[best, columns]
        better = (paid[k] > best_paid) | ((paid[k] == best_paid) & (rank[k] < best_rank))
        best[better] = k
    return best * n + columns
