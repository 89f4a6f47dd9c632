"""Readable legal cases of the protection fund (tests/legal/protection/*.toml), worked out by hand."""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from redress.protection import (
    CustodianRecord,
    Meeting,
    Proposal,
    RegisteredClaim,
    Resolution,
    check,
    check_meeting,
    check_resolution,
    compensate,
    levy_fen,
    quarterly_schedule,
    rate_for,
    verify,
)

CASES_DIR = Path(__file__).parents[1] / "legal" / "protection"
CASES = sorted(CASES_DIR.glob("*.toml"))


def fen(yuan: str) -> int:
    amount = Decimal(yuan) * 100
    assert amount == amount.to_integral_value(), f"{yuan} yuan is not a whole number of fen"
    return int(amount)


def bp(pct: str) -> int:
    amount = Decimal(pct) * 100
    assert amount == amount.to_integral_value(), f"{pct}% is not a whole number of basis points"
    return int(amount)


def run_levy_rate(given: dict[str, Any], expected: dict[str, Any]) -> None:
    rate = rate_for(given["levy_year"], given["grade"],
                    grades_history={int(y): g for y, g in given["grades_history"].items()},
                    loss_share_bp=bp(given["loss_share_pct"]), fund_size_fen=fen(given["fund_size_yuan"]))
    assert rate.rate_bp == bp(expected["rate_pct"]), rate.explain()
    assert rate.rule == expected["rule"], rate.explain()
    assert levy_fen(fen(given["income_yuan"]), rate.rate_bp) == fen(expected["levy_yuan"])


def run_instalment(given: dict[str, Any], expected: dict[str, Any]) -> None:
    schedule = quarterly_schedule(given["levy_year"], [fen(y) for y in given["income_by_quarter_yuan"]],
                                  bp(given["rate_pct"]))
    instalment = schedule[given["quarter"] - 1]
    assert instalment.due_date == expected["due_date"]
    assert instalment.amount_fen == fen(expected["amount_yuan"])


def run_payout(given: dict[str, Any], expected: dict[str, Any]) -> None:
    claims = [RegisteredClaim(c["claimant"], c["category"], fen(c["principal_yuan"]), fen(c["interest_yuan"]),
                              c["reference"]) for c in given["claim"]]
    records = [CustodianRecord(r["claimant"], r["category"], fen(r["principal_yuan"]))
               for r in given["record"]]
    verification = verify(claims, records)
    assert verification.discrepancies == ()
    payout = compensate(verification)
    assert payout.claimed_fen == fen(expected["claimed_yuan"])
    assert payout.eligible_fen == fen(expected["eligible_yuan"])
    assert payout.paid_fen == fen(expected["paid_yuan"]), payout.explain()
    assert payout.not_paid_fen == fen(expected["not_paid_yuan"])
    assert payout.subrogated_claim_fen == fen(expected["subrogated_claim_yuan"])


def run_investment(given: dict[str, Any], expected: dict[str, Any]) -> None:
    p = Proposal(given["kind"], given["issuer"], fen(given["amount_yuan"]), given["trade_date"],
                 given["maturity_date"], given["counterparty"], given.get("approval_reference"))
    refusals = check(p, cash_available_fen=fen(given["cash_available_yuan"]))
    assert [r.rule for r in refusals] == expected["refusals"], [r.message for r in refusals]


def run_board(given: dict[str, Any], expected: dict[str, Any]) -> None:
    meeting = Meeting(dt.date(2024, 1, 1), tuple(given["directors"]), frozenset(given["present"]), "regular")
    resolution = Resolution(given["subject"], tuple(given["votes_for"]), tuple(given["votes_against"]),
                            tuple(given["abstain"]))
    assert check_meeting(meeting).valid == expected["meeting_valid"]
    outcome = check_resolution(meeting, resolution)
    assert outcome.valid == expected["resolution_valid"], [r.message for r in outcome.reasons]


RUNNERS = {"levy_rate": run_levy_rate, "instalment": run_instalment, "payout": run_payout,
           "investment": run_investment, "board": run_board}


def test_there_are_cases():
    assert len(CASES) >= 5


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_legal_case(path: Path):
    case = tomllib.loads(path.read_text(encoding="utf-8"))
    assert set(case) == {"case", "input", "expected"}, f"{path.name}: sections must be case, input, expected"
    assert {"kind", "title", "articles", "by_hand"} <= set(case["case"]), f"{path.name}: incomplete [case]"
    RUNNERS[case["case"]["kind"]](case["input"], case["expected"])
