"""Hearing lots, recourse and fair funds from the command line."""

from __future__ import annotations

import csv
import hashlib
import json

from typer.testing import CliRunner

from redress.cli.main import app

runner = CliRunner()
SEED = "published-seed-for-the-hearing-2023-05-01-abcdef"


def _run(*args: str, code: int = 0) -> str:
    res = runner.invoke(app, list(args))
    assert res.exit_code == code, res.output
    return res.output


def test_a_draw_anyone_can_recompute(tmp_path):
    applicants = tmp_path / "applicants.txt"
    names = ["zhang", "li", "wang", "zhao", "chen", "liu"]
    applicants.write_text("\n".join(names) + "\n", encoding="utf-8")
    commitment = _run("hearing", "commit", SEED).strip()
    assert commitment == hashlib.sha256(SEED.encode()).hexdigest()
    record = tmp_path / "draw.json"
    _run("hearing", "draw", str(applicants), "--seats", "2", "--seed", SEED, "--commitment", commitment,
         "--out", str(record))
    published = json.loads(record.read_text(encoding="utf-8"))
    # recomputed with nothing but hashlib: rank by SHA-256 of seed, NUL, applicant id
    expected = sorted(names, key=lambda n: (hashlib.sha256(f"{SEED}\x00{n}".encode()).hexdigest(), n))[:2]
    assert published["winners"] == expected
    assert "holds" in _run("hearing", "verify", str(record))
    published["winners"] = [n for n in names if n not in expected][:2]
    record.write_text(json.dumps(published), encoding="utf-8")
    _run("hearing", "verify", str(record), code=1)
    assert "commitment" in _run("hearing", "draw", str(applicants), "--seats", "2", "--seed", SEED + "x",
                                "--commitment", commitment, code=2)


def test_recourse_of_a_payer_without_fault(tmp_path):
    parties = tmp_path / "parties.csv"
    parties.write_text("party_id,name,kind,fault_share_bp\nissuer,Issuer,issuer,7000\n"
                       "auditor,Audit Firm,auditor,3000\n", encoding="utf-8")
    payments = tmp_path / "payments.csv"
    payments.write_text("payer_id,paid,party_id\nsponsor,1000000.00,\n", encoding="utf-8")
    body = json.loads(_run("recourse", "compute", str(parties), str(payments), "--json"))
    (payer,) = body["payers"]
    assert payer["recoverable_fen"] == 100_000_000 and payer["own_share_fen"] == 0
    assert {c["against"]: c["expected_fen"] for c in payer["claims"]} == {"issuer": 70_000_000,
                                                                          "auditor": 30_000_000}
    bad = tmp_path / "bad.csv"
    bad.write_text("payer_id,paid\nsponsor,12.345\n", encoding="utf-8")
    assert "bad.csv:2" in _run("recourse", "compute", str(parties), str(bad), code=2)


def test_fair_fund_nets_advance_compensation_and_pays_pro_rata(tmp_path):
    eligible = tmp_path / "eligible.csv"
    eligible.write_text("investor_id,loss,advance_paid\nA,100.00,100.00\nB,300.00,100.00\nC,400.00,0\n",
                        encoding="utf-8")
    out = tmp_path / "payments.csv"
    _run("fairfund", "distribute", str(eligible), "--available", "300.00", "--available", "1000.00",
         "--out", str(out))
    rows = {r["investor_id"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    # net claims A 0, B 200, C 400; round 1 has 300 for 600 claimed: half each; round 2 tops both up
    assert rows["A"]["total"] == "0.00"
    assert (rows["B"]["round_1"], rows["C"]["round_1"]) == ("100.00", "200.00")
    assert (rows["B"]["total"], rows["C"]["total"]) == ("200.00", "400.00")


def test_a_hearing_from_the_command_line(db, tmp_path):
    from redress.admin import cases
    from redress.store.db import unit_of_work
    from support.admin import users

    url, engine = db
    users(engine)
    with unit_of_work(engine) as s:
        cases.create_case(s, "alice", "h2", "Heard case")
    env = {"REDRESS_DATABASE_URL": url, "REDRESS_USER": "alice"}

    def cli(*args, code=0):
        res = runner.invoke(app, list(args), env=env)
        assert res.exit_code == code, res.output
        return res.output

    commitment = cli("hearing", "commit", SEED).strip()
    assert "Hearing 1 open" in cli("hearing", "open", "h2", "--organiser", "Investor Service Center",
                                   "--commitment", commitment, "--on", "2023-02-01")
    reps = tmp_path / "reps.txt"
    reps.write_text("a\nb\nc\nd\n", encoding="utf-8")
    assert "does not match" in cli("hearing", "panel", "1", "--payer", "p1", "--payer", "p2",
                                   "--representatives", str(reps), "--seed", "wrong-seed", code=2)
    seated = cli("hearing", "panel", "1", "--payer", "p1", "--payer", "p2", "--representatives", str(reps),
                 "--seed", SEED)
    assert seated.count("lot") == 2 and seated.count("named") == 2
    minutes = tmp_path / "minutes.txt"
    minutes.write_text("纪要", encoding="utf-8")
    assert "decided" in cli("hearing", "decide", "1", "--minutes", str(minutes), "--decision", "approved",
                            "--on", "2023-03-01")
