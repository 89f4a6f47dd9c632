"""Kill -9 anywhere in the four steps that move money, on SQLite and on PostgreSQL: the claims import (a channel's
decisions file), the payment batch proposal, the batch's release (the approval of ``release_batch``) and the
payment results import.

A child process runs the step and SIGKILLs itself right after its Nth SQL statement (``crashchild.py``).  The
kill points: two drawn by a seeded random from the statements the step takes, the last statement (all the work
done, the COMMIT never sent), and just after the commit.  The same case takes them one after the other, as an
operator whose command keeps dying would: each kill before the commit must leave the database exactly as it
was, and the run killed just after its commit is the retry that completes the step.  After every kill:

- the database holds the step wholly or not at all: its snapshot equals the one before the step, or the one the
  step leaves when it runs uninterrupted (taken inside a run of it that is then rolled back);
- nothing is half written: the audit chain verifies, the trial balance balances, the books reconcile with the
  claims and payments, claims agree with their decisions, assignments and award postings, batches with their
  approvals, payments and release entries, payments with the results files that settled them;
- once completed, running the step again changes nothing, and paying out whatever is still owed afterwards
  pays every accepted claim its award exactly once: total paid = total accepted.

``REDRESS_CRASH_SEED`` changes the draw (the seed is in every failure message, so a failure can be replayed);
``REDRESS_CRASH_EVERY=1`` kills each step after every one of its statements in turn.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from crashchild import (KILLED, STEP_FROM, STEPS, World, difference, dry_run, finish, money_problems, open_world,
                        problems, reports, run_child, snapshot)
from support.db import BACKENDS, fresh_database

SEED = int(os.environ.get("REDRESS_CRASH_SEED", "20230215"))
pytestmark = pytest.mark.slow


@contextlib.contextmanager
def world(backend: str, root: Path, stage: str) -> Iterator[World]:
    """A fresh database (dropped afterwards) holding the case at ``stage``."""
    with contextlib.contextmanager(fresh_database)(backend, root) as (url, engine):
        yield open_world(url, engine, root / "case-files").advance(stage)


def kill_points(backend: str, step: str, statements: int) -> list[int | str]:
    """Two statements drawn by the seeded random, the last statement, and just after the commit; with
    ``REDRESS_CRASH_EVERY=1`` every statement (a sweep of a few minutes, for when the steps change)."""
    if os.environ.get("REDRESS_CRASH_EVERY") == "1":
        return [*range(1, statements + 1), "after_commit"]
    rng = random.Random(f"{SEED}:{backend}:{step}")
    return [*sorted(rng.sample(range(1, statements), 2)), statements, "after_commit"]


@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_step_killed_anywhere_happened_wholly_or_not_at_all_and_completes_exactly_once(backend, step, tmp_path):
    with world(backend, tmp_path, STEP_FROM[step]) as w:
        before = snapshot(w)
        statements, whole = dry_run(w, step)
        assert difference(snapshot(w), before) == [], "the dry run (rolled back) changed the database"
        assert difference(whole, before), f"{step} changes nothing"
        assert problems(w) == []

        for kill_at in kill_points(backend, step, statements):
            child = run_child(w, step, kill_at)
            where = (f"REDRESS_CRASH_SEED={SEED} {backend} {step} killed at {kill_at} of {statements} statements; "
                     f"the child said {child.stdout.strip()!r}")
            assert child.returncode == KILLED, f"{where}\n{child.stderr}"
            assert reports(child)[-1].get("killing") == kill_at, where
            expected = whole if kill_at == "after_commit" else before
            assert difference(snapshot(w), expected) == [], where
            assert problems(w) == [], where

        # the step is whole; once more, here, it changes nothing
        where = f"REDRESS_CRASH_SEED={SEED} {backend} {step}"
        assert w.run(step) is False, f"{where}: the step was applied again"
        assert difference(snapshot(w), whole) == [], where

        w.completed(step)
        w.advance("settled")
        finish(w)
        assert problems(w) == [], where
        assert money_problems(w) == [], where


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_checks_notice_a_step_that_commits_half_of_its_work(backend, tmp_path):
    """The harness is not vacuous: a results import broken on purpose (committed behind SQLAlchemy's back right
    after it marked the payments settled and the claims paid, then killed before the settlement entry) leaves
    a state that is neither before nor after, and the consistency checks say what is wrong."""
    with world(backend, tmp_path, STEP_FROM["import_results"]) as w:
        before = snapshot(w)
        n, _whole = dry_run(w, "import_results")
        child = run_child(w, "import_results", n, commit_after="UPDATE claim")
        assert child.returncode == KILLED, child.stderr
        half = snapshot(w)
        assert "payments" in difference(half, before) and "entries" not in difference(half, before)
        found = problems(w)
        assert any(p.startswith(("reconcile: paid on claims", "reconcile: payable")) for p in found), found
        assert any("payment_results files recorded but 0" in p for p in found), found
