"""Attacks on ``redress serve`` as it is deployed (a separate process on 127.0.0.1): forged ``X-Forwarded-For``
to dodge the lock-out or to plant addresses in the records, forged ``X-Forwarded-Proto``, a stranger locking
the administrators out, and a flood of large anonymous bodies measured in the server's peak memory.  Also
HSTS over real TLS, and the break-glass ``redress user unlock``."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from redress.admin import cases
from redress.store.db import make_engine, migrate, unit_of_work
from redress.store.models import LoginAttempt
from redress.web.security import COOKIE, MAX_FAILURES

PASSWORD = "correct horse battery staple"
REDRESS = str(Path(sys.executable).with_name("redress"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """``redress serve`` in a subprocess over a database with users root, op (operator) and inv (investor)."""

    def __init__(self, root: Path, *options: str) -> None:
        self.root = root
        self.url = f"sqlite:///{root / 'redress.sqlite3'}"
        engine = make_engine(self.url)
        migrate(engine)
        with unit_of_work(engine) as s:
            cases.bootstrap(s, "root", "Root", PASSWORD)
            cases.add_user(s, "root", "op", "Operator", ["operator"], PASSWORD)
            cases.add_user(s, "root", "inv", "Investor", ["investor"], PASSWORD, investor_id="INV-1")
        engine.dispose()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = (root / "serve.log").open("wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REDRESS_", "FORWARDED_"))}
        self.proc = subprocess.Popen([REDRESS, "serve", "--port", str(self.port), "--db", self.url,
                                      "--data-dir", str(root / "data"), *options],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{self.base}/api/me", timeout=2).status_code == 401:
                    break
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("redress serve did not start:\n" + (root / "serve.log").read_text())
            time.sleep(0.2)

    def sign_in(self, name: str, password: str, forwarded_for: str | None = None, **headers) -> httpx.Response:
        if forwarded_for is not None:
            headers["X-Forwarded-For"] = forwarded_for
        return httpx.post(f"{self.base}/api/session", json={"name": name, "password": password}, headers=headers)

    def clients(self, name: str) -> list[str]:
        engine = make_engine(self.url)
        try:
            with unit_of_work(engine) as s:
                return list(s.execute(select(LoginAttempt.client).where(LoginAttempt.user_name == name)
                                      .order_by(LoginAttempt.id)).scalars())
        finally:
            engine.dispose()

    def peak_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise AssertionError("no VmHWM")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def direct(tmp_path_factory):
    """Served with no trusted proxy: what a client says about its address is ignored."""
    served = Served(tmp_path_factory.mktemp("direct"))
    yield served
    served.stop()


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """Served behind a reverse proxy on 127.0.0.1, named as trusted."""
    served = Served(tmp_path_factory.mktemp("proxied"), "--trusted-proxy", "127.0.0.1")
    yield served
    served.stop()


def test_a_forged_forwarded_for_neither_dodges_the_lock_out_nor_lands_in_the_records(direct):
    for i in range(MAX_FAILURES):
        r = direct.sign_in("op", f"guess-{i}", forwarded_for=f"203.0.113.{i + 1}")
        assert r.status_code == 401, r.text
    r = direct.sign_in("op", PASSWORD, forwarded_for="198.51.100.77")          # a fresh address, it claims
    assert r.status_code == 429, r.text
    assert COOKIE not in r.cookies
    assert set(direct.clients("op")) == {"127.0.0.1"}


def test_behind_a_trusted_proxy_the_rightmost_untrusted_address_counts(proxied):
    # the client put 10.9.9.9 in itself; the proxy appended the address it saw (203.0.113.9)
    for i in range(MAX_FAILURES):
        r = proxied.sign_in("op", f"guess-{i}", forwarded_for=f"10.9.9.{i}, 203.0.113.9")
        assert r.status_code == 401, r.text
    assert set(proxied.clients("op")) == {"203.0.113.9"}
    # the attacker is locked out, even with the right password ...
    assert proxied.sign_in("op", PASSWORD, forwarded_for="203.0.113.9").status_code == 429
    # ... the operator at their own desk is not: a stranger cannot lock the administrators out
    r = proxied.sign_in("op", PASSWORD, forwarded_for="198.51.100.20")
    assert r.status_code == 200, r.text
    assert proxied.clients("op")[-1] == "198.51.100.20"


def test_an_investor_account_is_locked_wherever_the_guesses_come_from(proxied):
    for i in range(MAX_FAILURES):
        assert proxied.sign_in("inv", f"guess-{i}", forwarded_for=f"203.0.113.{50 + i}").status_code == 401
    assert proxied.sign_in("inv", PASSWORD, forwarded_for="198.51.100.21").status_code == 429


def test_break_glass_unlock_from_the_command_line(proxied):
    for i in range(MAX_FAILURES):
        assert proxied.sign_in("root", f"guess-{i}", forwarded_for="203.0.113.66").status_code == 401
    assert proxied.sign_in("root", PASSWORD, forwarded_for="203.0.113.66").status_code == 429
    env = dict(os.environ, REDRESS_DATABASE_URL=proxied.url)
    refused = subprocess.run([REDRESS, "user", "unlock", "root", "--as", "inv"], env=env, capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode != 0                        # an investor cannot unlock anyone
    done = subprocess.run([REDRESS, "user", "unlock", "root", "--as", "root"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert proxied.sign_in("root", PASSWORD, forwarded_for="203.0.113.66").status_code == 200
    # an investor's account lock is lifted the same way
    for i in range(MAX_FAILURES):
        assert proxied.sign_in("inv", f"again-{i}").status_code in (401, 429)
    assert proxied.sign_in("inv", PASSWORD).status_code == 429
    subprocess.run([REDRESS, "user", "unlock", "inv", "--as", "root"], env=env, check=True, capture_output=True,
                   timeout=120)
    assert proxied.sign_in("inv", PASSWORD).status_code == 200


def test_hsts_when_a_trusted_proxy_says_https_and_only_then(proxied, direct):
    r = httpx.get(f"{proxied.base}/login", headers={"X-Forwarded-Proto": "https"})
    assert "max-age=" in r.headers.get("strict-transport-security", "")
    r = httpx.get(f"{proxied.base}/login", headers={"X-Forwarded-Proto": "http"})
    assert "strict-transport-security" not in r.headers
    # a client that is no trusted proxy cannot claim it
    r = httpx.get(f"{direct.base}/login", headers={"X-Forwarded-Proto": "https"})
    assert r.status_code == 200 and "strict-transport-security" not in r.headers


def test_large_anonymous_bodies_do_not_grow_the_server(direct):
    """Six anonymous posts of 64 MiB each, with a length and without: the server's peak memory hardly moves."""
    before = direct.peak_kib()
    for chunked in (False, True) * 3:
        with socket.create_connection(("127.0.0.1", direct.port), timeout=30) as sock:
            total = 64 * 1024 * 1024
            head = ["POST /api/session HTTP/1.1", "Host: x", "Content-Type: application/json"]
            head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}")
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            piece = b"A" * 65536
            try:
                for _ in range(total // len(piece)):
                    sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            except (BrokenPipeError, ConnectionResetError):
                pass                                   # refused and closed before the body was sent
            try:
                answer = sock.recv(4096)
            except ConnectionResetError:
                answer = b""
            assert answer == b"" or answer.startswith(b"HTTP/1.1 413"), answer[:200]
    grown_mib = (direct.peak_kib() - before) / 1024
    assert grown_mib < 32, grown_mib


# -- TLS -----------------------------------------------------------------------------------------------------

def test_hsts_over_real_tls(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    from web.websupport import LiveServer

    from redress.web.app import create_app

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True, timeout=120)
    app = create_app(f"sqlite:///{tmp_path / 'r.sqlite3'}", data_dir=tmp_path / "data")
    try:
        with LiveServer(app, ssl_keyfile=str(key), ssl_certfile=str(cert)) as server:
            r = httpx.get(f"{server.base_url}/login", verify=False)
            assert r.status_code == 200
            assert r.headers["strict-transport-security"].startswith("max-age=")
        with LiveServer(app) as plain:
            assert "strict-transport-security" not in httpx.get(f"{plain.base_url}/login").headers
    finally:
        app.state.engine.dispose()
        app.state.read_engine.dispose()
