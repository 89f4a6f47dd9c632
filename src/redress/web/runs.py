"""Case directories uploaded as zip files, and computation runs in the background with progress.

A run is process-local (a thread); its outcome is kept on disk beside the case (``results.csv``,
``summary.json``) and in the audit log, so nothing depends on the process that computed it.
"""

from __future__ import annotations

import io
import json
import shutil
import threading
import uuid
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath

from redress.admin.errors import BadInput

MAX_ZIP_BYTES = 2 * 1024**3
MAX_FILES = 64
STEPS = 8


def unpack_case(data: bytes, dest: Path) -> Path:
    """Extract a zipped case directory safely (no absolute paths, no ``..``, bounded size) into ``dest``.
    ``case.toml`` may be at the top or inside one folder."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise BadInput("the upload is not a zip file / 上传文件不是zip格式") from None
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > MAX_FILES:
        raise BadInput(f"the zip holds {len(members)} files; a case directory has at most {MAX_FILES}")
    if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
        raise BadInput("the zip would unpack to more than 2 GiB")
    tomls = [m for m in members if PurePosixPath(m.filename).name == "case.toml"]
    if len(tomls) != 1:
        raise BadInput("the zip must contain exactly one case.toml / zip中须有且仅有一个case.toml")
    root = PurePosixPath(tomls[0].filename).parent
    dest.mkdir(parents=True, exist_ok=True)
    for m in members:
        path = PurePosixPath(m.filename)
        if path.is_absolute() or ".." in path.parts:
            raise BadInput(f"unsafe path in the zip: {m.filename}")
        try:
            rel = path.relative_to(root)
        except ValueError:
            continue
        if len(rel.parts) != 1:
            continue           # a case directory is flat
        with archive.open(m) as src, (dest / rel.name).open("wb") as out:
            shutil.copyfileobj(src, out)
    return dest


@dataclass
class Run:
    id: str
    case_id: str
    case_dir: Path
    status: str = "running"
    step: str = "queued"
    steps_done: int = 0
    error: str | None = None
    investors: int | None = None
    compensation_fen: int | None = None
    problems: list[str] = field(default_factory=list)


class Runs:
    """The computation runs of this process."""

    def __init__(self) -> None:
        self._runs: dict[str, Run] = {}
        self._lock = threading.Lock()

    def get(self, run_id: str) -> Run | None:
        with self._lock:
            return self._runs.get(run_id)

    def start(self, case_id: str, case_dir: Path, on_done=None) -> Run:
        run = Run(uuid.uuid4().hex[:12], case_id, case_dir)
        with self._lock:
            self._runs[run.id] = run
        threading.Thread(target=self._work, args=(run, on_done), daemon=True, name=f"run-{run.id}").start()
        return run

    def _work(self, run: Run, on_done) -> None:
        from redress.engine.pipeline import compute, prepare
        from redress.engine.summary import summarize
        from redress.errors import CaseError

        def step(message: str) -> None:
            run.step = message
            run.steps_done = min(run.steps_done + 1, STEPS - 1)

        try:
            prep = prepare(run.case_dir, progress=step, keep_trade_columns=False)
            result = compute(prep, progress=step)
            step("writing results")
            result.write(run.case_dir / "results.csv")
            summary = summarize(result.table, result.compensation_fen)
            (run.case_dir / "summary.json").write_text(json.dumps(summary.as_dict(), ensure_ascii=False),
                                                       encoding="utf-8")
            run.investors = int(result.table.filter(result.table["compensation"] > 0)["investor_id"].n_unique())
            run.compensation_fen = int(result.compensation_fen.sum())
            run.status, run.step, run.steps_done = "done", "done", STEPS
            if on_done:
                on_done(run)
        except CaseError as exc:
            run.status, run.error = "failed", "the case has problems"
            run.problems = [str(p) for p in exc.problems[:50]]
        except Exception as exc:  # noqa: BLE001 - reported on the run, never lost
            run.status, run.error = "failed", f"{type(exc).__name__}: {exc}"


@lru_cache(maxsize=4)
def _prepared(case_dir: str, stamp: float):
    from redress.engine.pipeline import prepare

    return prepare(Path(case_dir))


def prepared(case_dir: Path):
    """The case prepared for explanations, cached per case directory while its files are unchanged."""
    stamp = max(p.stat().st_mtime for p in case_dir.iterdir())
    return _prepared(str(case_dir), stamp)
