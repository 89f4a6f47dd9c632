"""The README, typed in: every ``redress`` command of "Administering a case", "Hearings, recourse and fair
funds" and "The investor protection fund", each in a fresh process as a user runs it, with ``--as NAME`` or
``REDRESS_USER`` and ``REDRESS_DATABASE_URL`` naming a database that only ``redress db init`` has touched, on
SQLite and on PostgreSQL.

The input files (decisions, the clearing system's results, the bank statement, applicants, parties, a failed
firm's claims ...) are written the way a user would: from the files Redress wrote (notices, instruction
files) and from what it printed.  Every figure is checked in fen against what the walk itself paid in and
out, and the books balance to the fen at the end.

Where the README's order cannot be followed literally, the step runs where the lifecycle allows it, and the
literal order is checked to be refused cleanly: ``hearing open`` needs a case whose plan is not approved yet,
``recovery receipt`` a case whose books are not closed yet.

About 150 commands per database, each paying the interpreter's start-up: a slow test (``-n 2`` runs the two
databases side by side; nothing is shared between them but the PostgreSQL server).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from adversarial.readme_support import (
    Terminal,
    empty_database,
    fen,
    grab,
    largest_remainder,
    one_line,
    read_csv,
    write_csv,
    yuan,
)

pytestmark = pytest.mark.slow

CASE = "zj-2023"
OPERATOR, APPROVER, ROOT = "li.wei", "zhang.min", "root"
PAYERS = {"sponsor": ("保荐机构 Sponsor Securities", "sponsor", 7),        # name, role, share of the fund
          "audit_a": ("会计师事务所 Audit Firm A", "auditor", 3)}
SEED = "3f1d9a7c5b2e4f60a8c1d3e5f7092b4d6e8f0a1c3e5d7b9f2a4c6e8d0b1f3a5c"
AGREEMENT = ("先行赔付和解协议 / Advance compensation settlement agreement (v1)\n"
             "1. 投资者接受按赔付方案计算的赔付金额。\n"
             "   The investor accepts the compensation of the plan.\n"
             "2. 投资者将对其他责任主体的请求权转让给出资人。\n"
             "   The investor assigns the claims to the payers.\n")
RESULT_HEADER = ["instruction_id", "status", "amount", "settled_on", "reason"]
DECISION_HEADER = ["investor_id", "decision", "decided_on", "channel", "key", "agreement_version",
                   "agreement_sha256"]


@dataclass
class Walk:
    """What the user has on their desk: the terminal, the case directory, and the figures so far (fen)."""

    t: Terminal
    home: Path
    case_dir: Path = Path()
    offers: dict[str, int] = field(default_factory=dict)     # investor -> compensation, from results.csv
    accepted: set[str] = field(default_factory=set)
    declined: set[str] = field(default_factory=set)
    lapsed: set[str] = field(default_factory=set)
    contributions: dict[str, int] = field(default_factory=dict)
    interest: int = 0
    paid: dict[str, int] = field(default_factory=dict)       # investor -> paid, from the results files
    agreement_sha: str = ""
    commitment: str = ""

    def path(self, name: str) -> Path:
        p = self.home / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def approve(self, request_output: str, *, by_env: bool = False) -> str:
        """A second person approves the request the maker's command just printed, in a fresh process: with
        ``--as``, or with ``REDRESS_USER`` (``by_env``)."""
        request = grab(r"redress approval approve (\d+)", request_output, "the approval request").group(1)
        if by_env:
            out = self.t.redress("approval", "approve", request, user=APPROVER)
        else:
            out = self.t.redress("approval", "approve", request, "--as", APPROVER)
        assert f"Request #{request} approved" in out, out
        return request


def build_case(w: Walk) -> None:
    """A small case directory from the project's synthetic generator, its id the README's, and
    ``redress compute`` on it."""
    from redress.synth import generate_case

    w.case_dir = w.home / "case"
    generate_case(w.case_dir, n_trades=800, n_investors=40, seed=2023, trades_format="csv",
                  name="紫晶存储 Zijing-like walkthrough case")
    toml = w.case_dir / "case.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(re.sub(r'(?m)^id = ".*"$', f'id = "{CASE}"', text), encoding="utf-8")
    assert "Results written" in w.t.redress("compute", w.case_dir, "--out", "results.csv")
    for r in read_csv(w.home / "results.csv"):
        if fen(r["compensation"]) > 0:
            w.offers[r["investor_id"]] = w.offers.get(r["investor_id"], 0) + fen(r["compensation"])
    assert len(w.offers) >= 8, f"too small a case to walk through: {len(w.offers)} investors to pay"


def statement(w: Walk) -> dict:
    """``fund statement --json``, with its identity checked: sources - uses = trust cash + in transit."""
    st = json.loads(w.t.redress("fund", "statement", CASE, "--json"))
    sources = sum(st["contributions_fen"].values()) + st["interest_earned_fen"]
    uses = (st["compensation_awarded_fen"] + st["interest_awarded_fen"] + st["fees_fen"]
            + sum(st["surplus_returned_fen"].values()) - st["payable_fen"])
    assert sources - uses == st["trust_cash_fen"] + st["in_transit_fen"], f"the statement does not hold: {st}"
    return st


# -- "Administering a case" ----------------------------------------------------------------------------------

def set_up(w: Walk) -> None:
    t = w.t
    assert "Database ready" in t.redress("db", "init", "--admin", ROOT)
    t.redress("user", "add", OPERATOR, "--role", "operator", "--as", ROOT)
    t.redress("user", "add", APPROVER, "--role", "approver", "--as", ROOT)
    out = t.redress("case", "create", CASE, "--name", "紫晶存储先行赔付 walkthrough", "--as", OPERATOR)
    assert "draft" in out
    fund_total = sum(w.offers.values()) * 11 // 10 + 12_345     # covers every offer: awards paid as they come
    shares = largest_remainder(fund_total, {p: weight for p, (_n, _r, weight) in PAYERS.items()})
    for k, (payer, (name, role, _weight)) in enumerate(PAYERS.items(), 1):
        t.redress("payer", "add", CASE, payer, "--name", name, "--role", role, "--committed",
                  yuan(shares[payer]))
        out = t.redress("fund", "contribute", CASE, "--payer", payer, "--amount", yuan(shares[payer], True),
                        "--ref", f"BANK-000{k}", "--on", "2023-03-01")
        assert f"BANK-000{k}" in out
        w.contributions[payer] = shares[payer]
    # the same bank reference again books nothing twice
    t.redress("fund", "contribute", CASE, "--payer", "sponsor", "--amount", yuan(shares["sponsor"]), "--ref",
              "BANK-0001", "--on", "2023-03-01")
    assert "fund established" in t.redress("fund", "establish", CASE)
    st = statement(w)
    assert st["contributions_fen"] == w.contributions and st["trust_cash_fen"] == fund_total


def plan_and_claims(w: Walk) -> None:
    t = w.t
    out = t.redress("plan", "propose", CASE, "--case-dir", w.case_dir, "--results", "results.csv",
                    "--open-on", "2023-04-01", "--deadline", "2023-05-15")
    m = grab(r"Approval request #(\d+): (\d+) investors, ([\d,.]+) yuan", out)
    assert m.group(1) == "1", "the README approves request 1"
    assert int(m.group(2)) == len(w.offers) and fen(m.group(3)) == sum(w.offers.values()), out
    # the maker cannot check their own work
    assert "approver" in one_line(t.refused("approval", "approve", "1", "--as", OPERATOR))
    w.approve(out)
    w.path("agreement.txt").write_text(AGREEMENT, encoding="utf-8")
    out = t.redress("plan", "agreement", CASE, "--version", "v1", "--file", "agreement.txt")
    w.agreement_sha = grab(r"sha256 ([0-9a-f]{64})", out).group(1)
    assert w.agreement_sha == hashlib.sha256(AGREEMENT.encode("utf-8")).hexdigest()
    assert f"{len(w.offers)} claims offered" in t.redress("claims", "open", CASE, "--results", "results.csv")
    t.redress("claims", "notices", CASE, "--out", "notices.csv", "--on", "2023-04-01")
    notices = read_csv(w.home / "notices.csv")
    assert {n["investor_id"]: fen(n["amount"]) for n in notices} == w.offers, "the offers are the results"
    assert all(n["deadline"] == "2023-05-15" and "诉权" in n["text_zh"] for n in notices)

    # the investors answer: one declines, two say nothing, one accepts at the counter, the rest online or
    # through their broker (one file, imported twice: the second time changes nothing)
    investors = sorted(w.offers)
    decline, *silent = investors[:3]
    counter = investors[3]
    w.declined, w.lapsed = {decline}, set(silent)
    rows = [[decline, "decline", "2023-04-08", "mail", f"mail-{decline}", "", ""]]
    for k, inv in enumerate(investors[4:]):
        channel = "online" if k % 3 else "broker"
        rows.append([inv, "accept", f"2023-04-{10 + k % 5:02d}", channel, f"{channel}-{inv}", "v1",
                     w.agreement_sha])
    write_csv(w.path("decisions.csv"), DECISION_HEADER, rows)
    assert f"{len(rows)} decisions recorded" in t.redress("claims", "import", CASE, "decisions.csv")
    assert "Already imported" in t.redress("claims", "import", CASE, "decisions.csv")
    out = t.redress("claims", "decide", CASE, counter, "--accept", "--key", f"counter-{counter}", "--channel",
                    "counter", "--agreement-version", "v1", "--agreement-sha256", w.agreement_sha,
                    "--on", "2023-04-12")
    assert "accepted" in out
    w.accepted = set(investors[3:])
    # a decision is final: the same investor declining afterwards is refused, naming the investor
    write_csv(w.path("decisions-again.csv"), DECISION_HEADER,
              [[counter, "decline", "2023-04-13", "online", f"online-again-{counter}", "", ""]])
    assert "decision is final" in one_line(t.refused("claims", "import", CASE, "decisions-again.csv"))
    st = statement(w)
    assert st["compensation_awarded_fen"] == st["payable_fen"] == sum(w.offers[i] for i in w.accepted)


def pay_batch(w: Walk, on: str, number: int, settled_on: str, returned: frozenset[str] = frozenset()) -> int:
    """``pay batch``, its release by a second person, ``pay export``, the clearing system's results made
    from the instruction file, ``pay import``.  Returns the batch's total."""
    t = w.t
    out = t.redress("pay", "batch", CASE, "--on", on)
    m = grab(rf"Batch {number}: (\d+) payments, ([\d,.]+) yuan", out)
    w.approve(out)
    t.redress("pay", "export", CASE, str(number), "--out", "outbox/")
    instructions = w.home / "outbox" / f"{CASE}-batch-{number:04d}.csv"
    manifest = json.loads(instructions.with_name(f"{instructions.stem}.manifest.json").read_text("utf-8"))
    rows = read_csv(instructions)
    total = sum(fen(r["amount"]) for r in rows)
    assert len(rows) == int(m.group(1)) == manifest["count"]
    assert total == fen(m.group(2)) == fen(manifest["total"])
    assert manifest["sha256"] == hashlib.sha256(instructions.read_bytes()).hexdigest()
    assert all(r["case_id"] == CASE and r["currency"] == "CNY" and r["batch"] == str(number) for r in rows)
    if number == 1:     # the file is the same byte for byte when exported again
        first = instructions.read_bytes()
        t.redress("pay", "export", CASE, str(number), "--out", "outbox/")
        assert instructions.read_bytes() == first
    name = f"inbox/{CASE}-batch-{number:04d}-results.csv"
    write_csv(w.path(name), RESULT_HEADER,
              [[r["instruction_id"], "returned", r["amount"], settled_on, "account closed / 账户已注销"]
               if r["investor_id"] in returned else [r["instruction_id"], "paid", r["amount"], settled_on, ""]
               for r in rows])
    paid = {r["investor_id"]: fen(r["amount"]) for r in rows if r["investor_id"] not in returned}
    out = one_line(t.redress("pay", "import", CASE, name))
    assert out.startswith(f"{len(paid)} paid ({yuan(sum(paid.values()), True)} yuan), "
                          f"{len(rows) - len(paid)} returned"), out
    if number == 1:     # the same file twice changes nothing
        assert "Already imported" in t.redress("pay", "import", CASE, name)
    for inv, amount in paid.items():
        w.paid[inv] = w.paid.get(inv, 0) + amount
    return total


