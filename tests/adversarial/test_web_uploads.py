"""Attacks through the console's case upload, over real HTTP: case ids and zip names that point outside the data
folder, zip bombs, zips that lie about their sizes, names too long for the file system, and uploads too large.
Every refusal answers 4xx (never 500) and leaves nothing behind: no staging folder, no saved upload."""

from __future__ import annotations

import io
import os
import re
import time
import uuid
import zipfile
from pathlib import Path

import httpx
import pytest
from web.websupport import http_session, served, small_case

UPLOAD_LIMIT = 2 * 1024 * 1024          # what these tests configure: small, so that passing it is cheap
UNPACKED_LIMIT = 8 * 1024 * 1024


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    return small_case(tmp_path_factory.mktemp("synth"), seed=3, name="upload attacks")


@pytest.fixture(scope="module")
def site(tmp_path_factory, synth):
    with served(tmp_path_factory.mktemp("site"), synth, max_upload_bytes=UPLOAD_LIMIT,
                max_unpacked_bytes=UNPACKED_LIMIT) as (w, server):
        yield w, server.base_url, http_session(server.base_url, "op")


def case_files(synth: Path, case_id: str) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in synth.iterdir() if p.name != "results.csv"}
    toml = files["case.toml"].decode()
    files["case.toml"] = re.sub(r'(?m)^id = ".*"$', lambda _m: f'id = "{case_id}"', toml, count=1).encode()
    return files


def zipped(files: dict[str, bytes], folder: str = "case") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(f"{folder}/{name}" if folder else name, data)
    return buf.getvalue()


def everything(w) -> set[str]:
    """Every path under the data folder, and the upload folder's entries."""
    return {str(p.relative_to(w.app.state.data_dir)) for p in w.app.state.data_dir.rglob("*")}


def upload(base: str, who: dict, data: bytes, **kw) -> httpx.Response:
    return httpx.post(f"{base}/api/cases", headers=who, files={"case_zip": ("case.zip", data, "application/zip")},
                      timeout=60, **kw)


def refused(site, data: bytes, status: int) -> httpx.Response:
    """Upload ``data``; it must be refused with ``status`` and leave the data folder as it was."""
    w, base, op = site
    before = everything(w)
    r = upload(base, op, data)
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert "Traceback" not in r.text and 'File "' not in r.text
    assert everything(w) == before, everything(w) ^ before
    assert not any(w.app.state.uploads_dir.iterdir())
    return r


# -- where the files go --------------------------------------------------------------------------------------

@pytest.mark.parametrize("make_id", [lambda root: f"../../../../outside-{uuid.uuid4().hex[:8]}",
                                     lambda root: str(root / f"absolute-{uuid.uuid4().hex[:8]}"),
                                     lambda root: f"..\\..\\windows-{uuid.uuid4().hex[:8]}",
                                     lambda root: "cases/../../nested"],
                         ids=["dot-dot", "absolute", "backslashes", "nested"])
def test_a_case_id_cannot_write_outside_the_data_folder(site, synth, make_id):
    w, _base, _op = site
    root = w.app.state.data_dir.parent
    case_id = make_id(root)
    target = (w.app.state.data_dir / "cases" / case_id).resolve()
    r = refused(site, zipped(case_files(synth, case_id)), 422)
    assert not target.exists(), target
    assert not list(root.glob("outside-*")) and not list(root.glob("absolute-*"))
    assert "id" in r.json()["detail"] or r.json().get("problems")


@pytest.mark.parametrize("name", ["../../escaped.csv", "/tmp/escaped-abs.csv", "case/../../escaped.csv",
                                  "case\\..\\..\\escaped.csv", "case/bad\x01name.csv"])
def test_zip_member_names_stay_inside_the_upload(site, synth, name):
    w, _base, _op = site
    files = {f"case/{k}": v for k, v in case_files(synth, f"member-{uuid.uuid4().hex[:8]}").items()}
    files[name] = b"investor_id\n"
    refused(site, zipped(files, folder=""), 422)
    root = w.app.state.data_dir.parent
    assert not list(root.rglob("escaped*")) and not Path("/tmp/escaped-abs.csv").exists()


# -- zips that lie or explode --------------------------------------------------------------------------------

def test_a_zip_bomb_is_refused(site, synth):
    files = case_files(synth, f"bomb-{uuid.uuid4().hex[:8]}")
    files["trades.csv"] += b"0" * (UNPACKED_LIMIT + 1)          # compresses to a few kilobytes
    data = zipped(files)
    assert len(data) < UPLOAD_LIMIT // 8
    r = refused(site, data, 422)
    assert "unpack" in r.json()["detail"]


