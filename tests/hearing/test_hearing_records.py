"""A hearing in the database: opened with a seed commitment, a panel by verifiable lot, minutes and decision
on the public page; every refusal changes nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json

import pytest
from fastapi.testclient import TestClient

from redress.admin import cases, fund, hearings
from redress.admin.errors import AdminError, BadInput
from redress.hearing import Draw, verify
from redress.store import audit
from redress.store.db import unit_of_work
from support.admin import users

SEED = "the-organiser's-secret-seed-for-hearing-one-2023"
D = dt.date


def _case(engine):
    users(engine)
    with unit_of_work(engine) as s:
        cases.create_case(s, "alice", "h1", "Heard case")
        cases.add_payer(s, "alice", "h1", "sponsor", "Sponsor Securities", "sponsor", 100_00)
        fund.contribute(s, "alice", "h1", "sponsor", 100_00, D(2023, 1, 5), "B1")


def test_a_hearing_from_commitment_to_public_decision(db, tmp_path):
    url, engine = db
    _case(engine)
    commitment = hashlib.sha256(SEED.encode()).hexdigest()
    with unit_of_work(engine) as s:
        with pytest.raises(BadInput, match="cannot preside"):
            hearings.open_hearing(s, "alice", "h1", "sponsor", [], D(2023, 2, 1), commitment)
    with unit_of_work(engine) as s:
        h_id = hearings.open_hearing(s, "alice", "h1", "Investor Service Center", [], D(2023, 2, 1), commitment).id
    reps = [f"investor-{i}" for i in range(9)]
    lawyers = ["lawyer-a", "lawyer-b", "lawyer-c"]
    with pytest.raises(BadInput, match="does not match the commitment"):
        with unit_of_work(engine) as s:
            hearings.form(s, "alice", h_id, ["sponsor-rep", "sponsor-counsel", "audit-rep"], reps, lawyers, 1,
                          seed=SEED + "!")
    with unit_of_work(engine) as s:
        seated = hearings.form(s, "alice", h_id, ["sponsor-rep", "sponsor-counsel", "audit-rep"], reps, lawyers, 1,
                               seed=SEED)
        sides = [m.side for m in seated]
    assert sides.count("payer") == 3 and sides.count("investor_representative") == 2
    assert sides.count("investor_lawyer") == 1
    with unit_of_work(engine) as s:
        # three months from 2023-02-01 end on 2023-05-01, inside the Labour Day holiday (29 April to 3 May):
        # the last day moves to 2023-05-04, the first working day after it (Civil Code Art. 203)
        with pytest.raises(AdminError, match="time limit ended on 2023-05-04"):
            hearings.decide(s, "alice", h_id, "minutes", "plan approved", D(2023, 5, 5))
    with unit_of_work(engine) as s:
        hearings.decide(s, "alice", h_id, "纪要 minutes of the hearing", "The plan is fair as amended.", D(2023, 4, 20))
        record = hearings.public_record(s, "h1")
        assert audit.verify(s).ok
    (h,) = record
    assert h["status"] == "decided" and h["seed"] == SEED and h["deadline"] == "2023-05-04"
    for d in h["draws"]:
        assert d["verified"] and verify(Draw.from_json(d["record"]))
    rep_draw = next(d for d in h["draws"] if set(d["winners"]) <= set(reps))
    expected = sorted(reps, key=lambda r: (hashlib.sha256(f"{SEED}\x00{r}".encode()).hexdigest(), r))[:2]
    assert rep_draw["winners"] == expected
    from redress.web.app import create_app

    with TestClient(create_app(url, data_dir=tmp_path / "web"), base_url="https://testserver") as client:
        public = client.get("/api/public/cases/h1").json()
        assert public["hearings"][0]["decision"] == "The plan is fair as amended."
        client.cookies.set("redress_lang", "en")
        page = client.get("/cases/h1", headers={"Accept": "text/html"}).text
        assert "(verified)" in page and SEED in html.unescape(page) and "investor-" in page
    assert json.loads(h["draws"][0]["record"])["seed"] == SEED


def test_deadline_warnings():
    from redress.store.models import Hearing

    h = Hearing(started_on=D(2023, 2, 1), limit_months=3, status="open")
    assert hearings.warnings(h, D(2023, 2, 2)) == []
    assert "1 day(s) left" in hearings.warnings(h, D(2023, 5, 3))[0]   # the holiday moved the last day
    assert "overdue" in hearings.warnings(h, D(2023, 5, 5))[0]