def claims_period(w: Walk) -> None:
    t = w.t
    returned = frozenset(sorted(w.accepted)[:1])
    batch_1 = pay_batch(w, "2023-04-20", 1, "2023-04-22", returned)
    assert batch_1 == sum(w.offers[i] for i in w.accepted), "the first batch pays every acceptance in full"
    w.interest = 1_234_56
    t.redress("fund", "interest", CASE, "--amount", yuan(w.interest), "--ref", "INT-2023-04", "--on",
              "2023-04-30")
    # the bank's statement: the day after the release, and at the month's end (a payment came back, and
    # interest); one fen off is refused with the line and the difference
    contributed = sum(w.contributions.values())
    back = sum(w.offers[i] for i in returned)
    month_end = contributed - batch_1 + back + w.interest
    write_csv(w.path("statement.csv"), ["date", "balance", "reference"],
              [["2023-04-21", yuan(contributed - batch_1), "BS-0421"],
               ["2023-04-30", yuan(month_end), "BS-0430"]])
    assert "2 balance(s) agree" in t.redress("fund", "bank-statement", CASE, "statement.csv")
    assert "Already imported" in t.redress("fund", "bank-statement", CASE, "statement.csv")
    write_csv(w.path("statement-wrong.csv"), ["date", "balance"], [["2023-04-30", yuan(month_end + 1)]])
    assert "difference -0.01" in one_line(t.refused("fund", "bank-statement", CASE, "statement-wrong.csv"))

    # the deadline passes: the silent lapse; one of them accepts in the late window
    out = t.redress("claims", "close", CASE, "--on", "2023-05-16")
    assert grab(r"lapsed: (\d+)", out).group(1) == str(len(w.lapsed))
    out = t.redress("claims", "reopen", CASE, "--until", "2023-06-15", "--reason", "第二次通知 second notice")
    assert f"Late window open for {len(w.lapsed)} lapsed claims" in out
    t.redress("claims", "notices", CASE, "--kind", "late_window", "--out", "notices-late.csv", "--on",
              "2023-05-17")
    assert {n["investor_id"] for n in read_csv(w.home / "notices-late.csv")} == w.lapsed
    late = min(w.lapsed)
    write_csv(w.path("decisions-late.csv"), DECISION_HEADER,
              [[late, "accept", "2023-06-01", "counter", f"late-{late}", "v1", w.agreement_sha]])
    assert "1 decisions recorded" in t.redress("claims", "import", CASE, "decisions-late.csv")
    w.accepted.add(late)
    w.lapsed.discard(late)
    t.redress("claims", "close-late", CASE, "--on", "2023-06-16")
    out = one_line(t.redress("claims", "interest", CASE, "--on", "2023-06-17"))
    assert out.startswith(f"{yuan(w.interest)} yuan of interest to {len(w.accepted)} investors"), out

    # the returned payment, the late acceptance and everyone's interest go out in a second batch
    batch_2 = pay_batch(w, "2023-06-18", 2, "2023-06-20")
    assert batch_2 == back + w.offers[late] + w.interest
    assert "Everything agrees" in t.redress("pay", "reconcile", CASE)
    assert "Payments complete" in t.redress("pay", "complete", CASE)
    st = statement(w)
    owed = sum(w.offers[i] for i in w.accepted) + w.interest
    assert sum(w.paid.values()) == owed == st["compensation_awarded_fen"] + st["interest_awarded_fen"]
    assert st["payable_fen"] == st["in_transit_fen"] == 0 and set(w.paid) == w.accepted


