"""The plans under discussion at a hearing, on both databases and over the web: stored with their hash,
checked against the case before they are stored, compared side by side by the engine, published with the
hearing, and never edited."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from typer.testing import CliRunner

from redress.admin import cases, hearings
from redress.admin.errors import AdminError, BadInput
from redress.cli.main import app
from redress.store.db import unit_of_work
from support.admin import LEGAL_A, users

D = dt.date
SEED = "hearing-plans-seed"
FIFO = '[plan]\ncost_method = "fifo"\n'
WITH_INTEREST = "[plan]\ninterest = true\n"


def _expected_total(case_dir) -> Decimal:
    """The worked example's compensation under the case's own plan, from its hand-checked expected output."""
    with (case_dir / "expected.csv").open(encoding="utf-8") as f:
        return sum((Decimal(r["compensation"]) for r in csv.DictReader(f)), Decimal(0))


@pytest.fixture
def heard(db, tmp_path):
    url, engine = db
    users(engine)
    case_dir = tmp_path / "case"
    shutil.copytree(LEGAL_A, case_dir)
    with unit_of_work(engine) as s:
        cases.create_case(s, "alice", "hp", "Heard case")
        h_id = hearings.open_hearing(s, "alice", "hp", "Investor Service Center", [], D(2023, 2, 1),
                                     hashlib.sha256(SEED.encode()).hexdigest()).id
    return url, engine, case_dir, h_id


def test_plans_are_checked_stored_and_compared(heard):
    url, engine, case_dir, h_id = heard
    with unit_of_work(engine) as s:
        with pytest.raises(AdminError, match="no plans to compare"):
            hearings.publish_comparison(s, "alice", h_id, D(2023, 2, 3), case_dir)
        with pytest.raises(BadInput, match="no case directory on record"):
            hearings.add_plan(s, "alice", h_id, "A", FIFO, "payers 出资人", D(2023, 2, 2))
        a = hearings.add_plan(s, "alice", h_id, "A", FIFO, "payers 出资人", D(2023, 2, 2), case_dir)
        assert a.sha256 == hashlib.sha256(FIFO.encode()).hexdigest()
        hearings.add_plan(s, "alice", h_id, "B", WITH_INTEREST, "investors 投资者代表", D(2023, 2, 2), case_dir)
    with unit_of_work(engine) as s:
        # the same plan again is a no-op; the label with other content, a bad plan, a reserved label: refused
        assert hearings.add_plan(s, "alice", h_id, "A", FIFO, "payers", D(2023, 2, 2), case_dir).id == a.id
        with pytest.raises(AdminError, match="other content"):
            hearings.add_plan(s, "alice", h_id, "A", WITH_INTEREST, "payers", D(2023, 2, 2), case_dir)
        with pytest.raises(BadInput, match="bogus"):
            hearings.add_plan(s, "alice", h_id, "C", "[plan]\nbogus = 1\n", "payers", D(2023, 2, 2), case_dir)
        with pytest.raises(BadInput, match="label"):
            hearings.add_plan(s, "alice", h_id, "case.toml", FIFO, "payers", D(2023, 2, 2), case_dir)
        with pytest.raises(BadInput, match="who proposes"):
            hearings.add_plan(s, "alice", h_id, "D", FIFO, " ", D(2023, 2, 2), case_dir)
    with unit_of_work(engine) as s:
        comp = hearings.publish_comparison(s, "alice", h_id, D(2023, 2, 3), case_dir)
        again = hearings.publish_comparison(s, "alice", h_id, D(2023, 2, 4), case_dir)
        assert again.id == comp.id                       # unchanged plans: the published comparison stands
        record = hearings.public_record(s, "hp")[0]
    table = {r["plan"]: r for r in record["comparison"]["table"]}
    assert list(table) == ["case.toml", "A", "B"]
    assert Decimal(str(table["case.toml"]["total_compensation"])) == _expected_total(case_dir)
    # interest only adds to every eligible investor's compensation; nobody loses
    assert table["B"]["total_compensation"] > table["case.toml"]["total_compensation"]
    assert table["B"]["losers"] == 0 and table["B"]["gainers"] == table["case.toml"]["eligible_investors"]
    assert [p["label"] for p in record["plans"]] == ["A", "B"] and record["plans"][1]["plan_toml"] == WITH_INTEREST
    # the same numbers as `redress compare` on the same plan files
    (case_dir / "A.toml").write_text(FIFO, encoding="utf-8")
    (case_dir / "B.toml").write_text(WITH_INTEREST, encoding="utf-8")
    r = CliRunner().invoke(app, ["compare", str(case_dir), "--plan", str(case_dir / "A.toml"), "--plan",
                                 str(case_dir / "B.toml"), "--json"])
    assert r.exit_code == 0, r.output
    cli = {row["plan"]: row for row in json.loads(r.output)}
    for ours, theirs in (("case.toml", "case.toml"), ("A", "A"), ("B", "B")):
        assert table[ours]["total_compensation"] == cli[theirs]["total_compensation"]
        assert (table[ours]["gainers"], table[ours]["losers"]) == (cli[theirs]["gainers"], cli[theirs]["losers"])
    with unit_of_work(engine) as s:     # a new plan makes a new comparison
        hearings.add_plan(s, "alice", h_id, "C", FIFO + "commission_rate = 0.0\n", "panel", D(2023, 2, 5), case_dir)
        assert hearings.publish_comparison(s, "alice", h_id, D(2023, 2, 5), case_dir).id != comp.id


def test_plans_and_comparisons_cannot_be_edited_or_added_after_the_decision(heard):
    url, engine, case_dir, h_id = heard
    with unit_of_work(engine) as s:
        hearings.add_plan(s, "alice", h_id, "A", FIFO, "payers", D(2023, 2, 2), case_dir)
        hearings.publish_comparison(s, "alice", h_id, D(2023, 2, 3), case_dir)
    for table in ("hearing_plan", "hearing_comparison"):
        with pytest.raises(DatabaseError):
            with unit_of_work(engine) as s:
                s.execute(text(f"UPDATE {table} SET hearing_id = hearing_id"))
        with pytest.raises(DatabaseError):
            with unit_of_work(engine) as s:
                s.execute(text(f"DELETE FROM {table}"))
    with unit_of_work(engine) as s:
        hearings.form(s, "alice", h_id, ["P1"], ["R1", "R2"], [], 0, seed=SEED)
        hearings.decide(s, "alice", h_id, "minutes", "Plan A is adopted.", D(2023, 3, 1))
    with unit_of_work(engine) as s:
        with pytest.raises(AdminError, match="decided"):
            hearings.add_plan(s, "alice", h_id, "late", FIFO, "payers", D(2023, 3, 2), case_dir)


def test_hearing_plans_from_the_command_line(heard, tmp_path):
    url, engine, case_dir, h_id = heard
    plan = tmp_path / "fifo.toml"
    plan.write_text(FIFO, encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(app, ["hearing", "plan", str(h_id), str(plan), "--label", "A", "--proposed-by", "payers",
                            "--case-dir", str(case_dir), "--on", "2023-02-02", "--db", url, "--as", "alice"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["hearing", "compare", str(h_id), "--case-dir", str(case_dir), "--on", "2023-02-03",
                            "--db", url, "--as", "alice"])
    assert r.exit_code == 0, r.output
    assert "Plan comparison" in r.output
    with unit_of_work(engine) as s:
        published = hearings.public_record(s, "hp")[0]["comparison"]["table"]
    assert [row["plan"] for row in published] == ["case.toml", "A"]
