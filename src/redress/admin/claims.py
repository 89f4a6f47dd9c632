"""Claims: the plan and its results, offers, the settlement agreement, decisions, deadlines, the late window,
pro-rata allocation when the fund is short, interest passed on to investors, and notices."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from redress import exports, i18n
from redress.i18n import N_
from redress.admin.cases import (ApprovalAction, DateKind, check_date, get_case, payers, payload, request_approval,
                                 require_state, require_user, sha256_text, transition)
from redress.admin.errors import AdminError, BadInput, NotFound, valid_id
from redress.admin.fund import (PAYABLE, balances, file_date, free_fen, imported, post, read_new_csv,
                                remember_import)
from redress.money import MAX_AMOUNT_FEN, MAX_BALANCE_FEN, yuan
from redress.claims.lifecycle import DECIDING, CaseState, ClaimStatus
from redress.ids import IdKind
from redress.ids import problem as id_problem
from redress.ledger.allocation import allocate
from redress.ledger.core import AccountKind, account, fund_statement, transfer
from redress.store import audit
from redress.store.db import bulk_insert
from redress.store.models import (Agreement, AllocationRun, Approval, Assignment, Case, Claim, ClaimLine, Decision,
                                  LedgerEntry, Notice)

COMPENSATION = account(AccountKind.COMPENSATION)
INTEREST_AWARDED = account(AccountKind.INTEREST_AWARDED)


# -- the plan ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Results:
    """The engine's results file, reduced to what claims need."""

    sha256: str
    table: pl.DataFrame   # investor_id, security, status, flags, net_loss_fen, compensation_fen


