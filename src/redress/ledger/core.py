"""Double-entry books of one special compensation fund, in integer fen.

The core is pure: frozen value types and functions over sequences of entries.  The database keeps the same
entries append-only; balances are never stored, always derived by replaying postings.

Sign convention: a posting's ``amount_fen`` is positive for a debit and negative for a credit; every entry's
postings sum to zero.  Accounts are strings ``kind`` or ``kind:party`` (``contribution:sponsor``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class AccountKind(StrEnum):
    """The chart of accounts of a special compensation fund (专项补偿基金)."""

    TRUST_CASH = "trust_cash"                 # asset: the trust account at the custodian bank (托管账户)
    IN_TRANSIT = "in_transit"                 # asset: released to the clearing system, result not yet back
    CONTRIBUTION = "contribution"             # equity, per payer: money a payer put into the fund (出资)
    INTEREST = "interest"                     # income: interest earned on the fund; belongs to investors only
    COMPENSATION = "compensation"             # charge: compensation awarded to investors (accepted claims)
    INTEREST_AWARDED = "interest_awarded"     # charge: interest passed on to investors
    FEES = "fees"                             # charge: bank and custody fees borne by the fund
    PAYABLE = "payable"                       # liability: awarded, not yet paid (应付赔偿款)
    SURPLUS_RETURNED = "surplus_returned"     # equity, per payer: surplus returned after liquidation (返还)
    RECOVERED = "recovered"                   # per liable party: money recovered from it in recourse (追偿收回)
    RECOVERY_PAID = "recovery_paid"           # per payer: recovered money passed on to that payer

    @property
    def normal_side(self) -> str:
        return "debit" if self in _DEBIT_NORMAL else "credit"

    @property
    def per_party(self) -> bool:
        return self in (AccountKind.CONTRIBUTION, AccountKind.SURPLUS_RETURNED, AccountKind.RECOVERED,
                        AccountKind.RECOVERY_PAID)

    @property
    def label_zh(self) -> str:
        return _LABELS_ZH[self]


_DEBIT_NORMAL = frozenset({AccountKind.TRUST_CASH, AccountKind.IN_TRANSIT, AccountKind.COMPENSATION,
                           AccountKind.INTEREST_AWARDED, AccountKind.FEES, AccountKind.SURPLUS_RETURNED,
                           AccountKind.RECOVERY_PAID})
_LABELS_ZH = {
    AccountKind.TRUST_CASH: "托管账户资金", AccountKind.IN_TRANSIT: "在途划付资金",
    AccountKind.CONTRIBUTION: "出资", AccountKind.INTEREST: "利息收入",
    AccountKind.COMPENSATION: "赔付支出", AccountKind.INTEREST_AWARDED: "利息分配",
    AccountKind.FEES: "费用", AccountKind.PAYABLE: "应付赔偿款", AccountKind.SURPLUS_RETURNED: "返还出资人",
    AccountKind.RECOVERED: "追偿收回", AccountKind.RECOVERY_PAID: "追偿款支付给出资人",
}


def account(kind: AccountKind, party: str | None = None) -> str:
    """The account name for ``kind`` (and ``party`` for per-payer accounts)."""
    if kind.per_party != (party is not None):
        raise ValueError(f"account {kind}: party {'required' if kind.per_party else 'not allowed'}")
    return f"{kind}:{party}" if party is not None else str(kind)


def account_kind(name: str) -> AccountKind:
    kind = AccountKind(name.split(":", 1)[0])
    if kind.per_party != (":" in name):
        raise ValueError(f"bad account name {name!r}")
    return kind


@dataclass(frozen=True)
class Posting:
    account: str
    amount_fen: int            # + debit, - credit


@dataclass(frozen=True)
class Entry:
    """One balanced journal entry.  ``reverses`` links a correction to the entry it undoes."""

    booked_on: dt.date
    kind: str
    memo: str
    postings: tuple[Posting, ...]
    key: str                    # idempotency key, unique in a fund
    reverses: str | None = None

    def __post_init__(self) -> None:
        check_entry(self, self.kind_of)

    @staticmethod
    def kind_of(name: str) -> object:
        """The chart of accounts the entry is checked against (a book with another chart overrides it)."""
        return account_kind(name)


class LedgerError(ValueError):
    """An entry that would break the books."""


def check_entry(entry: Entry, kind_of=account_kind) -> None:
    if not entry.key:
        raise LedgerError("an entry needs an idempotency key")
    if len(entry.postings) < 2:
        raise LedgerError(f"entry {entry.key}: needs at least two postings")
    for p in entry.postings:
        if not isinstance(p.amount_fen, int) or isinstance(p.amount_fen, bool):
            raise LedgerError(f"entry {entry.key}: amount on {p.account} is not an integer number of fen")
        if p.amount_fen == 0:
            raise LedgerError(f"entry {entry.key}: zero posting on {p.account}")
        kind_of(p.account)
    total = sum(p.amount_fen for p in entry.postings)
    if total != 0:
        raise LedgerError(f"entry {entry.key}: debits and credits differ by {total} fen")


def transfer(booked_on: dt.date, kind: str, memo: str, key: str, debit: str, credit: str, amount_fen: int,
             reverses: str | None = None) -> Entry:
    """A two-posting entry: debit one account, credit another."""
    if amount_fen <= 0:
        raise LedgerError(f"entry {key}: amount must be positive, got {amount_fen} fen")
    return Entry(booked_on, kind, memo, (Posting(debit, amount_fen), Posting(credit, -amount_fen)), key, reverses)


def reversal(original: Entry, booked_on: dt.date, memo: str, key: str) -> Entry:
    """The entry that undoes ``original`` (every posting negated), linked to it."""
    return Entry(booked_on, "reversal", memo,
                 tuple(Posting(p.account, -p.amount_fen) for p in original.postings), key, original.key)


def balances(entries: Iterable[Entry], through: dt.date | None = None) -> dict[str, int]:
    """Debit-positive balance of every account touched, replaying ``entries`` (up to ``through``)."""
    out: dict[str, int] = defaultdict(int)
    for e in entries:
        if through is not None and e.booked_on > through:
            continue
        for p in e.postings:
            out[p.account] += p.amount_fen
    return dict(out)


def natural(name: str, balance_fen: int) -> int:
    """A balance on the account's normal side: credit-normal accounts shown positive when in credit."""
    return balance_fen if account_kind(name).normal_side == "debit" else -balance_fen


