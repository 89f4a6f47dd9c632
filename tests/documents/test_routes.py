"""The documents over the web (both backends): the agreement and the receipt of a decision, for the investor
whose claim it is and for staff naming the investor; nobody else."""

from __future__ import annotations

from pdfsupport import text_of
from web.websupport import AGREEMENT, Web, accept_body


def flat(text: str) -> str:
    return "".join(text.split())


def check_pdf(r, filename: str) -> list[str]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert r.headers["cache-control"] == "no-store"
    return text_of(r.content)


def test_agreement_pdf_for_the_investor_in_their_language(w: Web):
    inv1 = w.signed_in("inv1")
    url = f"/portal/cases/{w.case_id}/agreement.pdf"
    pages = check_pdf(inv1.get(url), f"agreement-{w.case_id}-v1.pdf")
    text = flat("".join(pages))
    assert w.agreement_sha in text and "和解协议" in text and flat(AGREEMENT) in text
    assert "Settlementagreement" not in text.replace(flat(AGREEMENT), "")    # the frame is in Chinese

    assert inv1.get(f"{url}?version=v9").status_code == 404
    inv1.cookies.set("redress_lang", "en")
    en = " ".join(" ".join(check_pdf(inv1.get(f"{url}?version=v1"), f"agreement-{w.case_id}-v1.pdf")).split())
    assert "Settlement agreement" in en and "Agreement version v1" in en and w.agreement_sha in en


def test_receipt_pdf_after_a_decision(w: Web):
    inv1 = w.signed_in("inv1")
    url = f"/portal/cases/{w.case_id}/receipt.pdf"
    assert inv1.get(url).status_code == 404                   # nothing decided yet
    r = inv1.post(f"/api/cases/{w.case_id}/claims/{w.inv1}/decision", json=accept_body(w))
    assert r.status_code == 200, r.text

    text = flat(check_pdf(inv1.get(url), f"receipt-{w.case_id}-{w.inv1}.pdf")[0])
    offer = w.offers[w.inv1]
    assert "您已接受" in text and w.agreement_sha in text and w.inv1 in text
    assert f"{offer // 100:,}.{offer % 100:02d}" in text

    # staff name the investor; an investor naming another gets their own claim (none decided: 404)
    svc = w.signed_in("svc")
    staff_copy = check_pdf(svc.get(f"{url}?investor={w.inv1}"), f"receipt-{w.case_id}-{w.inv1}.pdf")
    assert w.inv1 in flat(staff_copy[0])
    assert w.signed_in("inv2").get(f"{url}?investor={w.inv1}").status_code == 404


def test_nobody_else_gets_the_documents(w: Web):
    agreement = f"/portal/cases/{w.case_id}/agreement.pdf"
    receipt = f"/portal/cases/{w.case_id}/receipt.pdf"
    api = {"accept": "application/json"}
    assert w.client().get(agreement, headers=api).status_code == 401            # not signed in
    page = w.client().get(agreement, headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert w.signed_in("nobody").get(agreement, headers=api).status_code == 404  # no claim in the case
    assert w.signed_in("nobody").get(receipt, headers=api).status_code == 404
    assert w.signed_in("payer1").get(receipt, headers=api).status_code == 403   # payers see no single claim
    assert w.signed_in("inv1").get(f"/portal/cases/{w.other_case}/agreement.pdf",
                                   headers=api).status_code == 404
