"""Paying the clients and individual creditors of a failed securities company, in integer fen.

When a securities company is closed, revoked or bankrupt, the protection fund pays its clients' transaction
settlement funds (客户证券交易结算资金) and its individual creditors' claims (个人债权) under national policy
(Measures, CSRC Order No. 27, 2005, Art. 17) and takes over the claims it paid in the liquidation (Art. 19).
The amounts come from the 2004 policy 个人债权及客户证券交易结算资金收购意见, recorded as dated data in
``law/data/failed_firm_payout.toml``: settlement funds in full; individual claims in full up to 100,000 yuan
per individual and 90% of the excess; interest not paid.

Model conventions (see ``docs.md``):

* **Verification first.**  A registered claim is paid only after it matches the custodian's records
  (托管/清算组核实的账户记录).  The comparison is per claimant and category: the total registered principal
  against the total in the records.  A claim that differs is *not* accepted automatically, not even at the
  lower amount: it is flagged for review with both amounts.  A reference used twice is a duplicate: an
  identical repeat is counted once (the repeat is flagged), differing claims under one reference are all
  flagged.
* **Per claimant.**  All accepted claims of one claimant in one category are added up before the threshold
  applies, and the result is rounded once, half up, to the fen.
* **No interest.**  Interest claimed is shown but excluded from the eligible amount.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from functools import cache
from typing import Any

from redress.protection._common import (
    BP_PER_UNIT,
    ProtectionDataError,
    ProtectionError,
    check_fen,
    check_keys,
    data_bool,
    data_date,
    data_int,
    data_text,
    parse_toml,
    read_data,
    round_half_up,
    yuan,
)

PAYOUT_DATA = "failed_firm_payout"
ART_17 = "Measures (CSRC Order No. 27) Art. 17"
ART_19 = "Measures (CSRC Order No. 27) Art. 19, the fund takes over the claims it paid"


class Category(StrEnum):
    """What a claim is for."""

    SETTLEMENT_FUNDS = "settlement_funds"  # 客户证券交易结算资金: clients' cash for trading and settlement
    INDIVIDUAL_DEBT = "individual_debt"    # 个人债权: an individual's claim against the company


def _category(value: object, field: str) -> Category:
    try:
        return Category(value)
    except ValueError:
        raise ProtectionError(field, f"{value!r} is not a claim category; use "
                                     f"{' or '.join(c.value for c in Category)}",
                              f"{value!r} 不是债权类别，应为 settlement_funds（客户证券交易结算资金）或 "
                              "individual_debt（个人债权）") from None


# --- rules --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CategoryRule:
    """How much of one claimant's eligible amount in a category is paid: in full up to
    ``in_full_up_to_fen`` (no limit when None), ``share_above_bp`` of the excess."""

    category: Category
    in_full_up_to_fen: int | None
    share_above_bp: int
    interest_paid: bool
    description_en: str
    description_zh: str
    source: str

    def exact_paid(self, eligible_fen: int) -> Fraction:
        if self.in_full_up_to_fen is None or eligible_fen <= self.in_full_up_to_fen:
            return Fraction(eligible_fen)
        excess = eligible_fen - self.in_full_up_to_fen
        return self.in_full_up_to_fen + Fraction(excess * self.share_above_bp, BP_PER_UNIT)


@dataclass(frozen=True)
class PayoutRules:
    """The payout rules in force from ``effective``."""

    effective: dt.date
    source: str
    categories: tuple[CategoryRule, ...]

    def rule(self, category: Category) -> CategoryRule:
        return next(r for r in self.categories if r.category == category)


def _parse_category(raw: object, where: str, category: Category) -> CategoryRule:
    check_keys(raw, where, ["interest_paid", "description_en", "description_zh", "source"],
               ["in_full_up_to_fen", "share_above_bp"])
    assert isinstance(raw, dict)
    limit = data_int(raw, "in_full_up_to_fen", where, 0) if "in_full_up_to_fen" in raw else None
    if (limit is None) != ("share_above_bp" not in raw):
        raise ProtectionDataError(f"{where}: share_above_bp", "give in_full_up_to_fen and share_above_bp "
                                  "together, or neither (paid in full)")
    share = data_int(raw, "share_above_bp", where, 0, BP_PER_UNIT) if limit is not None else BP_PER_UNIT
    return CategoryRule(category, limit, share, data_bool(raw, "interest_paid", where),
                        data_text(raw, "description_en", where), data_text(raw, "description_zh", where),
                        data_text(raw, "source", where))


def parse_payout_rules(text: str, origin: str) -> tuple[PayoutRules, ...]:
    """Parse a payout data file strictly (unknown keys, missing sources, unsorted periods are errors)."""
    data = parse_toml(text, origin)
    check_keys(data, origin, ["file", "period"])
    check_keys(data["file"], f"{origin}: file", ["description"])
    periods = data["period"]
    if not isinstance(periods, list) or not periods:
        raise ProtectionDataError(f"{origin}: period", "needs at least one [[period]]")
    out: list[PayoutRules] = []
    for i, raw in enumerate(periods, start=1):
        where = f"{origin}: period {i}"
        check_keys(raw, where, ["effective", "source", *(c.value for c in Category)])
        effective = data_date(raw, "effective", where)
        if out and effective <= out[-1].effective:
            raise ProtectionDataError(f"{where}: effective", "effective dates must increase")
        rules = tuple(_parse_category(raw[c.value], f"{where}: {c.value}", c) for c in Category)
        out.append(PayoutRules(effective, data_text(raw, "source", where), rules))
    return tuple(out)


@cache
def _all_payout_rules() -> tuple[PayoutRules, ...]:
    return parse_payout_rules(*read_data(PAYOUT_DATA))


def payout_rules(on_date: dt.date | None = None) -> PayoutRules:
    """The payout rules in force on ``on_date`` (the latest recorded when None)."""
    periods = _all_payout_rules()
    if on_date is None:
        return periods[-1]
    in_force = [p for p in periods if p.effective <= on_date]
    if not in_force:
        first = periods[0].effective
        raise ProtectionError("on_date", f"no payout rules are recorded before {first}; asked for {on_date}",
                              f"{first} 之前没有记录收购标准")
    return in_force[-1]


# --- claims and verification --------------------------------------------------------------------------

def _nonempty(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProtectionError(field, "must be a non-empty text", "不能为空")
    return value


@dataclass(frozen=True)
class RegisteredClaim:
    """A claim registered by a client or individual creditor (债权申报), identified by ``reference``."""

    claimant_id: str
    category: Category
    principal_fen: int
    interest_fen: int
    reference: str

    def __post_init__(self) -> None:
        _nonempty(self.claimant_id, "claimant_id")
        _nonempty(self.reference, "reference")
        object.__setattr__(self, "category", _category(self.category, f"claim {self.reference}.category"))
        check_fen(self.principal_fen, f"claim {self.reference}.principal_fen")
        check_fen(self.interest_fen, f"claim {self.reference}.interest_fen")


@dataclass(frozen=True)
class CustodianRecord:
    """What the custodian or liquidation group's records show a claimant is owed in a category."""

    claimant_id: str
    category: Category
    principal_fen: int

    def __post_init__(self) -> None:
        _nonempty(self.claimant_id, "claimant_id")
        where = f"record of {self.claimant_id}"
        object.__setattr__(self, "category", _category(self.category, f"{where}.category"))
        check_fen(self.principal_fen, f"record of {self.claimant_id}.principal_fen")


