"""Forming the hearing panel: a disinterested organiser, two equal sides, seats by agreement or by lot."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redress.hearing.lottery import draw, verify
from redress.hearing.panel import Panel, PanelError, Role, Selection, form_panel

ORGANISER = "investor-protection-centre"
PAYERS = ("issuer", "sponsor-bank", "auditor")
REPS = ("inv-01", "inv-02", "inv-03", "inv-04", "inv-05")
LAWYERS = ("law-01", "law-02", "law-03")
SEED = "c0ffee" * 11


def form(**changes):
    args = dict(
        organiser=ORGANISER,
        organiser_roles=[Role.INDEPENDENT],
        payer_side=PAYERS,
        investor_reps_applicants=REPS,
        lawyer_applicants=LAWYERS,
        seats_per_side=3,
        seed=SEED,
        agreed=None,
        lawyer_seats=1,
    )
    args.update(changes)
    return form_panel(**args)


# --- by lot -----------------------------------------------------------------------------------------------

def test_by_lot_two_representatives_and_one_lawyer_face_three_payers():
    panel, draws = form()
    assert panel.investor_side_selection is Selection.LOT
    assert panel.payer_side == PAYERS
    assert len(panel.investor_representatives) == 2 and set(panel.investor_representatives) <= set(REPS)
    assert len(panel.investor_lawyers) == 1 and set(panel.investor_lawyers) <= set(LAWYERS)
    assert len(panel.payer_side) == len(panel.investor_side) == panel.seats_per_side == 3
    assert panel.members[0] == ORGANISER and len(set(panel.members)) == 7


def test_the_draws_are_published_verifiable_and_seat_exactly_their_winners():
    panel, (rep_draw, lawyer_draw) = form()
    assert verify(rep_draw) and verify(lawyer_draw)
    assert rep_draw.purpose == "investor representatives" and lawyer_draw.purpose == "investors' lawyers"
    assert rep_draw.winners == panel.investor_representatives
    assert lawyer_draw.winners == panel.investor_lawyers
    assert rep_draw == draw(REPS, 2, SEED, purpose="investor representatives")   # anyone can redo it


def test_same_seed_same_panel_whatever_the_application_order():
    assert form() == form(investor_reps_applicants=REPS[::-1], lawyer_applicants=LAWYERS[::-1])


def test_no_lawyer_seats_means_no_lawyers_and_an_empty_lawyer_draw():
    panel, (_, lawyer_draw) = form(lawyer_seats=0, lawyer_applicants=())
    assert panel.investor_lawyers == () and lawyer_draw.winners == ()
    assert len(panel.investor_representatives) == 3


def test_roles_may_be_given_as_text():
    panel, _ = form(organiser_roles=["regulator"])
    assert panel.organiser == ORGANISER


# --- by agreement -----------------------------------------------------------------------------------------

def test_by_agreement_the_agreed_applicants_sit_and_nothing_is_drawn():
    panel, draws = form(agreed=["inv-05", "law-03", "inv-01"], seed=None)
    assert draws == ()
    assert panel.investor_side_selection is Selection.AGREEMENT
    assert panel.investor_representatives == ("inv-05", "inv-01")
    assert panel.investor_lawyers == ("law-03",)


@pytest.mark.parametrize(
    ("agreed", "message"),
    [
        (["inv-01", "inv-02", "outsider"], r"\['outsider'\] did not apply"),
        (["inv-01", "inv-02", "issuer"], r"\['issuer'\] did not apply"),
        (["inv-01", "inv-02", "inv-03"], "seats 3 representatives and 0 lawyers"),
        (["inv-01", "law-01", "law-02"], "seats 1 representatives and 2 lawyers"),
        (["inv-01", "law-01"], "seats 1 representatives and 1 lawyers"),
        (["inv-01", "inv-01", "law-01"], "named twice in the agreement"),
        ("inv-01", "not one string"),
    ],
)
def test_an_agreement_is_refused_unless_it_fills_the_seats_from_applicants(agreed, message):
    with pytest.raises(PanelError, match=message):
        form(agreed=agreed)


# --- refusals ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.PAYER, Role.INVESTOR, "payer", "investor"])
def test_a_payer_or_investor_cannot_preside(role):
    with pytest.raises(PanelError, match="neither a payer nor an investor"):
        form(organiser_roles=[Role.INDEPENDENT, role])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"organiser_roles": ["judge"]}, "unknown role 'judge'"),
        ({"organiser": ""}, "organiser has no id"),
        ({"payer_side": PAYERS[:2]}, "payer side names 2 members but each side has 3 seats"),
        ({"payer_side": (*PAYERS, "controller")}, "payer side names 4 members"),
        ({"payer_side": ("issuer", "issuer", "auditor")}, "listed twice on the payer side"),
        ({"payer_side": ("issuer", "auditor", ORGANISER)}, "organiser .* is also on a side"),
        ({"investor_reps_applicants": (*REPS, ORGANISER)}, "organiser .* applied for a seat"),
        ({"lawyer_applicants": (*LAWYERS, "issuer")}, "'issuer' is on the payer side and applied"),
        ({"investor_reps_applicants": ("inv-01", "inv-01", "inv-02")}, "applied twice as an investor rep"),
        ({"lawyer_applicants": ("law-01", "law-01")}, "applied twice as an investors' lawyer"),
        ({"lawyer_applicants": (*LAWYERS, "inv-01")}, r"\['inv-01'\] applied both"),
        ({"investor_reps_applicants": ("inv-01",)}, "1 investor-representative applicants for 2 seats"),
        ({"lawyer_applicants": ()}, "0 investors'-lawyer applicants for 1 seats"),
        ({"seed": None}, "no seed was given"),
        ({"seed": ""}, "no seed was given"),
        ({"seats_per_side": 0}, "seats_per_side must be a whole number from 1"),
        ({"seats_per_side": 51, "payer_side": tuple(f"p{i}" for i in range(51))}, "from 1 to 50"),
        ({"lawyer_seats": 4}, "lawyer_seats must be a whole number from 0 to seats_per_side"),
        ({"lawyer_seats": -1}, "lawyer_seats must be"),
        ({"payer_side": ("issuer", "", "auditor")}, "empty or not text"),
    ],
)
def test_form_panel_refuses_and_says_what_to_change(changes, message):
    with pytest.raises(PanelError, match=message):
        form(**changes)


def test_a_panel_built_directly_must_still_be_balanced_and_without_repeats():
    panel, _ = form()
    with pytest.raises(PanelError, match="payer side has 2 members and the investor side 3"):
        dataclasses.replace(panel, payer_side=PAYERS[:2])
    with pytest.raises(PanelError, match="sits on the panel twice"):
        Panel(ORGANISER, ("issuer",), ("issuer",), (), Selection.AGREEMENT)
    with pytest.raises(PanelError, match="sits on the panel twice"):
        Panel(ORGANISER, (ORGANISER,), ("inv-01",), (), Selection.AGREEMENT)


# --- properties -------------------------------------------------------------------------------------------

@given(
    seats=st.integers(1, 6),
    lawyer_share=st.floats(0, 1),
    extra_reps=st.integers(0, 5),
    extra_lawyers=st.integers(0, 5),
    seed=st.text(min_size=1, max_size=20),
)
def test_any_lot_gives_a_balanced_panel_with_no_one_twice(
    seats, lawyer_share, extra_reps, extra_lawyers, seed
):
    lawyer_seats = round(seats * lawyer_share)
    reps = tuple(f"inv-{i}" for i in range(seats - lawyer_seats + extra_reps))
    lawyers = tuple(f"law-{i}" for i in range(lawyer_seats + extra_lawyers))
    payers = tuple(f"payer-{i}" for i in range(seats))
    panel, draws = form_panel(ORGANISER, [], payers, reps, lawyers, seats, seed, lawyer_seats=lawyer_seats)
    assert len(panel.payer_side) == len(panel.investor_side) == seats
    assert len(panel.investor_lawyers) == lawyer_seats
    assert len(set(panel.members)) == len(panel.members) == 2 * seats + 1
    assert all(verify(d) for d in draws)
