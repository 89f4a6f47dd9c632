"""Request bodies too large, over real HTTP: refused with 413 before they are read, whether they declare their
length or stream without one, before sign-in (64 KiB) and after it (the configured limit); bad JSON is a 422;
no refusal shows a stack trace."""

from __future__ import annotations

import json
import select
import socket
import time
from pathlib import Path

import httpx
import pytest
from web.websupport import http_session, served, small_case

BODY_LIMIT = 512 * 1024                 # what these tests configure for signed-in users
ANONYMOUS = 64 * 1024


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    return small_case(tmp_path_factory.mktemp("synth"), seed=4, name="limits")


@pytest.fixture(scope="module")
def site(tmp_path_factory, synth):
    with served(tmp_path_factory.mktemp("site"), synth, max_body_bytes=BODY_LIMIT) as (w, server):
        yield w, server


def raw_post(port: int, path: str, headers: dict[str, str], total: int, *, chunked: bool,
             seconds: float = 30) -> tuple[int, str, int]:
    """POST ``total`` bytes of a JSON string to 127.0.0.1:``port`` by hand, as an attacker's script would, and
    stop sending as soon as the server answers.  (status, body, bytes sent before the answer)."""
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json", "Connection: close"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}")
    sock = socket.create_connection(("127.0.0.1", port), timeout=seconds)
    sent = 0
    deadline = time.monotonic() + seconds
    try:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        piece = b'"' + b"A" * 65534 + b'"'
        while sent < total and time.monotonic() < deadline:
            if select.select([sock], [], [], 0)[0]:
                break                                   # the server has answered already
            data = piece[: total - sent]
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(data)
        if chunked and sent >= total:
            try:
                sock.sendall(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
        answer = b""
        while time.monotonic() < deadline:
            try:
                part = sock.recv(65536)
            except ConnectionResetError:
                break
            if not part:
                break
            answer += part
    finally:
        sock.close()
    head_text, _, body = answer.partition(b"\r\n\r\n")
    status = int(head_text.split(b" ", 2)[1]) if head_text.startswith(b"HTTP/1.1 ") else 0
    if b"transfer-encoding: chunked" in head_text.lower():
        body = _unchunk(body)
    return status, body.decode("utf-8", "replace"), sent


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2:]
    return out


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_before_sign_in_a_large_body_is_refused_unread(site, chunked):
    _w, server = site
    total = 200 * 1024 * 1024
    status, body, sent = raw_post(server.port, "/api/session", {}, total, chunked=chunked)
    assert status == 413, (status, body[:300])
    assert json.loads(body)["limit_bytes"] == ANONYMOUS
    assert "Traceback" not in body
    assert sent < 32 * 1024 * 1024, sent           # the server answered long before the body was all sent


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_signed_in_body_is_bounded_by_the_configured_limit(site, chunked):
    w, server = site
    who = http_session(server.base_url, "op")
    path = "/api/approvals/999999/approve"
    # well within the signed-in limit: it reaches the application (no such approval), though it is past the
    # anonymous limit
    status, body, _ = raw_post(server.port, path, who, 200 * 1024, chunked=chunked)
    assert status != 413 and status < 500, (status, body[:300])
    status, body, sent = raw_post(server.port, path, {}, 200 * 1024, chunked=chunked)
    assert status == 413, (status, body[:300])
    status, body, sent = raw_post(server.port, path, who, 50 * 1024 * 1024, chunked=chunked)
    assert status == 413, (status, body[:300])
    assert json.loads(body)["limit_bytes"] == BODY_LIMIT and sent < 25 * 1024 * 1024


def test_a_forged_session_cookie_does_not_raise_the_limit(site):
    _w, server = site
    status, body, _ = raw_post(server.port, "/api/session", {"Cookie": "redress_session=" + "x" * 43},
                               200 * 1024, chunked=True)
    assert status == 413 and json.loads(body)["limit_bytes"] == ANONYMOUS


def test_a_large_sign_in_form_gets_an_html_413(site):
    _w, server = site
    r = httpx.post(f"{server.base_url}/login", data={"name": "op", "password": "x" * (100 * 1024)},
                   headers={"Accept": "text/html", "Cookie": "redress_lang=en"})
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
    assert "Too large" in r.text and "Traceback" not in r.text
    assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("payload", [b"{", b'{"name": "op", "password": }', b"\xff\xfe", b"[1, 2",
                                     b'{"name": "op", "password": "' + b"\\ud800" * 10 + b'"}'])
def test_bad_json_is_a_422_and_too_much_of_it_a_413_without_internals(site, payload):
    _w, server = site
    for body, expected in ((payload, (401, 422)), (payload + b" " * (ANONYMOUS + 1), (413,))):
        r = httpx.post(f"{server.base_url}/api/session", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code in expected, (r.status_code, r.text[:300])
        for secret in ("Traceback", 'File "', ".py", "starlette", "pydantic_core"):
            assert secret not in r.text, (secret, r.text)
        if r.status_code == 422:
            assert r.json()["detail"].startswith("the request is not valid")


def test_every_route_that_takes_a_file_gets_the_upload_limit_and_no_other(site):
    """The larger limit is for file uploads only: a JSON route cannot be fed 512 MiB by an operator."""
    from redress.web import limits

    _w, server = site
    doc = httpx.get(f"{server.base_url}/openapi.json").json()
    schemas = doc["components"]["schemas"]

    def has_file(op: dict) -> bool:
        form = op.get("requestBody", {}).get("content", {}).get("multipart/form-data")
        if form is None:
            return False
        body = schemas[form["schema"]["$ref"].rsplit("/", 1)[-1]]
        return "contentMediaType" in json.dumps(body) or '"binary"' in json.dumps(body)

    takes_files = {path for path, ops in doc["paths"].items() for op in ops.values() if has_file(op)}
    assert len(takes_files) >= 6, takes_files
    assert takes_files == {p for p in limits.UPLOAD_ROUTES if p.startswith("/api")}
    assert not limits.is_upload("POST", "/api/session") and not limits.is_upload("POST", "/api/cases/x/plan")
    assert limits.is_upload("POST", "/console/cases/x/do/results")