@dataclass(frozen=True)
class TrialBalanceLine:
    account: str
    debit_fen: int
    credit_fen: int


@dataclass(frozen=True)
class TrialBalance:
    lines: tuple[TrialBalanceLine, ...]

    @property
    def debit_fen(self) -> int:
        return sum(line.debit_fen for line in self.lines)

    @property
    def credit_fen(self) -> int:
        return sum(line.credit_fen for line in self.lines)

    @property
    def balanced(self) -> bool:
        return self.debit_fen == self.credit_fen


def trial_balance(bal: Mapping[str, int]) -> TrialBalance:
    lines = tuple(TrialBalanceLine(a, max(b, 0), max(-b, 0)) for a, b in sorted(bal.items()) if b != 0)
    return TrialBalance(lines)


@dataclass(frozen=True)
class FundStatement:
    """Sources and uses of the fund (专项基金收支情况), all in fen, from derived balances."""

    contributions_fen: Mapping[str, int]
    interest_earned_fen: int
    compensation_awarded_fen: int
    interest_awarded_fen: int
    fees_fen: int
    surplus_returned_fen: Mapping[str, int]
    payable_fen: int
    trust_cash_fen: int
    in_transit_fen: int

    @property
    def contributed_fen(self) -> int:
        return sum(self.contributions_fen.values())

    @property
    def returned_fen(self) -> int:
        return sum(self.surplus_returned_fen.values())

    @property
    def paid_out_fen(self) -> int:
        """Compensation and interest that reached investors."""
        return self.compensation_awarded_fen + self.interest_awarded_fen - self.payable_fen

    @property
    def interest_undistributed_fen(self) -> int:
        return self.interest_earned_fen - self.interest_awarded_fen

    @property
    def surplus_fen(self) -> int:
        """What is left for the payers: the cash not owed to investors and not interest (which is theirs)."""
        return self.trust_cash_fen + self.in_transit_fen - self.payable_fen - self.interest_undistributed_fen

    def check(self) -> None:
        """Sources equal uses plus what is still held: the identity every statement must satisfy."""
        sources = self.contributed_fen + self.interest_earned_fen
        uses = (self.compensation_awarded_fen + self.interest_awarded_fen + self.fees_fen + self.returned_fen
                - self.payable_fen)
        held = self.trust_cash_fen + self.in_transit_fen
        if sources - uses != held:
            raise LedgerError(f"fund statement does not balance: sources {sources} - uses {uses} != held {held}")


def fund_statement(bal: Mapping[str, int]) -> FundStatement:
    contributions: dict[str, int] = {}
    returned: dict[str, int] = {}
    totals: dict[AccountKind, int] = defaultdict(int)
    for name, b in bal.items():
        kind = account_kind(name)
        if kind is AccountKind.CONTRIBUTION:
            contributions[name.split(":", 1)[1]] = -b
        elif kind is AccountKind.SURPLUS_RETURNED:
            returned[name.split(":", 1)[1]] = b
        else:
            totals[kind] += b
    st = FundStatement(
        contributions_fen=dict(sorted(contributions.items())),
        interest_earned_fen=-totals[AccountKind.INTEREST],
        compensation_awarded_fen=totals[AccountKind.COMPENSATION],
        interest_awarded_fen=totals[AccountKind.INTEREST_AWARDED],
        fees_fen=totals[AccountKind.FEES],
        surplus_returned_fen=dict(sorted(returned.items())),
        payable_fen=-totals[AccountKind.PAYABLE],
        trust_cash_fen=totals[AccountKind.TRUST_CASH],
        in_transit_fen=totals[AccountKind.IN_TRANSIT],
    )
    st.check()
    return st


@dataclass(frozen=True)
class BalanceAssertion:
    """A dated balance from an outside source (a bank statement): the books must agree to the fen."""

    on: dt.date
    account: str
    expected_fen: int
    source: str                 # file:line or reference of the statement


def check_assertion(entries: Iterable[Entry], assertion: BalanceAssertion) -> int:
    """The difference (books - statement) at the end of ``assertion.on``; zero when they agree."""
    actual = balances(entries, through=assertion.on).get(assertion.account, 0)
    return actual - assertion.expected_fen


def lowest_balance(daily: Iterable[tuple[dt.date, int]], booked_on: dt.date, change_fen: int) -> tuple[dt.date, int]:
    """The lowest end-of-day balance from ``booked_on`` on, given the account's movements per day (in date
    order) and ``change_fen`` added on ``booked_on``: a back-dated payment must not overdraw any later day."""
    days = [(on, int(fen)) for on, fen in daily]
    running = change_fen + sum(fen for on, fen in days if on <= booked_on)
    low_on, low = booked_on, running
    for on, fen in days:
        if on > booked_on:
            running += fen
            if running < low:
                low_on, low = on, running
    return low_on, low
