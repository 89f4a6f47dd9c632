"""Running the README's commands the way a user types them: each ``redress ...`` its own process, in a
working directory of its own, against a database named by ``REDRESS_DATABASE_URL`` that nothing but
``redress db init`` has touched.  Amounts are checked in integer fen, parsed from what the commands print or
write."""

from __future__ import annotations

import csv
import os
import re
import resource
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from sqlalchemy import create_engine, text

REDRESS = Path(sys.prefix) / "bin" / "redress"
PG_SERVER = os.environ.get("REDRESS_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
STEP_TIMEOUT_S = 300


# -- money, as people write it -------------------------------------------------------------------------------

def fen(text_: str) -> int:
    """``"1,234.5"`` -> 123450.  Exact (no float)."""
    m = re.fullmatch(r"(-?)(\d+)(?:\.(\d{1,2}))?", text_.strip().replace(",", ""))
    assert m, f"not an amount: {text_!r}"
    sign, whole, cents = m.groups()
    value = int(whole) * 100 + int((cents or "0").ljust(2, "0"))
    return -value if sign else value


def yuan(value: int, grouping: bool = False) -> str:
    sign = "-" if value < 0 else ""
    whole, cents = divmod(abs(value), 100)
    return f"{sign}{whole:,}.{cents:02d}" if grouping else f"{sign}{whole}.{cents:02d}"


def largest_remainder(total: int, weights: dict[str, int]) -> dict[str, int]:
    """``total`` fen split in proportion to ``weights`` (Hamilton, as docs/administration.md describes it:
    floors, then one fen each to the largest remainders; ties to the larger weight, then the smaller id)."""
    whole = sum(weights.values())
    exact = {k: Fraction(total * w, whole) for k, w in weights.items()}
    out = {k: int(v) for k, v in exact.items()}
    left = total - sum(out.values())
    for k in sorted(weights, key=lambda k: (-(exact[k] - out[k]), -weights[k], k))[:left]:
        out[k] += 1
    return out


# -- files, as the user writes and reads them ----------------------------------------------------------------

def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def one_line(output: str) -> str:
    """Output with Rich's line wrapping and table rules folded away, for substring checks."""
    return " ".join(re.sub(r"[│┃┏┓┗┛┡┩└┘╭╮╰╯━─═╇╈┼┬┴├┤]", " ", output).split())


# -- the database: empty, as `redress db init` expects it ----------------------------------------------

@contextmanager
def empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with no tables at all: a SQLite file that does not exist yet, or a new, empty
    PostgreSQL schema (in the README's ``postgresql://`` spelling), dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'redress.sqlite3'}"
        return
    schema = "readme_" + uuid.uuid4().hex[:16]
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    server = PG_SERVER.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        yield f"{server}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


# -- the user at the terminal --------------------------------------------------------------------------------

@dataclass
class Step:
    command: str
    code: int
    seconds: float          # wall clock
    cpu_seconds: float      # user + system time of the process
    output: str


@dataclass
class Terminal:
    """A shell in ``cwd`` with ``REDRESS_DATABASE_URL`` and ``REDRESS_USER`` exported; ``redress(...)`` runs
    one command in a fresh process and checks its exit status and that nothing crashed."""

    cwd: Path
    url: str
    user: str
    steps: list[Step] = field(default_factory=list)

    def env(self, user: str | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("REDRESS_")}
        env.update({"REDRESS_DATABASE_URL": self.url, "REDRESS_USER": user or self.user,
                    "COLUMNS": "240", "LINES": "100", "TERM": "dumb", "NO_COLOR": "1",
                    "PYTHONIOENCODING": "utf-8"})
        return env

    def redress(self, *args: object, code: int = 0, user: str | None = None) -> str:
        """Run ``redress ARGS`` (with ``REDRESS_USER=user`` when given); return stdout + stderr."""
        argv = [str(REDRESS), *map(str, args)]
        shown = "redress " + " ".join(shlex.quote(str(a)) for a in args)
        if user:
            shown = f"REDRESS_USER={user} {shown}"
        started, cpu = time.perf_counter(), _children_cpu()
        res = subprocess.run(argv, cwd=self.cwd, env=self.env(user), capture_output=True, text=True,
                             encoding="utf-8", timeout=STEP_TIMEOUT_S, check=False)
        output = res.stdout + res.stderr
        self.steps.append(Step(shown, res.returncode, time.perf_counter() - started, _children_cpu() - cpu,
                               output))
        detail = f"\n$ {shown}\n(exit {res.returncode}, expected {code})\n{output}"
        assert "Traceback" not in output, f"a crash, not an answer:{detail}"
        assert res.returncode == code, f"unexpected exit status:{detail}"
        return output

    def refused(self, *args: object, user: str | None = None, code: int = 2) -> str:
        """A command that must be refused cleanly (exit 2 by default, a message, no traceback)."""
        out = self.redress(*args, code=code, user=user)
        assert out.strip(), f"refused without a word: redress {' '.join(map(str, args))}"
        return out

    def timings(self) -> str:
        slow = sorted(self.steps, key=lambda s: -s.seconds)[:8]
        wall, cpu = sum(s.seconds for s in self.steps), sum(s.cpu_seconds for s in self.steps)
        return (f"{len(self.steps)} commands, {wall:.1f} s wall, {cpu:.1f} s CPU; slowest: "
                + "; ".join(f"{s.seconds:.1f} s ({s.cpu_seconds:.1f} s CPU) {s.command[:70]}" for s in slow))


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def grab(pattern: str, output: str, what: str = "") -> re.Match:
    """The first match of ``pattern`` in ``output`` (whitespace folded), or a failure showing the output."""
    m = re.search(pattern, one_line(output))
    assert m, f"{what or pattern!r} not found in:\n{output}"
    return m
