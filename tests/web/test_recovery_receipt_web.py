"""A successful recovery receipt over the web (both backends), on a case whose claims are paid and closed: the
receipt through the JSON API and through the console form (CSRF required), the amounts passed on to each payer
checked to the fen against a hand computation, the report (recovered, outstanding), the ledger entry in the
API and on the console's ledger page, and the fund statement untouched."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from sqlalchemy import func, select
from websupport import DEADLINE, Web, paid_and_closed

from redress.money import yuan
from redress.store.models import LedgerEntry

HTML = {"accept": "text/html,application/xhtml+xml"}
BOOK_ON = DEADLINE + dt.timedelta(days=2)   # within a week of today, as every booking date


def largest_remainder(amount: int, weights: dict[str, int]) -> dict[str, int]:
    """The test's own Hamilton split: floors, then the fen left over by largest remainder (ties: larger
    weight, then smaller key)."""
    total = sum(weights.values())
    out = {k: amount * w // total for k, w in weights.items()}
    order = sorted(weights, key=lambda k: (-(amount * weights[k] % total), -weights[k], k))
    for k in order[:amount - sum(out.values())]:
        out[k] += 1
    return out


def recovery_entries(w: Web) -> int:
    with w.tx() as s:
        return s.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.case_id == w.case_id, LedgerEntry.kind == "recovery"))


def test_recovery_receipt_over_the_api_and_the_console(web: Web):
    paid = paid_and_closed(web)
    op = web.signed_in("op")
    url = f"/api/cases/{web.case_id}/recovery"
    statement0 = op.get(f"/api/cases/{web.case_id}/statement").json()
    assert statement0["compensation_awarded_fen"] - statement0["payable_fen"] == paid

    for party in ({"party_id": "issuer", "name": "Issuer Co", "kind": "issuer", "fault_share_bp": 8000},
                  {"party_id": "sponsor", "name": "Sponsor Co", "kind": "sponsor", "fault_share_bp": 2000,
                   "payer_id": "sponsor"}):
        r = op.post(f"{url}/parties", json=party)
        assert r.status_code == 201, r.text

    # The hand computation.  The payers auditor and sponsor contributed equally: the paid compensation splits
    # 1:1, the odd fen (equal remainders and weights) to the smaller key, "auditor".
    auditor_paid, sponsor_paid = (paid + 1) // 2, paid // 2
    # sponsor (liable, 20%): bears 20% of its payment rounded half up, claims the rest from the issuer
    sponsor_own = int(Fraction(sponsor_paid, 5) + Fraction(1, 2))
    # auditor (no fault): claims its whole payment from issuer and sponsor, 80:20
    auditor_claims = largest_remainder(auditor_paid, {"issuer": 4, "sponsor": 1})
    assert abs(auditor_claims["issuer"] - Fraction(4 * auditor_paid, 5)) < 1
    claims_on_issuer = {"auditor": auditor_claims["issuer"], "sponsor": sponsor_paid - sponsor_own}
    claim_issuer = sum(claims_on_issuer.values())
    assert claim_issuer > 1000

    body = op.get(url).json()
    assert body["report_problem"] is None, body
    rep = {r["party_id"]: r for r in body["report"]}
    assert (rep["issuer"]["claim_fen"], rep["issuer"]["recovered_fen"], rep["issuer"]["outstanding_fen"]) == \
        (claim_issuer, 0, claim_issuer)
    assert (rep["sponsor"]["claim_fen"], rep["sponsor"]["outstanding_fen"]) == (auditor_claims["sponsor"],) * 2
    assert body["received_by_payer_fen"] == {"auditor": 0, "sponsor": 0}

    # -- the receipt through the API
    first = claim_issuer // 3 + 7
    receipt = {"party_id": "issuer", "amount_fen": first, "on": BOOK_ON.isoformat(), "reference": "BANK-R1"}
    r = op.post(f"{url}/receipts", json=receipt)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["key"], out["party_id"], out["amount_fen"], out["booked_on"]) == \
        ("recovery:BANK-R1", "issuer", first, BOOK_ON.isoformat())
    again = op.post(f"{url}/receipts", json=receipt)                # a retry: the same entry, nothing new
    assert again.status_code == 200 and again.json()["entry_id"] == out["entry_id"]
    assert op.post(f"{url}/receipts", json=dict(receipt, amount_fen=first + 1)).status_code == 409
    assert recovery_entries(web) == 1

    to_payers = largest_remainder(first, claims_on_issuer)
    assert sum(to_payers.values()) == first
    assert out["to_payers_fen"] == {p: fen for p, fen in to_payers.items() if fen}
    body = op.get(url).json()
    assert body["received_by_payer_fen"] == to_payers
    rep = {r["party_id"]: r for r in body["report"]}
    assert (rep["issuer"]["recovered_fen"], rep["issuer"]["outstanding_fen"]) == (first, claim_issuer - first)
    assert (rep["sponsor"]["recovered_fen"], rep["sponsor"]["outstanding_fen"]) == (0, auditor_claims["sponsor"])

    ledger = op.get(f"/api/cases/{web.case_id}/ledger", params={"per_page": 500}).json()
    entry = next(e for e in ledger["items"] if e["key"] == "recovery:BANK-R1")
    assert entry["kind"] == "recovery" and entry["booked_on"] == BOOK_ON.isoformat()
    assert sorted((p["account"], p["amount_fen"]) for p in entry["postings"]) == [
        ("recovered:issuer", -first), ("recovery_paid:auditor", to_payers["auditor"]),
        ("recovery_paid:sponsor", to_payers["sponsor"])]
    assert op.get(f"/api/cases/{web.case_id}/statement").json() == statement0
    page = op.get(f"/console/cases/{web.case_id}/ledger", headers=HTML)
    assert page.status_code == 200 and "recovery:BANK-R1" in page.text
    assert yuan(first, grouping=True) in page.text and yuan(to_payers["auditor"], grouping=True) in page.text

    # -- the console form: refused without (or with a wrong) CSRF token, nothing booked
    form = f"/console/cases/{web.case_id}/recovery/do/receipt"
    second = claim_issuer - first - 5
    data = {"party_id": "issuer", "amount_fen": str(second), "on": BOOK_ON.isoformat(), "reference": "BANK-R2"}
    bare = web.client(cookies=dict(op.cookies))
    for extra in ({}, {"csrf_token": "forged"}):
        r = bare.post(form, data=dict(data, **extra), headers=HTML, follow_redirects=False)
        assert r.status_code == 403, (extra, r.status_code, r.text)
    assert recovery_entries(web) == 1
    # an auditor, with its own token, is refused too
    aud = web.signed_in("aud")
    r = aud.post(form, data=dict(data, csrf_token=aud.headers["X-CSRF-Token"]), headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?msg=refused")
    assert "operator" in aud.get(r.headers["location"], headers=HTML).text          # the reason, shown once
    assert recovery_entries(web) == 1

    # with the token: booked; the payers now hold the split of everything recovered to date
    r = op.post(form, data=dict(data, csrf_token=op.headers["X-CSRF-Token"]), headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and not r.headers["location"].endswith("?msg=refused"), r.headers["location"]
    assert recovery_entries(web) == 2
    total = first + second
    to_payers = largest_remainder(total, claims_on_issuer)
    body = op.get(url).json()
    assert body["received_by_payer_fen"] == to_payers
    assert all(to_payers[p] <= claims_on_issuer[p] for p in to_payers)
    rep = {r["party_id"]: r for r in body["report"]}
    assert (rep["issuer"]["recovered_fen"], rep["issuer"]["outstanding_fen"]) == (total, 5)
    ledger = op.get(f"/api/cases/{web.case_id}/ledger", params={"per_page": 500}).json()
    entry = next(e for e in ledger["items"] if e["key"] == "recovery:BANK-R2")
    first_split = largest_remainder(first, claims_on_issuer)
    assert sorted((p["account"], p["amount_fen"]) for p in entry["postings"]) == sorted(
        [("recovered:issuer", -second)] + [(f"recovery_paid:{p}", to_payers[p] - first_split[p])
                                          for p in sorted(to_payers) if to_payers[p] != first_split[p]])
    assert op.get(f"/api/cases/{web.case_id}/statement").json() == statement0

    # the console page shows the report and what was passed on
    page = op.get(f"/console/cases/{web.case_id}/recovery", headers=HTML)
    assert page.status_code == 200 and 'id="report-problem"' not in page.text
    assert "Passed on to payers" in page.text
    for fen in (claim_issuer, total, to_payers["auditor"], to_payers["sponsor"]):
        assert yuan(fen, grouping=True) in page.text

    # beyond the claim, through the form: refused and redirected with the reason, nothing booked
    r = op.post(form, data=dict(data, amount_fen="6", reference="BANK-R3", csrf_token=op.headers["X-CSRF-Token"]),
                headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?msg=refused")
    assert recovery_entries(web) == 2
    # exactly the rest, through the API: every payer then holds exactly its claim
    r = op.post(f"{url}/receipts", json=dict(receipt, amount_fen=5, reference="BANK-R3"))
    assert r.status_code == 200, r.text
    assert op.get(url).json()["received_by_payer_fen"] == claims_on_issuer
