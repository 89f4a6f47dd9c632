"""Two processes on one case at the same moment (PostgreSQL): the case row lock makes them take turns, so
whichever order they end up in, nobody is paid twice, no claim is decided twice and the audit chain holds.

Each child connects first, then waits for the parent's go, so that both start their work together; several
rounds give several interleavings, and every assertion holds for any of them."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from paysupport import D, FIFTY, fen, fifty, paid_by_investor, reconciles, run_in_lock_step, settle_rows, snapshot
from redress.admin import cases, claims, fund, payments
from redress.store import audit
from redress.store.models import Approval, AuditEvent, Claim, Decision, ImportedFile, Payment, PaymentBatch
from support.admin import open_case


def spec(w, name, jobs):
    return {"url": w.url, "case_id": w.case_id, "name": name, "jobs": jobs}


def release(w, limit: int) -> int:
    with w.tx() as s:
        ap_id = payments.propose_batch(s, "alice", w.case_id, D(2023, 2, 15), limit=limit).id
    return w.approve(ap_id).number


def test_two_processes_importing_the_same_results_apply_them_once(pg, tmp_path):
    w = fifty(pg, tmp_path)
    numbers = [release(w, 17) for _ in range(3)]                 # 17 + 17 + 16 claims
    files, all_results = [], []
    for n in numbers:
        results = settle_rows(w.export(n), returned_every=5)
        all_results += results
        files.append(results)
    # rounds 0 and 1: both import the same file; round 2: each its own file, with the same lines
    same = [w.results_file(f"results-{n}.csv", r) for n, r in zip(numbers[:2], files[:2], strict=True)]
    a_file = w.results_file("results-3-a.csv", files[2])
    b_file = w.results_file("results-3-b.csv", list(reversed(files[2])))
    jobs = {"a": [{"op": "import_results", "path": str(p)} for p in (*same, a_file)],
            "b": [{"op": "import_results", "path": str(p)} for p in (*same, b_file)]}
    a, b = run_in_lock_step([spec(w, "a", jobs["a"]), spec(w, "b", jobs["b"])], tmp_path)

    for r, lines in enumerate(files):
        both = [a[r], b[r]]
        assert all(o["outcome"] == "ok" for o in both), both
        applied = [o for o in both if not o["already_imported"] and o["paid"] + o["returned"]]
        assert len(applied) == 1, both
        assert applied[0]["paid"] + applied[0]["returned"] == len(lines) and applied[0]["unchanged"] == 0
        assert applied[0]["paid_fen"] == sum(fen(x[2]) for x in lines if x[1] == "paid")
        other = both[1 - both.index(applied[0])]
        if r < 2:
            assert other["already_imported"], both                      # the very same file
        else:
            assert (other["already_imported"], other["paid"], other["returned"], other["unchanged"]) == (
                False, 0, 0, len(lines))                                # another file: every line already applied

    paid = paid_by_investor(w)
    assert sum(paid.values()) == sum(fen(x[2]) for x in all_results if x[1] == "paid")
    assert all(v in (0, FIFTY[inv]) for inv, v in paid.items())
    with pg[1].connect() as conn:
        assert conn.execute(select(func.count()).select_from(ImportedFile)
                            .where(ImportedFile.kind == "payment_results")).scalar_one() == 4
    rec = reconciles(w)
    assert rec.ok and rec.figures["in_transit_books_fen"] == 0, rec.problems
    with w.tx() as s:
        assert audit.verify(s).ok
        assert {b.status for b in payments.batches(s, w.case_id)} == {"settled"}


def test_two_processes_making_batches_at_once_put_every_claim_in_exactly_one(pg, tmp_path):
    w = fifty(pg, tmp_path)
    before = snapshot(w)
    jobs_a = [{"op": "pay_all", "actor": "alice", "limit": 4, "on": "2023-02-15"}]
    jobs_b = [{"op": "pay_all", "actor": "carol", "limit": 5, "on": "2023-02-16"}]
    a, b = run_in_lock_step([spec(w, "a", jobs_a), spec(w, "b", jobs_b)], tmp_path)
    assert a[0]["outcome"] == b[0]["outcome"] == "ok", (a, b)
    proposed = a[0]["proposed"] + b[0]["proposed"]
    approved = a[0]["approved"] + b[0]["approved"]
    # every request was released exactly once; the loser of a race was told it was already approved
    assert sorted(approved) == sorted(proposed) and len(set(approved)) == len(approved)
    for _ap, message in a[0]["refused"] + b[0]["refused"]:
        assert "already approved" in message

    with w.tx() as s:
        in_flight = s.execute(select(Claim.investor_id, Payment.amount_fen, Payment.status, PaymentBatch.number)
                              .join(Payment, Payment.claim_id == Claim.id).join(PaymentBatch)).all()
        batches = payments.batches(s, w.case_id)
        assert not cases.pending_approvals(s, w.case_id)
        assert s.execute(select(func.count()).select_from(Approval)
                         .where(Approval.action == "release_batch", Approval.status == "approved")
                         ).scalar_one() == len(proposed)
        assert s.execute(select(func.count()).select_from(AuditEvent)
                         .where(AuditEvent.action == "approval.approved")).scalar_one() == len(proposed) + 1  # + plan
        assert audit.verify(s).ok
    assert Counter(inv for inv, *_ in in_flight) == dict.fromkeys(FIFTY, 1)   # each owed claim exactly once
    assert all(amount == FIFTY[inv] and st == "instructed" for inv, amount, st, _n in in_flight)
    assert [b.number for b in batches] == list(range(1, len(proposed) + 1))
    assert all(b.status == "released" for b in batches)
    per_batch = Counter()
    for _inv, amount, _st, n in in_flight:
        per_batch[n] += amount
    assert {b.number: b.total_fen for b in batches} == dict(per_batch)
    assert sum(per_batch.values()) == sum(FIFTY.values())
    rec = reconciles(w)
    assert rec.ok and rec.figures["instructed_fen"] == sum(FIFTY.values()), rec.problems
    assert snapshot(w)["balances"][fund.TRUST_CASH] == before["balances"][fund.TRUST_CASH] - sum(FIFTY.values())


def test_two_processes_deciding_one_claim_differently_record_exactly_one_decision(pg, tmp_path):
    w = open_case(pg, tmp_path, FIFTY)
    contested = sorted(FIFTY)[:6]

    def item(inv, decision, key):
        d = w.decision(inv, decision, key=key)
        return [d.investor_id, d.decision, d.decided_on.isoformat(), d.channel, d.key, d.agreement_version,
                d.agreement_sha256]

    jobs_a = [{"op": "decide", "actor": "alice", "items": [item(inv, "accept", f"web-{inv}")]} for inv in contested]
    jobs_b = [{"op": "decide", "actor": "carol", "items": [item(inv, "decline", f"counter-{inv}")]}
              for inv in contested]
    a, b = run_in_lock_step([spec(w, "a", jobs_a), spec(w, "b", jobs_b)], tmp_path)

    with w.tx() as s:
        decided = dict(s.execute(select(Claim.investor_id, Claim.status)).all())
        recorded = Counter(s.execute(select(Claim.investor_id).join(Decision, Decision.claim_id == Claim.id)).scalars())
        assert audit.verify(s).ok
    for r, inv in enumerate(contested):
        both = {"accepted": a[r], "declined": b[r]}
        assert all(o["outcome"] == "ok" for o in both.values())
        winners = [st for st, o in both.items() if o["done"] == [inv]]
        losers = [o["refused"] for st, o in both.items() if o["done"] == []]
        assert len(winners) == 1 and len(losers) == 1, both
        assert decided[inv] == winners[0]
        [[who, kind, message]] = losers[0]
        assert who == inv and kind == "BadInput"
        assert f"investor {inv} has already {winners[0]}" in message
        assert recorded[inv] == 1
    assert set(recorded) == set(contested)
    rec = reconciles(w)
    assert rec.ok, rec.problems
    assert rec.figures["payable_books_fen"] == sum(FIFTY[i] for i in contested if decided[i] == "accepted")


def test_two_processes_deciding_different_investors_record_everything_in_one_chain(pg, tmp_path):
    w = open_case(pg, tmp_path, FIFTY)
    investors = sorted(FIFTY)
    want = {inv: "accept" if i % 3 else "decline" for i, inv in enumerate(investors)}

    def items(invs):
        out = []
        for inv in invs:
            d = w.decision(inv, want[inv], key=f"k-{inv}")
            out.append([d.investor_id, d.decision, d.decided_on.isoformat(), d.channel, d.key, d.agreement_version,
                        d.agreement_sha256])
        return out

    # interleave the halves so both are busy for the whole run
    jobs_a = [{"op": "decide", "actor": "alice", "items": items(investors[0::2])}]
    jobs_b = [{"op": "decide", "actor": "carol", "items": items(investors[1::2])}]
    a, b = run_in_lock_step([spec(w, "a", jobs_a), spec(w, "b", jobs_b)], tmp_path)
    assert a[0]["refused"] == b[0]["refused"] == []
    assert sorted(a[0]["done"] + b[0]["done"]) == investors

    with w.tx() as s:
        v = audit.verify(s)
        assert v.ok, v.problems
        status = dict(s.execute(select(Claim.investor_id, Claim.status)).all())
        assert Counter(s.execute(select(Decision.claim_id)).scalars()).most_common(1)[0][1] == 1
        assert s.execute(select(func.count()).select_from(Decision)).scalar_one() == 50
        events = Counter(s.execute(select(AuditEvent.actor).where(AuditEvent.action.in_(
            ("claim.accept", "claim.decline")))).scalars())
        assert claims.participation(s, w.case_id).by_status == {
            "accepted": sum(1 for d in want.values() if d == "accept"),
            "declined": sum(1 for d in want.values() if d == "decline")}
    assert events == {"alice": 25, "carol": 25}
    assert status == {inv: {"accept": "accepted", "decline": "declined"}[d] for inv, d in want.items()}
    rec = reconciles(w)
    assert rec.ok, rec.problems
    assert rec.figures["payable_books_fen"] == sum(FIFTY[i] for i, d in want.items() if d == "accept")
