"""Identifiers enter through one schema (``redress.ids``): a case, payer, user, party or investor id that a
spreadsheet would take for a formula, or that holds a tab, is refused where it is typed or carried in a file,
with the file, line and reason, and nothing is stored."""

from __future__ import annotations

import csv
import hashlib
import sqlite3

import pytest

from inputs_support import (CASE_ID, FORMULA, HOSTILE, REPO, Cli, draft, opened, snapshot,  # noqa: F401
                            write_results)
from redress.ids import IdKind, is_valid

TAB_ID = "\tINV001"


@pytest.mark.parametrize("case_id", [FORMULA, "+cmd", "-x", "@x", " c1", "c1 ", "c/1", "..", "x" * 65])
def test_a_hostile_case_id_is_refused(draft, case_id):
    message = draft.refused("case", "create", "--name", "x", "--", case_id)   # "--": how "-x" is typed
    assert "case id" in message and "not allowed" in message


def test_hostile_user_payer_and_investor_ids_are_refused(draft):
    assert "user name" in draft.refused("user", "add", FORMULA, "--role", "operator", user="root")
    assert "user name" in draft.refused("user", "add", "li wei", "--role", "operator", user="root")
    assert "investor id" in draft.refused("user", "add", "inv9", "--role", "investor", "--investor-id",
                                          '=HYPERLINK("http://evil")', user="root")
    assert "investor id" in draft.refused("user", "add", "inv9", "--role", "investor", "--investor-id",
                                          TAB_ID, user="root")
    assert "payer id" in draft.refused("payer", "add", CASE_ID, "@SUM(1)", "--name", "x", "--role", "sponsor")
    assert "payer id" in draft.refused("payer", "add", CASE_ID, "pay\tone", "--name", "x",
                                       "--role", "sponsor")


def test_the_first_user_needs_a_valid_name_too(tmp_path):
    cli = Cli(tmp_path)
    res = cli.run("db", "init", "--admin", FORMULA, user="root")
    assert res.returncode != 0 and "Traceback" not in res.stderr + res.stdout
    assert "user name" in res.stderr
    assert snapshot(cli.db)["app_user"] == []


def test_a_hostile_liable_party_is_refused(opened):
    # parties are named once the plan is approved
    message = opened.refused("recovery", "party", CASE_ID, "=1+1", "--name", "x", "--kind", "issuer",
                             "--share-bp", "5000")
    assert "party id" in message


def test_a_results_file_with_hostile_investor_ids_is_refused_whole_naming_each_line(opened):
    """The plan cannot be proposed from such a file: nothing is asked for approval."""
    cli = Cli(opened.root)
    hostile = [*HOSTILE, TAB_ID]
    offers = {"A": 100_00, **{h: 200_00 + i for i, h in enumerate(hostile)}, "B": 300_00}
    results = write_results(cli.root / "bad.csv", offers)
    message = cli.refused("plan", "propose", "c2", "--case-dir", str(cli.root / "case2"), "--results",
                          str(results), "--open-on", "2023-02-01", "--deadline", "2023-03-01",
                          "--no-recompute", lines=None)
    assert "nothing loaded" in message
    for line, h in enumerate(hostile, start=3):
        assert f"bad.csv:{line}: investor id {h!r} is not allowed" in message, h
    assert "bad.csv:2:" not in message and f"bad.csv:{len(hostile) + 3}:" not in message


def test_claims_cannot_open_from_an_approved_file_holding_a_tab_led_id(opened, tmp_path):
    """A file approved before the id schema (its hash stored on the case) still cannot open claims."""
    cli = Cli(opened.root)
    results = write_results(cli.root / "old.csv", {"A": 100_00, TAB_ID: 200_00})
    con = sqlite3.connect(cli.db)
    with con:
        con.execute("UPDATE fund_case SET state = 'plan_approved', results_sha256 = ? WHERE id = 'c2'",
                    (hashlib.sha256(results.read_bytes()).hexdigest(),))
    con.close()
    cli.ok("plan", "agreement", "c2", "--version", "v1", "--file", str(cli.root / "agreement.txt"))
    message = cli.refused("claims", "open", "c2", "--results", str(results), lines=None)
    assert "old.csv:3: investor id '\\tINV001' is not allowed" in message
    assert not [c for c in snapshot(cli.db)["claim"] if "c2" in c]


