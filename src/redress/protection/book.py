"""The protection fund's own books: its chart of accounts and its statement (pure, no database).

Entries and postings are the special fund's value types (``redress.ledger.core``: integer fen, debit
positive, every entry sums to zero); only the chart of accounts differs.  Accounts are ``kind`` or
``kind:party`` (``levy_receivable:citic``, ``investment:TD-2021-01``, ``subrogated:hx-sec``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from redress.ledger.core import Entry, LedgerError, Posting


class ProtectionAccount(StrEnum):
    """The chart of accounts of the securities investor protection fund."""

    BANK = "bank"                                  # asset: the fund's bank deposits on demand (活期存款)
    IN_TRANSIT = "in_transit"                      # asset: payments released to the clearing system
    INVESTMENT = "investment"                      # asset, per holding: deposits, bonds, bills (Art. 20)
    LEVY_RECEIVABLE = "levy_receivable"            # asset, per company: levies assessed, not yet received
    SUBROGATED = "subrogated"                      # asset, per failed firm: claims paid, held in the liquidation
    LEVY_REFUND_PAYABLE = "levy_refund_payable"    # liability, per company: over-payment to refund at settlement
    CAPITAL = "capital"                            # equity: the fund's opening capital (Art. 13)
    LEVY_INCOME = "levy_income"                    # income: levies on securities companies (Art. 12(2))
    EXCHANGE_FEES = "exchange_fees"                # income, per exchange: 20% of transaction fees (Art. 12(1))
    IPO_INTEREST = "ipo_interest"                  # income: interest on frozen subscription money (Art. 12(3))
    INVESTMENT_INCOME = "investment_income"        # income: interest and coupons on holdings
    DONATION = "donation"                          # income: donations (Art. 12(5))
    OTHER_INCOME = "other_income"                  # income: other lawful income (Art. 12(6))
    LIQUIDATION_LOSS = "liquidation_loss"          # expense, per failed firm: claims not recovered, written off
    OPERATING_EXPENSE = "operating_expense"        # expense: the fund company's running costs (Art. 21)

    @property
    def normal_side(self) -> str:
        return "debit" if self in _DEBIT_NORMAL else "credit"

    @property
    def per_party(self) -> bool:
        return self in _PER_PARTY


_DEBIT_NORMAL = frozenset({ProtectionAccount.BANK, ProtectionAccount.IN_TRANSIT, ProtectionAccount.INVESTMENT,
                           ProtectionAccount.LEVY_RECEIVABLE, ProtectionAccount.SUBROGATED,
                           ProtectionAccount.LIQUIDATION_LOSS, ProtectionAccount.OPERATING_EXPENSE})
_PER_PARTY = frozenset({ProtectionAccount.INVESTMENT, ProtectionAccount.LEVY_RECEIVABLE, ProtectionAccount.SUBROGATED,
                        ProtectionAccount.LEVY_REFUND_PAYABLE, ProtectionAccount.EXCHANGE_FEES,
                        ProtectionAccount.LIQUIDATION_LOSS})
INCOME = (ProtectionAccount.LEVY_INCOME, ProtectionAccount.EXCHANGE_FEES, ProtectionAccount.IPO_INTEREST,
          ProtectionAccount.INVESTMENT_INCOME, ProtectionAccount.DONATION, ProtectionAccount.OTHER_INCOME)
EXPENSE = (ProtectionAccount.LIQUIDATION_LOSS, ProtectionAccount.OPERATING_EXPENSE)


def pa(kind: ProtectionAccount, party: str | None = None) -> str:
    """The account name: ``kind`` or ``kind:party`` (a party is required exactly for per-party kinds)."""
    if kind.per_party != (party is not None):
        raise LedgerError(f"account {kind.value} {'needs' if kind.per_party else 'takes no'} party")
    if party is not None and (not party or ":" in party):
        raise LedgerError(f"bad party {party!r} for account {kind.value}")
    return kind.value if party is None else f"{kind.value}:{party}"


def kind_of(name: str) -> ProtectionAccount:
    head, _, party = name.partition(":")
    try:
        kind = ProtectionAccount(head)
    except ValueError:
        raise LedgerError(f"unknown account {name!r} in the protection fund's chart of accounts") from None
    if kind.per_party != bool(party):
        raise LedgerError(f"account {name!r}: {kind.value} {'needs' if kind.per_party else 'takes no'} party")
    return kind


@dataclass(frozen=True)
class FundEntry(Entry):
    """An entry of the protection fund's books: the special fund's entry, checked against this chart."""

    @staticmethod
    def kind_of(name: str) -> object:
        return kind_of(name)


def transfer(booked_on: dt.date, kind: str, memo: str, key: str, debit: str, credit: str, amount_fen: int,
             reverses: str | None = None) -> FundEntry:
    """A two-posting entry of the protection fund: debit one account, credit another."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise LedgerError(f"entry {key}: amount must be a positive integer of fen, got {amount_fen!r}")
    return FundEntry(booked_on, kind, memo, (Posting(debit, amount_fen), Posting(credit, -amount_fen)), key, reverses)


@dataclass(frozen=True)
class ProtectionStatement:
    """Raising, management and use of the fund (Art. 24), from balances (debit positive).

    ``assets = capital + income - expenses + liabilities`` is checked exactly on construction."""

    capital_fen: int
    income_fen: dict[str, int]          # per income kind (exchange fees per exchange summed), natural sign
    expense_fen: dict[str, int]
    bank_fen: int
    in_transit_fen: int
    investments_fen: int
    levy_receivable_fen: int
    subrogated_fen: int
    refunds_payable_fen: int

    @property
    def assets_fen(self) -> int:
        return (self.bank_fen + self.in_transit_fen + self.investments_fen + self.levy_receivable_fen
                + self.subrogated_fen)

    @property
    def net_assets_fen(self) -> int:
        return self.assets_fen - self.refunds_payable_fen


def statement(bal: Mapping[str, int]) -> ProtectionStatement:
    by_kind: dict[ProtectionAccount, int] = {}
    for name, fen in bal.items():
        k = kind_of(name)
        by_kind[k] = by_kind.get(k, 0) + fen
    get = by_kind.get
    st = ProtectionStatement(
        capital_fen=-get(ProtectionAccount.CAPITAL, 0),
        income_fen={k.value: -get(k, 0) for k in INCOME},
        expense_fen={k.value: get(k, 0) for k in EXPENSE},
        bank_fen=get(ProtectionAccount.BANK, 0), in_transit_fen=get(ProtectionAccount.IN_TRANSIT, 0),
        investments_fen=get(ProtectionAccount.INVESTMENT, 0),
        levy_receivable_fen=get(ProtectionAccount.LEVY_RECEIVABLE, 0),
        subrogated_fen=get(ProtectionAccount.SUBROGATED, 0),
        refunds_payable_fen=-get(ProtectionAccount.LEVY_REFUND_PAYABLE, 0))
    equity = st.capital_fen + sum(st.income_fen.values()) - sum(st.expense_fen.values())
    if st.assets_fen != equity + st.refunds_payable_fen:
        raise LedgerError(f"the protection fund's books do not hold together: assets {st.assets_fen} fen, capital "
                          f"+ income - expenses {equity} fen, refunds payable {st.refunds_payable_fen} fen")
    return st
