"""Distributing a fair fund to harmed investors: net claims, pro rata to the fen, de minimis, rounds.

A fair fund is fed by administrative fines, confiscated illegal gains and administrative settlement money
(``Source``) and paid out under a plan (``FairFundPlan``) to the investors whose loss the loss engine computed
(``Eligible``).  Everything here is pure: frozen values in, frozen values out, money in integer fen.

Rules (see ``docs.md`` beside this file for the reasoning):

* **Net claim** = loss - advance compensation already paid in the same case, floored at 0 (no double
  recovery).
* **Remaining claim** in a round = net claim - what earlier rounds of the fund paid; nobody is paid
  beyond it.
* **Short fund**: pro rata to the remaining claims by the largest-remainder method
  (``redress.ledger.allocation.allocate``), exact to the fen.
* **De minimis**: an investor whose *exact* pro-rata share (a fraction, before rounding) is below
  ``minimum_payment_fen`` is paid nothing in that round.  With ``redistribute_below_minimum`` their money is
  spread over the others; otherwise it is withheld (rounded down to the fen) and becomes residual.
* **Residual** = available - payments, checked exactly.  It is carried into the next round while some
  remaining claim could still be paid; once none can, it goes to ``plan.residual_to``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from redress.ledger.allocation import allocate

SOURCE_KINDS: Mapping[str, str] = MappingProxyType({
    "fine": "administrative fine (行政罚款) imposed in the case",
    "confiscation": "confiscated illegal gains (没收违法所得)",
    "settlement": "administrative settlement money (行政和解金)",
})

CARRIED_FORWARD = "carried_forward"
"""``Round.residual_destination`` when the residual stays in the fund for the next round."""


class FairFundError(ValueError):
    """The fund, plan or claims cannot be distributed as given; the message says what to change."""


def _check_fen(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise FairFundError(f"{what} must be an integer number of fen, got {value!r}; convert yuan with "
                            f"round(yuan * 100) before building the fund")
    if value < 0:
        raise FairFundError(f"{what} must not be negative, got {value} fen")
    return value


def _frozen(mapping: Mapping[str, int] | Mapping[str, str]) -> Mapping:
    return MappingProxyType(dict(sorted(mapping.items())))


# -- inputs --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """Money paid into the fund: ``kind`` is one of ``SOURCE_KINDS``; ``reference`` cites the decision."""

    kind: str
    amount_fen: int
    reference: str

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise FairFundError(f"source kind {self.kind!r} is unknown; use one of {sorted(SOURCE_KINDS)}")
        _check_fen(self.amount_fen, f"amount of source {self.reference!r}")
        if not self.reference.strip():
            raise FairFundError("a source needs a reference (the decision number) so the money can be traced")


def fund_total_fen(sources: Iterable[Source]) -> int:
    """The money the sources bring into the fund."""
    return sum(s.amount_fen for s in sources)


@dataclass(frozen=True)
class Eligible:
    """An investor under the plan: ``loss_fen`` from the loss engine's compensation, and the advance
    compensation (先行赔付) already received in the same case."""

    investor_id: str
    loss_fen: int
    advance_paid_fen: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.investor_id, str) or not self.investor_id:
            raise FairFundError(f"investor_id must be a non-empty string, got {self.investor_id!r}")
        _check_fen(self.loss_fen, f"loss of investor {self.investor_id}")
        _check_fen(self.advance_paid_fen, f"advance compensation of investor {self.investor_id}")


@dataclass(frozen=True)
class FairFundPlan:
    """The distribution plan's parameters.

    ``minimum_payment_fen``: payments below it are not made (0 = no threshold).
    ``residual_to``: who receives money that can no longer be paid to investors (e.g. ``"investor protection
    fund"``, ``"treasury"``); recorded on every round.
    ``redistribute_below_minimum``: spread the shares of investors below the minimum over the others (True) or
    withhold them as residual (False).
    """

    minimum_payment_fen: int
    residual_to: str
    redistribute_below_minimum: bool = True

    def __post_init__(self) -> None:
        _check_fen(self.minimum_payment_fen, "minimum_payment_fen of the plan")
        if not isinstance(self.residual_to, str) or not self.residual_to.strip():
            raise FairFundError("the plan must name residual_to (e.g. 'investor protection fund' or "
                                "'treasury') so leftover money has a recorded destination")
        if self.residual_to == CARRIED_FORWARD:
            raise FairFundError(f"residual_to cannot be {CARRIED_FORWARD!r}: that word is reserved for money "
                                f"kept in the fund between rounds")


# -- net claims ----------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class NetClaims(Mapping[str, int]):
    """investor_id -> net claim in fen (a read-only mapping), with ``explanations`` for each investor."""

    claims_fen: Mapping[str, int]
    explanations: Mapping[str, str] = field(repr=False)

    def __getitem__(self, investor_id: str) -> int:
        return self.claims_fen[investor_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.claims_fen)

    def __len__(self) -> int:
        return len(self.claims_fen)

    def explain(self, investor_id: str) -> str:
        return self.explanations[investor_id]


def _by_investor(eligible: Iterable[Eligible]) -> dict[str, Eligible]:
    out: dict[str, Eligible] = {}
    for e in eligible:
        if not isinstance(e, Eligible):
            raise FairFundError(f"expected Eligible(investor_id, loss_fen, advance_paid_fen), got {e!r}")
        if e.investor_id in out:
            raise FairFundError(f"investor {e.investor_id} is listed twice; merge the losses into one "
                                f"Eligible entry per investor before distributing")
        out[e.investor_id] = e
    return out


def net_claims(eligible: Iterable[Eligible]) -> NetClaims:
    """Loss minus advance compensation already paid, floored at 0, per investor (sorted by id)."""
    claims: dict[str, int] = {}
    why: dict[str, str] = {}
    for inv, e in sorted(_by_investor(eligible).items()):
        net = max(0, e.loss_fen - e.advance_paid_fen)
        claims[inv] = net
        text = f"loss {e.loss_fen} fen - advance compensation {e.advance_paid_fen} fen"
        if e.loss_fen - e.advance_paid_fen < 0:
            text += f" is negative ({e.loss_fen - e.advance_paid_fen} fen): floored at 0, nothing more is due"
        else:
            text += f" = net claim {net} fen"
            if net == 0:
                text += " (already compensated in full)"
        why[inv] = text
    return NetClaims(_frozen(claims), _frozen(why))


# -- one round -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Round:
    """One round of distribution.  ``payments`` lists every eligible investor (0 when nothing is paid).

    ``available_fen = carried_in_fen + inflow_fen = sum(payments) + residual_fen`` holds exactly.
    ``remaining_before_fen`` / ``remaining_after_fen``: each investor's claim still unpaid before / after.
    ``below_minimum``: investors with a claim still due who got nothing because of the de minimis rule.
    ``withheld_below_minimum_fen``: their money kept back as residual (0 when it was redistributed).
    ``residual_destination``: ``CARRIED_FORWARD`` while a remaining claim can still be paid in a later round,
    otherwise ``plan.residual_to``.
    """

    number: int
    available_fen: int
    payments: Mapping[str, int]
    below_minimum: tuple[str, ...]
    residual_fen: int
    residual_destination: str
    carried_in_fen: int
    inflow_fen: int
    remaining_before_fen: Mapping[str, int]
    remaining_after_fen: Mapping[str, int]
    withheld_below_minimum_fen: int
    fund_short: bool                 # the remaining claims exceeded the money available
    de_minimis_passes: int           # how many times the de minimis test ran before it was stable

    @property
    def paid_fen(self) -> int:
        return sum(self.payments.values())

    def explain(self, investor_id: str) -> str:
        before = self.remaining_before_fen[investor_id]
        paid = self.payments[investor_id]
        if before == 0:
            return f"round {self.number}: nothing due (net claim already paid or zero)"
        if investor_id in self.below_minimum:
            return (f"round {self.number}: {before} fen due, but the pro-rata share is below the minimum "
                    f"payment; paid 0")
        how = "pro rata (fund short)" if self.fund_short else "in full"
        return (f"round {self.number}: {before} fen due, paid {paid} fen {how}; "
                f"{self.remaining_after_fen[investor_id]} fen still due")


def _remaining_claims(claims: Mapping[str, int], already_paid: Mapping[str, int]) -> dict[str, int]:
    unknown = sorted(set(already_paid) - set(claims))
    if unknown:
        raise FairFundError(f"already_paid names investors not eligible under the plan: {unknown[:5]}; "
                            f"add them to eligible or remove their payments")
    remaining: dict[str, int] = {}
    for inv, net in claims.items():
        paid = _check_fen(already_paid.get(inv, 0), f"amount already paid to investor {inv}")
        if paid > net:
            raise FairFundError(f"investor {inv} was already paid {paid} fen by the fund, more than the net "
                                f"claim of {net} fen; record the overpayment as a recovery, then distribute")
        remaining[inv] = net - paid
    return remaining


def _payable_set(remaining: Mapping[str, int], available_fen: int, minimum_fen: int) -> tuple[list[str], int]:
    """The investors paid when the de minimis money is redistributed, and how many passes it took.

    Exact pro-rata shares are proportional to the claims, so the smallest claim has the smallest share.  Each
    pass tests the smallest remaining claim(s) of the current set: if their exact share ``min(claim,
    available * claim / total)`` is below the minimum they leave (with any equal claims) and the money is
    re-spread over the rest.  The set shrinks every pass, so there are at most as many passes as distinct
    claim sizes + 1; the first set that passes is the largest group of biggest claims whose members all get
    the minimum, so more money never leaves someone out who would otherwise have been paid.
    """
    ordered = sorted((c, inv) for inv, c in remaining.items() if c > 0)
    total = sum(c for c, _ in ordered)
    start = 0
    passes = 0
    while start < len(ordered):
        passes += 1
        smallest = ordered[start][0]
        # exact share of the smallest claim >= minimum, in integers: min(c, A*c/W) >= m
        if smallest >= minimum_fen and available_fen * smallest >= minimum_fen * total:
            break
        while start < len(ordered) and ordered[start][0] == smallest:
            total -= smallest
            start += 1
    return [inv for _, inv in ordered[start:]], passes


def distribute(plan: FairFundPlan, eligible: Iterable[Eligible], available_fen: int,
               already_paid: Mapping[str, int] = MappingProxyType({}), *, number: int = 1,
               carried_in_fen: int = 0) -> Round:
    """Pay ``available_fen`` towards each investor's net claim minus ``already_paid`` (by earlier rounds).

    ``carried_in_fen`` (part of ``available_fen``) is only recorded, to tell carried money from new inflow.
    """
    if not isinstance(plan, FairFundPlan):
        raise FairFundError(f"plan must be a FairFundPlan, got {type(plan).__name__}")
    _check_fen(available_fen, "money available for the round")
    _check_fen(carried_in_fen, "money carried into the round")
    if carried_in_fen > available_fen:
        raise FairFundError(f"carried_in_fen {carried_in_fen} exceeds available_fen {available_fen}; "
                            f"available money includes what was carried in")
    claims = net_claims(eligible)
    remaining = _remaining_claims(claims, already_paid)
    minimum = plan.minimum_payment_fen
    due = {inv: c for inv, c in remaining.items() if c > 0}
    total_due = sum(due.values())
    short = available_fen < total_due
    withheld = 0

    if plan.redistribute_below_minimum:
        payable, passes = _payable_set(due, available_fen, minimum)
        weights = {inv: due[inv] for inv in payable}
        if available_fen >= sum(weights.values()):
            paid = weights                                   # everyone left is paid in full
        else:
            paid = dict(allocate(available_fen, weights).shares_fen)
    else:
        passes = 1
        # below the minimum on the exact share of the whole pool: min(c, A*c/W) < m
        below = {inv for inv, c in due.items() if c < minimum or available_fen * c < minimum * total_due}
        kept = {inv: c for inv, c in due.items() if inv not in below}
        if not short:
            paid = kept
        else:
            # the below-minimum investors' exact share, rounded down, is withheld; the rest goes to the others
            withheld = available_fen * (total_due - sum(kept.values())) // total_due
            paid = dict(allocate(available_fen - withheld, kept).shares_fen) if kept else {}
        payable = list(kept)

    payments = {inv: paid.get(inv, 0) for inv in remaining}
    below_minimum = tuple(sorted(inv for inv in due if inv not in set(payable)))
    residual = available_fen - sum(payments.values())
    after = {inv: remaining[inv] - payments[inv] for inv in remaining}

    # invariants: checked every time, never skipped
    if residual < 0 or sum(payments.values()) + residual != available_fen:
        raise AssertionError(f"fair fund round does not reconcile: available {available_fen} fen, "
                             f"paid {sum(payments.values())} fen, residual {residual} fen")
    for inv, p in payments.items():
        if p < 0 or p > remaining[inv]:
            raise AssertionError(f"investor {inv} would be paid {p} fen against {remaining[inv]} fen due")
        if 0 < p < minimum:
            raise AssertionError(f"investor {inv} would be paid {p} fen, below the minimum {minimum} fen")

    still_payable = any(c >= max(minimum, 1) for c in after.values())
    return Round(
        number=number,
        available_fen=available_fen,
        payments=_frozen(payments),
        below_minimum=below_minimum,
        residual_fen=residual,
        residual_destination=CARRIED_FORWARD if still_payable else plan.residual_to,
        carried_in_fen=carried_in_fen,
        inflow_fen=available_fen - carried_in_fen,
        remaining_before_fen=_frozen(remaining),
        remaining_after_fen=_frozen(after),
        withheld_below_minimum_fen=withheld,
        fund_short=short,
        de_minimis_passes=passes,
    )


# -- successive rounds ---------------------------------------------------------------------------------------

def rounds(plan: FairFundPlan, eligible: Iterable[Eligible], inflows: Iterable[int]) -> list[Round]:
    """Run one round per inflow (new money, or returned payments coming back), in order.

    Round *k* distributes its inflow plus the residual carried from round *k-1*.  A round's residual is
    carried forward while some investor's remaining claim could still be paid (it is at least the minimum
    payment); once no remaining claim can be paid (everyone is paid in full, or what is left is below the
    minimum and so can never be paid), the residual goes to ``plan.residual_to`` and nothing is carried.
    """
    eligible = tuple(eligible)
    claims = net_claims(eligible)            # validates once, before any round
    cumulative = {inv: 0 for inv in claims}
    carried = 0
    out: list[Round] = []
    for number, inflow in enumerate(inflows, start=1):
        _check_fen(inflow, f"inflow of round {number}")
        r = distribute(plan, eligible, carried + inflow, cumulative, number=number, carried_in_fen=carried)
        for inv, p in r.payments.items():
            cumulative[inv] += p
        carried = r.residual_fen if r.residual_destination == CARRIED_FORWARD else 0
        out.append(r)
    return out


def cumulative_payments(history: Iterable[Round]) -> dict[str, int]:
    """What each investor has received from the fund over ``history``."""
    total: dict[str, int] = {}
    for r in history:
        for inv, p in r.payments.items():
            total[inv] = total.get(inv, 0) + p
    return dict(sorted(total.items()))


__all__ = [
    "CARRIED_FORWARD", "SOURCE_KINDS", "Eligible", "FairFundError", "FairFundPlan", "NetClaims", "Round",
    "Source", "cumulative_payments", "distribute", "fund_total_fen", "net_claims", "rounds",
]