class DiscrepancyReason(StrEnum):
    """Why registered claims are held back for review."""

    AMOUNT_DIFFERS = "amount_differs"                    # registered principal differs from the records
    NOT_IN_CUSTODIAN_RECORDS = "not_in_custodian_records"  # no record for the claimant and category
    DUPLICATE_REFERENCE = "duplicate_reference"          # a reference registered more than once


@dataclass(frozen=True)
class Discrepancy:
    """Registered claims held back for review, with both amounts where there are two."""

    reason: DiscrepancyReason
    claimant_id: str
    category: Category
    references: tuple[str, ...]
    registered_fen: int
    custodian_fen: int | None
    message_en: str
    message_zh: str

    @property
    def message(self) -> str:
        return f"{self.message_en} / {self.message_zh}"


@dataclass(frozen=True)
class Verification:
    """The outcome of verifying registered claims: ``accepted`` can be paid; ``discrepancies`` need review;
    ``unclaimed`` are custodian records nobody registered a claim for."""

    accepted: tuple[RegisteredClaim, ...]
    discrepancies: tuple[Discrepancy, ...]
    unclaimed: tuple[CustodianRecord, ...]


def verify(registered: Iterable[RegisteredClaim],
           custodian_records: Iterable[CustodianRecord]) -> Verification:
    """Match registered claims against the custodian's records (conventions: module docstring)."""
    claims = list(registered)
    for i, c in enumerate(claims):
        if not isinstance(c, RegisteredClaim):
            raise ProtectionError(f"registered[{i}]", f"{c!r} is not a RegisteredClaim", "不是申报债权")
    records: dict[tuple[str, Category], int] = defaultdict(int)
    record_list = list(custodian_records)
    for i, r in enumerate(record_list):
        if not isinstance(r, CustodianRecord):
            raise ProtectionError(f"custodian_records[{i}]", f"{r!r} is not a CustodianRecord",
                                  "不是托管记录")
        records[(r.claimant_id, r.category)] += r.principal_fen

    discrepancies: list[Discrepancy] = []
    by_reference: dict[str, list[RegisteredClaim]] = defaultdict(list)
    for c in claims:
        by_reference[c.reference].append(c)
    kept: list[RegisteredClaim] = []
    for ref, same in by_reference.items():
        first = same[0]
        if len(same) == 1:
            kept.append(first)
            continue
        identical = all(c == first for c in same)
        if identical:
            kept.append(first)
            en = (f"reference {ref} registered {len(same)} times with identical content; counted once, the "
                  "repeats are set aside")
            zh = f"申报编号 {ref} 重复申报{len(same)}次且内容相同；仅计一次，重复部分不予受理"
        else:
            en = (f"reference {ref} registered {len(same)} times with different content; none is accepted "
                  "until the claimant confirms which is right")
            zh = f"申报编号 {ref} 重复申报{len(same)}次且内容不一致；经申报人确认前均不予受理"
        discrepancies.append(Discrepancy(DiscrepancyReason.DUPLICATE_REFERENCE, first.claimant_id,
                                         first.category, (ref,), sum(c.principal_fen for c in same), None,
                                         en, zh))

    groups: dict[tuple[str, Category], list[RegisteredClaim]] = defaultdict(list)
    for c in kept:
        groups[(c.claimant_id, c.category)].append(c)
    accepted: list[RegisteredClaim] = []
    for key in sorted(groups):
        group = groups[key]
        refs = tuple(sorted(c.reference for c in group))
        total = sum(c.principal_fen for c in group)
        claimant, category = key
        if key not in records:
            discrepancies.append(Discrepancy(
                DiscrepancyReason.NOT_IN_CUSTODIAN_RECORDS, claimant, category, refs, total, None,
                f"{claimant} ({category}): no custodian record; registered {yuan(total)}; "
                "review before paying",
                f"{claimant}（{category}）：托管记录中无此债权，申报金额 {yuan(total)}；须复核后方可收购"))
        elif records[key] != total:
            discrepancies.append(Discrepancy(
                DiscrepancyReason.AMOUNT_DIFFERS, claimant, category, refs, total, records[key],
                f"{claimant} ({category}): registered {yuan(total)} but the custodian records show "
                f"{yuan(records[key])}; review before paying",
                f"{claimant}（{category}）：申报金额 {yuan(total)} 与托管记录 {yuan(records[key])} 不符；"
                "须复核后方可收购"))
        else:
            accepted.extend(sorted(group, key=lambda c: c.reference))
    registered_keys = {(c.claimant_id, c.category) for c in claims}
    unclaimed = tuple(sorted((r for r in record_list if (r.claimant_id, r.category) not in registered_keys),
                             key=lambda r: (r.claimant_id, r.category)))
    discrepancies.sort(key=lambda d: (d.claimant_id, d.category, d.reason, d.references))
    return Verification(tuple(accepted), tuple(discrepancies), unclaimed)


