"""Probing other cases, over real HTTP: an investor or payer of one case, or an investor with no claim, asks for
anything of a case that is not theirs.  A case that exists and one that does not answer identically (status and
body), so ids cannot be probed; a settlement agreement is read only by the case's investors, payers and staff."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from web.websupport import TODAY, accept_body, http_session, served, small_case

MISSING = "no-such-case-7f3a"


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    return small_case(tmp_path_factory.mktemp("synth"), seed=6, name="access")


@pytest.fixture(scope="module")
def site(tmp_path_factory, synth):
    with served(tmp_path_factory.mktemp("site"), synth) as (w, server):
        yield w, server.base_url, {name: http_session(server.base_url, name) for name in ("inv1", "payer1", "nobody")}


def case_routes(base: str) -> list[tuple[str, str]]:
    doc = httpx.get(f"{base}/openapi.json").json()
    return [(m.upper(), p) for p, ops in doc["paths"].items() for m in ops if "{case_id}" in p]


def ask(base: str, headers: dict, method: str, template: str, case_id: str, investor: str,
        decision: dict) -> httpx.Response:
    """Call one operation with well-formed parameters and body, so that only who is asking can refuse it."""
    path = (template.replace("{case_id}", case_id).replace("{investor_id}", investor).replace("{number}", "1")
            .replace("{fmt}", "csv"))
    kw: dict = {}
    if method == "POST":
        if template.endswith(("/payment-results", "/fair-fund/results")):
            kw["files"] = {"file": ("r.csv", b"instruction_id,status,amount,settled_on\n", "text/csv")}
        elif template.endswith("/compare"):
            kw["data"] = {"plans": "[plan]\n"}
        elif template.endswith("/decision"):
            kw["json"] = decision
        else:
            kw["json"] = {"on": TODAY.isoformat()}
    return httpx.request(method, f"{base}{path}", headers=headers, timeout=60, **kw)


@pytest.mark.parametrize("who", ["inv1", "payer1", "nobody"])
def test_a_case_that_is_not_yours_looks_like_one_that_does_not_exist(site, who):
    w, base, sessions = site
    investor = {"inv1": w.inv1, "payer1": w.inv1, "nobody": "INV-NO-CLAIM"}[who]
    checked = 0
    for method, template in case_routes(base):
        real = ask(base, sessions[who], method, template, w.other_case, investor, accept_body(w, "probe"))
        made_up = ask(base, sessions[who], method, template, MISSING, investor, accept_body(w, "probe"))
        assert real.status_code in (401, 403, 404, 422), (who, method, template, real.status_code, real.text)
        assert (real.status_code, real.text) == (made_up.status_code, made_up.text.replace(MISSING, w.other_case)), (
            who, method, template, real.text, made_up.text)
        assert w.other_case not in real.text and MISSING not in made_up.text, (template, real.text)
        checked += 1
    assert checked >= 25, checked


def test_the_agreement_is_for_the_case_investors_payers_and_staff(site):
    w, base, sessions = site
    url = f"{base}/api/cases/{w.case_id}/agreement"
    for who in ("inv1", "payer1"):
        r = httpx.get(url, headers=sessions[who])
        assert r.status_code == 200 and r.json()["sha256"] == w.agreement_sha, (who, r.text)
    assert httpx.get(url, headers=http_session(base, "aud")).status_code == 200
    # an investor with no claim in the case: the same answer as for a case that does not exist
    stranger = httpx.get(url, headers=sessions["nobody"])
    missing = httpx.get(f"{base}/api/cases/{MISSING}/agreement", headers=sessions["nobody"])
    assert stranger.status_code == 404 and "和解" not in stranger.text and "agreement" not in stranger.text.lower()
    assert (stranger.status_code, stranger.json()) == (missing.status_code, missing.json())
    # and the case itself is not described to them either
    r = httpx.get(f"{base}/api/cases/{w.case_id}", headers=sessions["nobody"])
    assert (r.status_code, r.json()) == (missing.status_code, missing.json())


def test_portal_pages_of_other_cases_look_alike(site):
    w, base, sessions = site
    html = {"Accept": "text/html"}
    for who in ("inv1", "nobody"):
        real = httpx.get(f"{base}/portal/cases/{w.other_case}", headers=dict(html, **sessions[who]))
        made_up = httpx.get(f"{base}/portal/cases/{MISSING}", headers=dict(html, **sessions[who]))
        assert real.status_code == made_up.status_code == 404
        assert real.text == made_up.text


def test_public_pages_do_not_tell_a_draft_case_from_a_missing_one(site):
    w, base, _sessions = site
    for prefix, headers in (("/api/public/cases/", {}), ("/cases/", {"Accept": "text/html"})):
        draft = httpx.get(f"{base}{prefix}{w.other_case}", headers=headers)
        missing = httpx.get(f"{base}{prefix}{MISSING}", headers=headers)
        assert draft.status_code == missing.status_code == 404
        assert draft.text == missing.text.replace(MISSING, w.other_case)
        assert w.other_case not in draft.text