def liquidation(w: Walk) -> None:
    t = w.t
    surplus = statement(w)["trust_cash_fen"]
    assert surplus == sum(w.contributions.values()) + w.interest - sum(w.paid.values())
    out = one_line(t.redress("pay", "return-surplus", CASE, "--on", "2023-06-25"))
    shares = largest_remainder(surplus, w.contributions)
    assert f"return {yuan(surplus, True)} yuan" in out, out
    for payer, amount in shares.items():
        assert f"{payer} {yuan(amount, True)}" in out, (payer, out)
    w.approve(out, by_env=True)
    st = statement(w)
    assert st["surplus_returned_fen"] == shares and st["trust_cash_fen"] == 0


def recovery(w: Walk) -> None:
    """``recourse compute`` on what each payer's money paid, then the case's own recourse: parties, steps, a
    receipt, the report.  While the case is liquidated: a closed case takes no receipts (see ``closing``)."""
    t = w.t
    paid_compensation = sum(w.offers[i] for i in w.accepted)     # interest is the investors' own money
    by_payer = largest_remainder(paid_compensation, w.contributions)
    parties = [("issuer", "发行人 Issuer", "issuer", 6000, "true", 10000),
               ("controller", "控股股东 Controller", "controlling_shareholder", 2500, "false", 2000),
               ("sponsor", "保荐机构 Sponsor Securities", "sponsor", 1500, "true", 10000)]
    write_csv(w.path("parties.csv"), ["party_id", "name", "kind", "fault_share_bp", "solvent",
                                      "recovery_rate_bp"], [list(p) for p in parties])
    write_csv(w.path("payments.csv"), ["payer_id", "paid", "party_id"],
              [["sponsor", yuan(by_payer["sponsor"]), "sponsor"], ["audit_a", yuan(by_payer["audit_a"]), ""]])
    plan = json.loads(t.redress("recourse", "compute", "parties.csv", "payments.csv", "--json"))
    for p in plan["payers"]:
        assert p["own_share_fen"] + p["recoverable_fen"] + p["unrecoverable_fen"] == p["paid_fen"]
        assert p["paid_fen"] == by_payer[p["payer_id"]]
    against = {party: {p["payer_id"]: c["amount_fen"] for p in plan["payers"] for c in p["claims"]
                       if c["against"] == party} for party, *_rest in parties}
    for party, name, kind, bp, solvent, rate in parties:
        args = ["recovery", "party", CASE, party, "--name", name, "--kind", kind, "--share-bp", bp]
        if solvent == "false":
            args += ["--insolvent", "--rate-bp", rate]
        if party == "sponsor":
            args += ["--payer", "sponsor"]
        t.redress(*args)
    issuer_claim = sum(against["issuer"].values())
    t.redress("recovery", "action", CASE, "issuer", "--stage", "demand", "--ref", "催告函〔2023〕1号",
              "--on", "2023-06-26")
    t.redress("recovery", "action", CASE, "issuer", "--stage", "lawsuit", "--ref", "(2023)沪74民初101号",
              "--amount", yuan(issuer_claim), "--on", "2023-06-27")
    received = issuer_claim * 6 // 10
    receipt = ["recovery", "receipt", CASE, "issuer", "--amount", yuan(received), "--ref", "ENF-2023-0001",
               "--on", "2023-06-28"]
    out = t.redress(*receipt)
    for payer, amount in largest_remainder(received, against["issuer"]).items():
        assert f"{payer} {yuan(amount)}" in out, (payer, amount, out)
    # a retry of the same receipt books nothing more (the report below shows it once); more than may
    # still be claimed is refused
    t.redress(*receipt)
    t.refused("recovery", "receipt", CASE, "issuer", "--amount", yuan(issuer_claim - received + 1), "--ref",
              "ENF-2023-0002", "--on", "2023-06-29")
    report = one_line(t.redress("recovery", "report", CASE))
    assert f"issuer 60.00% {yuan(issuer_claim)}" in report, report
    assert f"{yuan(received)} {yuan(issuer_claim - received)}" in report, report


