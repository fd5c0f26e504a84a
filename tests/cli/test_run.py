"""`adaptive-runner run` as a real subprocess: every learner kind and goal kind, the exit codes
0, 1 and 130, plain status lines in a log, and resuming after a killed run."""

from __future__ import annotations

import json
import math
import os
import random
import re
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cli_helpers import (
    JOBS,
    checkpoint_points,
    cli,
    command,
    data_rows,
    job,
    json_summary,
    start,
    wait_for_rows,
)

import adaptive_runner as adaptive


def peak(x):
    return x + 0.01**2 / (0.01**2 + x**2)


def run_json(tmp_path, *args, **kwargs):
    """Run with --json --output out.json; returns the summary and the data rows."""
    output = tmp_path / "out.json"
    result = cli(*args, "--json", "--output", output, **kwargs)
    assert result.returncode == 0, result.stderr
    summary = json_summary(result)
    assert summary["exit_code"] == 0
    assert summary["status"] == "finished"
    assert summary["output"] == str(output)
    columns, rows = data_rows(output)
    return summary, columns, rows


# --- every learner kind runs to its goal ------------------------------------------------------


def test_learner_1d(tmp_path):
    summary, columns, rows = run_json(
        tmp_path, "run", job("peak"), "--bounds", "-1", "1", "--npoints-goal", "25",
        "--executor", "sequential",
    )  # fmt: skip
    assert summary["learner"] == "Learner1D"
    assert summary["npoints"] == 25
    assert summary["goal"] == "25 points"
    assert columns == ["x", "y"]
    assert len(rows) == 25
    assert {x for x, _ in rows} >= {-1.0, 1.0}  # the bounds are always evaluated
    for x, y in rows:
        assert -1 <= x <= 1
        assert y == pytest.approx(peak(x))


def test_learner_2d(tmp_path):
    summary, columns, rows = run_json(
        tmp_path, "run", job("ring"), "--learner", "2d", "--bounds", "-1", "1",
        "--bounds", "0", "2", "--npoints-goal", "30", "--executor", "sequential",
    )  # fmt: skip
    assert summary["learner"] == "Learner2D"
    assert summary["npoints"] == 30
    assert columns == ["x", "y", "z"]
    assert len(rows) == 30
    for x, y, z in rows:
        assert -1 <= x <= 1
        assert 0 <= y <= 2
        assert z == pytest.approx(math.exp(-((x**2 + y**2 - 0.5) ** 2) / 0.01))


def test_learner_nd(tmp_path):
    summary, columns, rows = run_json(
        tmp_path, "run", job("sphere"), "--learner", "nd", "--bounds", "-1", "1",
        "--bounds", "-1", "1", "--bounds", "0", "1", "--npoints-goal", "20",
        "--loss", "uniform", "--executor", "sequential",
    )  # fmt: skip
    assert summary["learner"] == "LearnerND"
    assert summary["npoints"] == 20
    assert columns == ["x0", "x1", "x2", "value"]
    assert len(rows) == 20
    for *point, value in rows:
        assert value == pytest.approx(sum(c**2 for c in point))
        assert 0 <= point[2] <= 1


def test_learner_average(tmp_path):
    # AverageLearner's loss is at most 1 once the tolerance is met
    summary, columns, rows = run_json(
        tmp_path, "run", job("noise"), "--learner", "average", "--atol", "0.02",
        "--loss-goal", "1", "--executor", "thread", "--ntasks", "2",
    )  # fmt: skip
    assert summary["learner"] == "AverageLearner"
    assert summary["loss"] <= 1
    assert columns == ["seed", "y"]
    assert len(rows) == summary["npoints"]
    ys = [y for _, y in rows]
    assert len(rows) >= 10  # std 0.1, atol 0.02: (0.1 / 0.02) ** 2 = 25 samples or so
    for seed, y in rows:
        assert y == random.Random(seed).gauss(1.0, 0.1)
    assert sum(ys) / len(ys) == pytest.approx(1.0, abs=0.1)


