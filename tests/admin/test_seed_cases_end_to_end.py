"""The seed legal cases (published special funds of 2013-2017, tests/legal/cases) administered end to end.

Each seed case directory goes through the whole advance compensation the way an operator types it, every
``redress`` command in a fresh process against a new SQLite file: compute, the database and its users, the
case, the payers and their contributions, the plan approved by a second person, the settlement agreement,
the claims and their notices, the investors' decisions, the close of the claims period, a payment batch
released by an approver, exported for the clearing system and its results imported, the surplus returned to
the payers, and the case closed.

At the end every investor has been paid exactly the compensation the case's hand-worked ``expected.csv``
gives them: under ``statements_rule = "each"`` the sum of their rows, under ``best_for_investor`` the row
chosen; and the books balance: the trial balance, the fund statement's identity, nothing left in the trust
account, and the audit log's hash chain.

A seed case is a directory of tests/legal/cases named in ``SEED_CASES``; one not yet written is left out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import tomllib
from collections import defaultdict
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from adversarial.readme_support import (Terminal, fen, grab, largest_remainder, one_line, read_csv, write_csv,
                                        yuan)

pytestmark = pytest.mark.slow     # about 30 commands per case, each a fresh process

CASES_DIR = Path(__file__).parents[1] / "legal" / "cases"
OPERATOR, APPROVER, ROOT = "li.wei", "zhang.min", "root"
AGREEMENT = ("先行赔付和解协议 / Advance compensation settlement agreement (v1)\n"
             "投资者接受按赔付方案计算的补偿金额，并放弃就同一事项向责任方再行请求赔偿的权利。\n"
             "The investor accepts the compensation of the plan and gives up further claims on the same "
             "facts.\n")
DECISION_HEADER = ["investor_id", "decision", "decided_on", "channel", "key", "agreement_version",
                   "agreement_sha256"]
RESULT_HEADER = ["instruction_id", "status", "amount", "settled_on", "reason"]


@dataclass(frozen=True)
class Fund:
    """Who pays into the special fund (id -> name, role, weight of the fund), how much, and its dates.  The
    sizes and payers are the published ones (tests/legal/cases/*/README.md); how the four Hailianxun
    shareholders shared their fund was not published, so they share it equally here.  The dates are the
    published ones where known (Wanfu: amounts online from 2013-05-20, declarations to 2013-06-28, paid on
    2013-07-03; Hailianxun: announced 2014-07-18, declarations to 2014-09-10, paid on 2014-09-15; Xintai:
    announced 2017-06-09, paid from 2017-08-03) and near them otherwise."""

    size_fen: int | None                          # None: the offers plus a tenth
    payers: dict[str, tuple[str, str, int]]
    established: dt.date
    open_on: dt.date
    deadline: dt.date
    pay_on: dt.date


SEED_CASES = {
    "q_hailianxun_three_windows": Fund(
        200_000_000_00,
        {"zhang_feng": ("章锋 (controlling shareholder)", "controlling_shareholder", 1),
         "kong_biao": ("孔飙 (controlling shareholder)", "controlling_shareholder", 1),
         "xing_wenbiao": ("邢文飚 (controlling shareholder)", "controlling_shareholder", 1),
         "yang_deguang": ("杨德广 (controlling shareholder)", "controlling_shareholder", 1)},
        dt.date(2014, 7, 18), dt.date(2014, 7, 21), dt.date(2014, 9, 10), dt.date(2014, 9, 15)),
    "r_wanfu_shengke_best_for_investor": Fund(
        300_000_000_00, {"sponsor": ("平安证券 Ping An Securities", "sponsor", 1)},
        dt.date(2013, 5, 10), dt.date(2013, 5, 20), dt.date(2013, 6, 28), dt.date(2013, 7, 3)),
    "s_xintai_electric": Fund(
        550_000_000_00, {"sponsor": ("兴业证券 Industrial Securities", "sponsor", 1)},
        dt.date(2017, 6, 9), dt.date(2017, 6, 12), dt.date(2017, 7, 31), dt.date(2017, 8, 3)),
}
PRESENT = [name for name in SEED_CASES if (CASES_DIR / name / "expected.csv").exists()]


def expected_owed(case_dir: Path) -> dict[str, int]:
    """Fen owed to each investor by the hand-worked expected.csv: the sum of the investor's rows."""
    owed: dict[str, int] = defaultdict(int)
    for row in read_csv(case_dir / "expected.csv"):
        assert row["compensation"] != "", (f"{case_dir.name}/expected.csv: investor {row['investor_id']} has "
                                           f"no compensation asserted; a seed case asserts every row's")
        owed[row["investor_id"]] += fen(row["compensation"])
    return dict(owed)


def approve(t: Terminal, request_output: str) -> str:
    """The approver approves the request the maker's command just printed."""
    request = grab(r"redress approval approve (\d+)", request_output, "the approval request").group(1)
    assert f"Request #{request} approved" in t.redress("approval", "approve", request, "--as", APPROVER)
    return request


def statement(t: Terminal, case_id: str) -> dict:
    """``fund statement --json``, its identity checked: sources - uses = trust cash + in transit."""
    st = json.loads(t.redress("fund", "statement", case_id, "--json"))
    sources = sum(st["contributions_fen"].values()) + st["interest_earned_fen"]
    uses = (st["compensation_awarded_fen"] + st["interest_awarded_fen"] + st["fees_fen"]
            + sum(st["surplus_returned_fen"].values()) - st["payable_fen"])
    assert sources - uses == st["trust_cash_fen"] + st["in_transit_fen"], f"the statement does not hold: {st}"
    return st


@pytest.mark.parametrize("name", PRESENT)
def test_seed_case_is_paid_as_computed_by_hand(name: str, tmp_path: Path) -> None:
    fund = SEED_CASES[name]
    case_dir = CASES_DIR / name
    case = tomllib.loads((case_dir / "case.toml").read_text(encoding="utf-8"))["case"]
    case_id = case["id"]
    owed = {i: amount for i, amount in expected_owed(case_dir).items() if amount > 0}
    total = sum(owed.values())
    assert owed, f"{name}: nobody to pay"
    home = tmp_path / "desk"
    home.mkdir()
    t = Terminal(home, f"sqlite:///{tmp_path / 'redress.sqlite3'}", OPERATOR)
    try:
        # the results, computed from the case directory
        assert "Results written" in t.redress("compute", case_dir, "--out", "results.csv")
        computed: dict[str, int] = defaultdict(int)
        for row in read_csv(home / "results.csv"):
            computed[row["investor_id"]] += fen(row["compensation"])
        assert {i: a for i, a in computed.items() if a} == owed, "redress compute disagrees with expected.csv"

        # the database, its users, the case and the special fund
        assert "Database ready" in t.redress("db", "init", "--admin", ROOT)
        t.redress("user", "add", OPERATOR, "--role", "operator", "--as", ROOT)
        t.redress("user", "add", APPROVER, "--role", "approver", "--as", ROOT)
        assert "draft" in t.redress("case", "create", case_id, "--name", case["name"])
        size = fund.size_fen or total * 11 // 10
        shares = largest_remainder(size, {p: weight for p, (_n, _r, weight) in fund.payers.items()})
        for k, (payer, (payer_name, role, _w)) in enumerate(fund.payers.items(), 1):
            t.redress("payer", "add", case_id, payer, "--name", payer_name, "--role", role, "--committed",
                      yuan(shares[payer]))
            t.redress("fund", "contribute", case_id, "--payer", payer, "--amount", yuan(shares[payer], True),
                      "--ref", f"BANK-{k:04d}", "--on", fund.established.isoformat())
        assert "fund established" in t.redress("fund", "establish", case_id)

        # the plan, checked and approved by a second person; the agreement; the claims and their notices
        out = t.redress("plan", "propose", case_id, "--case-dir", case_dir, "--results", "results.csv",
                        "--open-on", fund.open_on.isoformat(), "--deadline", fund.deadline.isoformat())
        m = grab(r"Approval request #(\d+): (\d+) investors, ([\d,.]+) yuan", out)
        assert (int(m.group(2)), fen(m.group(3))) == (len(owed), total), out
        approve(t, out)
        (home / "agreement.txt").write_text(AGREEMENT, encoding="utf-8")
        out = t.redress("plan", "agreement", case_id, "--version", "v1", "--file", "agreement.txt")
        sha = grab(r"sha256 ([0-9a-f]{64})", out).group(1)
        assert sha == hashlib.sha256(AGREEMENT.encode("utf-8")).hexdigest()
        out = t.redress("claims", "open", case_id, "--results", "results.csv")
        assert f"{len(owed)} claims offered" in out, out
        t.redress("claims", "notices", case_id, "--out", "notices.csv", "--on", fund.open_on.isoformat())
        notices = read_csv(home / "notices.csv")
        assert {n["investor_id"]: fen(n["amount"]) for n in notices} == owed, "offers are not the hand figures"

        # every investor accepts (online or through the broker) before the deadline
        decided_on = (fund.open_on + dt.timedelta(days=7)).isoformat()
        rows = [[inv, "accept", decided_on, channel, f"{channel}-{inv}", "v1", sha]
                for k, inv in enumerate(sorted(owed)) for channel in ["online" if k % 2 else "broker"]]
        write_csv(home / "decisions.csv", DECISION_HEADER, rows)
        assert f"{len(rows)} decisions recorded" in t.redress("claims", "import", case_id, "decisions.csv")
        assert statement(t, case_id)["payable_fen"] == total
        out = t.redress("claims", "close", case_id, "--on", (fund.deadline + dt.timedelta(days=1)).isoformat())
        assert grab(r"lapsed: (\d+)", out).group(1) == "0", out

        # after the deadline, one payment batch, released by the approver, through the clearing system
        out = t.redress("pay", "batch", case_id, "--on", fund.pay_on.isoformat())
        m = grab(r"Batch 1: (\d+) payments, ([\d,.]+) yuan", out)
        assert (int(m.group(1)), fen(m.group(2))) == (len(owed), total), out
        approve(t, out)
        t.redress("pay", "export", case_id, "1", "--out", "outbox/")
        instructions = read_csv(home / "outbox" / f"{case_id}-batch-0001.csv")
        settled_on = (fund.pay_on + dt.timedelta(days=1)).isoformat()
        write_csv(home / "inbox" / "results-1.csv", RESULT_HEADER,
                  [[r["instruction_id"], "paid", r["amount"], settled_on, ""] for r in instructions])
        out = one_line(t.redress("pay", "import", case_id, "inbox/results-1.csv"))
        assert out.startswith(f"{len(owed)} paid ({yuan(total, True)} yuan), 0 returned"), out
        paid: dict[str, int] = defaultdict(int)
        for r in instructions:
            paid[r["investor_id"]] += fen(r["amount"])
        assert "Everything agrees" in t.redress("pay", "reconcile", case_id)

        # the payments are complete, the surplus goes back to the payers, the case is closed
        t.redress("pay", "complete", case_id)
        approve(t, t.redress("pay", "return-surplus", case_id, "--on",
                             (fund.pay_on + dt.timedelta(days=4)).isoformat()))
        t.redress("case", "close", case_id)

        # what each investor was paid, by the clearing system's instructions and in the case's records, is
        # what expected.csv owes them
        assert dict(paid) == owed
        with closing(sqlite3.connect(tmp_path / "redress.sqlite3")) as db:
            recorded = dict(db.execute("SELECT investor_id, paid_fen FROM claim WHERE case_id = ?",
                                       (case_id,)))
        assert recorded == owed
        first = min(owed)
        shown = one_line(t.redress("claims", "show", case_id, first))
        assert "accepted" in shown and f"paid {yuan(owed[first], True)}" in shown, shown
        # and the books balance
        st = statement(t, case_id)
        assert st["contributions_fen"] == shares
        assert st["compensation_awarded_fen"] == total and st["payable_fen"] == 0
        assert st["trust_cash_fen"] == 0 and st["in_transit_fen"] == 0
        assert sum(st["surplus_returned_fen"].values()) == size - total
        assert "balanced" in t.redress("fund", "trial-balance", case_id)
        assert "intact" in t.redress("audit", "verify")
        assert "closed" in t.redress("case", "show", case_id)
    finally:
        print(t.timings())
