"""Hearings on the compensation plan, in the database: the organiser and seed commitment, the panel formed by
agreement or verifiable lot, the minutes and the decision (published on the case's public page), and the
procedure's time limit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.admin.cases import get_case, require_state, require_user
from redress.admin.errors import AdminError, BadInput, NotFound
from redress.claims.lifecycle import CaseState
from redress.hearing import (Draw, LotteryError, PanelError, Procedure, TimelineError, check_reveal, form_panel,
                             verify)
from redress.store import audit
from redress.store.models import Hearing, HearingDraw, HearingMember, Payer

# A hearing is on the plan before it is approved (and may be reopened while claims are being prepared).
HEARING_STATES = frozenset({CaseState.DRAFT, CaseState.FUND_ESTABLISHED})


def open_hearing(session: Session, actor: str, case_id: str, organiser: str, organiser_roles: list[str],
                 started_on: dt.date, seed_commitment: str, limit_months: int = 3) -> Hearing:
    """Open a hearing presided by ``organiser`` (neither a payer nor an investor), with the SHA-256 of the
    seed published now, before anyone applies, so the seed cannot be chosen after seeing the applicants."""
    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    require_state(case, HEARING_STATES, "open a hearing on the plan")
    if any(h.status == "open" for h in hearings(session, case_id)):
        raise AdminError(f"case {case_id} already has an open hearing")
    if len(seed_commitment) != 64 or any(c not in "0123456789abcdef" for c in seed_commitment):
        raise BadInput("the seed commitment is the SHA-256 of the seed, 64 lowercase hex digits "
                       "(`redress hearing commit SEED`)")
    payer_names = {name for p in _payers(session, case_id) for name in (p.payer_id, p.name)}
    if organiser in payer_names or {"payer", "investor"} & set(organiser_roles):
        raise BadInput(f"{organiser} is a payer or an investor and cannot preside / 主持人不得为出资人或投资者")
    try:
        Procedure(started_on, limit_months)
    except TimelineError as exc:
        raise BadInput(str(exc)) from None
    h = Hearing(case_id=case_id, organiser=organiser, started_on=started_on, limit_months=limit_months,
                seed_commitment=seed_commitment, status="open")
    session.add(h)
    session.flush()
    audit.record(session, actor, "hearing.open", f"hearing {h.id}",
                 {"organiser": organiser, "started_on": started_on.isoformat(), "limit_months": limit_months,
                  "seed_commitment": seed_commitment}, case_id)
    return h


def _payers(session: Session, case_id: str) -> list[Payer]:
    return list(session.execute(select(Payer).where(Payer.case_id == case_id)).scalars())


def _hearing(session: Session, hearing_id: int) -> Hearing:
    h = session.get(Hearing, hearing_id)
    if h is None:
        raise NotFound(f"no hearing {hearing_id}")
    return h


def form(session: Session, actor: str, hearing_id: int, payer_side: list[str], representative_applicants: list[str],
         lawyer_applicants: list[str], lawyer_seats: int, seed: str | None = None,
         agreed: list[str] | None = None) -> list[HearingMember]:
    """Seat the panel: the payer side as named; the investor side by the applicants' agreement or, failing it,
    by lot with the revealed seed (which must match the commitment).  Every draw is published."""
    require_user(session, actor, "operator")
    h = _hearing(session, hearing_id)
    get_case(session, h.case_id, lock=True)
    if h.status != "open":
        raise AdminError(f"hearing {hearing_id} is {h.status}")
    if session.execute(select(HearingMember).where(HearingMember.hearing_id == hearing_id)).first():
        raise AdminError(f"hearing {hearing_id} already has its panel")
    if agreed is None:
        if seed is None or not check_reveal(h.seed_commitment, seed):
            raise BadInput("the revealed seed does not match the commitment published when the hearing opened "
                           "/ 种子与承诺值不符")
    try:
        formation = form_panel(h.organiser, [], payer_side, representative_applicants, lawyer_applicants,
                               len(payer_side), seed if agreed is None else None, agreed, lawyer_seats=lawyer_seats)
    except (PanelError, LotteryError) as exc:
        raise BadInput(str(exc)) from None
    panel = formation.panel
    how = "agreement" if agreed is not None else "lot"
    members = ([HearingMember(hearing_id=h.id, person=p, side="payer", selected_by="named") for p in panel.payer_side]
               + [HearingMember(hearing_id=h.id, person=p, side="investor_representative", selected_by=how)
                  for p in panel.investor_representatives]
               + [HearingMember(hearing_id=h.id, person=p, side="investor_lawyer", selected_by=how)
                  for p in panel.investor_lawyers])
    session.add_all(members)
    for d in formation.draws:
        session.add(HearingDraw(hearing_id=h.id, purpose=d.purpose, record_json=d.as_json()))
    if agreed is None:
        h.seed = seed
    session.flush()
    audit.record(session, actor, "hearing.panel", f"hearing {h.id}",
                 {"members": [[m.person, m.side, m.selected_by] for m in members],
                  "draws": [d.as_json() for d in formation.draws]}, h.case_id)
    return members


def decide(session: Session, actor: str, hearing_id: int, minutes: str, decision: str, on: dt.date) -> Hearing:
    """Record the minutes and the decision; both are published on the case's public page."""
    require_user(session, actor, "operator")
    h = _hearing(session, hearing_id)
    get_case(session, h.case_id, lock=True)
    if h.status != "open":
        raise AdminError(f"hearing {hearing_id} is already {h.status}")
    if not session.execute(select(HearingMember).where(HearingMember.hearing_id == hearing_id)).first():
        raise AdminError("seat the panel before deciding / 请先组成听证小组")
    if not minutes.strip() or not decision.strip():
        raise BadInput("both the minutes and the decision are needed")
    proc = Procedure(h.started_on, h.limit_months)
    if on > proc.deadline:
        raise AdminError(f"the hearing's time limit ended on {proc.deadline}; record why in the minutes and open a "
                         f"new hearing / 听证已超期")
    h.minutes, h.decision, h.decided_on, h.status = minutes, decision, on, "decided"
    session.flush()
    audit.record(session, actor, "hearing.decided", f"hearing {h.id}", {"on": on.isoformat(),
                                                                        "decision": decision}, h.case_id)
    return h


