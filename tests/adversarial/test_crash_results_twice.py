"""A payment results file whose import was killed, then imported in full, then taken in again any way at all
(the same file, the same bytes under another name, its lines in another order, an import killed while it
finds there is nothing left to do) changes nothing more: no claim is paid twice, no money moves twice."""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from crashchild import (KILLED, World, difference, dry_run, finish, money_problems, open_world, problems,
                        reports, run_child, snapshot)
from redress.admin import payments
from support.db import BACKENDS, fresh_database

SEED = int(os.environ.get("REDRESS_CRASH_SEED", "20230215"))
pytestmark = pytest.mark.slow


@contextlib.contextmanager
def released(backend: str, root: Path) -> Iterator[World]:
    """Batch 1 released and sent; the clearing system's answer is ``results-1.csv`` (every 4th line returned)."""
    with contextlib.contextmanager(fresh_database)(backend, root) as (url, engine):
        yield open_world(url, engine, root / "case-files").advance("released")


def import_here(w: World, path: Path) -> payments.ImportReport:
    with w.tx() as s:
        return payments.import_results(s, "alice", w.case_id, path)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_results_file_imported_after_a_crash_and_then_again_changes_nothing(backend, tmp_path):
    with released(backend, tmp_path) as w:
        results = Path(w.args("import_results")["results"])
        lines = results.read_text(encoding="utf-8").splitlines()
        before = snapshot(w)
        n, whole = dry_run(w, "import_results")
        kill_at = random.Random(f"{SEED}:{backend}:twice").randrange(1, n + 1)
        where = f"REDRESS_CRASH_SEED={SEED} {backend}: import killed at statement {kill_at} of {n}"

        # killed in the middle: nothing of it is left
        child = run_child(w, "import_results", kill_at)
        assert child.returncode == KILLED, f"{where}\n{child.stdout}\n{child.stderr}"
        assert difference(snapshot(w), before) == [], where
        assert problems(w) == [], where

        # imported in full by a fresh process
        child = run_child(w, "import_results", None)
        assert child.returncode == 0, child.stderr
        assert reports(child)[-1]["applied"] is True
        done = snapshot(w)
        assert difference(done, whole) == [], where
        assert problems(w) == [], where
        rows = len(lines) - 1
        returned = sum(1 for line in lines[1:] if ",returned," in line)
        assert sum(1 for p in done["payments"] if p[1] == "paid") == rows - returned
        assert sum(1 for p in done["payments"] if p[1] == "returned") == returned > 0

        # the same file again, here and in a child killed just after its (empty) commit, and in one killed while
        # it looks: nothing changes
        rep = import_here(w, results)
        assert rep.already_imported and (rep.paid, rep.returned, rep.unchanged) == (0, 0, 0)
        assert difference(snapshot(w), done) == [], where
        n_again, _same = dry_run(w, "import_results")
        for again in ("after_commit", random.Random(f"{SEED}:{backend}:again").randrange(1, n_again + 1)):
            child = run_child(w, "import_results", again)
            assert child.returncode == KILLED, f"{where}; again killed at {again}\n{child.stderr}"
            assert difference(snapshot(w), done) == [], f"{where}; again killed at {again}"

        # the same bytes under another name: recognised by content
        copy = w.root / "results-1-copy.csv"
        copy.write_bytes(results.read_bytes())
        assert import_here(w, copy).already_imported
        assert difference(snapshot(w), done) == [], where

        # the same lines in another order (another file): every line already applied, nothing moves
        reordered = w.root / "results-1-reordered.csv"
        reordered.write_text("\n".join([lines[0]] + lines[:0:-1]) + "\n", encoding="utf-8")
        rep = import_here(w, reordered)
        assert (rep.already_imported, rep.paid, rep.returned, rep.unchanged, rep.paid_fen) == (False, 0, 0, rows, 0)
        after = snapshot(w)
        assert set(difference(after, done)) <= {"files", "audit"}, where
        assert len(after["files"]) == len(done["files"]) + 1
        assert problems(w) == [], where

        # and the returned payments, paid in a second batch, complete the case: each accepted claim paid once
        w.completed("import_results")
        finish(w)
        assert problems(w) == [] and money_problems(w) == [], where
