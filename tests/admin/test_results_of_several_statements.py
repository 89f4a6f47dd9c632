"""A results file of a case with several false statements becomes one claim line per (investor, security)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from redress.admin import cases, claims, fund
from redress.admin.claims import read_results
from redress.admin.errors import BadInput
from redress.engine.pipeline import prepare
from redress.engine.statements import compute_case_results
from redress.store.db import unit_of_work
from support.admin import users

LEGAL_CASES = Path(__file__).parents[1] / "legal" / "cases"

HEADER = "investor_id,security,statement,status,flags,net_loss,compensation\n"


def test_lines_sum_the_statements_with_the_best_status_and_every_flag(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text(HEADER + "A,600001,s1,eligible,oversold,100.00,101.00\nA,600001,s2,no_loss,,0.00,0.00\n"
                    "A,600002,s1,no_eligible_shares,,0.00,0.00\n"
                    "B,600001,s2,eligible,base_date_truncated,50,50.50\nB,600001,s1,no_loss,oversold,10,10.10\n",
                    encoding="utf-8")
    rows = {(r["investor_id"], r["security"]): r for r in read_results(path).table.iter_rows(named=True)}
    assert set(rows) == {("A", "600001"), ("A", "600002"), ("B", "600001")}
    assert (rows["A", "600001"]["compensation_fen"], rows["A", "600001"]["status"]) == (10100, "eligible")
    assert rows["A", "600002"]["status"] == "no_eligible_shares"
    b = rows["B", "600001"]
    assert (b["net_loss_fen"], b["compensation_fen"], b["status"]) == (6000, 6060, "eligible")
    assert b["flags"] == "base_date_truncated;oversold"


def test_the_same_statement_twice_is_refused(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text(HEADER + "A,600001,s1,eligible,,1,1\nA,600001,s1,eligible,,1,1\n", encoding="utf-8")
    with pytest.raises(BadInput, match="appear more than once"):
        read_results(path)



@pytest.mark.parametrize(("case_name", "case_id", "investors", "offered_fen"),
                         [("q_hailianxun_three_windows", "legal-q", 4, 27_250_59),
                          ("r_wanfu_shengke_best_for_investor", "legal-r", 4, 22_489_60)])
def test_the_plan_is_checked_against_the_case_computed_again(db, tmp_path, case_name, case_id, investors,
                                                            offered_fen):
    """``plan propose`` computes the case again and compares it with the results file line by line: under
    ``each`` a line is the sum of the investor's statements, so the fresh rows are summed the same way.  The
    offers are the hand-worked ones of the legal cases (tests/legal/cases/*/README.md)."""
    case_dir = LEGAL_CASES / case_name
    compute_case_results(prepare(case_dir)).write(tmp_path / "results.csv")   # as `redress compute` writes it
    _url, engine = db
    users(engine)
    with unit_of_work(engine) as s:
        cases.create_case(s, "alice", case_id, case_name)
        cases.add_payer(s, "alice", case_id, "sponsor", "Sponsor", "sponsor", 1_000_000_00)
        fund.contribute(s, "alice", case_id, "sponsor", 1_000_000_00, dt.date(2014, 7, 18), "BANK-1")
        fund.establish(s, "alice", case_id)
        ap = claims.propose_plan(s, "alice", case_id, case_dir, tmp_path / "results.csv",
                                 dt.date(2014, 7, 21), dt.date(2014, 9, 10))
        body = json.loads(ap.payload)
    assert (body["investors"], body["offered_fen"]) == (investors, offered_fen)
    # one fen more on one line is refused
    header, first, *rest = (tmp_path / "results.csv").read_text(encoding="utf-8").splitlines()
    head, amount = first.rsplit(",", 1)
    changed = [header, f"{head},{Decimal(amount) + Decimal('0.01')}", *rest]
    (tmp_path / "results.csv").write_text("\n".join(changed) + "\n", encoding="utf-8")
    with unit_of_work(engine) as s, pytest.raises(BadInput, match="does not match the case as computed now"):
        claims.propose_plan(s, "alice", case_id, case_dir, tmp_path / "results.csv", dt.date(2014, 7, 21),
                            dt.date(2014, 9, 10))
