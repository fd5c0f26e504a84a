"""Ctrl-C in a batch script: a clean stop, everything kept, a summary, exit status 130.

Each test runs a real script in its own process group and interrupts it the way a terminal
does: SIGINT to the whole group (the script and its loky workers) once the checkpoint shows the
run is under way.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adaptive_runner import Learner1D, read_checkpoint

JOB = Path(__file__).with_name("interrupt_job.py")


def _rows(checkpoint: Path) -> int:
    if not checkpoint.exists():
        return 0
    try:
        with sqlite3.connect(checkpoint) as db:
            return db.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not created yet
        return 0


def run_and_interrupt(
    tmp_path, runner, executor, *, save=True, catch=False, min_rows=20, python_options=()
):
    checkpoint = tmp_path / "run.sqlite"
    saved = tmp_path / "learner.pickle"
    args = [runner, executor, str(checkpoint), str(saved) if save else "-"]
    args.append("catch" if catch else "raise")
    process = subprocess.Popen(
        [sys.executable, *python_options, str(JOB), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a job in a terminal
    )
    try:
        deadline = time.monotonic() + 60
        while _rows(checkpoint) < min_rows:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the job did not get going"
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    return process.returncode, stdout, stderr, checkpoint, saved


def _summary_points(stderr: str) -> int:
    match = re.search(r"run interrupted after .*\n  points: (\d+) \|", stderr)
    assert match, stderr
    return int(match.group(1))


def _check_checkpoint(checkpoint: Path, npoints: int) -> int:
    """Check the checkpoint against the points told; returns its number of rows."""
    with sqlite3.connect(checkpoint) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = read_checkpoint(checkpoint)
    good = [row["point"] for row in rows if not row["failed"]]
    assert len(good) == len(set(good)) == npoints  # every told point committed, once
    # Failed rows are possible: Ctrl-C reaches the loky workers too, and one that was idle dies
    # of it, breaking the pool (a WorkerDiedError, recorded, for a point lost with it)
    for row in rows:
        assert not row["failed"] or "WorkerDiedError" in row["traceback"], row["traceback"]
    return len(rows)


@pytest.mark.parametrize(("runner", "executor"), [("async", "loky"), ("blocking", "sequential")])
def test_ctrl_c_stops_cleanly_saves_prints_a_summary_and_exits_130(tmp_path, runner, executor):
    save = runner == "async"
    returncode, _stdout, stderr, checkpoint, saved = run_and_interrupt(
        tmp_path, runner, executor, save=save
    )
    assert returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    npoints = _summary_points(stderr)
    assert npoints >= 20
    n_rows = _check_checkpoint(checkpoint, npoints)
    assert f"checkpoint: {checkpoint} ({n_rows} evaluations committed" in stderr
    if save:  # periodic saving's final save happened after the stop (its interval is 1 h)
        assert f"saved: {saved}" in stderr
        learner = Learner1D(abs, (-1, 1))
        learner.load(saved)
        assert learner.npoints == npoints
        assert not learner.pending_points


def test_ctrl_c_is_still_a_keyboard_interrupt_for_code_that_catches_it(tmp_path):
    returncode, stdout, stderr, checkpoint, _ = run_and_interrupt(
        tmp_path, "async", "loky", save=False, catch=True
    )
    assert returncode == 0, stderr
    npoints = _summary_points(stderr)
    assert f"caught RunInterrupted npoints={npoints}" in stdout
    _check_checkpoint(checkpoint, npoints)


def test_an_interrupted_run_resumes_from_its_checkpoint(tmp_path):
    returncode, _, stderr, checkpoint, _ = run_and_interrupt(tmp_path, "async", "loky", save=False)
    assert returncode == 130
    first = _summary_points(stderr)
    # interrupt the resumed run too: it starts from the first run's points, and adds to them
    returncode, _, stderr, _, _ = run_and_interrupt(
        tmp_path, "blocking", "loky", save=False, min_rows=first + 20
    )
    assert returncode == 130, stderr
    second = _summary_points(stderr)
    assert second >= first + 20
    _check_checkpoint(checkpoint, second)


def test_in_an_interactive_session_ctrl_c_is_a_plain_keyboard_interrupt(tmp_path):
    # python -i: after the script the REPL takes over (and ends at once: stdin is empty). The
    # session must survive the interrupt, so no SystemExit(130): a KeyboardInterrupt traceback,
    # then the REPL's prompt. (At the end Python re-raises the unhandled SIGINT on itself, as it
    # does for any KeyboardInterrupt: hence -SIGINT, not status 130.)
    returncode, _, stderr, checkpoint, _ = run_and_interrupt(
        tmp_path, "async", "loky", save=False, python_options=("-i",)
    )
    npoints = _summary_points(stderr)
    assert "KeyboardInterrupt: adaptive_runner: run interrupted" in stderr
    assert stderr.rstrip().endswith(">>>")  # the session went on to its prompt
    assert returncode == -signal.SIGINT, stderr
    _check_checkpoint(checkpoint, npoints)
