"""Recourse after advance compensation (先行赔付后的追偿): who may claim what from whom, in integer fen.

A payer (usually the sponsor) compensates investors first and then has recourse against the issuer and the
other jointly liable parties (Securities Law 2019 Art. 93).  Towards investors the parties are jointly and
severally liable (连带责任, Art. 85 and Art. 163); among themselves each bears an internal share of fault
(内部责任份额, Civil Code Art. 178(2) and Art. 519(1)).

The core is pure: frozen value types in, a frozen :class:`RecoursePlan` out, no database.

Model conventions (see ``docs.md``):

* **Shares.**  The fault shares of the liable parties are exact fractions summing to exactly 1.
* **Own share.**  A payer that is itself a liable party bears its own share of what it paid and recovers the
  rest; a payer with no fault (``payer_party[payer] is None``) recovers everything.
* **Insolvency and reallocation (the model's convention).**  An insolvent party pays only its recovery rate
  (bankruptcy dividend) of its share.  The shortfall ``share * (1 - rate)`` of every insolvent party is
  reallocated among the *solvent* parties, and the payer's own party (which has already paid), in
  proportion to their fault shares -- the rule of Civil Code Art. 519(2) (被追偿的连带债务人不能履行其应分担份额的，
  其他连带债务人应当在相应范围内按比例分担).  Reallocated amounts are assumed collectable in full.  If
  nobody can take the shortfall (a no-fault payer and every party insolvent, or only zero shares left), it
  is the payer's unrecoverable loss.
* **Rounding (to the fen).**  For each payer, its own share (or its unrecoverable loss; never both) is
  rounded to the nearest fen, half up; what is recoverable from the others is the rest of the payment and is
  split among them by largest remainder (:func:`redress.ledger.allocation.allocate`) in proportion to their
  effective shares.  So ``paid = own share + recoverable + unrecoverable`` holds exactly, each amount is
  within a fen or two of its exact value, and more paid never means less recoverable.
* **Claims against an insolvent party** are its fault share of the payment, rounded up to the fen (and never
  less than the dividend expected on it): the amount filed in its bankruptcy; the expected recovery is the
  dividend on it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from redress.ledger.allocation import allocate

BP_PER_UNIT = 10_000  # basis points in 100%

# short citations used in explanation lines (the full rules are in the module docstring and docs.md)
ART_93 = "Securities Law 2019 Art. 93, recourse after advance compensation"
ART_519_1 = "Civil Code Art. 178(2), 519(1), internal shares"
ART_519_2 = "Civil Code Art. 519(2), shortfall borne pro rata: model convention"


class RecourseError(ValueError):
    """An input the recourse model cannot use.  ``field`` names the offending input, the message says what
    to do about it."""

    def __init__(self, field: str, reason: str):
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class PartyKind(StrEnum):
    """Who a liable party is (Securities Law Art. 85 and Art. 163)."""

    ISSUER = "issuer"                                    # 发行人
    CONTROLLING_SHAREHOLDER = "controlling_shareholder"  # 控股股东
    ACTUAL_CONTROLLER = "actual_controller"              # 实际控制人
    DIRECTOR = "director"                                # 董事、监事、高级管理人员
    SPONSOR = "sponsor"                                  # 保荐人、承销的证券公司
    AUDITOR = "auditor"                                  # 会计师事务所
    LAW_FIRM = "law_firm"                                # 律师事务所
    OTHER = "other"                                      # 其他证券服务机构或直接责任人员


def _as_share(value: object, field: str) -> Fraction:
    """A fault share: a ``Fraction`` in [0, 1] or an integer number of basis points in [0, 10000]."""
    if isinstance(value, bool) or isinstance(value, float):
        raise RecourseError(field, f"{value!r} is not exact; pass a Fraction such as Fraction('0.3') "
                                   "or an integer number of basis points such as 3000")
    if isinstance(value, int):
        share = Fraction(value, BP_PER_UNIT)
    elif isinstance(value, Fraction):
        share = value
    else:
        raise RecourseError(field, f"{value!r} is neither a Fraction nor an integer number of basis points")
    if not 0 <= share <= 1:
        raise RecourseError(field, f"share {share} is outside 0..1 (0..10000 bp)")
    return share


def _check_fen(value: object, field: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise RecourseError(field, f"{value!r} is not an integer number of fen")
    if value < 0:
        raise RecourseError(field, f"{value} fen is negative; amounts are never negative (record a "
                                   "correction as a separate, smaller payment list)")


@dataclass(frozen=True)
class LiableParty:
    """A party jointly and severally liable to investors, with its internal share of fault.

    ``fault_share`` is a ``Fraction`` (``Fraction(3, 10)``) or an integer number of basis points (``3000``);
    it is stored as a ``Fraction``.  An insolvent party (``solvent=False``) pays ``recovery_rate_bp`` of
    what is claimed from it (its expected bankruptcy dividend); a solvent party pays in full.
    """

    party_id: str
    name: str
    kind: PartyKind
    fault_share: Fraction
    solvent: bool = True
    recovery_rate_bp: int = BP_PER_UNIT

    def __post_init__(self) -> None:
        if not isinstance(self.party_id, str) or not self.party_id:
            raise RecourseError("party_id", "a liable party needs a non-empty id")
        where = f"party {self.party_id}"
        try:
            object.__setattr__(self, "kind", PartyKind(self.kind))
        except ValueError:
            raise RecourseError(f"{where}.kind", f"{self.kind!r} is not one of "
                                                 f"{', '.join(k.value for k in PartyKind)}") from None
        object.__setattr__(self, "fault_share", _as_share(self.fault_share, f"{where}.fault_share"))
        rate = self.recovery_rate_bp
        if not isinstance(rate, int) or isinstance(rate, bool) or not 0 <= rate <= BP_PER_UNIT:
            raise RecourseError(f"{where}.recovery_rate_bp",
                                f"{rate!r} must be an integer number of basis points in 0..10000")
        if self.solvent and rate != BP_PER_UNIT:
            raise RecourseError(f"{where}.recovery_rate_bp", f"a solvent party pays in full, got {rate} bp; "
                                "set solvent=False to apply a bankruptcy recovery rate")

    @property
    def recovery_rate(self) -> Fraction:
        return Fraction(self.recovery_rate_bp, BP_PER_UNIT)


@dataclass(frozen=True)
class Payment:
    """Money a payer paid to investors in advance compensation.  Several payments of one payer add up."""

    payer_id: str
    paid_fen: int

    def __post_init__(self) -> None:
        if not isinstance(self.payer_id, str) or not self.payer_id:
            raise RecourseError("payer_id", "a payment needs a non-empty payer id")
        _check_fen(self.paid_fen, f"payment of {self.payer_id}.paid_fen")


class ClaimBasis(StrEnum):
    """Why a payer may claim an amount from a party."""

    FAULT_SHARE = "fault_share"                        # the party's own share, solvent, nothing reallocated
    FAULT_SHARE_AND_REALLOCATION = "fault_share_and_reallocation"  # own share + part of insolvents' shortfall
    BANKRUPTCY_DIVIDEND = "bankruptcy_dividend"        # insolvent: share claimed, dividend expected


@dataclass(frozen=True)
class RecourseClaim:
    """What ``payer_id`` may claim from ``against_party_id`` (``amount_fen``) and expects to recover
    (``expected_fen``).  For a solvent party both are equal; for an insolvent one the claim is its share and
    the expectation the dividend on it.  ``effective_share`` is the part of the payment the party ends up
    bearing (its fault share, plus reallocation, or times its recovery rate)."""

    payer_id: str
    against_party_id: str
    amount_fen: int
    expected_fen: int
    basis: ClaimBasis
    fault_share: Fraction
    effective_share: Fraction


class LineKind(StrEnum):
    """The kinds of line in an explanation."""

    PAID = "paid"                      # what the payer paid investors
    OWN_SHARE = "own_share"            # what the payer bears itself
    CLAIM = "claim"                    # what the payer may claim from a party
    EXPECTED = "expected"              # what the payer expects to recover from a party
    SHORTFALL = "shortfall"            # the insolvent parties' unpaid share, reallocated
    UNRECOVERABLE = "unrecoverable"    # what nobody can be expected to pay back


@dataclass(frozen=True)
class Line:
    """One explained number: for which payer, which party, what share of the payment, the amount, the rule."""

    payer_id: str
    party_id: str | None
    kind: LineKind
    share: Fraction | None
    amount_fen: int | None
    rule: str

    def __str__(self) -> str:
        party = self.party_id or "-"
        share = "" if self.share is None else f"{_pct(self.share)} "
        amount = "" if self.amount_fen is None else f"{_yuan(self.amount_fen)} "
        return f"{self.payer_id} / {party} {self.kind}: {share}{amount}({self.rule})"


@dataclass(frozen=True)
class PayerRecourse:
    """The recourse of one payer: ``paid_fen = own_share_fen + recoverable_fen + unrecoverable_fen``."""

    payer_id: str
    party_id: str | None                 # the payer's own liable party, None when it bears no fault
    paid_fen: int
    own_share_fen: int
    recoverable_fen: int                 # expected recovery from the other parties, in total
    unrecoverable_fen: int
    claims: tuple[RecourseClaim, ...]    # sorted by party id
    own_effective_share: Fraction
    unrecoverable_share: Fraction
    shortfall_share: Fraction            # insolvent parties' unpaid share, reallocated (part of the payment)
    lines: tuple[Line, ...]

    def check(self) -> None:
        """Raise :class:`RecourseError` unless this payer's numbers reconcile exactly to the fen."""
        where = f"payer {self.payer_id}"
        if self.paid_fen != self.own_share_fen + self.recoverable_fen + self.unrecoverable_fen:
            raise RecourseError(where, f"paid {self.paid_fen} != own share {self.own_share_fen} "
                                       f"+ recoverable "
                                       f"{self.recoverable_fen} + unrecoverable {self.unrecoverable_fen} fen")
        expected = sum(c.expected_fen for c in self.claims)
        if expected != self.recoverable_fen:
            raise RecourseError(where, f"claims expect {expected} fen, recoverable is {self.recoverable_fen}")
        for c in self.claims:
            if not 0 <= c.expected_fen <= c.amount_fen:
                raise RecourseError(f"{where} claim against {c.against_party_id}",
                                    f"expected {c.expected_fen} fen outside 0..claim {c.amount_fen}")
        if self.own_effective_share + self.unrecoverable_share + sum(
                c.effective_share for c in self.claims) != 1:
            raise RecourseError(where, "effective shares do not sum to 1")

    def claim_against(self, party_id: str) -> RecourseClaim | None:
        return next((c for c in self.claims if c.against_party_id == party_id), None)