# --- compensation -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Compensation:
    """What one claimant receives in one category: ``claimed = paid + not paid``, ``eligible`` is the
    principal (interest excluded), ``paid`` the eligible amount after the threshold rule."""

    claimant_id: str
    category: Category
    references: tuple[str, ...]
    claimed_fen: int
    interest_excluded_fen: int
    eligible_fen: int
    paid_fen: int
    not_paid_fen: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Payout:
    """Every compensation (sorted by claimant and category) and the totals."""

    rules_effective: dt.date
    compensations: tuple[Compensation, ...]

    @property
    def claimed_fen(self) -> int:
        return sum(c.claimed_fen for c in self.compensations)

    @property
    def eligible_fen(self) -> int:
        return sum(c.eligible_fen for c in self.compensations)

    @property
    def paid_fen(self) -> int:
        return sum(c.paid_fen for c in self.compensations)

    @property
    def not_paid_fen(self) -> int:
        return sum(c.not_paid_fen for c in self.compensations)

    def paid_by_category_fen(self) -> Mapping[Category, int]:
        out = {c: 0 for c in Category}
        for comp in self.compensations:
            out[comp.category] += comp.paid_fen
        return out

    @property
    def subrogated_claim_fen(self) -> int:
        """What the fund paid, which becomes its claim in the liquidation (Art. 19)."""
        return self.paid_fen

    def compensation(self, claimant_id: str, category: str) -> Compensation:
        cat = _category(category, "category")
        for c in self.compensations:
            if c.claimant_id == claimant_id and c.category == cat:
                return c
        raise ProtectionError("claimant_id", f"no compensation for {claimant_id!r} in {cat}",
                              f"{claimant_id!r} 在 {cat} 类别下无收购金额")

    def explain(self) -> str:
        out = [line for c in self.compensations for line in c.lines]
        out.append(f"total paid {yuan(self.paid_fen)} of {yuan(self.claimed_fen)} claimed; the fund's claim "
                   f"in the liquidation is {yuan(self.subrogated_claim_fen)} ({ART_19})")
        return "\n".join(out)


