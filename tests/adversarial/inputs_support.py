"""Hostile input typed at the real ``redress`` command: each command its own process, on a SQLite database of
its own in the test's folder.  A refusal must be one clear line on stderr, a non-zero exit, no traceback, and
leave every table exactly as it was (``snapshot``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from redress import exports

REDRESS = Path(sys.prefix) / "bin" / "redress"
REPO = Path(__file__).resolve().parents[2]
LEGAL_A = REPO / "tests" / "legal" / "cases" / "a_worked_example_section_8"
CASE_ID = "legal-a"
OFFERS = {"A": 1_000_00, "B": 2_500_50, "C": 99}        # fen
FORMULA = "=cmd|' /C calc'!A0"
HOSTILE = (FORMULA, '=HYPERLINK("http://evil.example/refund","退款 refund")', "+1+cmd|' /C calc'!A0",
           "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "＝1+1")
RESULT_HEADER = ("investor_id,security,status,flags,eligible_bought,q_sold,q_held,avg_buy,avg_sell,"
                 "base_price,difference_loss,systemic_deduction,net_loss,commission,stamp_duty,interest,"
                 "compensation")


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def results_text(offers: dict[str, int], compensation: dict[str, str] | None = None) -> str:
    """A results file as ``redress compute`` writes it: one security, the given compensation per investor."""
    lines = [RESULT_HEADER]
    for inv, fen in offers.items():
        comp = (compensation or {}).get(inv, yuan(fen))
        quoted = '"' + inv.replace('"', '""') + '"'      # as written, whatever it holds
        lines.append(f"{quoted},600123,eligible,,100,0,100,10.0000,,8.0000,{comp},0.00,{comp},0.00,0.00,0.00,"
                     f"{comp}")
    return "\n".join(lines) + "\n"


def write_results(path: Path, offers: dict[str, int], compensation: dict[str, str] | None = None) -> Path:
    path.write_bytes(results_text(offers, compensation).encode("utf-8"))
    return path


@dataclass
class Cli:
    """The ``redress`` command on one SQLite database, run as a person would (a process per command)."""

    root: Path

    @property
    def db(self) -> Path:
        return self.root / "redress.sqlite3"

    def run(self, *args: str, user: str = "alice") -> subprocess.CompletedProcess:
        env = {**os.environ, "REDRESS_DATABASE_URL": f"sqlite:///{self.db}", "REDRESS_USER": user,
               "COLUMNS": "1000", "NO_COLOR": "1", "TERM": "dumb"}
        env.pop("REDRESS_AUDIT_KEY_FILE", None)
        return subprocess.run([str(REDRESS), *args], cwd=self.root, env=env, capture_output=True, text=True,
                              timeout=300)

    @property
    def agreement_sha(self) -> str:
        return (self.root / "agreement.sha256").read_text(encoding="utf-8")

    def ok(self, *args: str, user: str = "alice") -> str:
        res = self.run(*args, user=user)
        assert res.returncode == 0, \
            f"redress {' '.join(args)} -> {res.returncode}\n{res.stdout}\n{res.stderr}"
        return res.stdout

    def refused(self, *args: str, user: str = "alice", lines: int | None = 1) -> str:
        """Run a command that must be refused: non-zero exit, no traceback, nothing changed; with ``lines``
        the error is exactly that many lines.  Returns the error text."""
        before = snapshot(self.db)
        res = self.run(*args, user=user)
        both = res.stdout + res.stderr
        assert res.returncode != 0, f"redress {' '.join(args)} was accepted:\n{both}"
        assert "Traceback" not in both and not re.search(r"\b[A-Z]\w*(Error|Exception)\b", both), both
        said = [line for line in res.stderr.splitlines() if line.strip()]
        assert said, f"redress {' '.join(args)} said nothing on stderr:\n{both}"
        if lines is not None:
            assert len(said) == lines, f"expected {lines} line(s), got:\n{res.stderr}"
        assert snapshot(self.db) == before, f"redress {' '.join(args)} changed the database"
        return "\n".join(said)


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: equal snapshots mean nothing changed."""
    if not db.exists():
        return {}
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: sorted(con.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
    finally:
        con.close()


def build(root: Path, stage: str) -> Cli:
    """A database taken to ``stage`` through the real command.  ``draft``: users alice (operator), bob
    (approver), case legal-a with payer sponsor.  ``open``: legal-a paid in, plan approved, agreement v1,
    claims open for ``OFFERS``, A's acceptance paid in batch 1 (released, exported to ``pay/``); and a second
    case c2 with its fund established (``case2/case.toml``), ready for a plan."""
    root.mkdir(parents=True, exist_ok=True)
    cli = Cli(root)
    cli.ok("db", "init", "--admin", "root", user="root")
    cli.ok("user", "add", "alice", "--role", "operator", user="root")
    cli.ok("user", "add", "bob", "--role", "approver", user="root")
    cli.ok("case", "create", CASE_ID, "--name", "Worked example 示例")
    cli.ok("payer", "add", CASE_ID, "sponsor", "--name", "Sponsor 保荐机构", "--role", "sponsor",
           "--committed", "20000")
    if stage == "draft":
        return cli
    case_dir = root / "case"
    case_dir.mkdir()
    shutil.copy(LEGAL_A / "case.toml", case_dir / "case.toml")
    results = write_results(root / "results.csv", OFFERS)
    cli.ok("fund", "contribute", CASE_ID, "--payer", "sponsor", "--amount", "20000", "--ref", "B1",
           "--on", "2023-01-05")
    cli.ok("fund", "establish", CASE_ID)
    out = cli.ok("plan", "propose", CASE_ID, "--case-dir", str(case_dir), "--results", str(results),
                 "--open-on", "2023-02-01", "--deadline", "2023-03-01", "--no-recompute")
    cli.ok("approval", "approve", out.split("#")[1].split(":")[0], user="bob")
    (root / "agreement.txt").write_text("和解协议 v1", encoding="utf-8")
    out = cli.ok("plan", "agreement", CASE_ID, "--version", "v1", "--file", str(root / "agreement.txt"))
    (root / "agreement.sha256").write_text(out.split("sha256 ")[1].split()[0], encoding="utf-8")
    cli.ok("claims", "open", CASE_ID, "--results", str(results))
    cli.ok("claims", "decide", CASE_ID, "A", "--accept", "--key", "form-A", "--on", "2023-02-03", "--channel",
           "online", "--agreement-version", "v1", "--agreement-sha256", cli.agreement_sha)
    out = cli.ok("pay", "batch", CASE_ID, "--on", "2023-02-05")
    cli.ok("approval", "approve", out.split("approval approve ")[1].split("`")[0], user="bob")
    cli.ok("pay", "export", CASE_ID, "1", "--out", str(root / "pay"))
    cli.ok("case", "create", "c2", "--name", "Second case 第二案")
    cli.ok("payer", "add", "c2", "p", "--name", "P", "--role", "sponsor")
    cli.ok("fund", "contribute", "c2", "--payer", "p", "--amount", "100", "--ref", "C2-1",
           "--on", "2023-01-05")
    cli.ok("fund", "establish", "c2")
    (root / "case2").mkdir()
    (root / "case2" / "case.toml").write_text((LEGAL_A / "case.toml").read_text(encoding="utf-8")
                                              .replace('"legal-a"', '"c2"'), encoding="utf-8")
    return cli


def copy_of(template: Cli, root: Path) -> Cli:
    """A fresh copy of a built database (and whatever lies beside it, such as the audit log's key file)."""
    shutil.copytree(template.root, root)
    return Cli(root)


def _template(tmp_path_factory, stage: str) -> Cli:
    """Each stage is built once per test session and copied for every test."""
    root = tmp_path_factory.getbasetemp() / f"inputs-{stage}"
    if not (root / ".built").exists():
        shutil.rmtree(root, ignore_errors=True)
        build(root, stage)
        (root / ".built").touch()
    return Cli(root)


@pytest.fixture
def draft(tmp_path_factory, tmp_path) -> Cli:
    return copy_of(_template(tmp_path_factory, "draft"), tmp_path / "w")


@pytest.fixture
def opened(tmp_path_factory, tmp_path) -> Cli:
    return copy_of(_template(tmp_path_factory, "open"), tmp_path / "w")


# -- what a spreadsheet would evaluate -----------------------------------------------------------------------

def evaluated(cell: str) -> bool:
    """Whether a spreadsheet would take this CSV cell for a formula (OWASP's leading characters, and the
    full-width forms); plain numbers such as -12.50 are numbers, not formulas."""
    return bool(cell) and cell[0] in exports.FORMULA_LEADS and not exports._NUMBER_RE.fullmatch(cell)


def csv_cells(data: bytes | str) -> list[list[str]]:
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return list(csv.reader(io.StringIO(text, newline="")))


def assert_no_formula(rows: list[list[str]], where: str) -> None:
    bad = [(i, j, c) for i, row in enumerate(rows) for j, c in enumerate(row) if evaluated(c)]
    assert not bad, f"{where}: cells a spreadsheet would evaluate: {bad[:5]}"


def xlsx_cells(path_or_bytes: Path | bytes) -> list[tuple[str, str | None, str, bool]]:
    """Every cell of a workbook: (reference, type attribute, value text, has a formula)."""
    data = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        strings = z.read("xl/sharedStrings.xml").decode()
        shared = re.findall(r"<si>(?:<t[^>]*>(.*?)</t>|<r>.*?</r>)</si>", strings)
        out = []
        for name in sorted(n for n in z.namelist() if n.startswith("xl/worksheets/sheet")):
            xml = z.read(name).decode()
            for ref, attrs, body in re.findall(r'<c r="([A-Z]+[0-9]+)"([^>]*?)(?:/>|>(.*?)</c>)', xml):
                kind = re.search(r' t="(\w+)"', attrs)
                value = re.search(r"<v>(.*?)</v>", body or "")
                text = value.group(1) if value else ""
                if kind and kind.group(1) == "s":
                    text = _unescape(shared[int(text)])
                out.append((ref, kind.group(1) if kind else None, text, "<f>" in (body or "")))
        return out


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
            .replace("_x0009_", "\t").replace("_x000D_", "\r").replace("_x000A_", "\n"))


def today_plus(days: int) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()