def read_results(path: Path) -> Results:
    raw = path.read_bytes()
    try:
        if path.suffix.lower() == ".parquet":
            df = pl.read_parquet(io.BytesIO(raw))
        else:
            df = pl.read_csv(io.BytesIO(raw), infer_schema=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same error to the user
        raise BadInput(f"{path.name}: not a results file written by `redress compute` ({exc})") from None
    need = ["investor_id", "security", "status", "flags", "net_loss", "compensation"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise BadInput(f"{path.name}:1: missing column(s) {', '.join(missing)}")
    # yuan as written, checked against the largest amount before they become integer fen (never overflowing)
    most = MAX_AMOUNT_FEN / 100
    money = {c: (pl.col(c).str.strip_chars() if df.schema[c] == pl.String else pl.col(c)).cast(pl.Float64,
                                                                                               strict=False)
             for c in ("net_loss", "compensation")}
    comp, net = money["compensation"], money["net_loss"]
    numbered = df.with_row_index("line", offset=2).with_columns(
        pl.col("investor_id").cast(pl.String),
        (comp.is_null() | ~comp.is_finite() | (comp < 0) | (comp > most)).alias("_bad_compensation"),
        (net.is_not_null() & (~net.is_finite() | (net.abs() > most))).alias("_bad_net_loss"))
    bad = numbered.filter(pl.col("investor_id").is_null() | pl.col("_bad_compensation")
                          | pl.col("_bad_net_loss"))
    most_text = f"{yuan(MAX_AMOUNT_FEN, grouping=True)} yuan"
    problems = []
    for r in bad.head(50).iter_rows(named=True):
        if r["investor_id"] is None:
            why = "missing investor"
        elif r["_bad_compensation"]:
            why = f"compensation {r['compensation']!r} is not an amount from 0 to {most_text}"
        else:
            why = f"net_loss {r['net_loss']!r} is not an amount within {most_text}"
        problems.append(f"{path.name}:{r['line']}: {why}")
    # every investor id must fit the schema before it becomes a claim (checked once per distinct id)
    ids = numbered.select("line", "investor_id").filter(pl.col("investor_id").is_not_null())
    wrong = {i: why for i in ids["investor_id"].unique().to_list() if (why := id_problem(IdKind.INVESTOR, i)) is not None}
    problems += [f"{path.name}:{line}: {wrong[i]}" for line, i in ids.filter(
        pl.col("investor_id").is_in(list(wrong))).head(50).iter_rows()]
    if problems:
        raise BadInput(f"{path.name}: bad rows; nothing loaded / 结果文件有误", problems)
    fen = [(money[c] * 100).round(0).cast(pl.Int64).alias(f"{c}_fen") for c in ("net_loss", "compensation")]
    table = df.select(pl.col("investor_id").cast(pl.String), pl.col("security").cast(pl.String),
                      pl.col("status").cast(pl.String), pl.col("flags").cast(pl.String).fill_null(""), *fen)
    total = int(table["compensation_fen"].cast(pl.Float64).sum() or 0)
    if total > MAX_BALANCE_FEN:
        raise BadInput(f"{path.name}: the offers sum to {yuan(total, grouping=True)} yuan, more than the "
                       f"{yuan(MAX_BALANCE_FEN, grouping=True)} yuan a fund can hold / 赔付总额超过上限")
    several = "statement" in df.columns
    if several:
        table = table.with_columns(df["statement"].cast(pl.String).alias("statement"))
    keys = ["investor_id", "security", *(["statement"] if several else [])]
    dup = table.group_by(keys).len().filter(pl.col("len") > 1)
    if dup.height:
        raise BadInput(f"{path.name}: {dup.height} ({', '.join(keys)}) rows appear more than once")
    if several:
        table = _by_security(table)
    return Results(hashlib.sha256(raw).hexdigest(), table)


def _by_security(table: pl.DataFrame) -> pl.DataFrame:
    """A case with several false statements: one claim line per (investor, security), the sum of its
    statements' rows (under ``each`` the investor is owed every row; under ``best_for_investor`` there is one
    row anyway), with the best status among them and every flag."""
    from redress.engine.statements import STATUS_RANK      # the engine's tie-break order; loaded only here

    rank = pl.col("status").replace_strict(STATUS_RANK, default=len(STATUS_RANK))
    return (table.with_columns(rank.alias("_rank"))
            .group_by("investor_id", "security", maintain_order=True)
            .agg(pl.col("status").sort_by("_rank").first(),
                 pl.col("flags"),
                 pl.col("net_loss_fen").sum(), pl.col("compensation_fen").sum())
            .with_columns(pl.col("flags").map_elements(
                lambda fs: ";".join(sorted({f for x in fs for f in x.split(";") if f})), return_dtype=pl.String)))


def _claims_frame(results: Results) -> pl.DataFrame:
    return (results.table.filter(pl.col("compensation_fen") > 0).group_by("investor_id")
            .agg(pl.col("compensation_fen").sum().alias("offered_fen")).sort("investor_id"))


def propose_plan(session: Session, actor: str, case_id: str, case_dir: Path, results_path: Path,
                 claims_open_on: dt.date, deadline: dt.date, *, recompute: bool = True) -> Approval:
    """The maker proposes the compensation plan: case.toml, the engine's results and the key dates.  With
    ``recompute`` the results are computed again from the case directory and must agree to the fen."""
    case = get_case(session, case_id, lock=True)
    require_state(case, {CaseState.FUND_ESTABLISHED}, "propose the plan")
    check_date(claims_open_on, "claims open on", DateKind.PLAN)
    check_date(deadline, "the deadline", DateKind.PLAN)
    if deadline <= claims_open_on:
        raise BadInput(f"the deadline {deadline} must come after claims open ({claims_open_on})")
    toml_text = (case_dir / "case.toml").read_text(encoding="utf-8")
    from redress.law.plan import load_case
    config = load_case(case_dir)
    if config.id != case_id:
        raise BadInput(f"{case_dir / 'case.toml'}: [case].id is {config.id!r}, not {case_id!r}")
    results = read_results(results_path)
    if recompute:
        from redress.engine.pipeline import compute_case_dir
        # one line per (investor, security), as read_results makes them: under several statements, the sum of
        # the statements' rows, each in fen as written
        fresh = (compute_case_dir(case_dir)
                 .select("investor_id", "security",
                         (pl.col("compensation") * 100).round(0).cast(pl.Int64).alias("fresh_fen"))
                 .group_by("investor_id", "security", maintain_order=True).agg(pl.col("fresh_fen").sum()))
        joined = results.table.join(fresh, on=["investor_id", "security"], how="full", coalesce=True)
        differ = joined.filter(pl.col("compensation_fen").fill_null(-1) != pl.col("fresh_fen").fill_null(-1))
        if differ.height:
            first = differ.row(0, named=True)
            raise BadInput(f"{results_path.name} does not match the case as computed now: {differ.height} row(s) "
                           f"differ, first {first['investor_id']} {first['security']}",
                           hint="compute the results again with `redress compute` and propose those")
    claims = _claims_frame(results)
    body = {"plan_toml": toml_text, "plan_sha256": sha256_text(toml_text), "results_sha256": results.sha256,
            "results_file": results_path.name, "investors": claims.height,
            "offered_fen": int(claims["offered_fen"].sum() or 0), "claims_open_on": claims_open_on.isoformat(),
            "deadline": deadline.isoformat()}
    return request_approval(session, actor, case, ApprovalAction.APPROVE_PLAN, f"plan {body['plan_sha256'][:12]}", body)


def grant_plan(session: Session, ap: Approval, actor: str) -> None:
    case = get_case(session, ap.case_id, lock=True)
    body = payload(ap)
    case.plan_toml, case.plan_sha256, case.results_sha256 = body["plan_toml"], body["plan_sha256"], body[
        "results_sha256"]
    case.claims_open_on = dt.date.fromisoformat(body["claims_open_on"])
    case.deadline = dt.date.fromisoformat(body["deadline"])
    transition(session, case, CaseState.PLAN_APPROVED, actor,
               f"plan approved (request {ap.id} by {ap.requested_by}): {body['investors']} investors, "
               f"{yuan(body['offered_fen'])} yuan")


def publish_agreement(session: Session, actor: str, case_id: str, version: str, body: str) -> Agreement:
    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    require_state(case, {CaseState.PLAN_APPROVED, CaseState.CLAIMS_OPEN, CaseState.LATE_WINDOW},
                  "publish the settlement agreement")
    if session.get(Agreement, (case_id, version)) is not None:
        raise AdminError(f"agreement version {version} is already published; publish a new version instead")
    ag = Agreement(case_id=case_id, version=version, sha256=sha256_text(body), body=body,
                   published_at=audit.now_stamp())
    session.add(ag)
    session.flush()
    audit.record(session, actor, "agreement.publish", version, {"sha256": ag.sha256}, case_id)
    return ag


def open_claims(session: Session, actor: str, case_id: str, results_path: Path) -> int:
    """Load the approved results as one claim per investor with compensation, and open the claims period."""
    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    require_state(case, {CaseState.PLAN_APPROVED}, "open claims")
    if session.execute(select(func.count()).select_from(Agreement).where(Agreement.case_id == case_id)).scalar_one() == 0:
        raise AdminError("publish the settlement agreement first (`redress plan agreement`) / 请先发布和解协议")
    results = read_results(results_path)
    if results.sha256 != case.results_sha256:
        raise AdminError(f"{results_path.name} is not the results file approved with the plan (sha256 "
                         f"{results.sha256[:12]}, approved {case.results_sha256[:12]})")
    claims = _claims_frame(results)
    bulk_insert(session, Claim.__table__, [
        {"case_id": case_id, "investor_id": i, "offered_fen": int(f), "status": ClaimStatus.OFFERED, "awarded_fen": 0,
         "interest_fen": 0, "paid_fen": 0, "late": False} for i, f in claims.iter_rows()])
    ids = dict(session.execute(select(Claim.investor_id, Claim.id).where(Claim.case_id == case_id)).all())
    lines = results.table.filter(pl.col("investor_id").is_in(list(ids)))
    bulk_insert(session, ClaimLine.__table__, [
        {"claim_id": ids[r[0]], "security": r[1], "status": r[2], "flags": r[3], "net_loss_fen": r[4],
         "compensation_fen": r[5]} for r in lines.iter_rows()])
    offered = int(claims["offered_fen"].sum() or 0)
    st = fund_statement(balances(session, case_id))
    case.fully_funded = st.surplus_fen >= offered
    # every offer, so that `audit verify` can replay the claims from the log
    audit.record(session, actor, "claims.opened", case_id,
                 {"results_sha256": results.sha256, "claims": claims.height, "offered_fen": offered,
                  "fully_funded": case.fully_funded, "offers_fen": {i: int(f) for i, f in claims.iter_rows()}},
                 case_id)
    from redress.admin import access

    accounts = access.record_accounts(session, case_id, case.case_dir)   # the second factor of activation
    audit.record(session, actor, "access.accounts", case_id, {"accounts": accounts, "source": "case directory"
                                                              if case.case_dir else "none"}, case_id)
    transition(session, case, CaseState.CLAIMS_OPEN, actor,
               f"{claims.height} claims offered, {yuan(offered)} yuan; fund "
               + ("covers every offer: awards are paid as investors accept" if case.fully_funded else
                  f"holds {yuan(st.surplus_fen)} yuan: awards are allocated pro rata when claims close"))
    return claims.height


# -- decisions -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DecisionInput:
    investor_id: str
    decision: str                 # accept | decline
    decided_on: dt.date
    channel: str
    key: str                      # idempotency key from the channel (e.g. the form's submission id)
    agreement_version: str | None = None
    agreement_sha256: str | None = None
    source: str = ""              # file:line, for errors


CHANNELS = frozenset({"online", "counter", "mail", "broker", "phone_assisted"})


def decide(session: Session, actor: str, case_id: str, item: DecisionInput) -> Claim:
    """Record one investor's decision (idempotent by key)."""
    require_user(session, actor)
    check_date(item.decided_on, "decided on")
    case = get_case(session, case_id, lock=True)
    return _apply_decisions(session, actor, case, [item], per_item_audit=True)[0]


def import_decisions(session: Session, actor: str, case_id: str, path: Path) -> tuple[int, bool]:
    """Decisions collected by a channel, CSV ``investor_id,decision,decided_on,channel,key,agreement_version,
    agreement_sha256``.  The whole file is refused on any bad line; the same file twice changes nothing.
    Returns (decisions applied, already imported)."""
    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    taken = read_new_csv(path, ["investor_id", "decision", "decided_on", "channel", "key"],
                         lambda d: imported(session, case_id, "decisions", d))
    if taken is None:
        return 0, True
    digest, rows = taken
    items, problems = [], []
    for line, rec in rows:
        try:
            valid_id(IdKind.INVESTOR, rec["investor_id"].strip())
            on = file_date(rec["decided_on"], "decided_on")
        except ValueError as exc:
            problems.append(f"{path.name}:{line}: {exc}")
            continue
        items.append(DecisionInput(rec["investor_id"].strip(), rec["decision"].strip(), on, rec["channel"].strip(),
                                   rec["key"].strip(), (rec.get("agreement_version") or "").strip() or None,
                                   (rec.get("agreement_sha256") or "").strip() or None, f"{path.name}:{line}"))
    if problems:
        raise BadInput(f"{path.name} refused; nothing recorded", problems)
    claims = _apply_decisions(session, actor, case, items, per_item_audit=False)
    remember_import(session, case_id, "decisions", digest, path.name, len(items), actor)
    audit.record(session, actor, "claims.decisions_imported", path.name,
                 {"sha256": digest, "decisions": len(items),
                  "accepted": sum(1 for i in items if i.decision == "accept")}, case_id)
    return len(claims), False


def _apply_decisions(session: Session, actor: str, case: Case, items: list[DecisionInput],
                     per_item_audit: bool) -> list[Claim]:
    """Check every decision first (any problem refuses them all), then write them in bulk."""
    state = CaseState(case.state)
    require_state(case, DECIDING, "record decisions")
    closes = case.deadline if state is CaseState.CLAIMS_OPEN else case.late_window_until
    agreements = {a.version: a for a in session.execute(select(Agreement).where(Agreement.case_id == case.id)).scalars()}
    wanted = sorted({i.investor_id for i in items})
    claims: dict[str, Row] = {}
    priors: dict[tuple[int, str], Row] = {}
    c = Claim.__table__.c
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start:start + 5000]
        rows = session.execute(select(c.id, c.investor_id, c.status, c.offered_fen)
                               .where(c.case_id == case.id, c.investor_id.in_(chunk)).with_for_update()).all()
        claims.update({r.investor_id: r for r in rows})
        d = Decision.__table__.c
        priors.update({(r.claim_id, r.idempotency_key): r for r in session.execute(
            select(d.claim_id, d.idempotency_key, d.decision, d.decided_on, d.channel)
            .where(d.claim_id.in_([r.id for r in rows]))).all()})
    problems: list[str] = []
    seen_in_batch: set[str] = set()
    todo: list[tuple[DecisionInput, Row]] = []
    done: list[int] = []
    open_status = ClaimStatus.LAPSED if state is CaseState.LATE_WINDOW else ClaimStatus.OFFERED
    for item in items:
        where = f"{item.source}: " if item.source else ""
        claim = claims.get(item.investor_id)
        if claim is None:
            problems.append(f"{where}investor {item.investor_id!r} has no claim in case {case.id}")
            continue
        if item.investor_id in seen_in_batch:
            problems.append(f"{where}investor {item.investor_id} appears twice")
            continue
        seen_in_batch.add(item.investor_id)
        if item.decision not in ("accept", "decline"):
            problems.append(f"{where}decision must be accept or decline, not {item.decision!r}")
            continue
        if item.channel not in CHANNELS:
            problems.append(f"{where}channel must be one of {', '.join(sorted(CHANNELS))}, not {item.channel!r}")
            continue
        if not item.key:
            problems.append(f"{where}an idempotency key is required")
            continue
        prior = priors.get((claim.id, item.key))
        if prior is not None:
            if prior.decision != item.decision or prior.decided_on != item.decided_on or prior.channel != item.channel:
                problems.append(f"{where}key {item.key} was already used for a different decision "
                                f"({prior.decision} on {prior.decided_on} by {prior.channel})")
            else:
                done.append(claim.id)     # identical retry: same result, nothing changes
            continue
        if claim.status != open_status:
            problems.append(f"{where}investor {item.investor_id} has already {claim.status} "
                            + ("(the late window is only for lapsed claims)" if state is CaseState.LATE_WINDOW
                               else "(a decision is final)"))
            continue
        if closes is not None and item.decided_on > closes:
            problems.append(f"{where}decided on {item.decided_on}, after the deadline {closes}")
            continue
        if case.claims_open_on is not None and item.decided_on < case.claims_open_on:
            problems.append(f"{where}decided on {item.decided_on}, before claims opened ({case.claims_open_on})")
            continue
        if item.decision == "accept":
            ag = agreements.get(item.agreement_version or "")
            if ag is None:
                problems.append(f"{where}acceptance must name a published agreement version "
                                f"(published: {', '.join(sorted(agreements)) or 'none'})")
                continue
            if item.agreement_sha256 != ag.sha256:
                problems.append(f"{where}agreement {ag.version} hash does not match the published text")
                continue
        todo.append((item, claim))
    if problems:
        raise BadInput("decisions refused; nothing recorded / 确认信息有误，未作任何记录", problems)
    if todo:
        _write_decisions(session, actor, case, todo, state is CaseState.LATE_WINDOW, per_item_audit)
        done.extend(claim.id for _item, claim in todo)
    session.expire_all()
    by_id = {cl.id: cl for start in range(0, len(done), 5000) for cl in session.execute(
        select(Claim).where(Claim.id.in_(done[start:start + 5000]))).scalars()}
    return [by_id[i] for i in done]


def _write_decisions(session: Session, actor: str, case: Case, todo: list[tuple[DecisionInput, Row]], late: bool,
                     per_item_audit: bool) -> None:
    ps = payers(session, case.id)
    weights = _contribution_weights(session, case.id, [p.payer_id for p in ps])
    if case.fully_funded:
        _check_still_funded(session, actor, case, sum(cl.offered_fen for item, cl in todo
                                                       if item.decision == "accept"))
    at = audit.now_stamp()
    decisions, assignments, updates = [], [], []
    award_total = 0
    for item, claim in todo:
        decisions.append({"claim_id": claim.id, "decision": item.decision, "decided_on": item.decided_on,
                          "channel": item.channel, "agreement_version": item.agreement_version,
                          "agreement_sha256": item.agreement_sha256, "idempotency_key": item.key, "actor": actor,
                          "at": at})
        accept = item.decision == "accept"
        award = claim.offered_fen if accept and case.fully_funded else 0
        award_total += award
        updates.append({"b_id": claim.id, "b_status": ClaimStatus.ACCEPTED if accept else ClaimStatus.DECLINED,
                        "b_awarded": award, "b_on": item.decided_on, "b_late": late})
        if accept:
            for payer_id, amount in allocate(claim.offered_fen, weights).shares_fen.items():
                if amount:
                    assignments.append({"claim_id": claim.id, "payer_id": payer_id, "case_id": case.id,
                                        "amount_fen": amount, "assigned_on": item.decided_on})
        if per_item_audit:
            audit.record(session, actor, f"claim.{item.decision}", item.investor_id,
                         {"key": item.key, "channel": item.channel, "on": item.decided_on.isoformat(),
                          "agreement": item.agreement_version, "offered_fen": claim.offered_fen}, case.id)
    bulk_insert(session, Decision.__table__, decisions)
    if not per_item_audit:      # the decisions of a file in one event, so that `audit verify` can replay them
        audit.record(session, actor, "claims.decided", f"{len(todo)} decision(s)",
                     {"decisions": {item.investor_id: item.decision for item, _claim in todo},
                      "awarded_fen": award_total}, case.id)
    # one UPDATE per (decision, date) over lists of ids, not one statement per claim
    c = Claim.__table__.c
    groups: dict[tuple[str, bool, dt.date], list[int]] = {}
    for u in updates:
        groups.setdefault((u["b_status"], u["b_awarded"] > 0, u["b_on"]), []).append(u["b_id"])
    for (status, awarded, on), ids in groups.items():
        for start in range(0, len(ids), 5000):
            session.execute(Claim.__table__.update().where(c.id.in_(ids[start:start + 5000])).values(
                status=status, awarded_fen=c.offered_fen if awarded else 0, decided_on=on, late=late))
    if assignments:
        bulk_insert(session, Assignment.__table__, assignments)
    if award_total:
        last = max(i.decided_on for i, _ in todo)
        key = "award:" + hashlib.sha256("|".join(sorted(f"{i.key}:{i.investor_id}" for i, _ in todo))
                                        .encode()).hexdigest()[:24]
        post(session, case.id, transfer(last, "award", f"compensation awarded on {len(todo)} acceptance(s)", key,
                                        COMPENSATION, PAYABLE, award_total), actor)


def _check_still_funded(session: Session, actor: str, case: Case, award_fen: int) -> None:
    """A fund that no longer covers the awards about to be made (money was reversed out, or fees ate into it)
    stops awarding as investors accept: these and later acceptances are allocated pro rata at close, from what
    is free then.  Awards already made stand.  The switch is audited and shown to staff as an alert."""
    free = free_fen(session, case.id)
    if award_fen <= free:
        return
    case.fully_funded = False
    case.version += 1
    session.flush()
    audit.record(session, actor, "fund.short", case.id,
                 {"free_fen": free, "to_award_fen": award_fen,
                  "note": "awards stop; acceptances are allocated pro rata when claims close"}, case.id)


def funding_alerts(session: Session, case_id: str) -> list[str]:
    """What staff must know about the fund's cover of the claims, in words (empty when all is well)."""
    case = get_case(session, case_id)
    if case.fully_funded is None or CaseState(case.state) not in DECIDING | {CaseState.CLAIMS_CLOSED}:
        return []
    free = free_fen(session, case_id)
    waiting = session.execute(select(func.coalesce(func.sum(Claim.offered_fen), 0)).where(
        Claim.case_id == case_id, Claim.status.in_((ClaimStatus.OFFERED, ClaimStatus.ACCEPTED)),
        Claim.awarded_fen == 0)).scalar_one()
    if not case.fully_funded:
        return [f"The fund does not cover every offer: {yuan(free, grouping=True)} yuan is free against "
                f"{yuan(int(waiting), grouping=True)} yuan offered and not yet awarded. Acceptances are allocated "
                f"pro rata when claims close. / 基金不足以覆盖全部赔付，申报截止后按比例分配"]
    if waiting > free:
        return [f"The fund covers {yuan(free, grouping=True)} yuan of the {yuan(int(waiting), grouping=True)} yuan "
                f"still offered: if more investors accept, awards will switch to pro rata. / 基金余额低于未决赔付"]
    return []


def _contribution_weights(session: Session, case_id: str, payer_ids: list[str]) -> dict[str, int]:
    bal = balances(session, case_id)
    weights = {p: max(-bal.get(account(AccountKind.CONTRIBUTION, p), 0), 0) for p in payer_ids}
    if sum(weights.values()) == 0:
        raise AdminError("no contributions recorded: claims cannot be assigned to payers")
    return weights


# -- deadlines, closing, the late window ---------------------------------------------------------------------

def extend_deadline(session: Session, actor: str, case_id: str, new_deadline: dt.date, reason: str) -> None:
    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    require_state(case, {CaseState.CLAIMS_OPEN}, "extend the deadline")
    check_date(new_deadline, "the new deadline", DateKind.PLAN)
    if case.deadline is not None and new_deadline <= case.deadline:
        raise BadInput(f"the new deadline {new_deadline} must be later than the current one ({case.deadline}); "
                       f"a deadline is never shortened")
    if not reason.strip():
        raise BadInput("an extension needs a reason")
    old, case.deadline = case.deadline, new_deadline
    case.version += 1
    session.flush()
    audit.record(session, actor, "claims.deadline_extended", case_id,
                 {"from": old.isoformat() if old else None, "to": new_deadline.isoformat(), "reason": reason}, case_id)


def _lapse(session: Session, actor: str, case: Case, status_from: ClaimStatus, on: dt.date) -> int:
    ids = list(session.execute(select(Claim.id).where(Claim.case_id == case.id, Claim.status == status_from)
                               .with_for_update()).scalars())
    at = audit.now_stamp()
    if ids:
        bulk_insert(session, Decision.__table__, [
            {"claim_id": i, "decision": "lapse", "decided_on": on, "channel": "system",
             "idempotency_key": f"lapse:{on.isoformat()}", "actor": actor, "at": at} for i in ids])
        for start in range(0, len(ids), 5000):
            session.execute(Claim.__table__.update().where(Claim.id.in_(ids[start:start + 5000]))
                            .values(status=ClaimStatus.LAPSED, late=False))
    return len(ids)


def close_claims(session: Session, actor: str, case_id: str, on: dt.date) -> dict[str, int]:
    """After the deadline: unanswered offers lapse; a short fund is allocated pro rata over acceptances."""
    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    require_state(case, {CaseState.CLAIMS_OPEN}, "close claims")
    check_date(on, "claims close on")
    if case.deadline is not None and on <= case.deadline:
        raise AdminError(f"claims cannot close on {on}: the deadline is {case.deadline} "
                         f"(extend it or wait) / 申报期尚未届满")
    lapsed = _lapse(session, actor, case, ClaimStatus.OFFERED, on)
    out = {"lapsed": lapsed}
    if not case.fully_funded:
        out.update(_allocate_short_fund(session, actor, case, on))
    session.expire_all()
    transition(session, get_case(session, case_id, lock=True), CaseState.CLAIMS_CLOSED, actor,
               f"deadline passed; {lapsed} unanswered offer(s) lapsed")
    return out


def _allocate_short_fund(session: Session, actor: str, case: Case, on: dt.date) -> dict[str, int]:
    # acceptances not awarded yet: all of them in a fund short from the start; those after the switch in a fund
    # that fell short while claims were open (awards made before it stand, and are already owed)
    accepted = dict(session.execute(select(Claim.investor_id, Claim.offered_fen).where(
        Claim.case_id == case.id, Claim.status == ClaimStatus.ACCEPTED, Claim.awarded_fen == 0)).all())
    st = fund_statement(balances(session, case.id))
    budget = max(st.surplus_fen, 0)
    claimed = sum(accepted.values())
    if claimed <= budget:
        shares = accepted
        run = None
    else:
        run = allocate(budget, accepted)
        shares = dict(run.shares_fen)
    session.add(AllocationRun(case_id=case.id, purpose="compensation", budget_fen=budget, claimed_fen=claimed,
                              allocated_fen=sum(shares.values()),
                              floor_total_fen=run.floor_total_fen if run else claimed,
                              remainder_fen=run.remainder_fen if run else 0, recipients=len(shares),
                              at=audit.now_stamp()))
    _set_by_investor(session, case.id, "awarded_fen", shares)
    total = sum(shares.values())
    if total:
        post(session, case.id, transfer(on, "award", f"compensation awarded at close over {len(shares)} acceptances"
                                        + (f" (pro rata: fund {yuan(budget)} of {yuan(claimed)} claimed)" if run else ""),
                                        f"award:close:{on.isoformat()}", COMPENSATION, PAYABLE, total), actor)
    audit.record(session, actor, "claims.allocated", case.id,
                 {"budget_fen": budget, "claimed_fen": claimed, "allocated_fen": total,
                  "remainder_fen": run.remainder_fen if run else 0, "pro_rata": run is not None,
                  "awards_fen": shares}, case.id)
    return {"budget_fen": budget, "claimed_fen": claimed, "allocated_fen": total,
            "shortfall_fen": claimed - total}


def _set_by_investor(session: Session, case_id: str, column: str, values: dict[str, int], add: bool = False) -> None:
    claims = {c.investor_id: c for c in session.execute(
        select(Claim).where(Claim.case_id == case_id, Claim.investor_id.in_(list(values)))).scalars()} \
        if len(values) < 30000 else {c.investor_id: c for c in session.execute(
            select(Claim).where(Claim.case_id == case_id)).scalars()}
    for inv, v in values.items():
        c = claims[inv]
        setattr(c, column, (getattr(c, column) if add else 0) + v)
    session.flush()


def reopen_late_window(session: Session, actor: str, case_id: str, until: dt.date, reason: str) -> int:
    """Give investors whose offers lapsed a second chance to decide, until ``until``."""
    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    require_state(case, {CaseState.CLAIMS_CLOSED}, "reopen a late window")
    check_date(until, "the late window's end", DateKind.PLAN)
    if not case.fully_funded:
        raise AdminError("the fund was short and has been allocated pro rata; a late window would need new money "
                         "from the payers first / 基金不足，无法补充申报")
    if case.deadline is not None and until <= case.deadline:
        raise BadInput(f"the late window must end after the original deadline {case.deadline}")
    n = session.execute(select(func.count()).select_from(Claim).where(Claim.case_id == case_id,
                                                                      Claim.status == ClaimStatus.LAPSED)).scalar_one()
    if n == 0:
        raise AdminError("no lapsed claims: nobody to reopen for")
    case.late_window_until = until
    transition(session, case, CaseState.LATE_WINDOW, actor, f"late window until {until} for {n} lapsed claims: {reason}")
    return n


def close_late_window(session: Session, actor: str, case_id: str, on: dt.date) -> None:
    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    require_state(case, {CaseState.LATE_WINDOW}, "close the late window")
    check_date(on, "the late window closes on")
    if case.late_window_until is not None and on <= case.late_window_until:
        raise AdminError(f"the late window runs until {case.late_window_until}")
    left = session.execute(select(func.count()).select_from(Claim).where(
        Claim.case_id == case_id, Claim.status == ClaimStatus.LAPSED)).scalar_one()
    transition(session, case, CaseState.CLAIMS_CLOSED, actor, f"late window closed; {left} claim(s) stay lapsed")


# -- interest ------------------------------------------------------------------------------------------------

def distribute_interest(session: Session, actor: str, case_id: str, on: dt.date) -> dict[str, int]:
    """Pass the interest the fund earned to the accepting investors, pro rata to their awards, to the fen."""
    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    require_state(case, {CaseState.CLAIMS_CLOSED}, "distribute interest")
    check_date(on, "interest passed on")
    st = fund_statement(balances(session, case_id))
    amount = st.interest_undistributed_fen
    if amount <= 0:
        raise AdminError("no undistributed interest")
    weights = dict(session.execute(select(Claim.investor_id, Claim.awarded_fen).where(
        Claim.case_id == case_id, Claim.status == ClaimStatus.ACCEPTED, Claim.awarded_fen > 0)).all())
    if not weights:
        raise AdminError("no accepted awards to pass interest to")
    run = allocate(amount, weights)
    shares = {k: v for k, v in run.shares_fen.items() if v}
    session.add(AllocationRun(case_id=case_id, purpose="interest", budget_fen=amount, claimed_fen=sum(weights.values()),
                              allocated_fen=run.total_fen, floor_total_fen=run.floor_total_fen,
                              remainder_fen=run.remainder_fen, recipients=len(shares), at=audit.now_stamp()))
    _set_by_investor(session, case_id, "interest_fen", shares, add=True)
    audit.record(session, actor, "claims.interest", case_id,
                 {"interest_fen": amount, "remainder_fen": run.remainder_fen, "shares_fen": shares}, case_id)
    n = session.execute(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.case_id == case_id, LedgerEntry.kind == "interest_award")).scalar_one()
    post(session, case_id, transfer(on, "interest_award", f"interest passed to {len(shares)} investors",
                                    f"interest_award:{n + 1}", INTEREST_AWARDED, PAYABLE, amount), actor)
    return {"interest_fen": amount, "recipients": len(shares), "remainder_fen": run.remainder_fen}