def compensate(verified: Verification | Iterable[RegisteredClaim],
               rules: PayoutRules | None = None) -> Payout:
    """Pay the accepted claims: per claimant and category, the principal (interest excluded unless the
    rules say otherwise), in full up to the threshold and the recorded share of the excess, rounded once,
    half up."""
    rules = rules or payout_rules()
    claims: Iterable[Any] = verified.accepted if isinstance(verified, Verification) else verified
    groups: dict[tuple[str, Category], list[RegisteredClaim]] = defaultdict(list)
    seen: set[str] = set()
    for i, c in enumerate(claims):
        if not isinstance(c, RegisteredClaim):
            raise ProtectionError(f"verified[{i}]", f"{c!r} is not a RegisteredClaim", "不是申报债权")
        if c.reference in seen:
            raise ProtectionError(f"verified[{i}].reference", f"reference {c.reference} appears twice; "
                                  "verify the claims first (verify() sets duplicates aside)",
                                  f"申报编号 {c.reference} 重复；请先核实")
        seen.add(c.reference)
        groups[(c.claimant_id, c.category)].append(c)
    out = []
    for (claimant, category), group in sorted(groups.items()):
        rule = rules.rule(category)
        principal = sum(c.principal_fen for c in group)
        interest = sum(c.interest_fen for c in group)
        eligible = principal + interest if rule.interest_paid else principal
        excluded = 0 if rule.interest_paid else interest
        exact = rule.exact_paid(eligible)
        paid = round_half_up(exact)
        claimed = principal + interest
        refs = tuple(sorted(c.reference for c in group))
        who = f"{claimant} / {category}"
        lines = [f"{who}: claimed {yuan(claimed)} ({len(group)} claim(s): {', '.join(refs)})"]
        if excluded:
            lines.append(f"{who}: interest {yuan(excluded)} excluded (利息不予收购; {rule.source})")
        if rule.in_full_up_to_fen is None or eligible <= rule.in_full_up_to_fen:
            lines.append(f"{who}: {yuan(eligible)} paid in full ({rule.description_en}; "
                         f"{rule.source}; {ART_17})")
        else:
            excess = eligible - rule.in_full_up_to_fen
            lines.append(f"{who}: {yuan(rule.in_full_up_to_fen)} in full + "
                         f"{rule.share_above_bp / 100:g}% of the excess {yuan(excess)} = {yuan(paid)}, "
                         f"rounded half up to the fen ({rule.description_en}; {rule.source}; {ART_17})")
        out.append(Compensation(claimant, category, refs, claimed, excluded, eligible, paid, claimed - paid,
                                tuple(lines)))
    return Payout(rules.effective, tuple(out))


def subrogated_claim_fen(payout: Payout) -> int:
    """The fund's claim in the failed company's liquidation: what it paid (Art. 19)."""
    return payout.subrogated_claim_fen