def test_a_decisions_file_with_a_hostile_investor_id_is_refused_naming_the_line(opened):
    rows = [["B", "decline", "2023-02-10", "online", "k-B", "", ""],
            [FORMULA, "decline", "2023-02-10", "online", "k-X", "", ""]]
    path = opened.root / "decisions.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["investor_id", "decision", "decided_on", "channel", "key", "agreement_version",
                    "agreement_sha256"])
        w.writerows(rows)
    message = opened.refused("claims", "import", CASE_ID, str(path), lines=None)
    assert "decisions.csv:3: investor id" in message and "nothing recorded" in message


@pytest.mark.parametrize("hostile", [FORMULA, "\t=1+1"])   # surrounding blanks are trimmed, as in every file
def test_the_fairfund_and_recourse_tools_refuse_hostile_ids_in_their_files(tmp_path, hostile):
    cli = Cli(tmp_path)
    eligible = tmp_path / "eligible.csv"
    eligible.write_text(f'investor_id,loss\nA,100\n"{hostile}",200\n', encoding="utf-8")
    message = cli.refused("fairfund", "distribute", str(eligible), "--available", "150", "--out",
                          str(tmp_path / "paid.csv"))
    assert "eligible.csv:3" in message and "investor id" in message
    assert not (tmp_path / "paid.csv").exists()
    parties = tmp_path / "parties.csv"
    parties.write_text("party_id,name,kind,fault_share_bp\nissuer,I,issuer,6000\n"
                       f'"{hostile}",X,issuer,4000\n', encoding="utf-8")
    payments = tmp_path / "payments.csv"
    payments.write_text("payer_id,paid\nsponsor,100\n", encoding="utf-8")
    assert "parties.csv:3" in cli.refused("recourse", "compute", str(parties), str(payments))


# -- what already exists fits the schema ---------------------------------------------------------------------

def test_every_id_of_the_legal_cases_demo_and_synthetic_data_fits_the_schema(tmp_path):
    from redress.admin import after, simulate
    from redress.synth import generate_case

    for trades in (REPO / "tests" / "legal" / "cases").glob("*/trades.csv"):
        with trades.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                assert is_valid(IdKind.INVESTOR, row["investor_id"]), (trades, row["investor_id"])
    for toml in (REPO / "tests" / "legal" / "cases").glob("*/case.toml"):
        case_id = next(line.split('"')[1] for line in toml.read_text(encoding="utf-8").splitlines()
                       if line.startswith("id ="))
        assert is_valid(IdKind.CASE, case_id), toml
    generate_case(tmp_path / "synth", n_trades=2_000, seed=3)
    with (tmp_path / "synth" / "trades.csv").open(encoding="utf-8") as f:
        ids = {row["investor_id"] for row in csv.DictReader(f)}
    assert ids and all(is_valid(IdKind.INVESTOR, i) for i in ids)
    for user in (simulate.OPERATOR, simulate.APPROVER, "admin", "root", "checker", "auditor"):
        assert is_valid(IdKind.USER, user)
    assert all(is_valid(IdKind.PAYER, p[0]) for p in simulate.PAYERS)
    assert all(is_valid(IdKind.PARTY, p[0]) for p in after.LIABLE)
    assert all(is_valid(IdKind.PAYER, p[6]) for p in after.LIABLE if p[6])


def test_the_investor_id_schema_keeps_what_clearing_records_hold():
    for good in ("INV001", "110101199001011234", "A", "张三", "0012-3456/01", "SH:A123456789", "a.b_c(1)"):
        assert is_valid(IdKind.INVESTOR, good), good
    for bad in (*HOSTILE, TAB_ID, "", " A", "A ", "A B", "x" * 65, "a..b", "'=1"):
        assert not is_valid(IdKind.INVESTOR, bad), bad