@dataclass(frozen=True)
class PartyBurden:
    """What a party ultimately bears over all payers: its own payments' share plus what it is expected to
    pay back to the other payers."""

    party_id: str
    own_share_fen: int        # borne on its own payments (0 if it paid nothing)
    to_payers_fen: int        # expected to be recovered from it by the payers
    exact_fen: Fraction       # the same total before rounding: sum of effective share * paid

    @property
    def total_fen(self) -> int:
        return self.own_share_fen + self.to_payers_fen


@dataclass(frozen=True)
class RecoursePlan:
    """Recourse of every payer against every liable party.  Check with :meth:`check`; read with
    :meth:`explain`."""

    parties: tuple[LiableParty, ...]     # sorted by party id
    payers: tuple[PayerRecourse, ...]    # sorted by payer id
    burdens: tuple[PartyBurden, ...]     # sorted by party id

    @property
    def paid_fen(self) -> int:
        return sum(p.paid_fen for p in self.payers)

    @property
    def recoverable_fen(self) -> int:
        return sum(p.recoverable_fen for p in self.payers)

    @property
    def own_share_fen(self) -> int:
        return sum(p.own_share_fen for p in self.payers)

    @property
    def unrecoverable_fen(self) -> int:
        return sum(p.unrecoverable_fen for p in self.payers)

    def payer(self, payer_id: str) -> PayerRecourse:
        for p in self.payers:
            if p.payer_id == payer_id:
                return p
        raise RecourseError("payer_id", f"no payer {payer_id!r} in this plan; payers are "
                                        f"{', '.join(p.payer_id for p in self.payers)}")

    def burden(self, party_id: str) -> PartyBurden:
        for b in self.burdens:
            if b.party_id == party_id:
                return b
        raise RecourseError("party_id", f"no party {party_id!r} in this plan; parties are "
                                        f"{', '.join(b.party_id for b in self.burdens)}")

    def claims_against(self, party_id: str) -> tuple[RecourseClaim, ...]:
        return tuple(c for p in self.payers for c in p.claims if c.against_party_id == party_id)

    @property
    def lines(self) -> tuple[Line, ...]:
        return tuple(line for p in self.payers for line in p.lines)

    def check(self) -> None:
        """Raise :class:`RecourseError` unless every total reconciles exactly to the fen:
        for each payer ``paid = own share + recoverable + unrecoverable``, and over the plan
        ``paid = sum of what the parties bear + unrecoverable``."""
        for p in self.payers:
            p.check()
        borne = sum(b.total_fen for b in self.burdens)
        if self.paid_fen != borne + self.unrecoverable_fen:
            raise RecourseError("plan", f"paid {self.paid_fen} != borne by parties {borne} + unrecoverable "
                                        f"{self.unrecoverable_fen} fen")
        if self.recoverable_fen != sum(b.to_payers_fen for b in self.burdens):
            raise RecourseError("plan", "recoverable amounts do not match what the parties pay back")

    def explain(self) -> str:
        """Every number of the plan, one per line, with the share, the amount and the rule applied."""
        out = []
        for p in self.payers:
            out.extend(str(line) for line in p.lines)
        for b in self.burdens:
            out.append(f"party {b.party_id} bears {_yuan(b.total_fen)} in all (own payments "
                       f"{_yuan(b.own_share_fen)}, to payers {_yuan(b.to_payers_fen)})")
        borne_fen = self.paid_fen - self.unrecoverable_fen
        out.append(f"total paid {_yuan(self.paid_fen)} = borne {_yuan(borne_fen)}"
                   f" + unrecoverable {_yuan(self.unrecoverable_fen)}")
        return "\n".join(out)


