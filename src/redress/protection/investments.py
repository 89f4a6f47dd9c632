"""Checking a proposed investment of the protection fund against Art. 20 of the Measures (CSRC Order No. 27).

The fund may only be put in bank deposits, government bonds, central bank bonds (including central bank
bills) and financial bonds issued by central financial institutions, or another form approved by the State
Council.  The permitted kinds and the list of central financial institutions are data
(``law/data/protection_investments.toml``); the list of issuers is a configurable model choice.

:func:`check` returns every reason to refuse a proposal (an empty list means it is allowed); each
:class:`Refusal` says why in English and Chinese and cites the article.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from redress.protection._common import (
    ProtectionDataError,
    ProtectionError,
    check_keys,
    data_bool,
    data_date,
    data_text,
    parse_toml,
    read_data,
    yuan,
)

INVESTMENTS_DATA = "protection_investments"


class RefusalRule(StrEnum):
    """Why a proposal is refused."""

    KIND_NOT_PERMITTED = "kind_not_permitted"            # not a form of investment Art. 20 allows
    ISSUER_NOT_CENTRAL = "issuer_not_central"            # financial bond of a non-central institution
    AMOUNT_NOT_POSITIVE = "amount_not_positive"          # zero or negative amount
    MATURITY_MISSING = "maturity_missing"                # a bond without a maturity date
    MATURITY_BEFORE_TRADE = "maturity_before_trade"      # matures before it is bought
    CASH_INSUFFICIENT = "cash_insufficient"              # more than the cash available
    APPROVAL_MISSING = "approval_missing"                # "other" kind without State Council approval


@dataclass(frozen=True)
class InvestmentKind:
    key: str
    name_en: str
    name_zh: str
    effective: dt.date
    source: str
    issuer_must_be_central: bool = False
    requires_approval: bool = False
    maturity_required: bool = False


@dataclass(frozen=True)
class CentralInstitution:
    name_en: str
    name_zh: str
    aliases: tuple[str, ...]
    effective: dt.date
    source: str

    def names(self) -> frozenset[str]:
        return frozenset(_norm(n) for n in (self.name_en, self.name_zh, *self.aliases))


@dataclass(frozen=True)
class InvestmentRules:
    article: str
    kinds: tuple[InvestmentKind, ...]
    central_institutions: tuple[CentralInstitution, ...]

    def kind(self, key: str) -> InvestmentKind | None:
        return next((k for k in self.kinds if k.key == key), None)

    def central_institution(self, issuer: str, on_date: dt.date) -> CentralInstitution | None:
        name = _norm(issuer)
        return next((c for c in self.central_institutions
                     if name in c.names() and c.effective <= on_date), None)


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


def parse_investment_rules(text: str, origin: str) -> InvestmentRules:
    """Parse the investment rules strictly (unknown keys are errors naming the file and the key)."""
    data = parse_toml(text, origin)
    check_keys(data, origin, ["file", "kind", "central_financial_institution"])
    check_keys(data["file"], f"{origin}: file", ["description", "article"])
    kinds = []
    for i, raw in enumerate(data["kind"], start=1):
        where = f"{origin}: kind {i}"
        check_keys(raw, where, ["key", "name_en", "name_zh", "effective", "source"],
                   ["issuer_must_be_central", "requires_approval", "maturity_required"])
        kinds.append(InvestmentKind(
            data_text(raw, "key", where), data_text(raw, "name_en", where), data_text(raw, "name_zh", where),
            data_date(raw, "effective", where), data_text(raw, "source", where),
            data_bool(raw, "issuer_must_be_central", where) if "issuer_must_be_central" in raw else False,
            data_bool(raw, "requires_approval", where) if "requires_approval" in raw else False,
            data_bool(raw, "maturity_required", where) if "maturity_required" in raw else False))
    keys = [k.key for k in kinds]
    if len(set(keys)) != len(keys):
        raise ProtectionDataError(f"{origin}: kind", f"kind keys must be unique, got {keys}")
    institutions = []
    for i, raw in enumerate(data["central_financial_institution"], start=1):
        where = f"{origin}: central_financial_institution {i}"
        check_keys(raw, where, ["name_en", "name_zh", "effective", "source"], ["aliases"])
        aliases = raw.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise ProtectionDataError(f"{where}: aliases", "must be a list of non-empty names")
        institutions.append(CentralInstitution(
            data_text(raw, "name_en", where), data_text(raw, "name_zh", where), tuple(aliases),
            data_date(raw, "effective", where), data_text(raw, "source", where)))
    article = data_text(data["file"], "article", f"{origin}: file")
    return InvestmentRules(article, tuple(kinds), tuple(institutions))


@cache
def investment_rules() -> InvestmentRules:
    """The rules in ``law/data/protection_investments.toml`` (cached)."""
    return parse_investment_rules(*read_data(INVESTMENTS_DATA))


@dataclass(frozen=True)
class Proposal:
    """A proposed investment of the fund.  ``maturity_date`` may be None only for kinds that do not require
    one (a demand deposit); ``approval_reference`` names the State Council approval for an ``other`` kind."""

    kind: str
    issuer: str
    amount_fen: int
    trade_date: dt.date
    maturity_date: dt.date | None
    counterparty: str
    approval_reference: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.amount_fen, int) or isinstance(self.amount_fen, bool):
            raise ProtectionError("amount_fen", f"{self.amount_fen!r} is not an integer number of fen",
                                  f"{self.amount_fen!r} 不是以分为单位的整数")
        for name in ("kind", "issuer", "counterparty"):
            if not isinstance(getattr(self, name), str):
                raise ProtectionError(name, f"{getattr(self, name)!r} must be a text", "应为文本")


@dataclass(frozen=True)
class Refusal:
    """One reason a proposal cannot go ahead."""

    rule: RefusalRule
    message_en: str
    message_zh: str
    article: str

    @property
    def message(self) -> str:
        return f"{self.message_en} / {self.message_zh} ({self.article})"


def check(proposal: Proposal, *, cash_available_fen: int,
          rules: InvestmentRules | None = None) -> list[Refusal]:
    """Every reason to refuse ``proposal``; an empty list means Art. 20 allows it."""
    rules = rules or investment_rules()
    if not isinstance(cash_available_fen, int) or isinstance(cash_available_fen, bool):
        raise ProtectionError("cash_available_fen", f"{cash_available_fen!r} is not an integer number of fen",
                              "可用资金应为以分为单位的整数")
    art = rules.article
    out: list[Refusal] = []

    def refuse(rule: RefusalRule, en: str, zh: str, article: str = art) -> None:
        out.append(Refusal(rule, en, zh, article))

    kind = rules.kind(proposal.kind)
    amount = yuan(proposal.amount_fen)
    if kind is None or kind.effective > proposal.trade_date:
        permitted = ", ".join(k.key for k in rules.kinds)
        permitted_zh = "、".join(k.name_zh for k in rules.kinds)
        refuse(RefusalRule.KIND_NOT_PERMITTED,
               f"{proposal.kind!r} is not a permitted use of the fund; permitted: {permitted}",
               f"{proposal.kind!r} 不属于保护基金可以运用的形式；可运用形式为：{permitted_zh}")
    else:
        central = rules.central_institution(proposal.issuer, proposal.trade_date)
        if kind.issuer_must_be_central and central is None:
            listed = ", ".join(c.name_en for c in rules.central_institutions)
            listed_zh = "、".join(c.name_zh for c in rules.central_institutions)
            refuse(RefusalRule.ISSUER_NOT_CENTRAL,
                   f"{proposal.issuer!r} is not a central financial institution; only financial bonds of "
                   f"{listed} qualify",
                   f"{proposal.issuer!r} 不是中央金融机构；仅{listed_zh}发行的金融债券可以购买",
                   f"{art}; {kind.source}")
        if kind.requires_approval and not (proposal.approval_reference or "").strip():
            refuse(RefusalRule.APPROVAL_MISSING,
                   "another form of investment needs a State Council approval; give its reference "
                   "(approval_reference)", "其他资金运用形式须经国务院批准；请填写批准文件编号",
                   f"{art}; {kind.source}")
    if proposal.amount_fen <= 0:
        refuse(RefusalRule.AMOUNT_NOT_POSITIVE, f"the amount {amount} must be more than zero",
               f"投资金额 {amount} 必须大于零")
    if proposal.maturity_date is None:
        if kind is not None and kind.maturity_required:
            refuse(RefusalRule.MATURITY_MISSING, f"a {kind.name_en} needs a maturity date",
                   f"{kind.name_zh}须载明到期日")
    elif proposal.maturity_date < proposal.trade_date:
        refuse(RefusalRule.MATURITY_BEFORE_TRADE,
               f"the maturity date {proposal.maturity_date} is before the trade date {proposal.trade_date}",
               f"到期日 {proposal.maturity_date} 早于交易日 {proposal.trade_date}")
    if proposal.amount_fen > 0 and proposal.amount_fen > cash_available_fen:
        cash = yuan(cash_available_fen)
        refuse(RefusalRule.CASH_INSUFFICIENT, f"the amount {amount} is more than the cash available, {cash}",
               f"投资金额 {amount} 超过可用资金 {cash}")
    return out