def closing(w: Walk) -> None:
    t = w.t
    assert f"Case {CASE} closed" in t.redress("case", "close", CASE)
    st = statement(w)
    # the books to the fen: what came in went to the investors or back to the payers; nothing is left
    assert sum(w.contributions.values()) + w.interest == sum(w.paid.values()) + sum(
        st["surplus_returned_fen"].values())
    assert st["trust_cash_fen"] == st["in_transit_fen"] == st["payable_fen"] == st["fees_fen"] == 0
    trial = one_line(t.redress("fund", "trial-balance", CASE))
    total = grab(r"total 合计 ([\d,.]+) ([\d,.]+)", trial)
    assert total.group(1) == total.group(2) and "balanced / 借贷平衡" in trial, trial
    part = one_line(t.redress("claims", "participation", CASE))
    for status, zh, who in (("accepted", "已接受", w.accepted), ("declined", "不接受", w.declined),
                            ("lapsed", "逾期", w.lapsed), ("offered", "待确认", set())):
        assert grab(rf"{status} {zh} (\d+)", part, f"{status} count").group(1) == str(len(who)), part
    assert f"paid 已付 {yuan(sum(w.paid.values()), True)}" in part, part
    assert f"accepted 接受 {yuan(sum(w.offers[i] for i in w.accepted), True)}" in part, part
    assert "Everything agrees" in t.redress("pay", "reconcile", CASE)
    assert "Audit log intact" in t.redress("audit", "verify")
    # the README lists these after `case close`; a closed case refuses them, cleanly
    assert "closed" in one_line(t.refused("hearing", "open", CASE, "--organiser", "Investor Service Center",
                                          "--commitment", w.commitment, "--on", "2023-07-01"))
    assert "closed" in one_line(t.refused("recovery", "receipt", CASE, "issuer", "--amount", "1.00", "--ref",
                                          "ENF-2023-0003", "--on", "2023-07-01"))


# -- "Hearings, recourse and fair funds" ---------------------------------------------------------------------

