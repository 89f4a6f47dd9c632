"""``redress serve --demo``: the sample case it builds can be signed into with the passwords it prints."""

from __future__ import annotations

from fastapi.testclient import TestClient

from redress.store.db import fresh_sqlite
from redress.web.app import create_app
from redress.web.demo import seed


def test_demo_users_sign_in_and_find_an_open_claim(tmp_path):
    url = fresh_sqlite(tmp_path / "demo.sqlite3")
    said: list[str] = []
    users = {u.name: u for u in seed(tmp_path, url, n_trades=3000, n_investors=150, say=said.append)}
    assert {"admin", "checker", "auditor", "investor1", "investor2", "investor3"} <= set(users)
    assert len({u.password for u in users.values()}) == len(users)            # one password each
    app = create_app(url, data_dir=tmp_path)
    with TestClient(app, base_url="https://testserver") as client:
        inv = users["investor1"]
        assert client.post("/api/session", json={"name": "investor1", "password": inv.password}).status_code == 200
        mine = client.get("/api/me/claims").json()
        assert len(mine) == 1 and mine[0]["investor_id"] == inv.investor_id and mine[0]["status"] == "offered"
        wrong = client.post("/api/session", json={"name": "admin", "password": inv.password})
        assert wrong.status_code == 401
        assert client.post("/api/session", json={"name": "admin", "password": users["admin"].password}).status_code == 200
        cases = client.get("/api/cases").json()["items"]
        assert [c["state"] for c in cases] == ["claims_open"]
        part = client.get(f"/api/cases/{cases[0]['id']}/participation").json()
        assert part["by_status"]["accepted"] > 0 and part["by_status"]["offered"] >= 3


def test_the_demo_prints_an_activation_code_that_opens_the_portal(tmp_path):
    """The investor not yet signed up activates with the printed code and account, and lands on the claim."""
    import re

    url = fresh_sqlite(tmp_path / "demo.sqlite3")
    users = seed(tmp_path, url, n_trades=3000, n_investors=150, say=lambda _m: None)
    newcomer = next(u for u in users if "/activate" in u.roles)
    account = re.search(r"securities account (\S+)", newcomer.roles).group(1)
    app = create_app(url, data_dir=tmp_path)
    with TestClient(app, base_url="https://testserver") as client:
        form = client.get("/activate").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        step1 = client.post("/activate", data={"csrf_token": token, "step": "check", "code": newcomer.password,
                                               "account": account})
        assert step1.status_code == 200 and 'name="ticket"' in step1.text, step1.text[:500]
        token = re.search(r'name="csrf_token" value="([^"]+)"', step1.text).group(1)
        ticket = re.search(r'name="ticket" value="([^"]+)"', step1.text).group(1)
        done = client.post("/activate", data={"csrf_token": token, "step": "set", "ticket": ticket,
                                              "password": "a long demo passphrase", "password2":
                                              "a long demo passphrase"}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"].startswith("/portal/cases/")
        mine = client.get("/api/me/claims").json()
        assert [c["investor_id"] for c in mine] == [newcomer.investor_id]
