"""Case administration from the command line, on both databases: a case from draft to closed."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from redress.cli import admin as admin_cli
from redress.cli.main import app
from support.admin import LEGAL_A

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console():
    """Tables as a wide terminal shows them (under a test runner Rich would fall back to 80 columns)."""
    saved = admin_cli.out._width
    admin_cli.out.width = 200
    yield
    admin_cli.out._width = saved


def _cli(url: str, *args: str, user: str = "alice", code: int = 0) -> str:
    res = runner.invoke(app, list(args), env={"REDRESS_DATABASE_URL": url, "REDRESS_USER": user})
    assert res.exit_code == code, f"redress {' '.join(args)} -> {res.exit_code}\n{res.output}"
    return res.output


def test_case_from_draft_to_closed(db, tmp_path):
    url, _engine = db
    case_dir = tmp_path / "case"
    shutil.copytree(LEGAL_A, case_dir)
    results = tmp_path / "results.csv"
    _cli(url, "compute", str(case_dir), "--out", str(results), "-q")
    _cli(url, "db", "init", "--admin", "root")
    _cli(url, "user", "add", "alice", "--role", "operator", user="root")
    _cli(url, "user", "add", "bob", "--role", "approver", user="root")
    _cli(url, "case", "create", "legal-a", "--name", "Worked example 示例")
    _cli(url, "payer", "add", "legal-a", "sponsor", "--name", "Sponsor", "--role", "sponsor", "--committed", "20000")
    _cli(url, "fund", "contribute", "legal-a", "--payer", "sponsor", "--amount", "20,000.00", "--ref", "B1",
         "--on", "2023-01-05")
    # the same bank reference again is recognised: nothing is booked twice
    _cli(url, "fund", "contribute", "legal-a", "--payer", "sponsor", "--amount", "20000", "--ref", "B1",
         "--on", "2023-01-05")
    refused = _cli(url, "fund", "contribute", "legal-a", "--payer", "sponsor", "--amount", "1.00", "--ref", "B1",
                   "--on", "2023-01-05", code=2)
    assert "different postings" in " ".join(refused.split())
    assert "trust_cash +1.00" in " ".join(refused.split())
    _cli(url, "fund", "establish", "legal-a")
    out = _cli(url, "plan", "propose", "legal-a", "--case-dir", str(case_dir), "--results", str(results),
               "--open-on", "2023-02-01", "--deadline", "2023-03-01")
    request = out.split("#")[1].split(":")[0]
    assert "approver role" in _cli(url, "approval", "approve", request, user="alice", code=2)
    _cli(url, "approval", "approve", request, user="bob")
    agreement = tmp_path / "agreement.txt"
    agreement.write_text("和解协议 v1", encoding="utf-8")
    sha = _cli(url, "plan", "agreement", "legal-a", "--version", "v1", "--file", str(agreement)).split("sha256 ")[1].split()[0]
    assert "1 claims offered" in _cli(url, "claims", "open", "legal-a", "--results", str(results))
    _cli(url, "claims", "notices", "legal-a", "--out", str(tmp_path / "notices.csv"), "--on", "2023-02-01")
    notice = next(csv.DictReader((tmp_path / "notices.csv").open(encoding="utf-8")))
    assert notice["investor_id"] == "INV001" and notice["amount"] == "7760.08" and "诉权" in notice["text_zh"]
    _cli(url, "claims", "decide", "legal-a", "INV001", "--accept", "--key", "form-1", "--on", "2023-02-03",
         "--channel", "online", "--agreement-version", "v1", "--agreement-sha256", sha)
    out = _cli(url, "pay", "batch", "legal-a", "--on", "2023-02-05")
    request = out.split("approval approve ")[1].split("`")[0]
    _cli(url, "approval", "approve", request, user="bob")
    _cli(url, "pay", "export", "legal-a", "1", "--out", str(tmp_path / "pay"))
    instr = next(csv.DictReader((tmp_path / "pay" / "legal-a-batch-0001.csv").open(encoding="utf-8")))
    assert instr["amount"] == "7760.08" and instr["investor_id"] == "INV001"
    res = tmp_path / "results-1.csv"
    res.write_text(f"instruction_id,status,amount,settled_on,reason\n{instr['instruction_id']},paid,7760.08,"
                   f"2023-02-07,\n", encoding="utf-8")
    assert "1 paid" in _cli(url, "pay", "import", "legal-a", str(res))
    assert "Already imported" in _cli(url, "pay", "import", "legal-a", str(res))
    assert "Everything agrees" in _cli(url, "pay", "reconcile", "legal-a")
    _cli(url, "claims", "close", "legal-a", "--on", "2023-03-02")
    _cli(url, "pay", "complete", "legal-a")
    out = _cli(url, "pay", "return-surplus", "legal-a", "--on", "2023-03-10")
    assert "12239.92" in out.replace(",", "")          # 20,000.00 - 7,760.08
    request = out.split("#")[1].split(":")[0]
    _cli(url, "approval", "approve", request, user="bob")
    _cli(url, "case", "close", "legal-a")
    shown = _cli(url, "case", "show", "legal-a")
    assert "closed" in shown and "结案" in shown
    history = _cli(url, "case", "history", "legal-a")
    for state in ("fund_established", "plan_approved", "claims_open", "claims_closed", "payments_complete",
                  "liquidated", "closed"):
        assert state in history, history
    assert "balanced" in _cli(url, "fund", "trial-balance", "legal-a")
    assert "intact" in _cli(url, "audit", "verify")
    statement = json.loads(_cli(url, "fund", "statement", "legal-a", "--json"))
    assert statement["contributions_fen"] == {"sponsor": 2_000_000}
    assert statement["compensation_awarded_fen"] == 776_008 and statement["trust_cash_fen"] == 0
    assert statement["surplus_returned_fen"] == {"sponsor": 2_000_000 - 776_008}
    assert "legal-a" in _cli(url, "case", "list")
    entries = _cli(url, "fund", "entries", "legal-a")
    assert "contribution:B1" in entries and "release:1" in entries and "surplus_return:sponsor" in entries
    assert "settled" in _cli(url, "pay", "batches", "legal-a")
    shown = " ".join(_cli(url, "claims", "show", "legal-a", "INV001").split())
    assert "accepted" in shown and "paid 7,760.08" in shown and "600123" in shown and "via online" in shown
    assert "100.0%" in _cli(url, "claims", "participation", "legal-a")
    assert "case.transition" in _cli(url, "audit", "log", "--case", "legal-a", "--limit", "200")


def test_audit_verify_catches_an_edited_event(db, tmp_path):
    url, engine = db
    _cli(url, "db", "init", "--admin", "root")
    _cli(url, "user", "add", "alice", "--role", "operator", user="root")
    _cli(url, "case", "create", "c1", "--name", "One", user="alice")
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
        else:
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        conn.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE seq = 2"))
    out = _cli(url, "audit", "verify", code=1)
    assert "event 2" in out and "edited" in out


@pytest.mark.parametrize("args", [["case", "show", "nope"], ["fund", "statement", "nope"]])
def test_unknown_case_is_a_clear_error(db, args):
    url, _ = db
    _cli(url, "db", "init", "--admin", "root")
    assert "no case 'nope'" in _cli(url, *args, code=2)


def test_commands_before_init_say_what_to_do(tmp_path):
    out = _cli(f"sqlite:///{tmp_path / 'empty.sqlite3'}", "case", "list", code=2)
    assert "redress db init" in out


def test_web_users_from_the_command_line(db, tmp_path):
    from sqlalchemy import select

    from redress.store.db import unit_of_work
    from redress.store.models import User

    url, engine = db
    _cli(url, "db", "init", "--admin", "root")
    res = runner.invoke(app, ["user", "add", "inv1", "--role", "investor", "--investor-id", "110101199001011234",
                              "--password"], input="s3cret-pass-2023\ns3cret-pass-2023\n",
                        env={"REDRESS_DATABASE_URL": url, "REDRESS_USER": "root"})
    assert res.exit_code == 0, res.output
    refused = _cli(url, "user", "add", "inv2", "--role", "investor", user="root", code=2)
    assert "investor-id" in refused
    assert "staff roles" in _cli(url, "user", "add", "x", "--role", "investor", "--role", "operator",
                                 "--investor-id", "1", user="root", code=2)
    with unit_of_work(engine) as s:
        user = s.execute(select(User).where(User.name == "inv1")).scalar_one()
        assert user.investor_id == "110101199001011234" and user.password_hash.startswith("$argon2id$")
        assert "s3cret" not in user.password_hash