# -- notices -------------------------------------------------------------------------------------------------

NOTICE_TEXT = {      # message ids, written out in Chinese and in English on every notice (``locale/*/notices.po``)
    "offer": N_("Redress offers you %(amount)s yuan in advance compensation in case %(case)s. Please decide by "
                "%(deadline)s; if you decline you keep the right to sue."),
    "late_window": N_("Your offer of %(amount)s yuan in case %(case)s lapsed; you may still accept it until "
                      "%(deadline)s."),
}


def notice_text(kind: str, language: str, **fields: object) -> str:
    """The words of a notice of ``kind`` in ``language``."""
    with i18n.use(language):
        return i18n.gettext(NOTICE_TEXT[kind], **fields)


def write_notices(session: Session, actor: str, case_id: str, kind: str, out: Path, on: dt.date,
                  letters: Path | None = None, portal_url: str = "") -> int:
    """Write the notices to send (CSV, bilingual text per investor, and the investor's activation code in the
    last column) and record that they were issued.  Each investor in the notice who has no user yet gets a
    fresh activation code (their older unused codes stop working); those with a user get none.  ``letters``:
    also one PDF of every letter, one page each (needs ``redress.documents.letters_pdf``)."""
    from redress.admin import access

    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    if kind not in NOTICE_TEXT:
        raise BadInput(f"notice kind must be one of {', '.join(NOTICE_TEXT)}")
    check_date(on, "notices issued on")
    status, deadline = ((ClaimStatus.OFFERED, case.deadline) if kind == "offer"
                        else (ClaimStatus.LAPSED, case.late_window_until))
    if kind == "late_window":
        require_state(case, {CaseState.LATE_WINDOW}, "send late-window notices")
    else:
        require_state(case, {CaseState.CLAIMS_OPEN}, "send offers")
    letters_pdf = _letters_writer() if letters is not None else None
    rows = list(session.execute(select(Claim.id, Claim.investor_id, Claim.offered_fen).where(
        Claim.case_id == case_id, Claim.status == status).order_by(Claim.investor_id)).all())
    with_user = access.investors_with_users(session)
    expires = access.expiry_for(deadline or on)
    codes = access.issue_codes(session, actor, case_id, [inv for _c, inv, _f in rows if inv not in with_user],
                               expires)
    lines = []
    for _cid, inv, fen in rows:
        fields = {"amount": yuan(fen, grouping=True), "case": case.name, "deadline": deadline}
        code = access.grouped(codes[inv]) if inv in codes else ""
        lines.append([inv, kind, yuan(fen), deadline, notice_text(kind, "en", **fields),
                      notice_text(kind, "zh", **fields), code])
    data = exports.csv_bytes(["investor_id", "kind", "amount", "deadline", "text_en", "text_zh",
                              "activation_code"], lines)
    # the file holds codes in clear: its digest is recorded, the codes are not
    digest = hashlib.sha256(data).hexdigest()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    if letters_pdf is not None and letters is not None:
        _write_letters(session, letters_pdf, case, rows, codes, deadline, letters, portal_url)
    bulk_insert(session, Notice.__table__, [{"claim_id": cid, "kind": kind, "issued_on": on, "file_sha256": digest}
                                                for cid, _i, _f in rows]) if rows else None
    audit.record(session, actor, "claims.notices", kind, {"count": len(rows), "sha256": digest, "file": out.name,
                                                          "activation_codes": len(codes),
                                                          "codes_expire_at": expires if codes else None,
                                                          "letters": letters.name if letters else None},
                 case_id)
    return len(rows)


