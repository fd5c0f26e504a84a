"""Bad usage of `adaptive-runner`: one line on stderr, exit status 2, nothing run, no file
created or changed. And --help and --version for every command."""

from __future__ import annotations

import socket

import pytest
from cli_helpers import cli, job

import adaptive_runner as adaptive

BOUNDS = ("--bounds", "-1", "1")
GOAL = ("--npoints-goal", "10")
SEQUENTIAL = ("--executor", "sequential")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def snapshot(folder):
    """Every file under folder with its size, mtime and content."""
    return {
        path.relative_to(folder): (path.stat().st_mtime_ns, path.read_bytes())
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def prepare(tmp_path):
    """A folder with the earlier work that bad usage must leave alone."""
    learner = adaptive.Learner1D(lambda x: x, bounds=(-1, 1))
    adaptive.simple(learner, npoints_goal=5)
    learner.save(tmp_path / "saved.pickle")
    checkpoint = tmp_path / "run.sqlite"
    runner = adaptive.BlockingRunner(
        adaptive.Learner1D(lambda x: x, bounds=(-1, 1)),
        npoints_goal=5,
        executor=adaptive.SequentialExecutor(),
        checkpoint=checkpoint,
    )
    assert runner.learner.npoints == 5
    (tmp_path / "garbage.pickle").write_bytes(b"this is not a saved learner\n")
    (tmp_path / "garbage.sqlite").write_bytes(b"nor is this a checkpoint\n" * 10)
    (tmp_path / "points.json").write_text('{"not": "a list"}')
    (tmp_path / "folder.pickle").mkdir()


# (arguments after `run FUNCTION`, FUNCTION, a piece of the expected message); {tmp} is tmp_path
CASES = {
    # the function
    "unknown module": ("no_such_module_for_cli_tests:f", (*BOUNDS, *GOAL), "no module named"),
    "unknown file": ("{tmp}/missing.py:f", (*BOUNDS, *GOAL), "no such file"),
    "unknown function": (job("no_such_function"), (*BOUNDS, *GOAL), "has no attribute"),
    "not callable": (job("NOT_A_FUNCTION"), (*BOUNDS, *GOAL), "not a function"),
    "no colon": ("jobs.py", (*BOUNDS, *GOAL), "MODULE:FUNCTION"),
    # bounds per learner
    "1d with two bounds": (job("peak"), (*BOUNDS, *BOUNDS, *GOAL), "exactly 1 --bounds"),
    "1d without bounds": (job("peak"), GOAL, "exactly 1 --bounds"),
    "2d with one bounds": (job("ring"), ("--learner", "2d", *BOUNDS, *GOAL), "exactly 2"),
    "nd with one bounds": (job("sphere"), ("--learner", "nd", *BOUNDS, *GOAL), "2 or more"),
    "average with bounds": (
        job("noise"),
        ("--learner", "average", "--atol", "0.1", *BOUNDS, *GOAL),
        "no --bounds",
    ),
    "low above high": (job("peak"), ("--bounds", "1", "-1", *GOAL), "LOW < HIGH"),
    "bounds not numbers": (job("peak"), ("--bounds", "a", "1", *GOAL), "must be numbers"),
    # learner options
    "unknown loss": (job("peak"), (*BOUNDS, "--loss", "wiggly", *GOAL), "valid: default"),
    "integrator without tol": (job("cube"), ("--learner", "integrator", *BOUNDS), "--tol"),
    "average without tolerance": (job("noise"), ("--learner", "average", *GOAL), "--atol"),
    "sequence without points": (job("area"), ("--learner", "sequence"), "--points"),
    "points not a list": (
        job("area"),
        ("--learner", "sequence", "--points", "{tmp}/points.json"),
        "JSON list",
    ),
    "tol for 1d": (job("peak"), (*BOUNDS, "--tol", "0.1", *GOAL), "--tol applies to"),
    # the goal
    "no goal": (job("peak"), BOUNDS, "give a goal"),
    "two goals": (job("peak"), (*BOUNDS, *GOAL, "--loss-goal", "0.1"), "exactly one goal"),
    "bad duration": (job("peak"), (*BOUNDS, "--duration-goal", "5 minutes"), "not a duration"),
    "zero duration": (job("peak"), (*BOUNDS, "--duration-goal", "0h0m0s"), "positive"),
    "end time in the past": (job("peak"), (*BOUNDS, "--end-time", "2001-02-03T04:05"), "past"),
    "end time not ISO": (job("peak"), (*BOUNDS, "--end-time", "tomorrow"), "ISO 8601"),
    "npoints not a number": (job("peak"), (*BOUNDS, "--npoints-goal", "many"), "invalid int"),
    "zero npoints": (job("peak"), (*BOUNDS, "--npoints-goal", "0"), "at least 1"),
    # running
    "unknown executor": (job("peak"), (*BOUNDS, *GOAL, "--executor", "gpu"), "not one of"),
    "timeout with sequential": (
        job("peak"),
        (*BOUNDS, *GOAL, *SEQUENTIAL, "--timeout", "1"),
        "--timeout",
    ),
    "zero ntasks": (job("peak"), (*BOUNDS, *GOAL, "--ntasks", "0"), "at least 1"),
    "unknown option": (job("peak"), (*BOUNDS, *GOAL, "--colour", "red"), "unrecognized"),
    # files
    "output folder missing": (
        job("peak"),
        (*BOUNDS, *GOAL, "--output", "{tmp}/no/such/folder/out.csv"),
        "--output",
    ),
    "output suffix": (job("peak"), (*BOUNDS, *GOAL, "--output", "{tmp}/out.txt"), "--output"),
    "plot suffix": (job("peak"), (*BOUNDS, *GOAL, "--plot", "{tmp}/out.jpg"), "--plot"),
    "plot of a 3D learner": (
        job("sphere"),
        ("--learner", "nd", *BOUNDS, *BOUNDS, *BOUNDS, *GOAL, "--plot", "{tmp}/out.png"),
        "--plot",
    ),
    "save folder missing": (
        job("peak"),
        (*BOUNDS, *GOAL, "--save", "{tmp}/no/such/folder/saved.pickle"),
        "does not exist",
    ),
    "save is a folder": (
        job("peak"),
        (*BOUNDS, *GOAL, "--save", "{tmp}/folder.pickle", "--resume"),
        "is a folder",
    ),
    "save exists without resume": (
        job("peak"),
        (*BOUNDS, *GOAL, "--save", "{tmp}/saved.pickle"),
        "pass --resume",
    ),
    "checkpoint exists without resume": (
        job("peak"),
        (*BOUNDS, *GOAL, "--checkpoint", "{tmp}/run.sqlite"),
        "pass --resume",
    ),
    "save is not a saved learner": (
        job("peak"),
        (*BOUNDS, *GOAL, "--save", "{tmp}/garbage.pickle", "--resume"),
        "is not a saved Learner1D",
    ),
    "checkpoint is not a checkpoint": (
        job("peak"),
        (*BOUNDS, *GOAL, "--checkpoint", "{tmp}/garbage.sqlite", "--resume"),
        "not an adaptive_runner checkpoint",
    ),
    "checkpoint of another learner": (
        job("peak"),
        ("--bounds", "0", "1", *GOAL, "--checkpoint", "{tmp}/run.sqlite", "--resume"),
        "different learner",
    ),
    "save and output the same file": (
        job("peak"),
        (*BOUNDS, *GOAL, "--save", "{tmp}/same.json", "--output", "{tmp}/same.json"),
        "same file",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_usage_exits_2_with_one_line_and_writes_nothing(tmp_path, case):
    function, options, expected = CASES[case]
    prepare(tmp_path)
    before = snapshot(tmp_path)
    arguments = [a.replace("{tmp}", str(tmp_path)) for a in (function, *options)]
    result = cli("run", *arguments, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("adaptive-runner: error: ")
    assert expected in lines[0]
    assert snapshot(tmp_path) == before  # nothing created, changed or deleted


def test_unreachable_dask_scheduler(tmp_path):
    output = tmp_path / "out.csv"
    result = cli(
        "run", job("peak"), *BOUNDS, *GOAL, "--executor", f"dask://127.0.0.1:{free_port()}",
        "--output", output,
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("adaptive-runner: error: --executor 'dask://127.0.0.1:")
    assert "cannot reach the dask scheduler" in lines[0]
    assert not output.exists()


def test_no_command():
    result = cli()
    assert result.returncode == 2
    assert result.stderr.startswith("adaptive-runner: error: ")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (("--help",), "run"),
        (("run", "--help"), "--npoints-goal"),
        (("info", "--help"), "checkpoint"),
        (("demo", "--help"), "usage:"),
    ],
)
def test_help(arguments, expected):
    result = cli(*arguments)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:")
    assert expected in result.stdout


def test_version():
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"adaptive-runner {adaptive.__version__}"