def hearing(w: Walk) -> None:
    """On the plan, before it is approved (the fund is established)."""
    t = w.t
    w.commitment = t.redress("hearing", "commit", SEED).strip()
    assert w.commitment == hashlib.sha256(SEED.encode()).hexdigest()
    applicants = sorted(w.offers)[:7]
    w.path("applicants.txt").write_text("\n".join(applicants) + "\n", encoding="utf-8")
    t.redress("hearing", "draw", "applicants.txt", "--seats", "3", "--seed", SEED, "--commitment",
              w.commitment, "--out", "draw.json")
    record = json.loads((w.home / "draw.json").read_text("utf-8"))
    # anyone can recompute it with the standard library alone (src/redress/hearing/docs.md)
    ranked = sorted(applicants,
                    key=lambda a: (hashlib.sha256(SEED.encode() + b"\0" + a.encode()).hexdigest(), a))
    assert record["winners"] == ranked[:3]
    assert "The draw holds" in t.redress("hearing", "verify", "draw.json")
    w.path("forged.json").write_text(json.dumps(dict(record, winners=ranked[-3:]), sort_keys=True), "utf-8")
    t.refused("hearing", "verify", "forged.json", code=1)
    t.refused("hearing", "draw", "applicants.txt", "--seats", "3", "--seed", SEED[::-1], "--commitment",
              w.commitment)

    out = t.redress("hearing", "open", CASE, "--organiser", "中证中小投资者服务中心 Investor Service Center",
                    "--commitment", w.commitment, "--on", "2023-03-02")
    hearing_id = grab(r"Hearing (\d+) open; it must finish by (\S+)", out).group(1)
    out = one_line(t.redress("hearing", "panel", hearing_id, "--payer", "保荐机构代表 Sponsor rep", "--payer",
                             "会计师代表 Auditor rep", "--representatives", "applicants.txt", "--seed", SEED))
    for rep in ranked[:2]:      # two payer-side members: two representatives, by the same lot
        assert f"{rep} investor_representative lot" in out, out
    w.path("plan-a.toml").write_text('[plan]\ncost_method = "fifo"\n', encoding="utf-8")
    w.path("plan-b.toml").write_text('[plan.systemic_risk]\nmethod = "none"\n', encoding="utf-8")
    for plan, label, who in (("plan-a.toml", "A", "payers"),
                             ("plan-b.toml", "B", "investor representatives")):
        t.redress("hearing", "plan", hearing_id, plan, "--label", label, "--proposed-by", who, "--case-dir",
                  w.case_dir, "--on", "2023-03-09")
    out = one_line(t.redress("hearing", "compare", hearing_id, "--case-dir", w.case_dir, "--on",
                             "2023-03-20"))
    base = grab(r"case\.toml (\d+) ([\d,.]+)", out, "the case's own plan in the comparison")
    assert int(base.group(1)) == len(w.offers) and fen(base.group(2)) == sum(w.offers.values()), out
    assert re.search(r"\bA \d+ [\d,.]+", out) and re.search(r"\bB \d+ [\d,.]+", out), out
    w.path("minutes.txt").write_text("听证会纪要 Minutes: plans A and B compared with the case's plan.\n",
                                     encoding="utf-8")
    out = t.redress("hearing", "decide", hearing_id, "--minutes", "minutes.txt", "--decision",
                    "维持案件方案 The case's plan stands", "--on", "2023-03-20")
    assert f"Hearing {hearing_id} decided" in out


def fair_fund(w: Walk) -> None:
    t = w.t
    uncompensated = {i: w.offers[i] for i in w.declined | w.lapsed}     # declined, or let the offer lapse
    # advance compensation received: the award, not the interest (the investors' own money)
    write_csv(w.path("eligible.csv"), ["investor_id", "loss", "advance_paid"],
              [[i, yuan(w.offers[i]), yuan(w.offers[i] if i in w.accepted else 0)] for i in sorted(w.offers)])
    available = sum(uncompensated.values()) * 6 // 10                  # a short fund: pro rata
    out = t.redress("fairfund", "distribute", "eligible.csv", "--available", yuan(available), "--minimum",
                    "10", "--out", "fair-payments.csv")
    assert "Fair fund rounds" in out
    pure = {r["investor_id"]: fen(r["total"]) for r in read_csv(w.home / "fair-payments.csv")
            if fen(r["total"])}
    assert set(pure) <= set(uncompensated) and available - len(pure) <= sum(pure.values()) <= available, pure

    t.redress("fairfund-case", "establish", CASE, "--residual-to", "投资者保护基金 investor protection fund",
              "--minimum", "10", "--on", "2023-09-01")
    t.redress("fairfund-case", "source", CASE, "--kind", "fine", "--amount", yuan(available), "--ref",
              "罚字〔2023〕18号", "--on", "2023-09-05")
    out = one_line(t.redress("fairfund-case", "round", CASE, "--on", "2023-09-06"))
    rnd = grab(r"Round 1: available ([\d.]+), paid ([\d.]+), residual ([\d.]+) -> (\S+)", out)
    paid, residual = fen(rnd.group(2)), fen(rnd.group(3))
    assert fen(rnd.group(1)) == available == paid + residual
    assert paid == sum(pure.values()), "the case's round pays what `fairfund distribute` computes"
    out = t.redress("fairfund-case", "batch", CASE, "--on", "2023-09-08")
    assert fen(grab(r"Fair-fund batch 1: \d+ transfers, ([\d.]+) yuan", out).group(1)) == paid
    w.approve(out)                                          # release_fairfund, in a fresh process
    t.redress("fairfund-case", "export", CASE, "1", "--out", "outbox/")
    rows = read_csv(w.home / "outbox" / f"{CASE}-fairfund-0001.csv")
    assert {r["investor_id"]: fen(r["amount"]) for r in rows} == pure, "each investor gets the same amount"
    results = "inbox/fairfund-0001-results.csv"
    write_csv(w.path(results), RESULT_HEADER, [[r["instruction_id"], "paid", r["amount"], "2023-09-12", ""]
                                               for r in rows])
    out = one_line(t.redress("fairfund-case", "results", CASE, results))
    assert out.startswith(f"{len(rows)} paid ({yuan(paid)} yuan), 0 returned"), out
    assert "already imported" in t.redress("fairfund-case", "results", CASE, results)
    show = one_line(t.redress("fairfund-case", "show", CASE))
    sent_away = 0 if rnd.group(4) == "carried_forward" else residual
    assert f"sources {yuan(available)}, allocated {yuan(paid)}" in show, show
    assert f"residual sent {yuan(sent_away)}, held {yuan(available - paid - sent_away)}" in show, show
    assert f"transferred {yuan(paid)}, in flight 0.00, awaiting a batch 0.00" in show, show
    assert f"the account holds {yuan(available - sent_away - paid)}" in show, show


# -- "The investor protection fund" --------------------------------------------------------------------------

DIRECTORS = [f"董事{i} Director {i}" for i in range(1, 10)]
CAPITAL = 18_000_000_000_00
# company: name, grade, operating income a quarter (fen)
COMPANIES = {"hz-sec": ("华中证券 Huazhong Securities", "AA", 1_850_000_000_00),
             "dh-sec": ("东海证券 Donghai Securities", "A", 620_000_000_00)}