def _letters_writer():
    """``redress.documents.letters_pdf``, or a refusal saying what is missing."""
    try:
        from redress.documents import Letter, letters_pdf
    except ImportError:
        raise AdminError("PDF letters are not available in this installation (redress.documents.letters_pdf is "
                         "missing); write the notices without --letters and print them from the CSV") from None
    return Letter, letters_pdf


def _write_letters(session: Session, writer, case: Case, rows, codes: dict[str, str], deadline, path: Path,
                   portal_url: str) -> None:
    from redress.store.models import CaseHelp, InvestorContact, User

    letter, letters_pdf = writer
    help_row = session.get(CaseHelp, case.id)
    ids = [inv for _c, inv, _f in rows]
    users, languages = {}, {}
    for i in range(0, len(ids), 5_000):
        chunk = ids[i:i + 5_000]
        users.update(session.execute(select(User.investor_id, User.name).where(User.investor_id.in_(chunk))).all())
        languages.update(session.execute(select(InvestorContact.investor_id, InvestorContact.language)
                                         .where(InvestorContact.investor_id.in_(chunk))).all())
    from redress.admin import access

    pdf = letters_pdf([letter(case_id=case.id, case_name=case.name, investor_id=inv, user_name=users.get(inv, inv),
                              amount_fen=int(fen), deadline=deadline,
                              activation_code=access.grouped(codes[inv]) if inv in codes else "",
                              portal_url=portal_url, hotline=help_row.hotline if help_row else None,
                              language=languages.get(inv, "zh"))
                       for _c, inv, fen in rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf)


# -- reading -------------------------------------------------------------------------------------------------

def claim_of(session: Session, case_id: str, investor_id: str) -> Claim:
    c = session.execute(select(Claim).where(Claim.case_id == case_id, Claim.investor_id == investor_id)
                        ).scalar_one_or_none()
    if c is None:
        raise NotFound(f"investor {investor_id!r} has no claim in case {case_id}")
    return c


@dataclass(frozen=True)
class Participation:
    claims: int
    by_status: dict[str, int]
    offered_fen: int
    accepted_fen: int
    awarded_fen: int
    paid_fen: int

    @property
    def acceptance_rate(self) -> float:
        return self.by_status.get("accepted", 0) / self.claims if self.claims else 0.0

    @property
    def paid_share(self) -> float:
        """Money paid as a share of money owed on acceptances."""
        return self.paid_fen / self.awarded_fen if self.awarded_fen else 0.0


def participation(session: Session, case_id: str) -> Participation:
    rows = session.execute(select(Claim.status, func.count(), func.sum(Claim.offered_fen), func.sum(Claim.awarded_fen
                                  + Claim.interest_fen), func.sum(Claim.paid_fen))
                           .where(Claim.case_id == case_id).group_by(Claim.status)).all()
    by = {s: int(n) for s, n, *_ in rows}
    return Participation(claims=sum(by.values()), by_status=by, offered_fen=sum(int(o or 0) for _s, _n, o, _a, _p in rows),
                         accepted_fen=sum(int(o or 0) for s, _n, o, _a, _p in rows if s == "accepted"),
                         awarded_fen=sum(int(a or 0) for *_x, a, _p in rows), paid_fen=sum(int(p or 0) for *_x, p in rows))


def decisions_for(session: Session, claim: Claim) -> Iterable[Decision]:
    return session.execute(select(Decision).where(Decision.claim_id == claim.id).order_by(Decision.id)).scalars()
