"""Formula injection: no CSV or Excel file Redress writes holds a cell a spreadsheet would evaluate,
whatever the investor ids, names or memos in it.  Ids can no longer start like a formula
(``test_inputs_ids``); these tests put hostile text where it could still come from (a database written before
the id schema, company and source names, plan labels, the trades of a case) and read every cell back."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import shutil
import sqlite3

import polars as pl
import pytest

from inputs_support import (CASE_ID, FORMULA, HOSTILE, LEGAL_A, Cli, assert_no_formula,  # noqa: F401
                            csv_cells, evaluated, opened, xlsx_cells)
from redress import exports
from redress.money import yuan

NUMBERS = ["-12.50", "12.50", "0", "-1,234.50", "7760.08", "-0.01"]


# -- the writer ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_neutralised(text):
    safe = exports.safe_text(text)
    assert safe == "'" + text and not evaluated(safe)
    assert exports.safe_text(safe) == safe                       # once is enough: the writer is idempotent


@pytest.mark.parametrize("text", [*NUMBERS, "INV001", "张三", "2023-02-01", "", "a=b", "CNY"])
def test_numbers_ids_dates_and_plain_text_are_written_as_they_are(text):
    assert exports.safe_text(text) == text


def test_csv_cells_round_trip_and_ordinary_rows_are_byte_for_byte_what_csv_writer_wrote():
    """Instruction files keep their first hash: for rows of ids, amounts and dates nothing changes."""
    rows = [["legal-a-0001-1-1", "legal-a", 1, "INV001", "7760.08", "CNY"],
            ["x", "y,z", 'say "hi"', "a\nb", None, dt.date(2023, 2, 1)],
            ["-12.50", -5, 1.5, "张三", "", "tail"]]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["h1", "h2", "h3", "h4", "h5", "h6"])
    w.writerows([["" if v is None else v for v in r] for r in rows])
    assert exports.csv_text(["h1", "h2", "h3", "h4", "h5", "h6"], rows) == buf.getvalue()
    hostile = [[h, "-3.00", h] for h in HOSTILE]
    back = csv_cells(exports.csv_bytes(["a", "b", "c"], hostile))
    assert back[1:] == [["'" + h, "-3.00", "'" + h] for h in HOSTILE]   # a carriage return stays in its cell
    assert_no_formula(back, "csv_bytes")


def test_frames_as_csv_and_excel_keep_numbers_and_neutralise_text():
    df = pl.DataFrame({"investor_id": [*HOSTILE, "INV001"], "status": ["accepted"] * (len(HOSTILE) + 1),
                       "offered_yuan": [-12.5] * len(HOSTILE) + [7760.08],
                       "decided_on": [dt.date(2023, 2, 3)] * (len(HOSTILE) + 1)})
    rows = csv_cells(exports.frame_csv_bytes(df))
    assert_no_formula(rows, "frame_csv_bytes")
    assert rows[1][:3] == ["'" + HOSTILE[0], "accepted", "-12.5"] and rows[-1][0] == "INV001"
    cells = xlsx_cells(exports.frame_xlsx_bytes(df))
    assert not [c for c in cells if c[3]], "a workbook cell holds a formula"
    text = {c[2] for c in cells if c[1] in ("s", "inlineStr", "str")}
    assert {"'" + h for h in HOSTILE} <= text and not [t for t in text if evaluated(t)]
    assert ("-12.5" in {c[2] for c in cells if c[1] in (None, "n")}), "negative amounts stay numbers"


# -- every export path ---------------------------------------------------------------------------------------

def _rename_claim(cli: Cli, old: str, new: str) -> None:
    """A database written before the id schema: an investor id as hostile as any."""
    con = sqlite3.connect(cli.db)
    with con:
        con.execute("UPDATE claim SET investor_id = ? WHERE case_id = ? AND investor_id = ?",
                    (new, CASE_ID, old))
    con.close()


def test_notices_and_the_payment_instruction_file_hold_no_formula_and_results_still_apply(opened):
    cli = opened
    cli.ok("claims", "decide", CASE_ID, "B", "--accept", "--key", "form-B", "--on", "2023-02-04", "--channel",
           "online", "--agreement-version", "v1", "--agreement-sha256", cli.agreement_sha)
    out = cli.ok("pay", "batch", CASE_ID, "--on", "2023-02-06")
    cli.ok("approval", "approve", out.split("approval approve ")[1].split("`")[0], user="bob")
    _rename_claim(cli, "B", FORMULA)
    _rename_claim(cli, "C", HOSTILE[1])
    cli.ok("claims", "notices", CASE_ID, "--out", str(cli.root / "notices.csv"), "--on", "2023-02-06")
    notices = csv_cells((cli.root / "notices.csv").read_bytes())
    assert_no_formula(notices, "notices.csv")
    assert [r[0] for r in notices[1:]] == ["'" + HOSTILE[1]] and notices[1][2] == yuan(99)
    cli.ok("pay", "export", CASE_ID, "2", "--out", str(cli.root / "pay"))
    instructions = csv_cells((cli.root / "pay" / f"{CASE_ID}-batch-0002.csv").read_bytes())
    assert_no_formula(instructions, "instruction file")
    header, row = instructions
    assert row[header.index("investor_id")] == "'" + FORMULA and row[header.index("amount")] == yuan(2_500_50)
    # the clearing system's results refer to the instruction id, which the writer never changes
    results = cli.root / "results-2.csv"
    results.write_text("instruction_id,status,amount,settled_on,reason\n"
                       f"{row[0]},paid,{row[4]},2023-02-08,\n", encoding="utf-8")
    assert "1 paid" in cli.ok("pay", "import", CASE_ID, str(results))


def test_engine_results_and_rejected_rows_hold_no_formula(tmp_path):
    case = tmp_path / "case"
    shutil.copytree(LEGAL_A, case)
    trades = case / "trades.csv"
    text = trades.read_text(encoding="utf-8").replace("INV001", FORMULA)
    lines = text.splitlines()
    bad = f"{HOSTILE[4]},ACC9,600123,not-a-date,10:00:00,1,B,100,10.00"      # set aside: not a date
    trades.write_text("\n".join([*lines, bad]) + "\n", encoding="utf-8")
    cli = Cli(tmp_path)
    cli.ok("compute", str(case), "--out", str(tmp_path / "results.csv"), "--skip-bad-rows", "-q")
    results = csv_cells((tmp_path / "results.csv").read_bytes())
    assert_no_formula(results, "results.csv")
    assert "'" + FORMULA in {r[0] for r in results}
    rejected = csv_cells((tmp_path / "rejected.csv").read_bytes())
    assert_no_formula(rejected, "rejected.csv")
    assert any(cell.startswith("'" + HOSTILE[4]) for r in rejected for cell in r)   # the row as it was given


def test_a_plan_comparison_written_as_csv_holds_no_formula(tmp_path):
    case = tmp_path / "case"
    shutil.copytree(LEGAL_A, case)
    plan = tmp_path / "=1+2.toml"
    plan.write_text('[plan]\ncost_method = "fifo"\n', encoding="utf-8")
    Cli(tmp_path).ok("compare", str(case), "--plan", str(plan), "--csv", str(tmp_path / "comparison.csv"))
    rows = csv_cells((tmp_path / "comparison.csv").read_bytes())
    assert_no_formula(rows, "comparison.csv")
    assert any("'=1+2" in r for r in rows)


def test_protection_fund_levy_notices_hold_no_formula(tmp_path):
    from redress.admin.ipf import levies

    notices = [levies.Notice(h[:8].strip() or "co", h, 2024, q, 1_000_00, 15, -123_45 if q == 0 else 500_00,
                             dt.date(2024, 4, 15), h, h) for q, h in enumerate(HOSTILE[:4])]
    rows = csv_cells(levies.write_notices(notices, tmp_path / "notices.csv").read_bytes())
    assert_no_formula(rows, "levy notices")
    assert rows[1][levies.NOTICE_COLUMNS.index("amount")] == "-123.45"       # a refund stays a number


def test_the_protection_funds_excel_report_holds_no_formula(tmp_path):
    from redress.admin.cases import add_user, bootstrap
    from redress.admin.ipf import book, reports
    from redress.store.db import fresh_sqlite, make_engine, migrate, unit_of_work

    engine = make_engine(fresh_sqlite(tmp_path / "ipf.sqlite3"))
    migrate(engine)
    with unit_of_work(engine) as s:
        bootstrap(s, "root", "root")
        add_user(s, "root", "alice", "Alice", ["operator"])
        book.open_capital(s, "alice", 100_000_000_00, dt.date(2024, 1, 2), "CAP-1")
    with unit_of_work(engine) as s:
        r = reports.month_report(s, 2024, 1)
    engine.dispose()
    hostile = dataclasses.replace(
        r, sources=(*r.sources, reports.Line("x", HOSTILE[0], HOSTILE[1], 0)),
        payouts=(reports.Line("p", HOSTILE[2], HOSTILE[3], 0, party=HOSTILE[4]),),
        holdings=(reports.KindHolding(HOSTILE[5], HOSTILE[6], HOSTILE[7], 0, 0, r.holdings[0].share
                                      if r.holdings else 0),),
        levies=(reports.CompanyLevies("co1", HOSTILE[1], 0, 0, 0, 0, None),))
    cells = xlsx_cells(reports.write_excel(hostile, tmp_path / "report.xlsx"))
    assert not [c for c in cells if c[3]], "a workbook cell holds a formula"
    text = [c[2] for c in cells if c[1] in ("s", "inlineStr", "str")]
    assert not [t for t in text if evaluated(t)]
    assert {"'" + h for h in HOSTILE[:5]} <= set(text)
