"""Running `python -m adaptive_runner` as a real subprocess, and reading what it wrote."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

JOBS = Path(__file__).resolve().with_name("jobs.py")


def job(name: str) -> str:
    """The FUNCTION argument for a function of jobs.py, by absolute path."""
    return f"{JOBS}:{name}"


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "adaptive_runner", *map(str, args)]


def cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 60):
    """Run the command line to its end; returns the CompletedProcess (text output)."""
    return subprocess.run(
        command(*args),
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
    )


def start(*args: str, cwd: Path | None = None) -> subprocess.Popen:
    """Start the command line in the background (for signals)."""
    return subprocess.Popen(
        command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd
    )


def json_summary(result: subprocess.CompletedProcess) -> dict:
    """The one JSON object `--json` prints on stdout."""
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    summary = json.loads(lines[0])
    assert isinstance(summary, dict)
    return summary


def data_rows(path: Path) -> tuple[list[str], list[list]]:
    """Columns and rows of a `--output FILE.json`."""
    data = json.loads(path.read_text())
    return data["columns"], data["rows"]


def checkpoint_points(path: Path) -> list:
    """The points of the successful evaluations a checkpoint holds, in the order recorded."""
    from adaptive_runner import read_checkpoint

    return [row["point"] for row in read_checkpoint(path) if not row["failed"]]


def committed_rows(path: Path) -> int:
    """How many evaluations a checkpoint holds (0 while it does not exist yet)."""
    if not path.exists():
        return 0
    try:
        connection = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            return connection.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error:  # created but its tables not yet committed
        return 0


def wait_for_rows(process: subprocess.Popen, path: Path, rows: int, timeout: float = 30) -> int:
    """Wait until the checkpoint of a running process holds at least `rows` evaluations."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        found = committed_rows(path)
        if found >= rows:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{path} did not reach {rows} rows in {timeout} s")
