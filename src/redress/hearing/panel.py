"""Forming a balanced hearing panel on the advance-compensation plan.

Rules enforced (a panel that breaks one cannot be built, not even by calling ``Panel`` directly):

* the presiding organiser is neither a payer nor an investor (nor sits on either side);
* the payer side and the investor side have the same number of members;
* the investor side is investor representatives plus investors' lawyers, taken from those who applied:
  by the applicants' agreement when there is one, otherwise by a verifiable lot (``redress.hearing.lottery``)
  with the split between representatives and lawyers fixed in advance (``lawyer_seats``);
* nobody sits twice (and nobody applies both as a representative and as a lawyer).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

from redress.hearing.lottery import Draw, draw

SEATS_PER_SIDE_MAX = 50
"""A hearing panel larger than this is a data-entry mistake, not a panel."""


class PanelError(ValueError):
    """The panel cannot be formed as asked; the message says what to change."""


class Role(str, Enum):
    """Roles a person can hold in the case; the organiser must hold neither PAYER nor INVESTOR."""

    PAYER = "payer"                          # pays the advance compensation (or acts for a payer)
    INVESTOR = "investor"                    # an investor who may be compensated under the plan
    INVESTOR_LAWYER = "investor_lawyer"      # a lawyer acting for investors
    REGULATOR = "regulator"                  # the supervising authority
    FUND_MANAGER = "fund_manager"            # manages the special compensation fund
    INDEPENDENT = "independent"              # no interest in the case (e.g. an investor-protection body)


DISQUALIFYING_ORGANISER_ROLES = frozenset({Role.PAYER, Role.INVESTOR})


class Selection(str, Enum):
    """How the investor side was chosen."""

    AGREEMENT = "agreement"  # the applicants agreed on who sits
    LOT = "lot"              # they could not agree: drawn by lot from a published seed


@dataclass(frozen=True)
class Panel:
    """A hearing panel: one organiser presiding over two sides of equal size."""

    organiser: str
    payer_side: tuple[str, ...]
    investor_representatives: tuple[str, ...]
    investor_lawyers: tuple[str, ...]
    investor_side_selection: Selection

    def __post_init__(self) -> None:
        for name in ("payer_side", "investor_representatives", "investor_lawyers"):  # no lists inside
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "investor_side_selection", Selection(self.investor_side_selection))
        if len(self.payer_side) != len(self.investor_side):
            raise PanelError(
                f"the payer side has {len(self.payer_side)} members and the investor side "
                f"{len(self.investor_side)}; seat the same number on each side"
            )
        _refuse_repeats(self.members, "sits on the panel twice; give each person one seat")

    @property
    def investor_side(self) -> tuple[str, ...]:
        return self.investor_representatives + self.investor_lawyers

    @property
    def seats_per_side(self) -> int:
        return len(self.payer_side)

    @property
    def members(self) -> tuple[str, ...]:
        """Everyone on the panel, organiser first."""
        return (self.organiser, *self.payer_side, *self.investor_side)


class Formation(NamedTuple):
    """The panel and the draws that chose its investor side (empty when chosen by agreement)."""

    panel: Panel
    draws: tuple[Draw, ...]


def _refuse_repeats(ids: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for person in ids:
        if not isinstance(person, str) or not person.strip():
            raise PanelError(f"a person's id is empty or not text ({person!r}); give every person an id")
        if person in seen:
            raise PanelError(f"{person!r} {what}")
        seen.add(person)


def _as_roles(organiser_roles: Iterable[Role | str]) -> frozenset[Role]:
    roles = set()
    for role in organiser_roles:
        try:
            roles.add(Role(role))
        except ValueError:
            raise PanelError(
                f"unknown role {role!r} for the organiser; use one of {[r.value for r in Role]}"
            ) from None
    return frozenset(roles)


def form_panel(
    organiser: str,
    organiser_roles: Iterable[Role | str],
    payer_side: Sequence[str],
    investor_reps_applicants: Sequence[str],
    lawyer_applicants: Sequence[str],
    seats_per_side: int,
    seed: str | None,
    agreed: Sequence[str] | None = None,
    *,
    lawyer_seats: int,
) -> Formation:
    """Form the panel: ``seats_per_side`` payer-side members and as many on the investor side.

    The investor side has ``seats_per_side - lawyer_seats`` representatives and ``lawyer_seats`` lawyers.
    With ``agreed`` (the ids the applicants agreed on) those are seated, after checking each applied and the
    split matches; without it both groups are drawn by lot with ``seed`` (one draw per group, same seed).
    """
    if not isinstance(seats_per_side, int) or isinstance(seats_per_side, bool) or not (
        1 <= seats_per_side <= SEATS_PER_SIDE_MAX
    ):
        raise PanelError(
            f"seats_per_side must be a whole number from 1 to {SEATS_PER_SIDE_MAX}, got {seats_per_side!r}"
        )
    if (
        not isinstance(lawyer_seats, int)
        or isinstance(lawyer_seats, bool)
        or not 0 <= lawyer_seats <= seats_per_side
    ):
        raise PanelError(
            f"lawyer_seats must be a whole number from 0 to seats_per_side ({seats_per_side}), "
            f"got {lawyer_seats!r}"
        )
    rep_seats = seats_per_side - lawyer_seats

    # The organiser presides and must be disinterested.
    if not isinstance(organiser, str) or not organiser.strip():
        raise PanelError("the organiser has no id; name who presides over the hearing")
    disqualifying = _as_roles(organiser_roles) & DISQUALIFYING_ORGANISER_ROLES
    if disqualifying:
        named = ", ".join(sorted(r.value for r in disqualifying))
        raise PanelError(
            f"organiser {organiser!r} is a {named}; the hearing must be presided over by someone who is "
            "neither a payer nor an investor"
        )

    # Who is where: each list is free of repeats, and nobody is in two of them.
    payer_side = tuple(payer_side)
    reps = tuple(investor_reps_applicants)
    lawyers = tuple(lawyer_applicants)
    _refuse_repeats(payer_side, "is listed twice on the payer side; list each member once")
    _refuse_repeats(reps, "applied twice as an investor representative; keep one application")
    _refuse_repeats(lawyers, "applied twice as an investors' lawyer; keep one application")
    if len(payer_side) != seats_per_side:
        raise PanelError(
            f"the payer side names {len(payer_side)} members but each side has {seats_per_side} seats; "
            "name exactly as many payer-side members as investor-side seats"
        )
    for person in (*payer_side, *reps, *lawyers):
        if person == organiser:
            raise PanelError(
                f"organiser {organiser!r} is also on a side or applied for a seat; choose another organiser"
            )
    for person in reps + lawyers:
        if person in payer_side:
            raise PanelError(
                f"{person!r} is on the payer side and applied for an investor-side seat; withdraw one"
            )
    both = sorted(set(reps) & set(lawyers))
    if both:
        raise PanelError(
            f"{both} applied both as investor representative and as investors' lawyer; "
            "keep one application each"
        )

    if agreed is not None:
        panel = _seat_agreed(organiser, payer_side, reps, lawyers, rep_seats, lawyer_seats, agreed)
        return Formation(panel, ())

    if len(reps) < rep_seats:
        raise PanelError(
            f"{len(reps)} investor-representative applicants for {rep_seats} seats; reopen applications "
            "or give more seats to lawyers"
        )
    if len(lawyers) < lawyer_seats:
        raise PanelError(
            f"{len(lawyers)} investors'-lawyer applicants for {lawyer_seats} seats; reopen applications "
            "or give fewer seats to lawyers"
        )
    if not seed:
        raise PanelError(
            "the applicants did not agree and no seed was given; reveal the seed committed to before "
            "applications closed and draw by lot"
        )
    rep_draw = draw(reps, rep_seats, seed, purpose="investor representatives")
    lawyer_draw = draw(lawyers, lawyer_seats, seed, purpose="investors' lawyers")
    panel = Panel(organiser, payer_side, rep_draw.winners, lawyer_draw.winners, Selection.LOT)
    return Formation(panel, (rep_draw, lawyer_draw))


def _seat_agreed(
    organiser: str,
    payer_side: tuple[str, ...],
    reps: tuple[str, ...],
    lawyers: tuple[str, ...],
    rep_seats: int,
    lawyer_seats: int,
    agreed: Sequence[str],
) -> Panel:
    if isinstance(agreed, str):
        raise PanelError("agreed must be a list of ids, not one string; wrap it: [applicant_id]")
    agreed = tuple(agreed)
    _refuse_repeats(agreed, "is named twice in the agreement; name each agreed member once")
    strangers = [p for p in agreed if p not in reps and p not in lawyers]
    if strangers:
        raise PanelError(
            f"{strangers} did not apply for an investor-side seat; only applicants can be agreed on "
            "(or let them apply first)"
        )
    agreed_reps = tuple(p for p in agreed if p in reps)
    agreed_lawyers = tuple(p for p in agreed if p in lawyers)
    if len(agreed_reps) != rep_seats or len(agreed_lawyers) != lawyer_seats:
        raise PanelError(
            f"the agreement seats {len(agreed_reps)} representatives and {len(agreed_lawyers)} lawyers "
            f"but the investor side has {rep_seats} representative and {lawyer_seats} lawyer seats; "
            "agree on exactly that"
        )
    return Panel(organiser, payer_side, agreed_reps, agreed_lawyers, Selection.AGREEMENT)
