"""A results file of a case with several false statements becomes one claim line per (investor, security)."""

from __future__ import annotations

import pytest

from redress.admin.claims import read_results
from redress.admin.errors import BadInput

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