def hearings(session: Session, case_id: str) -> list[Hearing]:
    return list(session.execute(select(Hearing).where(Hearing.case_id == case_id).order_by(Hearing.id)).scalars())


def members(session: Session, hearing_id: int) -> list[HearingMember]:
    return list(session.execute(select(HearingMember).where(HearingMember.hearing_id == hearing_id)
                                .order_by(HearingMember.side, HearingMember.person)).scalars())


def draws(session: Session, hearing_id: int) -> list[Draw]:
    return [Draw.from_json(d.record_json) for d in session.execute(
        select(HearingDraw).where(HearingDraw.hearing_id == hearing_id).order_by(HearingDraw.id)).scalars()]


def warnings(h: Hearing, on: dt.date) -> list[str]:
    if h.status != "open":
        return []
    return [str(w) for w in Procedure(h.started_on, h.limit_months).warnings(on)]


def public_record(session: Session, case_id: str) -> list[dict]:
    """What the public page shows of each hearing: organiser, panel, draws (verifiable), minutes, decision."""
    out = []
    for h in hearings(session, case_id):
        ds = draws(session, h.id)
        out.append({"id": h.id, "organiser": h.organiser, "started_on": h.started_on.isoformat(),
                    "deadline": Procedure(h.started_on, h.limit_months).deadline.isoformat(), "status": h.status,
                    "seed_commitment": h.seed_commitment, "seed": h.seed or "",
                    "members": [{"person": m.person, "side": m.side, "selected_by": m.selected_by}
                                for m in members(session, h.id)],
                    "draws": [{"purpose": d.purpose, "winners": list(d.winners), "verified": verify(d),
                               "record": d.as_json()} for d in ds],
                    "minutes": h.minutes or "", "decision": h.decision or "",
                    "decided_on": h.decided_on.isoformat() if h.decided_on else ""})
    return out