FIRM = "hx-sec"
# claimant, category, principal, interest (fen); individual creditors: 100,000 yuan in full, 90% above
FIRM_CLAIMS = [("C00001", "settlement_funds", 5_432_10, 0), ("C00002", "settlement_funds", 80_000_00, 0),
               ("C00003", "individual_debt", 60_000_00, 1_200_00),
               ("C00004", "individual_debt", 150_000_00, 4_000_00),
               ("C00005", "individual_debt", 100_000_00, 0), ("C00006", "settlement_funds", 2_000_000_00, 0)]


def each(flag: str, names: list[str]) -> list[str]:
    return [x for n in names for x in (flag, n)]


def protection_board(w: Walk) -> None:
    t = w.t
    t.redress("ipf", "book", "capital", "--amount", yuan(CAPITAL), "--ref", "CAP-2005", "--on", "2020-01-02")
    w.path("directors.txt").write_text("\n".join(DIRECTORS) + "\n", encoding="utf-8")
    out = t.redress("ipf", "board", "meeting", "--directors", "directors.txt",
                    *each("--present", DIRECTORS[:7]), "--on", "2020-01-15")
    meeting = grab(r"Meeting (\d+) recorded; it could be held", out).group(1)
    out = t.redress("ipf", "board", "meeting", "--directors", "directors.txt",
                    *each("--present", DIRECTORS[:5]), "--kind", "interim", "--on", "2020-01-16")
    assert "could NOT be held" in out, "5 of 9 is less than two thirds"
    for subject, ref in (("annual_budget", "BD-2020-01"), ("investment_plan", "BD-2020-02"),
                         ("use_for_failed_firm", "BD-2020-07")):
        out = t.redress("ipf", "board", "resolve", meeting, "--subject", subject, "--ref", ref, "--text",
                        f"{subject} 决议", *each("--for", DIRECTORS[:5]), *each("--against", DIRECTORS[5:7]))
        assert f"Resolution {ref}: passed" in out
    out = t.redress("ipf", "board", "resolve", meeting, "--subject", "use_for_failed_firm", "--ref",
                    "BD-2020-08", "--text", "four in favour", *each("--for", DIRECTORS[:4]))
    assert "NOT passed" in out, "4 of 9 in favour is not a majority of all nine directors"
    listing = one_line(t.redress("ipf", "board", "list"))
    assert "BD-2020-07 use_for_failed_firm passed" in listing, listing
    assert "BD-2020-08 use_for_failed_firm NOT passed" in listing, listing


def quarter_income(cid: str, q: int) -> int:
    return COMPANIES[cid][2] + q * 1_000_000_00