def _pct(share: Fraction) -> str:
    pct = share * 100
    return f"{pct.numerator}%" if pct.denominator == 1 else f"{float(pct):.4f}% ({share})"


def _yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d} yuan"


def _round_half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def _integer_weights(shares: Mapping[str, Fraction]) -> dict[str, int]:
    """Exact integer weights proportional to ``shares`` (for :func:`allocate`)."""
    scale = math.lcm(*(s.denominator for s in shares.values())) if shares else 1
    return {k: int(s * scale) for k, s in shares.items()}


def _validate(paid: Iterable[Payment], parties: Iterable[LiableParty],
              payer_party: Mapping[str, str | None]) -> tuple[dict[str, LiableParty], dict[str, int]]:
    by_id: dict[str, LiableParty] = {}
    for i, party in enumerate(parties):
        if not isinstance(party, LiableParty):
            raise RecourseError(f"parties[{i}]", f"{party!r} is not a LiableParty")
        if party.party_id in by_id:
            raise RecourseError(f"parties[{i}].party_id", f"{party.party_id!r} appears twice; give each "
                                                         "liable party one entry")
        by_id[party.party_id] = party
    if not by_id:
        raise RecourseError("parties", "no liable party; recourse needs at least one")
    total = sum(p.fault_share for p in by_id.values())
    if total != 1:
        raise RecourseError("parties.fault_share", f"fault shares sum to {_pct(total)}, not 100%; fix the "
                                                   "shares so they add up to exactly 100% (10000 bp)")
    paid_fen: dict[str, int] = defaultdict(int)
    for i, payment in enumerate(paid):
        if not isinstance(payment, Payment):
            raise RecourseError(f"paid[{i}]", f"{payment!r} is not a Payment")
        paid_fen[payment.payer_id] += payment.paid_fen
    for payer_id in paid_fen:
        if payer_id not in payer_party:
            raise RecourseError(f"payer_party[{payer_id!r}]", f"payer {payer_id!r} paid but is not in "
                                "payer_party; map it to its liable party id, or to None if it bears no fault")
    for payer_id, party_id in payer_party.items():
        if payer_id not in paid_fen:
            raise RecourseError(f"payer_party[{payer_id!r}]", f"payer {payer_id!r} paid nothing; remove it "
                                "or add its Payment")
        if party_id is not None and party_id not in by_id:
            raise RecourseError(f"payer_party[{payer_id!r}]", f"{party_id!r} is not a liable party; use one "
                                f"of {', '.join(sorted(by_id))}, or None if the payer bears no fault")
    return by_id, dict(paid_fen)


