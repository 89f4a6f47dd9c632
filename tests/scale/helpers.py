"""Shared helpers of the scale tests: small cases, the in-memory reference, bad rows written into a file."""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from redress.cli.main import app
from redress.engine.partition import PartitionOutcome, PartitionTask, run_partition
from redress.synth import generate_case

runner = CliRunner()


def small_case(directory: Path, *, n_trades: int = 3000, seed: int = 11, trades_format: str = "csv") -> Path:
    generate_case(directory, n_trades=n_trades, n_investors=max(1, n_trades // 15), seed=seed,
                  trades_format=trades_format)
    return directory


def cli(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def insert_lines(path: Path, after: dict[int, str]) -> None:
    """Insert text lines into a CSV file: ``after[n]`` goes after line n (1 is the header)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    out = []
    for n, line in enumerate(lines, 1):
        out.append(line)
        if n in after:
            out.append(after[n] + "\n")
    path.write_text("".join(out), encoding="utf-8")


def crash_first_attempt(marker_dir: Path, victim: str, task: PartitionTask) -> PartitionOutcome:
    """A partition task that kills its worker process the first time it runs ``victim`` (the marker file tells
    a later attempt that the crash already happened)."""
    marker = Path(marker_dir) / f"{task.name}.crashed"
    if task.name == victim and not marker.exists():
        marker.write_text(str(os.getpid()), encoding="utf-8")
        os._exit(1)
    return run_partition(task)