def protection_levies(w: Walk) -> tuple[int, int]:
    """Levies from rating to settlement.  Returns the levy income booked in 2020 (the four quarters, each
    assessed in the quarter after it) and in all (net of the settlements), in fen."""
    t = w.t
    for cid, (name, grade, _income) in COMPANIES.items():
        t.redress("ipf", "company", "add", cid, "--name", name, "--brokerage")
        t.redress("ipf", "company", "rate", cid, "2020", grade)
    t.redress("ipf", "levy", "year", "2020", "--loss-share-bp", "1200", "--fund-size", "17000000000",
              "--source", "CSRC statistics (illustrative)")
    rate_bp = {}
    for cid in COMPANIES:
        out = one_line(t.redress("ipf", "levy", "rate", cid, "2020"))
        rate_bp[cid] = round(float(grab(rf"{cid} 2020: ([\d.]+)% of operating income", out).group(1)) * 100)
    assessed: dict[str, dict[int, tuple[int, str]]] = {c: {} for c in COMPANIES}
    for q in (1, 2, 3, 4):
        write_csv(w.path(f"income-Q{q}.csv"), ["company_id", "income"],
                  [[cid, yuan(quarter_income(cid, q))] for cid in COMPANIES])
        on = dt.date(2020 + q // 4, (3 * q) % 12 + 1, 1)       # the first day after the quarter
        out = one_line(t.redress("ipf", "levy", "assess", "--year", "2020", "--quarter", str(q), "--file",
                                 f"income-Q{q}.csv", "--on", on.isoformat()))
        for cid in COMPANIES:
            m = grab(rf"{cid} 2020 Q{q}: ([\d,.]+) yuan at [\d.]+%, due (\S+)", out)
            # income x rate, rounded once, half up
            assert fen(m.group(1)) == (quarter_income(cid, q) * rate_bp[cid] + 5_000) // 10_000, (cid, q, out)
            assessed[cid][q] = (fen(m.group(1)), m.group(2))
    t.redress("ipf", "levy", "notices", "2020", "4", "--out", "levy-notices-Q4.csv")
    notices = {n["company_id"]: (fen(n["amount"]), n["due_on"])
               for n in read_csv(w.home / "levy-notices-Q4.csv")}
    assert notices == {c: assessed[c][4] for c in COMPANIES}
    # every quarter paid two days before it is due, except dh-sec's fourth
    pay_rows = [[cid, 2020, q, yuan(amount), dt.date.fromisoformat(due) - dt.timedelta(days=2),
                 f"BANK-{cid}-{q}"]
                for cid in COMPANIES for q, (amount, due) in assessed[cid].items()
                if (cid, q) != ("dh-sec", 4)]
    write_csv(w.path("levy-payments.csv"),
              ["company_id", "year", "quarter", "amount", "paid_on", "reference"], pay_rows)
    out = one_line(t.redress("ipf", "levy", "pay", "--file", "levy-payments.csv"))
    assert f"{len(pay_rows)} payment(s), {yuan(sum(fen(r[3]) for r in pay_rows), True)} yuan" in out, out
    late, due = assessed["dh-sec"][4][0], dt.date.fromisoformat(assessed["dh-sec"][4][1])
    out = one_line(t.redress("ipf", "levy", "overdue", "--on", (due + dt.timedelta(days=10)).isoformat()))
    assert f"dh-sec 2020 Q4 {due} 10 {yuan(late, True)}" in out and "1 overdue" in out, out
    paid_on = (due + dt.timedelta(days=11)).isoformat()
    t.redress("ipf", "levy", "pay", "dh-sec", "--year", "2020", "--quarter", "4", "--amount", yuan(late),
              "--ref", "BANK-dh-sec-4", "--on", paid_on)
    assert "0 overdue" in one_line(t.redress("ipf", "levy", "overdue", "--on", paid_on))

    # the year settled on audited income: hz-sec owes a balance, dh-sec is refunded
    year_total = 0
    for cid, delta in (("hz-sec", 300_000_000_00), ("dh-sec", -500_000_000_00)):
        audited = sum(quarter_income(cid, q) for q in (1, 2, 3, 4)) + delta
        out = one_line(t.redress("ipf", "levy", "settle", cid, "2020", "--audited-income", yuan(audited),
                                 "--on", "2021-04-30"))
        due_total = (audited * rate_bp[cid] + 5_000) // 10_000
        balance = due_total - sum(a for a, _d in assessed[cid].values())
        if balance > 0:
            assert f"{yuan(balance, True)} yuan more to pay" in out, out
            t.redress("ipf", "levy", "pay", cid, "--year", "2020", "--quarter", "0", "--amount",
                      yuan(balance), "--ref", f"BANK-{cid}-2020-SETTLE", "--on", "2021-05-10")
        else:
            assert f"{yuan(-balance, True)} yuan to refund" in out, out
            out = t.redress("ipf", "levy", "refund", cid, "2020", "--ref", "REFUND-1", "--on", "2021-05-20")
            assert f"{yuan(-balance, True)} yuan refunded" in out
        st = one_line(t.redress("ipf", "levy", "statement", cid, "2020"))
        m = grab(r"assessed 已核定 ([\d,.]+); paid 已缴 ([\d,.]+); outstanding 未缴 0\.00; "
                 r"refund 应退 ([\d,.]+) \(paid 已退 ([\d,.]+)\)", st)
        assessed_fen, paid_fen, refund_fen, refunded_fen = (fen(m.group(k)) for k in (1, 2, 3, 4))
        assert assessed_fen - refund_fen == due_total and paid_fen == assessed_fen, st
        assert refund_fen == refunded_fen == max(-balance, 0), st
        year_total += due_total
    in_2020 = sum(a for cid in COMPANIES for q, (a, _d) in assessed[cid].items() if q < 4)
    return in_2020, year_total


def firm_pays(category: str, principal: int) -> int:
    if category == "settlement_funds":
        return principal
    return min(principal, 100_000_00) + max(principal - 100_000_00, 0) * 9 // 10


def firm_batch(w: Walk, number: int, on: str, settled_on: str,
               returned: frozenset[str] = frozenset()) -> dict[str, int]:
    t = w.t
    out = one_line(t.redress("ipf", "firm", "batch", FIRM, "--on", on))
    m = grab(rf"Batch {number} proposed: (\d+) payment\(s\), ([\d,.]+) yuan", out)
    if number == 1:     # the proposer cannot release it; an approver who did not propose it does
        t.refused("ipf", "firm", "release", FIRM, str(number), "--on", on)
    out = t.redress("ipf", "firm", "release", FIRM, str(number), "--on", on, "--as", APPROVER)
    assert f"Batch {number} released by {APPROVER}" in out
    t.redress("ipf", "firm", "export", FIRM, str(number), "--out", "files/")
    rows = read_csv(w.home / "files" / f"{FIRM}-batch-{number:04d}.csv")
    assert len(rows) == int(m.group(1)) and sum(fen(r["amount"]) for r in rows) == fen(m.group(2))
    name = f"files/{FIRM}-batch-{number:04d}-results.csv"
    write_csv(w.path(name), RESULT_HEADER,
              [[r["instruction_id"], "returned", r["amount"], settled_on, "户名不符 name mismatch"]
               if r["investor_id"] in returned else [r["instruction_id"], "paid", r["amount"], settled_on, ""]
               for r in rows])
    out = one_line(t.redress("ipf", "firm", "results", FIRM, name))
    paid = sum(fen(r["amount"]) for r in rows if r["investor_id"] not in returned)
    assert f"{len(rows) - len(returned)} paid ({yuan(paid, True)} yuan), {len(returned)} returned" in out, out
    if number == 1:
        assert "already imported" in t.redress("ipf", "firm", "results", FIRM, name)
    return {r["investor_id"]: fen(r["amount"]) for r in rows}


def protection_firm(w: Walk) -> tuple[int, int]:
    """A failed firm from opening to closing.  Returns (paid to its clients and creditors, recovered)."""
    t = w.t
    out = t.redress("ipf", "firm", "open", FIRM, "--name", "恒信证券 Hengxin Securities", "--event",
                    "revoked", "--event-on", "2020-05-08", "--resolution", "BD-2020-07")
    assert f"Firm {FIRM} opened" in out
    t.refused("ipf", "firm", "open", "xx-sec", "--name", "Not resolved", "--event", "revoked", "--event-on",
              "2020-05-08", "--resolution", "BD-2020-08")          # a resolution that did not pass
    write_csv(w.path("firm-claims.csv"), ["claimant_id", "category", "principal", "interest", "reference"],
              [[c, cat, yuan(p), yuan(i), f"REG-{c}"] for c, cat, p, i in FIRM_CLAIMS])
    write_csv(w.path("firm-records.csv"), ["claimant_id", "category", "principal"],
              [[c, cat, yuan(p)] for c, cat, p, _i in FIRM_CLAIMS])
    assert f"{len(FIRM_CLAIMS)} claim(s)" in t.redress("ipf", "firm", "claims", FIRM, "firm-claims.csv")
    assert "already taken in" in t.redress("ipf", "firm", "claims", FIRM, "firm-claims.csv")
    t.redress("ipf", "firm", "records", FIRM, "firm-records.csv")
    to_pay = sum(firm_pays(cat, p) for _c, cat, p, _i in FIRM_CLAIMS)      # principal only, never interest
    out = one_line(t.redress("ipf", "firm", "verify", FIRM, "--on", "2020-06-20"))
    assert f"to pay {yuan(to_pay, True)} yuan" in out and "held 0" in out, out
    returned = frozenset({"C00004"})
    first = firm_batch(w, 1, "2020-06-29", "2020-07-01", returned)
    assert sum(first.values()) == to_pay
    second = firm_batch(w, 2, "2020-07-15", "2020-07-17")
    assert second == {c: first[c] for c in returned}, "the returned payment is owed again, and only it"
    recovered = to_pay * 35 // 100
    out = one_line(t.redress("ipf", "firm", "recover", FIRM, "--amount", yuan(recovered), "--ref",
                             "LIQ-DIV-1", "--on", "2020-12-18"))
    assert f"still outstanding: {yuan(to_pay - recovered, True)} yuan" in out, out
    out = one_line(t.redress("ipf", "firm", "close", FIRM, "--reason", "清算程序终结 liquidation ended",
                             "--on", "2020-12-30"))
    assert f"written off {yuan(to_pay - recovered, True)} yuan" in out, out
    show = one_line(t.redress("ipf", "firm", "show", FIRM))
    assert f"paid to date 已付 {yuan(to_pay, True)}" in show and "owed 应付未付 0.00" in show, show
    claimant = one_line(t.redress("ipf", "firm", "claimant", FIRM, "C00004"))
    assert f"to pay {yuan(firm_pays('individual_debt', 150_000_00), True)}" in claimant, claimant
    return to_pay, recovered


def protection_investments(w: Walk) -> int:
    """Returns the investment income booked (all in 2020), in fen."""
    t = w.t
    t.redress("ipf", "invest", "propose", "--id", "TD-2020-01", "--kind", "bank_deposit", "--issuer",
              "中国工商银行 ICBC", "--counterparty", "ICBC Beijing", "--amount", "5000000000", "--trade-date",
              "2020-02-03", "--maturity", "2020-11-03", "--plan", "BD-2020-02")
    t.redress("ipf", "invest", "propose", "--id", "GB-200004", "--kind", "government_bond", "--issuer",
              "财政部 Ministry of Finance", "--counterparty", "CFETS", "--amount", "3000000000",
              "--trade-date", "2020-03-02", "--maturity", "2025-03-02", "--plan", "BD-2020-02")
    out = t.refused("ipf", "invest", "propose", "--id", "STOCK-1", "--kind", "stock", "--issuer",
                    "某上市公司", "--counterparty", "broker", "--amount", "100000000", "--trade-date",
                    "2020-04-01")
    assert "Refused" in out
    t.redress("ipf", "invest", "income", "GB-200004", "--amount", "84000000", "--ref", "GB-200004-C1", "--on",
              "2020-09-02")
    t.redress("ipf", "invest", "mature", "TD-2020-01", "--ref", "TD-2020-01-M", "--on", "2020-11-03",
              "--income", "131250000")
    listing = one_line(t.redress("ipf", "invest", "list"))      # what is held now: the bond, at cost
    assert "GB-200004" in listing and "TD-2020-01" not in listing and "STOCK-1" not in listing, listing
    assert "Total / 合计: 3,000,000,000.00 yuan" in listing, listing
    return (84_000_000 + 131_250_000) * 100


def protection_report(w: Walk, levies: tuple[int, int], firm: tuple[int, int], invested: int) -> None:
    """The books to the fen: net assets = capital + levies + investment income - the firm's write-off, in the
    fund's books (every entry since 2020) and in the fourth quarter's report (through 2020-12-31)."""
    t = w.t
    levies_2020, levies_all = levies
    written_off = firm[0] - firm[1]
    book = one_line(t.redress("ipf", "book", "show"))
    net_assets = CAPITAL + levies_all + invested - written_off
    assert f"net assets 净资产 {yuan(net_assets, True)}" in book, (yuan(net_assets, True), book)
    m = grab(r"debits ([\d,.]+) = credits ([\d,.]+): balanced", book)
    assert m.group(1) == m.group(2)
    out = one_line(t.redress("ipf", "report", "quarter", "2020", "4", "--xlsx", "q.xlsx", "--pdf", "q.pdf"))
    closing = CAPITAL + levies_2020 + invested - written_off
    assert f"closing net assets {yuan(closing, True)}" in out, (yuan(closing, True), out)
    assert "Excel written" in out and "PDF written" in out, out
    assert (w.home / "q.xlsx").read_bytes()[:2] == b"PK" and (w.home / "q.pdf").read_bytes()[:5] == b"%PDF-"
    assert "Audit log intact" in t.redress("audit", "verify")


# -- the walk ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_readme_walkthrough(backend, tmp_path):
    home = tmp_path / "desk"
    home.mkdir()
    with empty_database(backend, tmp_path) as url:
        w = Walk(Terminal(home, url, OPERATOR), home)
        try:
            build_case(w)
            set_up(w)
            hearing(w)                 # on the plan, before it is approved
            plan_and_claims(w)
            claims_period(w)
            liquidation(w)
            recovery(w)                # receipts while the books are open
            closing(w)
            fair_fund(w)
            protection_board(w)
            levies = protection_levies(w)
            firm = protection_firm(w)
            invested = protection_investments(w)
            protection_report(w, levies, firm, invested)
        finally:
            print(w.t.timings())