def _effective_shares(parties: Mapping[str, LiableParty], own: str | None
                      ) -> tuple[dict[str, Fraction], Fraction, Fraction]:
    """The exact part of one payer's payment each party ends up bearing, the part nobody bears, and the
    insolvent parties' shortfall (before reallocation).  ``own`` is the payer's own party, if any."""
    shortfall = sum((p.fault_share * (1 - p.recovery_rate) for p in parties.values()
                     if not p.solvent and p.party_id != own), Fraction(0))
    takers = {k: p.fault_share for k, p in parties.items() if p.solvent or k == own}
    takers_share = sum(takers.values(), Fraction(0))
    effective: dict[str, Fraction] = {}
    for k, p in parties.items():
        if k in takers:
            extra = shortfall * p.fault_share / takers_share if takers_share else Fraction(0)
            effective[k] = p.fault_share + extra
        else:
            effective[k] = p.fault_share * p.recovery_rate
    unrecoverable = Fraction(0) if takers_share else shortfall
    return effective, unrecoverable, shortfall


def _payer_recourse(payer_id: str, own: str | None, paid_fen: int,
                    parties: Mapping[str, LiableParty]) -> PayerRecourse:
    effective, unrec_share, shortfall = _effective_shares(parties, own)
    own_share = effective[own] if own is not None else Fraction(0)
    if own_share and unrec_share:  # pragma: no cover - a payer with a positive share always takes shortfall
        raise AssertionError("own share and unrecoverable loss both positive")
    kept_fen = _round_half_up((own_share + unrec_share) * paid_fen)
    own_fen = kept_fen if own_share else 0
    unrec_fen = kept_fen - own_fen
    others = {k: s for k, s in effective.items() if k != own}
    split = allocate(paid_fen - kept_fen, _integer_weights(others)).shares_fen

    lines = [Line(payer_id, None, LineKind.PAID, None, paid_fen, ART_93)]
    if own is not None:
        p = parties[own]
        lines.append(Line(payer_id, own, LineKind.OWN_SHARE, own_share, own_fen,
                          f"own fault share {_pct(p.fault_share)}"
                          + (f" + {_pct(own_share - p.fault_share)} reallocated" if own_share != p.fault_share
                             else "") + "; rounded half up; " + ART_519_1))
    if shortfall:
        lines.append(Line(payer_id, None, LineKind.SHORTFALL, shortfall, None,
                          "unpaid share of the insolvent parties, reallocated in proportion to the shares of "
                          "the solvent parties and the payer; " + ART_519_2))
    claims = []
    for k in sorted(others):
        p = parties[k]
        expected = split[k]
        if p.solvent:
            amount = expected
            basis = ClaimBasis.FAULT_SHARE if effective[k] == p.fault_share \
                else ClaimBasis.FAULT_SHARE_AND_REALLOCATION
            rule = f"solvent: fault share {_pct(p.fault_share)}" + (
                f" + {_pct(effective[k] - p.fault_share)} reallocated"
                if effective[k] != p.fault_share else "")
            lines.append(Line(payer_id, k, LineKind.CLAIM, effective[k], amount,
                              rule + "; largest remainder; " + ART_519_1))
        else:
            amount = max(math.ceil(p.fault_share * paid_fen), expected)
            basis = ClaimBasis.BANKRUPTCY_DIVIDEND
            lines.append(Line(payer_id, k, LineKind.CLAIM, p.fault_share, amount,
                              f"insolvent: fault share {_pct(p.fault_share)} of payment, rounded up, filed "
                              "in bankruptcy; " + ART_519_1))
            lines.append(Line(payer_id, k, LineKind.EXPECTED, effective[k], expected,
                              f"recovery rate {p.recovery_rate_bp} bp x share {_pct(p.fault_share)}; "
                              "largest remainder"))
        claims.append(RecourseClaim(payer_id, k, amount, expected, basis, p.fault_share, effective[k]))
    if unrec_share:
        lines.append(Line(payer_id, None, LineKind.UNRECOVERABLE, unrec_share, unrec_fen,
                          "shortfall of insolvent parties with no solvent party to take it; rounded half up; "
                          + ART_519_2))
    recoverable = paid_fen - kept_fen
    return PayerRecourse(payer_id, own, paid_fen, own_fen, recoverable, unrec_fen, tuple(claims), own_share,
                         unrec_share, shortfall, tuple(lines))


