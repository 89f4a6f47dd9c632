"""Hearings on the compensation plan, in the database: the organiser and seed commitment, the panel formed by
agreement or verifiable lot, the minutes and the decision (published on the case's public page), and the
procedure's time limit (counted under Civil Code arts. 201-203: a last day that is not a working day moves
to the next working day).  The plans under discussion are stored with the hearing, text and hash, and the
engine's side-by-side comparison of them is published with it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.admin.cases import check_date, get_case, require_state, require_user
from redress.admin.errors import AdminError, BadInput, NotFound
from redress.claims.lifecycle import CaseState
from redress.exports import FORMULA_LEADS
from redress.hearing import (Draw, LotteryError, PanelError, Procedure, TimelineError, check_reveal, form_panel,
                             verify)
from redress.store import audit
from redress.market.calendar import is_working_day
from redress.store.models import Hearing, HearingComparison, HearingDraw, HearingMember, HearingPlan, Payer

# A hearing is on the plan before it is approved (and may be reopened while claims are being prepared).
HEARING_STATES = frozenset({CaseState.DRAFT, CaseState.FUND_ESTABLISHED})
BASELINE = "case.toml"   # the plan in the case directory, always the first column of a comparison


def procedure(h: Hearing) -> Procedure:
    """The hearing's time limit, its last day moved past public holidays and weekends (Civil Code Art. 203)."""
    return Procedure(h.started_on, h.limit_months, is_working_day)


def open_hearing(session: Session, actor: str, case_id: str, organiser: str, organiser_roles: list[str],
                 started_on: dt.date, seed_commitment: str, limit_months: int = 3) -> Hearing:
    """Open a hearing presided by ``organiser`` (neither a payer nor an investor), with the SHA-256 of the
    seed published now, before anyone applies, so the seed cannot be chosen after seeing the applicants."""
    require_user(session, actor, "operator")
    _plain(organiser, "the organiser")
    check_date(started_on, "the hearing's start")
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
        Procedure(started_on, limit_months, is_working_day).deadline
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


def _plain(text: object, what: str) -> str:
    """A name or label published with the hearing (public page, draw records, comparison tables): printable
    text without spaces at either end, not starting like a spreadsheet formula (``redress.exports``)."""
    if (not isinstance(text, str) or not text.strip() or text != text.strip() or len(text) > 300
            or any(not c.isprintable() for c in text) or text[0] in FORMULA_LEADS):
        shown = str(text)[:64].encode("unicode_escape").decode("ascii")
        raise BadInput(f"{what} {shown!r} is not allowed: use 1 to 300 printable characters, not starting "
                       f"with = + - @ or a space / 名称格式有误")
    return text


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
    for who, names in (("payer-side member", payer_side), ("applicant", representative_applicants),
                       ("lawyer", lawyer_applicants), ("agreed member", agreed or [])):
        for name in names:
            _plain(name, f"a {who}")
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
    check_date(on, "the decision's date")
    proc = procedure(h)
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
    return [str(w) for w in procedure(h).warnings(on)]


def public_record(session: Session, case_id: str) -> list[dict]:
    """What the public page shows of each hearing: organiser, panel, draws (verifiable), minutes, decision."""
    out = []
    for h in hearings(session, case_id):
        ds = draws(session, h.id)
        out.append({"id": h.id, "organiser": h.organiser, "started_on": h.started_on.isoformat(),
                    "deadline": procedure(h).deadline.isoformat(), "status": h.status,
                    "seed_commitment": h.seed_commitment, "seed": h.seed or "",
                    "members": [{"person": m.person, "side": m.side, "selected_by": m.selected_by}
                                for m in members(session, h.id)],
                    "draws": [{"purpose": d.purpose, "winners": list(d.winners), "verified": verify(d),
                               "record": d.as_json()} for d in ds],
                    "plans": [{"label": p.label, "proposed_by": p.proposed_by, "sha256": p.sha256,
                               "added_on": p.added_on.isoformat(), "plan_toml": p.plan_toml}
                              for p in plans(session, h.id)],
                    "comparison": _comparison_out(latest_comparison(session, h.id)),
                    "minutes": h.minutes or "", "decision": h.decision or "",
                    "decided_on": h.decided_on.isoformat() if h.decided_on else ""})
    return out


# -- the plans under discussion and their comparison ---------------------------------------------------------

def _case_dir(session: Session, case_id: str, case_dir: Path | None) -> Path:
    if case_dir is None:
        stored = get_case(session, case_id).case_dir
        if not stored:
            raise BadInput(f"case {case_id} has no case directory on record; name it (--case-dir) / 请指定案件目录")
        case_dir = Path(stored)
    if not (Path(case_dir) / "case.toml").is_file():
        raise BadInput(f"{case_dir} is not a case directory (no case.toml)")
    return Path(case_dir)


def _load_plans(case_dir: Path, texts: list[tuple[str, str]]):
    """Each plan text read against the case, as ``redress compare`` reads a plan file; refusals name the plan."""
    from redress.errors import CaseError
    from redress.law.plan import load_case, load_plan_override

    case = load_case(case_dir)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, text in texts:
            path = Path(tmp) / f"{label}.toml"
            path.write_text(text, encoding="utf-8")
            try:
                out.append((label, load_plan_override(path, case)))
            except CaseError as exc:
                raise BadInput(f"plan {label!r} refused / 方案有误", [str(p) for p in exc.problems]) from None
    return case, out


