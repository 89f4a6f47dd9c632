"""The demo's after-payout steps on an administered case: the lot verifies, recourse and fair fund reconcile."""

from __future__ import annotations

import datetime as dt

from redress.admin import claims, payments
from redress.admin.after import demo_seed, run_after
from redress.hearing import verify
from support.admin import open_case

D = dt.date


def test_after_payout_on_a_small_case(db, tmp_path):
    offers = {f"INV{i:02d}": (i + 1) * 100_00 for i in range(14)}
    w = open_case(db, tmp_path, offers, contributions={"sponsor": 300_000_00, "law": 100_000_00})
    accepted = [f"INV{i:02d}" for i in range(10)]
    w.decide(*(w.decision(i) for i in accepted), w.decision("INV10", "decline"))
    number = w.pay_batch(D(2023, 2, 15))
    rows = w.export(number)
    with w.tx() as s:
        payments.import_results(s, "alice", w.case_id, w.results_file(
            "r.csv", [(r[0], "paid", r[4], "2023-02-17", "") for r in rows]))
        claims.close_claims(s, "alice", w.case_id, D(2023, 3, 2))
    paid = sum(offers[i] for i in accepted)
    after = run_after(w.engine, w.case_id, {"sponsor": paid * 3 // 4, "law": paid - paid * 3 // 4},
                      demo_seed(w.case_id), actor="alice", on=D(2023, 4, 1))
    assert verify(after.draw) and len(after.draw.winners) == 3
    after.recourse.check()
    # the sponsor is itself liable (15%): it bears that share of what it paid; the law firm recovers all
    sponsor, law = after.recourse.payer("sponsor"), after.recourse.payer("law")
    assert law.recoverable_fen == law.paid_fen and sponsor.own_share_fen == round(sponsor.paid_fen * 0.15)
    # the fair fund pays only those not compensated in advance, never more than their loss
    total = {}
    for r in after.fair_fund:
        assert r.available_fen == r.paid_fen + r.residual_fen
        for inv, fen in r.payments.items():
            total[inv] = total.get(inv, 0) + fen
    assert all(total.get(i, 0) == 0 for i in accepted)
    assert all(total[i] <= offers[i] for i in offers if i not in accepted)
    assert sum(total.values()) > 0
