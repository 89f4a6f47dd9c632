"""Investments of the fund under Art. 20: one refusal per rule, and the allowed cases."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from redress.protection import (
    Proposal,
    ProtectionDataError,
    ProtectionError,
    RefusalRule,
    check,
    investment_rules,
    parse_investment_rules,
)
from redress.protection._common import read_data

TRADE = dt.date(2024, 3, 1)
MATURITY = dt.date(2027, 3, 1)
CASH_FEN = 10_000_000_000  # 100 million yuan


def proposal(**changes) -> Proposal:
    base = Proposal("government_bond", "Ministry of Finance", 5_000_000_000, TRADE, MATURITY, "Bank of China")
    return replace(base, **changes)


def rules_of(refusals) -> list[RefusalRule]:
    return [r.rule for r in refusals]


@pytest.mark.parametrize("p", [
    proposal(),
    proposal(kind="bank_deposit", issuer="Industrial and Commercial Bank of China", maturity_date=None),
    proposal(kind="bank_deposit", issuer="ICBC", maturity_date=dt.date(2024, 9, 1)),
    proposal(kind="central_bank_bond", issuer="People's Bank of China"),
    proposal(kind="central_financial_bond", issuer="China Development Bank"),
    proposal(kind="central_financial_bond", issuer="中国农业发展银行"),
    proposal(kind="central_financial_bond", issuer="  export-import bank of  china "),
    proposal(kind="other", issuer="X", approval_reference="国函〔2030〕1号"),
    proposal(amount_fen=CASH_FEN),                       # exactly the cash available
    proposal(maturity_date=TRADE),                       # matures on the trade date
])
def test_allowed(p):
    assert check(p, cash_available_fen=CASH_FEN) == []


@pytest.mark.parametrize("p,rule", [
    (proposal(kind="stock"), RefusalRule.KIND_NOT_PERMITTED),
    (proposal(kind="corporate_bond"), RefusalRule.KIND_NOT_PERMITTED),
    (proposal(kind="central_financial_bond", issuer="China Merchants Bank"), RefusalRule.ISSUER_NOT_CENTRAL),
    (proposal(amount_fen=0), RefusalRule.AMOUNT_NOT_POSITIVE),
    (proposal(amount_fen=-1), RefusalRule.AMOUNT_NOT_POSITIVE),
    (proposal(maturity_date=TRADE - dt.timedelta(days=1)), RefusalRule.MATURITY_BEFORE_TRADE),
    (proposal(maturity_date=None), RefusalRule.MATURITY_MISSING),
    (proposal(amount_fen=CASH_FEN + 1), RefusalRule.CASH_INSUFFICIENT),
    (proposal(kind="other", issuer="X"), RefusalRule.APPROVAL_MISSING),
    (proposal(kind="other", issuer="X", approval_reference="  "), RefusalRule.APPROVAL_MISSING),
])
def test_one_refusal_per_rule(p, rule):
    refusals = check(p, cash_available_fen=CASH_FEN)
    assert rules_of(refusals) == [rule]
    (r,) = refusals
    assert r.message_en and r.message_zh
    assert "第二十条" in r.article
    assert r.message_zh in r.message and r.message_en in r.message


def test_several_refusals_at_once():
    p = proposal(kind="central_financial_bond", issuer="Some Trust Co.", amount_fen=CASH_FEN * 2,
                 maturity_date=dt.date(2020, 1, 1))
    assert rules_of(check(p, cash_available_fen=CASH_FEN)) == [
        RefusalRule.ISSUER_NOT_CENTRAL, RefusalRule.MATURITY_BEFORE_TRADE, RefusalRule.CASH_INSUFFICIENT]


def test_refusal_messages_are_bilingual_and_specific():
    (r,) = check(proposal(kind="central_financial_bond", issuer="China Merchants Bank"),
                 cash_available_fen=CASH_FEN)
    assert "China Merchants Bank" in r.message_en and "China Development Bank" in r.message_en
    assert "国家开发银行" in r.message_zh


def test_non_integer_amounts_are_errors():
    with pytest.raises(ProtectionError):
        proposal(amount_fen=1.0)
    with pytest.raises(ProtectionError):
        check(proposal(), cash_available_fen=1.5)  # type: ignore[arg-type]


def test_central_institutions_are_data():
    names = [c.name_en for c in investment_rules().central_institutions]
    assert names == ["China Development Bank", "Export-Import Bank of China",
                     "Agricultural Development Bank of China"]
    for c in investment_rules().central_institutions:
        assert c.source and c.effective


def test_adding_an_issuer_in_data_allows_its_bonds():
    text, origin = read_data("protection_investments")
    text += ('\n[[central_financial_institution]]\nname_en = "Example Central Bank Co"\nname_zh = "示例"\n'
             'effective = 2010-01-01\nsource = "test"\n')
    rules = parse_investment_rules(text, origin)
    p = proposal(kind="central_financial_bond", issuer="Example Central Bank Co")
    assert check(p, cash_available_fen=CASH_FEN, rules=rules) == []


def test_unknown_key_names_file_and_key():
    text, origin = read_data("protection_investments")
    text = text.replace('aliases = ["CDB"]', 'aliases = ["CDB"]\nrating = "AAA"', 1)
    where = "protection_investments.toml: central_financial_institution 1: rating"
    with pytest.raises(ProtectionDataError, match=where):
        parse_investment_rules(text, origin)


def test_other_kind_needs_no_maturity_date():
    p = proposal(kind="other", issuer="X", maturity_date=None, approval_reference="国函〔2030〕1号")
    assert check(p, cash_available_fen=CASH_FEN) == []