def plans(session: Session, hearing_id: int) -> list[HearingPlan]:
    return list(session.execute(select(HearingPlan).where(HearingPlan.hearing_id == hearing_id)
                                .order_by(HearingPlan.id)).scalars())


def add_plan(session: Session, actor: str, hearing_id: int, label: str, plan_toml: str, proposed_by: str,
             on: dt.date, case_dir: Path | None = None) -> HearingPlan:
    """Put a plan to the hearing: a ``[plan]`` table (keys it omits keep the case's values), checked against
    the case before it is stored.  The same label and text again returns the stored plan; a label already
    used for another text is refused (a changed plan is a new plan, with a new label)."""
    require_user(session, actor, "operator")
    h = _hearing(session, hearing_id)
    get_case(session, h.case_id, lock=True)
    if h.status != "open":
        raise AdminError(f"hearing {hearing_id} is {h.status}; plans can be added only while it is open")
    label = label.strip()
    if not label or len(label) > 64 or label == BASELINE or any(c in label for c in "/\\\n"):
        raise BadInput(f"a plan label is 1 to 64 characters, no slashes, not {BASELINE!r}; got {label!r}")
    _plain(label, "a plan label")
    check_date(on, "the plan's date")
    if not proposed_by.strip():
        raise BadInput("say who proposes the plan (the payer, the investors' side ...) / 请注明方案提出方")
    sha = hashlib.sha256(plan_toml.encode("utf-8")).hexdigest()
    old = session.execute(select(HearingPlan).where(HearingPlan.hearing_id == hearing_id,
                                                    HearingPlan.label == label)).scalar_one_or_none()
    if old is not None:
        if old.sha256 == sha:
            return old
        raise AdminError(f"hearing {hearing_id} already has a plan {label!r} with other content; use a new label "
                         f"/ 方案标签已使用")
    _load_plans(_case_dir(session, h.case_id, case_dir), [(label, plan_toml)])
    row = HearingPlan(hearing_id=hearing_id, label=label, proposed_by=proposed_by.strip(), plan_toml=plan_toml,
                      sha256=sha, added_on=on)
    session.add(row)
    session.flush()
    audit.record(session, actor, "hearing.plan", f"hearing {hearing_id}",
                 {"label": label, "proposed_by": row.proposed_by, "sha256": sha}, h.case_id)
    return row


def _plans_digest(rows: list[HearingPlan]) -> str:
    return hashlib.sha256(json.dumps([[p.label, p.sha256] for p in rows]).encode()).hexdigest()


def publish_comparison(session: Session, actor: str, hearing_id: int, on: dt.date, case_dir: Path | None = None,
                       progress: Callable[[str], None] | None = None) -> HearingComparison:
    """Compute the case under its own plan and every plan put to the hearing, side by side (eligible
    investors, totals, quantiles, gainers and losers against the case's plan), and publish the table with
    the hearing.  Unchanged plans give the stored comparison back."""
    from redress.engine.compare import compare
    from redress.engine.pipeline import prepare

    require_user(session, actor, "operator")
    check_date(on, "the comparison's date")
    h = _hearing(session, hearing_id)
    get_case(session, h.case_id, lock=True)
    rows = plans(session, hearing_id)
    if not rows:
        raise AdminError(f"hearing {hearing_id} has no plans to compare; add them first (`redress hearing plan`)")
    digest = _plans_digest(rows)
    last = latest_comparison(session, hearing_id)
    if last is not None and last.plans_sha256 == digest:
        return last
    directory = _case_dir(session, h.case_id, case_dir)
    case, named = _load_plans(directory, [(p.label, p.plan_toml) for p in rows])
    named = [(BASELINE, case.plan), *named]
    extra = tuple(c for _, p in named if p.systemic_risk.uses_index
                  for c, _w in p.systemic_risk.indices)
    step = progress or (lambda _what: None)
    prep = prepare(directory, extra_index_codes=extra, case=case, keep_trade_columns=False, progress=step)
    table = compare(prep, named, progress=step).table.to_dicts()
    row = HearingComparison(hearing_id=hearing_id, computed_on=on, plans_sha256=digest,
                            table_json=json.dumps(table, ensure_ascii=False, sort_keys=True))
    session.add(row)
    session.flush()
    audit.record(session, actor, "hearing.comparison", f"hearing {hearing_id}",
                 {"plans_sha256": digest, "plans": [p.label for p in rows],
                  "totals": {r["plan"]: r["total_compensation"] for r in table}}, h.case_id)
    return row


def latest_comparison(session: Session, hearing_id: int) -> HearingComparison | None:
    return session.execute(select(HearingComparison).where(HearingComparison.hearing_id == hearing_id)
                           .order_by(HearingComparison.id.desc()).limit(1)).scalar_one_or_none()


def _comparison_out(row: HearingComparison | None) -> dict | None:
    if row is None:
        return None
    return {"computed_on": row.computed_on.isoformat(), "plans_sha256": row.plans_sha256,
            "table": json.loads(row.table_json)}