def recourse_claims(paid: Iterable[Payment], parties: Iterable[LiableParty],
                    payer_party: Mapping[str, str | None]) -> RecoursePlan:
    """What each payer may claim from each liable party after advance compensation, and what each party
    ultimately bears.

    ``payer_party`` maps every payer to its own liable party id, or to ``None`` for a payer with no fault.
    The result does not depend on the order of ``paid`` or ``parties``, and reconciles exactly to the fen
    (:meth:`RecoursePlan.check` is run before it is returned).  Conventions: see the module docstring.
    """
    by_id, paid_fen = _validate(paid, parties, payer_party)
    payers = tuple(_payer_recourse(payer_id, payer_party[payer_id], paid_fen[payer_id], by_id)
                   for payer_id in sorted(paid_fen))
    own_fen: dict[str, int] = defaultdict(int)
    to_payers_fen: dict[str, int] = defaultdict(int)
    exact: dict[str, Fraction] = defaultdict(Fraction)
    for p in payers:
        if p.party_id is not None:
            own_fen[p.party_id] += p.own_share_fen
            exact[p.party_id] += p.own_effective_share * p.paid_fen
        for c in p.claims:
            to_payers_fen[c.against_party_id] += c.expected_fen
            exact[c.against_party_id] += c.effective_share * p.paid_fen
    burdens = tuple(PartyBurden(k, own_fen[k], to_payers_fen[k], exact[k]) for k in sorted(by_id))
    plan = RecoursePlan(tuple(by_id[k] for k in sorted(by_id)), payers, burdens)
    plan.check()
    return plan


