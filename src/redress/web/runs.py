"""Case directories uploaded as zip files, and computation runs in the background with progress.

A run is process-local (a thread); its outcome is kept on disk beside the case (``results.csv``,
``summary.json``) and in the audit log, so nothing depends on the process that computed it.
"""

from __future__ import annotations

import errno
import json
import stat
import threading
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath

from redress import ids
from redress.admin.errors import BadInput

MAX_ZIP_BYTES = 2 * 1024**3
MAX_FILES = 64
MAX_NAME_CHARS = 128          # a file name in a case directory; the file system's limit is 255 bytes
MAX_DIRECTORY_BYTES = 1024**2   # the zip's central directory: 64 files need a few kilobytes
STEPS = 8
_UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError,
               RuntimeError, ValueError, OSError)


def unpack_case(archive: Path, dest: Path, *, max_bytes: int = MAX_ZIP_BYTES,
                max_files: int = MAX_FILES) -> Path:
    """Extract a zipped case directory safely into ``dest`` (created here).  ``case.toml`` may be at the top
    or inside one folder; the files beside it are the case directory (it is flat).

    Refused with ``BadInput``: what is not a readable zip; absolute names, ``..``, backslashes, control
    characters, links and names longer than ``MAX_NAME_CHARS``; more than ``max_files`` files; more than
    ``max_bytes`` unpacked, whether the zip declares it or only its data holds it (a zip bomb, or a member
    whose stated size is understated: its checksum then fails).  On refusal ``dest`` is left for the caller
    to remove with the rest of the upload."""
    try:
        _check_directory(archive, max_files)
        with zipfile.ZipFile(archive) as z:
            return _extract(z, dest, max_bytes, max_files)
    except BadInput:
        raise
    except _UNREADABLE as exc:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise                                 # the server's disk is full: not the zip's fault
        raise BadInput(f"the zip cannot be read ({type(exc).__name__}) / zip文件无法读取") from None


def _check_directory(archive: Path, max_files: int) -> None:
    """Refuse, before reading it, a central directory far larger than a case directory needs (a zip of a
    million empty entries would otherwise be loaded whole into memory)."""
    with archive.open("rb") as f:
        end = zipfile._EndRecData(f)  # noqa: SLF001 - the standard library's own reader of the end record
    if end is None:
        raise BadInput("the upload is not a zip file / 上传文件不是zip格式")
    entries, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]  # noqa: SLF001
    if entries > 4 * max_files + 64 or size > MAX_DIRECTORY_BYTES:
        raise BadInput(f"the zip holds {entries:,} entries; a case directory has at most {max_files} files "
                       f"/ zip中文件过多")


def _safe_name(name: str) -> PurePosixPath:
    if "\\" in name or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise BadInput(f"unsafe name in the zip: {name[:MAX_NAME_CHARS]!r} / zip中含有不安全的文件名")
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or name.startswith("/"):
        raise BadInput(f"unsafe path in the zip: {name[:MAX_NAME_CHARS]!r} / zip中含有不安全的路径")
    if any(len(part) > MAX_NAME_CHARS or len(part.encode("utf-8")) > 255 for part in path.parts):
        raise BadInput(f"a name in the zip is longer than {MAX_NAME_CHARS} characters: {name[:40]!r}... "
                       f"/ zip中文件名过长")
    return path


def _extract(z: zipfile.ZipFile, dest: Path, max_bytes: int, max_files: int) -> Path:
    infos = z.infolist()
    for m in infos:
        _safe_name(m.filename)
        if stat.S_ISLNK(m.external_attr >> 16):
            raise BadInput(f"the zip holds a link ({m.filename[:MAX_NAME_CHARS]!r}); a case directory holds "
                           f"files only / zip中不得含有链接")
    members = [m for m in infos if not m.is_dir()]
    if len(members) > max_files:
        raise BadInput(f"the zip holds {len(members)} files; a case directory has at most {max_files} "
                       f"/ zip中文件过多")
    if sum(m.file_size for m in members) > max_bytes:
        raise BadInput(f"the zip would unpack to more than {max_bytes:,} bytes / zip解压后超过上限")
    tomls = [m for m in members if PurePosixPath(m.filename).name == "case.toml"]
    if len(tomls) != 1:
        raise BadInput("the zip must contain exactly one case.toml / zip中须有且仅有一个case.toml")
    root = PurePosixPath(tomls[0].filename).parent
    chosen: dict[str, zipfile.ZipInfo] = {}
    for m in members:
        path = PurePosixPath(m.filename)
        rel = path.relative_to(root) if path.is_relative_to(root) else None
        if rel is None or len(rel.parts) != 1:
            continue           # a case directory is flat
        if rel.name in chosen:
            raise BadInput(f"the zip holds {rel.name} twice / zip中文件重复")
        chosen[rel.name] = m
    dest.mkdir(parents=True)
    written = 0
    for name, m in chosen.items():
        with z.open(m) as src, ids.inside(dest, name).open("wb") as out:
            while chunk := src.read(1024 * 1024):
                written += len(chunk)
                if written > max_bytes:          # counted, whatever the zip declares
                    raise BadInput(f"the zip would unpack to more than {max_bytes:,} bytes / zip解压后超过上限")
                out.write(chunk)
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
        from redress.engine.pipeline import prepare
        from redress.engine.statements import compute_case_results
        from redress.engine.summary import summarize
        from redress.errors import CaseError

        def step(message: str) -> None:
            run.step = message
            run.steps_done = min(run.steps_done + 1, STEPS - 1)

        try:
            prep = prepare(run.case_dir, progress=step, keep_trade_columns=False)
            result = compute_case_results(prep, progress=step)
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