def understated(files: dict[str, bytes], member: str, stated: int) -> bytes:
    """A zip whose central directory states ``stated`` bytes for ``member`` (its data holds more)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(f"case/{name}", data)
        for info in z.infolist():
            if info.filename == f"case/{member}":
                info.file_size = stated                     # written into the central directory on close
    return buf.getvalue()


def test_a_zip_that_understates_a_size_is_refused_not_a_crash(site, synth):
    files = case_files(synth, f"liar-{uuid.uuid4().hex[:8]}")
    files["trades.csv"] += b"0" * (UNPACKED_LIMIT * 2)
    refused(site, understated(files, "trades.csv", 100), 422)


def test_a_file_name_too_long_for_the_disk_is_refused_not_a_crash(site, synth):
    files = case_files(synth, f"long-{uuid.uuid4().hex[:8]}")
    files["x" * 300 + ".csv"] = b"a,b\n"
    r = refused(site, zipped(files), 422)
    assert "long" in r.json()["detail"]


def test_too_many_entries_are_refused_before_the_directory_is_read(site, synth):
    files = case_files(synth, f"many-{uuid.uuid4().hex[:8]}")
    files.update({f"e{i}.csv": b"" for i in range(5000)})
    refused(site, zipped(files), 422)


@pytest.mark.parametrize("data", [b"not a zip at all", b"PK\x03\x04" + b"\x00" * 200, b""],
                         ids=["text", "truncated", "empty"])
def test_what_is_not_a_zip_is_refused(site, data):
    refused(site, data, 422)


def test_a_case_directory_with_problems_is_refused(site, synth):
    files = case_files(synth, f"broken-{uuid.uuid4().hex[:8]}")
    files["case.toml"] = b"[case]\nid = 'x\n"                    # not TOML
    refused(site, zipped(files), 422)
    files = case_files(synth, f"broken-{uuid.uuid4().hex[:8]}")
    del files["case.toml"]
    refused(site, zipped(files), 422)


def test_a_second_upload_of_the_same_case_is_refused_and_leaves_nothing(site, synth):
    w, base, op = site
    case_id = f"dup-{uuid.uuid4().hex[:8]}"
    first = upload(base, op, zipped(case_files(synth, case_id)))
    assert first.status_code == 202, first.text
    deadline = time.monotonic() + 120
    while httpx.get(f"{base}/api/runs/{first.json()['id']}", headers=op).json()["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)                    # the computation writes beside the case; let it finish first
    assert (w.app.state.data_dir / "cases" / case_id / "case.toml").exists()
    refused(site, zipped(case_files(synth, case_id)), 409)
    assert not any(w.app.state.uploads_dir.iterdir())


# -- too large -----------------------------------------------------------------------------------------------

def test_an_upload_past_the_limit_is_refused_with_413(site, synth):
    files = case_files(synth, f"big-{uuid.uuid4().hex[:8]}")
    files["noise.bin"] = os.urandom(UPLOAD_LIMIT + 65536)        # does not compress: past the limit
    data = zipped(files)
    assert len(data) > UPLOAD_LIMIT
    r = refused(site, data, 413)
    assert "limit" in r.json()["detail"]


def test_a_chunked_upload_without_a_length_is_counted_and_refused(site):
    """No Content-Length: the body streams in chunks, and is cut off once past the limit."""
    w, base, op = site
    boundary = "redress-attack-boundary"
    sent = 0

    def body():
        nonlocal sent
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"case_zip\"; filename=\"c.zip\"\r\n"
               f"Content-Type: application/zip\r\n\r\n").encode()
        chunk = b"\x00" * 65536
        for _ in range(UPLOAD_LIMIT * 4 // len(chunk)):
            sent += len(chunk)
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    before = everything(w)
    headers = dict(op, **{"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        r = httpx.post(f"{base}/api/cases", headers=headers, content=body(), timeout=60)
    except httpx.TransportError:
        r = None                           # the server may close before the client has sent everything
    if r is not None:
        assert r.status_code == 413, (r.status_code, r.text[:300])
        assert "Traceback" not in r.text
    assert everything(w) == before and not any(w.app.state.uploads_dir.iterdir())


def test_before_sign_in_a_large_upload_is_refused_unread(site, synth):
    _w, base, _op = site
    data = zipped(case_files(synth, "anonymous")) + b"\x00" * (256 * 1024)
    r = httpx.post(f"{base}/api/cases", files={"case_zip": ("c.zip", data, "application/zip")}, timeout=60)
    assert r.status_code == 413, r.status_code
    assert r.json()["limit_bytes"] == 64 * 1024


def test_a_results_file_with_a_hostile_name_is_applied_under_a_plain_one(site):
    """The clearing system's results upload: a name that is a folder, too long, or a path does not crash it."""
    w, base, op = site
    for name in ("..", "x" * 300 + ".csv", "../../../etc/passwd", "a\x00b.csv"):
        r = httpx.post(f"{base}/api/cases/{w.case_id}/payment-results", headers=op, timeout=60,
                       files={"file": (name, b"instruction_id,status,amount,settled_on,reason\n", "text/csv")})
        assert r.status_code in (200, 409, 422), (name, r.status_code, r.text[:300])
        assert not any(w.app.state.uploads_dir.iterdir())


def test_the_console_form_reports_a_refused_upload_and_leaves_nothing(site, synth):
    w, base, op = site
    before = everything(w)
    r = httpx.post(f"{base}/console/cases", headers=dict(op, Accept="text/html"), timeout=60,
                   data={"csrf_token": op["X-CSRF-Token"]},
                   files={"case_zip": ("c.zip", zipped(case_files(synth, "../../console-escape")), "application/zip")})
    assert r.status_code == 303 and r.headers["location"] == "/console?msg=refused", (r.status_code, r.headers)
    assert everything(w) == before
    assert not (w.app.state.data_dir.parent / "console-escape").exists()