@dataclass(frozen=True)
class Receipt:
    """Money recovered from a party and passed to one payer, against its claim on that party."""

    payer_id: str
    from_party_id: str
    amount_fen: int
    claim_fen: int


@dataclass(frozen=True)
class RecoveryDistribution:
    """How amounts recovered from parties go back to the payers.  ``excess`` is what a party paid beyond
    all claims against it (to be returned to it or held; never given to a payer)."""

    receipts: tuple[Receipt, ...]             # sorted by party, then payer
    excess: tuple[tuple[str, int], ...]       # (party id, fen), parties with a positive excess, sorted

    def received_fen(self, payer_id: str) -> int:
        return sum(r.amount_fen for r in self.receipts if r.payer_id == payer_id)

    @property
    def total_fen(self) -> int:
        return sum(r.amount_fen for r in self.receipts) + sum(fen for _k, fen in self.excess)


def apply_recoveries(plan: RecoursePlan, recovered: Iterable[tuple[str, int]]) -> RecoveryDistribution:
    """Distribute amounts actually recovered from parties to the payers, in proportion to their recourse
    claims against each party (largest remainder, to the fen).  A payer never receives more than its claim;
    anything beyond all claims against a party is reported as that party's excess.

    ``recovered`` lists ``(party_id, amount_fen)``; several amounts from one party add up, so pass every
    recovery to date (tracking recoveries over time is not part of this core).
    """
    known = {p.party_id for p in plan.parties}
    totals: dict[str, int] = defaultdict(int)
    for i, item in enumerate(recovered):
        try:
            party_id, amount_fen = item
        except (TypeError, ValueError):
            raise RecourseError(f"recovered[{i}]", f"{item!r} is not a (party_id, amount_fen) pair") from None
        if party_id not in known:
            raise RecourseError(f"recovered[{i}].party_id", f"{party_id!r} is not a party of this plan; "
                                f"use one of {', '.join(sorted(known))}")
        _check_fen(amount_fen, f"recovered[{i}].amount_fen")
        totals[party_id] += amount_fen
    receipts: list[Receipt] = []
    excess: list[tuple[str, int]] = []
    for party_id in sorted(totals):
        claims = {c.payer_id: c.amount_fen for c in plan.claims_against(party_id) if c.amount_fen > 0}
        claimed = sum(claims.values())
        passed_on = min(totals[party_id], claimed)
        shares = allocate(passed_on, claims).shares_fen
        receipts.extend(Receipt(payer_id, party_id, shares[payer_id], claims[payer_id])
                        for payer_id in sorted(claims))
        if totals[party_id] > claimed:
            excess.append((party_id, totals[party_id] - claimed))
    return RecoveryDistribution(tuple(receipts), tuple(excess))