def test_learner_average1d(tmp_path):
    summary, columns, rows = run_json(
        tmp_path, "run", job("noisy_line"), "--learner", "average1d", "--bounds", "0", "1",
        "--npoints-goal", "4", "--executor", "sequential",
    )  # fmt: skip
    assert summary["learner"] == "AverageLearner1D"
    assert summary["npoints"] >= 4  # distinct x, each sampled many times
    assert columns[:2] == ["x", "y"]
    assert "nsamples" in columns
    assert len(rows) == summary["npoints"]
    nsamples = columns.index("nsamples")
    assert all(row[nsamples] >= 1 for row in rows)
    assert sum(row[nsamples] for row in rows) > len(rows)
    for row in rows:
        assert row[1] == pytest.approx(row[0], abs=0.05)  # the mean of x + small noise


def test_learner_integrator_stops_when_done(tmp_path):
    saved = tmp_path / "integral.pickle"
    result = cli(
        "run", job("cube"), "--learner", "integrator", "--bounds", "0", "1", "--tol", "1e-10",
        "--executor", "sequential", "--save", saved, "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json_summary(result)
    assert summary["status"] == "finished"
    assert summary["saved"] == str(saved)
    learner = adaptive.IntegratorLearner(lambda x: x**3, bounds=(0, 1), tol=1e-10)
    learner.load(saved)
    assert learner.npoints == summary["npoints"] > 0
    assert learner.done()
    assert learner.igral == pytest.approx(0.25, abs=1e-10)


def test_learner_sequence(tmp_path):
    points = tmp_path / "points.json"
    points.write_text(
        '[{"width": 1, "height": 2}, {"width": 3, "height": 4}, {"width": 5, "height": 0.5}]'
    )
    summary, columns, rows = run_json(
        tmp_path, "run", job("area"), "--learner", "sequence", "--points", points,
        "--executor", "thread",
    )  # fmt: skip
    assert summary["learner"] == "SequenceLearner"
    assert summary["npoints"] == 3
    assert columns == ["index", "point", "value"]
    assert rows == [
        [0, {"width": 1, "height": 2}, 2],
        [1, {"width": 3, "height": 4}, 12],
        [2, {"width": 5, "height": 0.5}, 2.5],
    ]


# --- function files and modules with the default executor, loky -------------------------------


def test_file_function_in_loky_workers(tmp_path):
    # run from another folder, so jobs.py is importable only through its own folder; the
    # workers read the SLURM array task id from the environment, as the README's script does
    summary, _, rows = run_json(
        tmp_path, "run", str(JOBS) + ":shifted_peak", "--bounds", "0", "2",
        "--npoints-goal", "30", "--ntasks", "2", cwd=tmp_path,
        env={"SLURM_ARRAY_TASK_ID": "1"},
    )  # fmt: skip
    assert summary["npoints"] >= 30  # results arriving after the goal are kept too
    assert len(rows) == summary["npoints"]
    for x, y in rows:
        assert y == pytest.approx(peak(x - 1))


def test_module_function_from_the_current_folder_in_loky_workers(tmp_path):
    summary, _, rows = run_json(
        tmp_path, "run", "jobs:peak", "--bounds", "-1", "1", "--npoints-goal", "20",
        "--ntasks", "2", cwd=JOBS.parent,
    )  # fmt: skip
    assert summary["function"] == "jobs:peak"
    assert len(rows) == summary["npoints"] >= 20
    for x, y in rows:
        assert y == pytest.approx(peak(x))


# --- every goal kind ---------------------------------------------------------------------------


def test_loss_goal(tmp_path):
    summary, _, rows = run_json(
        tmp_path, "run", job("peak"), "--bounds", "-1", "1", "--loss-goal", "0.05",
        "--executor", "sequential",
    )  # fmt: skip
    assert summary["loss"] <= 0.05
    assert summary["goal"] == "loss <= 0.05"
    assert len(rows) == summary["npoints"] > 10


@pytest.mark.parametrize(("duration", "seconds"), [("1.5s", 1.5), ("0h0m1s", 1.0)])
def test_duration_goal_with_plain_status_lines_in_a_log(tmp_path, duration, seconds):
    # stdout is a pipe (a cluster job's log): plain lines, no carriage returns or escapes
    result = cli(
        "run", job("slow_peak"), "--bounds", "-1", "1", "--duration-goal", duration,
        "--executor", "thread", "--ntasks", "2", "--status-interval", "0.2",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stdout
    assert "\x1b" not in result.stdout
    lines = result.stdout.splitlines()
    assert len(lines) >= 2  # periodic status lines and the final one, each on its own line
    assert all("points:" in line for line in lines)
    assert lines[-1].startswith("finished")
    assert f"goal: {seconds:g} s" in result.stderr
    assert "exit code: 0" in result.stderr
    assert "run finished after" in result.stderr


def test_end_time_goal(tmp_path):
    end = datetime.now() + timedelta(seconds=3)  # local time, no zone
    result = cli(
        "run", job("slow_peak"), "--bounds", "-1", "1", "--end-time", end.isoformat(),
        "--executor", "thread", "--ntasks", "2", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json_summary(result)
    assert summary["status"] == "finished"
    assert summary["goal"].startswith("until ")
    stopped_at = datetime.fromisoformat(summary["goal"][len("until ") :])
    assert stopped_at == end.replace(microsecond=0).astimezone()  # shown to the second
    assert datetime.now().astimezone() >= stopped_at  # it did not stop before the end time


# --- exit code 1: the function fails -----------------------------------------------------------


def test_failing_function_exits_1_with_the_point_and_traceback(tmp_path):
    output, saved = tmp_path / "out.json", tmp_path / "saved.pickle"
    result = cli(
        "run", job("fails_on_the_right"), "--bounds", "-1", "1", "--npoints-goal", "50",
        "--executor", "sequential", "--output", output, "--save", saved,
    )  # fmt: skip
    assert result.returncode == 1
    failed = re.search(r"the evaluation of point (\S+) failed", result.stderr)
    assert failed is not None, result.stderr
    point = float(failed.group(1).rstrip(":"))
    assert point > 0.5
    assert "Traceback (most recent call last)" in result.stderr
    assert f"RuntimeError: cannot evaluate at x={point}" in result.stderr
    assert 'jobs.py", line' in result.stderr  # the user's own frame is in the traceback
    assert "exit code: 1" in result.stderr
    # the data so far is kept: the output file and the saved learner exist and agree
    _, rows = data_rows(output)
    learner = adaptive.Learner1D(peak, bounds=(-1, 1))
    learner.load(saved)
    assert learner.npoints == len(rows) >= 1
    assert all(x <= 0.5 for x, _ in rows)


# --- exit code 130: Ctrl-C and SIGTERM ---------------------------------------------------------


def interrupt(tmp_path, signal_number, executor, extra=()):
    checkpoint, saved, output = (
        tmp_path / "run.sqlite",
        tmp_path / "saved.pickle",
        tmp_path / "out.json",
    )
    process = subprocess.Popen(
        command(
            "run", job("slow_peak"), "--bounds", "-1", "1", "--npoints-goal", "100000",
            "--executor", executor, "--ntasks", "2", "--checkpoint", checkpoint,
            "--save", saved, "--save-interval", "3600", "--output", output, *extra,
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a job in a terminal
    )  # fmt: skip
    try:
        wait_for_rows(process, checkpoint, 20)
        os.killpg(process.pid, signal_number)  # the job and its workers, as a terminal does
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    return process.returncode, stdout, stderr, checkpoint, saved, output


def check_everything_kept(checkpoint, saved, output):
    points = checkpoint_points(checkpoint)
    assert len(points) >= 20
    learner = adaptive.Learner1D(peak, bounds=(-1, 1))
    learner.load(saved)  # the final save happened after the stop
    assert learner.npoints == len(points)
    assert set(learner.data) == set(points)
    _, rows = data_rows(output)
    assert sorted(x for x, _ in rows) == sorted(points)


def test_ctrl_c_with_loky_exits_130_after_saving(tmp_path):
    code, _, stderr, checkpoint, saved, output = interrupt(tmp_path, signal.SIGINT, "loky")
    assert code == 130, stderr
    assert "run interrupted" in stderr
    assert "exit code: 130" in stderr
    assert "Traceback" not in stderr
    check_everything_kept(checkpoint, saved, output)


def test_sigterm_exits_130_after_saving_with_a_json_summary(tmp_path):
    code, stdout, stderr, checkpoint, saved, output = interrupt(
        tmp_path, signal.SIGTERM, "thread", extra=("--json",)
    )
    assert code == 130, stderr
    summary = json_summary(subprocess.CompletedProcess([], code, stdout, stderr))
    assert summary["status"] == "interrupted"
    assert summary["exit_code"] == 130
    assert summary["saved"] == str(saved)
    assert summary["checkpoint"]["file"] == str(checkpoint)
    check_everything_kept(checkpoint, saved, output)
    assert summary["npoints"] == len(checkpoint_points(checkpoint))


# --- resuming ----------------------------------------------------------------------------------


def test_resume_after_a_killed_run_evaluates_nothing_twice(tmp_path):
    checkpoint, saved = tmp_path / "run.sqlite", tmp_path / "saved.pickle"
    args = (
        "run", job("slow_peak"), "--bounds", "-1", "1", "--npoints-goal", "600",
        "--executor", "thread", "--ntasks", "2", "--checkpoint", checkpoint,
        "--save", saved, "--resume",  # --resume with no files yet: a fresh start
    )  # fmt: skip
    process = start(*args)
    try:
        wait_for_rows(process, checkpoint, 30)
        process.send_signal(signal.SIGKILL)  # no clean stop: only committed rows survive
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    before = checkpoint_points(checkpoint)
    assert 30 <= len(before) < 600
    assert not saved.exists()  # killed long before its first periodic save

    result = cli(*args, "--json")
    assert result.returncode == 0, result.stderr
    summary = json_summary(result)
    assert summary["resumed_points"] == len(before)
    assert summary["npoints"] >= 600
    after = checkpoint_points(checkpoint)
    assert after[: len(before)] == before
    assert len(set(after)) == len(after)  # no point was evaluated again
    learner = adaptive.Learner1D(peak, bounds=(-1, 1))
    learner.load(saved)
    assert learner.npoints == summary["npoints"] == len(after)


def test_resume_from_a_saved_learner(tmp_path):
    saved = tmp_path / "saved.pickle"
    common = ("run", job("peak"), "--bounds", "-1", "1", "--executor", "sequential")
    first = cli(*common, "--npoints-goal", "20", "--save", saved, "--quiet")
    assert first.returncode == 0, first.stderr
    assert first.stdout == ""  # --quiet: no status lines, only the summary on stderr
    assert "run finished" in first.stderr
    assert f"saved: {saved}" in first.stderr
    second = cli(*common, "--npoints-goal", "35", "--save", saved, "--resume", "--json")
    assert second.returncode == 0, second.stderr
    summary = json_summary(second)
    assert summary["resumed_points"] == 20
    assert summary["npoints"] == 35
    learner = adaptive.Learner1D(peak, bounds=(-1, 1))
    learner.load(saved)
    assert learner.npoints == 35


def test_console_script_is_installed():
    # `adaptive-runner` on PATH next to this interpreter (pip install puts it there)
    script = Path(sys.executable).parent / "adaptive-runner"
    if not script.exists():
        pytest.skip("the package is not installed with its scripts in this environment")
    result = subprocess.run(
        [script, "--version"], check=False, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"adaptive-runner {adaptive.__version__}"


def test_info_command_on_what_a_run_wrote(tmp_path):
    checkpoint, saved = tmp_path / "run.sqlite", tmp_path / "saved.pickle"
    result = cli(
        "run", job("peak"), "--bounds", "-1", "1", "--npoints-goal", "15",
        "--executor", "sequential", "--checkpoint", checkpoint, "--save", saved, "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for path, kind in ((checkpoint, "checkpoint"), (saved, "saved learner")):
        info = cli("info", path, "--json")
        assert info.returncode == 0, info.stderr
        description = json.loads(info.stdout)
        assert description["kind"] == kind
        assert description["npoints"] == 15
        assert description["learner_type"].endswith("Learner1D")
        text = cli("info", path)
        assert text.returncode == 0
        assert "Learner1D" in text.stdout
    missing = cli("info", tmp_path / "missing.sqlite")
    assert missing.returncode == 2
    assert missing.stderr.startswith("adaptive-runner: error: ")
    assert len(missing.stderr.splitlines()) == 1
