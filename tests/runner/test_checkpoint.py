"""The crash-safe run log (``checkpoint=``): recording, resuming every learner, SIGKILL safety."""

from __future__ import annotations

import asyncio
import math
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from runner_functions import CountingLearner, FailFirstTimes, fail_on_three, square

from adaptive_runner import (
    AsyncRunner,
    AverageLearner,
    AverageLearner1D,
    BalancingLearner,
    BlockingRunner,
    DataSaver,
    IntegratorLearner,
    Learner1D,
    Learner2D,
    LearnerND,
    SequenceLearner,
    SequentialExecutor,
)
from adaptive_runner.learners.base import hashable_key
from adaptive_runner.runner.checkpoint import CheckpointMismatchError, read_checkpoint
from adaptive_runner.runner.filelock import CheckpointInUseError

# ---- functions (module level, so the learners pickle if they need to) ---------------------------


def peak(x):
    return x + math.exp(-((x - 0.3) ** 2) / 0.01)


def peak_2d(xy):
    x, y = xy
    return x * y + math.exp(-((x**2 + y**2 - 0.5) ** 2) / 0.01)


def noisy(seed):
    return random.Random(seed).gauss(1.0, 0.5)


def noisy_1d(seed_x):
    seed, x = seed_x
    return x**2 + random.Random(seed).gauss(0.0, 0.1)


def with_extra(x):
    return {"y": peak(x), "x_squared": x * x}


def element_sum(item):
    return {"sum": sum(item["values"]), "name": item["name"]}


def make_learner(kind):
    if kind == "Learner1D":
        return Learner1D(peak, (-1, 1)), 40, 90
    if kind == "Learner2D":
        return Learner2D(peak_2d, ((-1, 1), (-1, 1))), 30, 70
    if kind == "LearnerND":
        return LearnerND(peak_2d, ((-1, 1), (-1, 1))), 30, 60
    if kind == "AverageLearner":
        return AverageLearner(noisy, atol=1e-9), 30, 70
    if kind == "AverageLearner1D":
        return AverageLearner1D(noisy_1d, (-1, 1)), 10, 20
    if kind == "IntegratorLearner":
        return IntegratorLearner(peak, (0, 1), 1e-10), 50, 120
    if kind == "SequenceLearner":
        sequence = [{"name": f"item{i}", "values": list(range(i))} for i in range(60)]
        return SequenceLearner(element_sum, sequence), 25, 60
    if kind == "BalancingLearner":
        children = [Learner1D(peak, (-1, 1)), Learner1D(square, (0, 2)), Learner1D(peak, (0, 1))]
        return BalancingLearner(children), 30, 80
    if kind == "DataSaver":
        return DataSaver(Learner1D(with_extra, (-1, 1)), arg_picker=lambda d: d["y"]), 25, 60
    raise AssertionError(kind)


KINDS = [
    "Learner1D",
    "Learner2D",
    "LearnerND",
    "AverageLearner",
    "AverageLearner1D",
    "IntegratorLearner",
    "SequenceLearner",
    "BalancingLearner",
    "DataSaver",
]


def evaluations(path):
    return [row for row in read_checkpoint(path) if not row["failed"]]


def same(a, b):
    """Equality for points and values (floats, tuples, dicts, arrays)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple | np.ndarray) and isinstance(b, list | tuple | np.ndarray):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def told(learner_kind, rows):
    """A fresh learner told ``rows`` in order (what the checkpoint says the learner knows)."""
    learner = make_learner(learner_kind)[0]
    for row in rows:
        learner.tell(row["point"], row["value"])
    return learner


def state(learner):
    """The learner's data, comparable with :func:`same`."""
    if isinstance(learner, BalancingLearner):
        return [state(child) for child in learner.learners]
    if isinstance(learner, DataSaver):
        return [state(learner.learner), dict(learner.extra_data)]
    if isinstance(learner, AverageLearner1D):
        return {x: dict(samples) for x, samples in learner._data_samples.items()}
    return dict(learner.data)


def assert_unique_points(rows):
    keys = [hashable_key(row["point"]) for row in rows]
    assert len(keys) == len(set(keys)), "a point was recorded twice"


# ---- resume, for every learner ------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_resume_every_learner(tmp_path, kind):
    path = tmp_path / "run.sqlite"
    learner, first_goal, final_goal = make_learner(kind)
    BlockingRunner(learner, npoints_goal=first_goal, executor=SequentialExecutor(), checkpoint=path)
    first = evaluations(path)
    assert len(first) > 0
    assert_unique_points(first)
    assert same(state(told(kind, first)), state(learner))

    resumed = make_learner(kind)[0]
    runner = BlockingRunner(
        resumed, npoints_goal=final_goal, executor=SequentialExecutor(), checkpoint=str(path)
    )
    assert runner.checkpoint == path
    assert resumed.npoints >= final_goal or (kind == "IntegratorLearner" and resumed.done())
    final = evaluations(path)
    assert len(final) > len(first)
    assert_unique_points(final)
    # what was recorded is kept, in order, and the rest was added after it
    assert all(
        same(a["point"], b["point"]) and same(a["value"], b["value"])
        for a, b in zip(first, final[: len(first)], strict=True)
    )
    # the resumed learner holds exactly what the checkpoint recorded: old + new
    assert same(state(resumed), state(told(kind, final)))
    # with one evaluation at a time the resumed run is the uninterrupted run
    uninterrupted = make_learner(kind)[0]
    BlockingRunner(uninterrupted, npoints_goal=final_goal, executor=SequentialExecutor())
    assert same(state(resumed), state(uninterrupted))


def test_resume_into_a_finished_run_evaluates_nothing(tmp_path):
    path = tmp_path / "run.sqlite"
    BlockingRunner(
        Learner1D(peak, (-1, 1)), npoints_goal=20, executor=SequentialExecutor(), checkpoint=path
    )
    calls = []

    def counting(x):
        calls.append(x)
        return peak(x)

    learner = Learner1D(counting, (-1, 1))
    BlockingRunner(learner, npoints_goal=20, executor=SequentialExecutor(), checkpoint=path)
    assert calls == []
    assert learner.npoints == 20
    assert len(evaluations(path)) == 20


def test_async_runner_with_a_process_pool_resumes(tmp_path):
    path = tmp_path / "run.sqlite"
    learner = Learner1D(square, (-1, 1))
    runner = AsyncRunner(learner, npoints_goal=50, ntasks=4, checkpoint=path)
    runner.block_until_done()
    rows = evaluations(path)
    assert len(rows) == learner.npoints
    assert_unique_points(rows)
    resumed = Learner1D(square, (-1, 1))
    AsyncRunner(resumed, npoints_goal=80, ntasks=4, checkpoint=path).block_until_done()
    rows = evaluations(path)
    assert_unique_points(rows)
    assert {r["point"]: r["value"] for r in rows} == resumed.data


# ---- what is recorded, and when it is committed -------------------------------------------------


def test_failures_are_recorded_not_told_and_attempts_counted(tmp_path):
    path = tmp_path / "run.sqlite"
    flaky = FailFirstTimes(tmp_path, times=2)
    learner = SequenceLearner(flaky, list(range(5)))
    BlockingRunner(learner, executor=SequentialExecutor(), retries=2, checkpoint=path)
    rows = read_checkpoint(path)
    failures = [r for r in rows if r["failed"]]
    successes = [r for r in rows if not r["failed"]]
    assert len(failures) == 10
    assert len(successes) == 5
    assert all("flaky failure" in r["traceback"] and r["value"] is None for r in failures)
    assert sorted(r["attempt"] for r in failures) == [1] * 5 + [2] * 5
    assert {r["attempt"] for r in successes} == {3}
    assert all(r["duration"] >= 0 for r in successes)
    assert {r["point"][1]: r["value"] for r in successes} == {i: 10 * i for i in range(5)}

    resumed = SequenceLearner(flaky, list(range(5)))
    BlockingRunner(resumed, executor=SequentialExecutor(), checkpoint=path)
    assert resumed.data == {i: 10 * i for i in range(5)}
    assert len(read_checkpoint(path)) == 15  # nothing evaluated again


def test_failed_run_flushes_and_resume_skips_the_failure(tmp_path):
    path = tmp_path / "run.sqlite"
    learner = SequenceLearner(fail_on_three, list(range(8)))
    with pytest.raises(ValueError, match="three is not allowed"):
        BlockingRunner(
            learner, executor=SequentialExecutor(), checkpoint=path, checkpoint_interval=60
        )
    rows = read_checkpoint(path)
    assert [r["point"][1] for r in rows if not r["failed"]] == [0, 1, 2]
    (failure,) = [r for r in rows if r["failed"]]
    assert failure["point"] == (3, 3)
    assert "three is not allowed" in failure["traceback"]
    resumed = SequenceLearner(fail_on_three, list(range(8)))
    with pytest.raises(ValueError, match="three is not allowed"):
        BlockingRunner(resumed, executor=SequentialExecutor(), checkpoint=path)
    assert sorted(resumed.data) == [0, 1, 2]


def test_cancel_flushes_the_last_batch(tmp_path):
    path = tmp_path / "run.sqlite"

    async def main():
        learner = Learner1D(square, (-1, 1))
        runner = AsyncRunner(
            learner, executor=SequentialExecutor(), checkpoint=path, checkpoint_interval=3600
        )
        while learner.npoints < 200:
            await asyncio.sleep(0.005)
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner
        return learner

    learner = asyncio.run(main())
    rows = evaluations(path)
    assert_unique_points(rows)
    assert {r["point"]: r["value"] for r in rows} == learner.data


def test_commits_within_the_interval_while_running(tmp_path):
    path = tmp_path / "run.sqlite"

    async def main():
        learner = SequenceLearner(slow_identity, list(range(1000)))
        runner = AsyncRunner(
            learner, executor=SequentialExecutor(), checkpoint=path, checkpoint_interval=0.05
        )
        await asyncio.sleep(0.4)
        seen = len(evaluations(path))  # another connection sees only committed rows
        runner.cancel()
        await asyncio.wait([runner.task])
        return seen

    assert asyncio.run(main()) > 0


def slow_identity(x):
    time.sleep(0.002)
    return x


def test_database_is_wal_with_a_run_table(tmp_path):
    path = tmp_path / "run.sqlite"
    BlockingRunner(Learner1D(peak, (-1, 1)), npoints_goal=5, checkpoint=path)
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        run = dict(db.execute("SELECT key, value FROM run"))
        assert run["learner_type"] == "Learner1D"
        assert '"bounds": [-1.0, 1.0]' in run["fingerprint"]
    finally:
        db.close()


# ---- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("runner_class", [AsyncRunner, BlockingRunner])
def test_bad_checkpoint_path_raises_at_construction(tmp_path, runner_class):
    learner = Learner1D(peak, (-1, 1))
    for bad in [tmp_path / "missing" / "run.sqlite", tmp_path, 42, b"run.sqlite"]:
        with pytest.raises(ValueError, match="checkpoint") as info:
            runner_class(learner, npoints_goal=10, checkpoint=bad)
        assert repr(bad) in str(info.value) or str(bad) in str(info.value)
    for bad in [-1, "soon", float("nan"), True]:
        with pytest.raises(ValueError, match="checkpoint_interval"):
            runner_class(learner, npoints_goal=10, checkpoint=None, checkpoint_interval=bad)
    assert learner.npoints == 0


@pytest.mark.parametrize(
    "other",
    [
        lambda: Learner1D(peak, (-1, 2)),
        lambda: Learner2D(peak_2d, ((-1, 1), (-1, 1))),
        lambda: SequenceLearner(square, list(range(5))),
        lambda: BalancingLearner([Learner1D(peak, (-1, 1))]),
    ],
)
def test_incompatible_learner_raises_a_clear_error(tmp_path, other):
    path = tmp_path / "run.sqlite"
    BlockingRunner(Learner1D(peak, (-1, 1)), npoints_goal=10, checkpoint=path)
    recorded = len(evaluations(path))
    learner = other()
    with pytest.raises(CheckpointMismatchError, match="different learner") as info:
        BlockingRunner(learner, npoints_goal=20, checkpoint=path)
    assert isinstance(info.value, ValueError)
    assert "Learner1D" in str(info.value)
    assert learner.npoints == 0
    assert len(evaluations(path)) == recorded  # the checkpoint is left alone


def test_a_file_that_is_not_a_checkpoint_raises(tmp_path):
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE run (key TEXT PRIMARY KEY, value TEXT)")
    db.execute("INSERT INTO run VALUES ('format', 'something else')")
    db.commit()
    db.close()
    with pytest.raises(CheckpointMismatchError, match="not an adaptive_runner checkpoint"):
        BlockingRunner(Learner1D(peak, (-1, 1)), npoints_goal=10, checkpoint=path)


def test_a_file_that_is_not_a_database_raises(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just some notes that happen to be long enough\n" * 20)
    with pytest.raises(CheckpointMismatchError, match=r"notes\.txt"):
        BlockingRunner(Learner1D(peak, (-1, 1)), npoints_goal=10, checkpoint=path)
    assert path.read_text().startswith("not a database")


def test_a_custom_learner_without_settings_resumes(tmp_path):
    path = tmp_path / "run.sqlite"
    learner = CountingLearner(square)
    BlockingRunner(learner, npoints_goal=7, executor=SequentialExecutor(), checkpoint=path)
    resumed = CountingLearner(square)
    BlockingRunner(resumed, npoints_goal=12, executor=SequentialExecutor(), checkpoint=path)
    assert resumed.data == {i: i * i for i in range(12)}
    assert [r["point"] for r in evaluations(path)] == list(range(12))


# ---- SIGKILL at random moments ------------------------------------------------------------------

SCRIPT = """
import math, sys, time
from adaptive_runner import BlockingRunner, Learner1D, SequenceLearner, SequentialExecutor

def f(x):
    time.sleep(0.003)
    return x + math.exp(-((x - 0.3) ** 2) / 0.001)

def g(item):
    time.sleep(0.003)
    return {"index": item, "square": item * item}

def make(kind):
    if kind == "Learner1D":
        return Learner1D(f, (-1, 1)), {"npoints_goal": 500}
    return SequenceLearner(g, list(range(500))), {}

if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    learner, goal = make(kind)
    print("started", flush=True)
    BlockingRunner(learner, executor=SequentialExecutor(), checkpoint=path,
                   checkpoint_interval=float(sys.argv[3]), **goal)
    print("done", learner.npoints, flush=True)
"""


def committed(path):
    """The committed rows, read by another connection while the writer may be running."""
    if not path.exists():
        return []
    for _ in range(50):
        try:
            return evaluations(path)
        except sqlite3.OperationalError:  # the writer is creating the tables
            time.sleep(0.01)
    raise AssertionError("could not read the checkpoint")


@pytest.mark.parametrize(("kind", "interval"), [("Learner1D", 0.0), ("SequenceLearner", 0.05)])
def test_sigkill_at_random_moments_then_resume(tmp_path, kind, interval):
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(SCRIPT))
    path = tmp_path / "run.sqlite"
    command = [sys.executable, str(script), kind, str(path), str(interval)]
    rng = random.Random(1234)
    kills = 0
    for _ in range(4):
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert process.stdout.readline().strip() == "started"
        time.sleep(rng.uniform(0.05, 0.35))
        before = committed(path)
        process.send_signal(signal.SIGKILL)
        process.wait()
        after = evaluations(path)
        if process.returncode == -signal.SIGKILL and len(after) < 500:
            kills += 1  # killed in the middle of the run
        db = sqlite3.connect(path)
        try:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            db.close()
        assert_unique_points(after)
        # everything committed before the kill survived it, in place
        assert len(after) >= len(before)
        assert all(
            same(a["point"], b["point"]) and same(a["value"], b["value"])
            for a, b in zip(before, after[: len(before)], strict=True)
        )
    assert kills >= 3  # the run was really interrupted
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    assert "done 500" in result.stdout

    final = evaluations(path)
    assert_unique_points(final)
    assert len(final) == 500
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()

    # the interrupted run gives what an uninterrupted one gives
    sys.path.insert(0, str(tmp_path))
    try:
        import job
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("job", None)
    learner, goal = job.make(kind)
    BlockingRunner(learner, executor=SequentialExecutor(), **goal)
    recorded = {hashable_key(r["point"]): r["value"] for r in final}
    if kind == "Learner1D":
        assert recorded == learner.data
    else:
        assert {index: value for (index, _), value in recorded.items()} == learner.data


# ---- failure counts across a resume, and one run per checkpoint ---------------------------------


def test_failure_counts_carry_over_and_retries_are_not_reset(tmp_path):
    path = tmp_path / "run.sqlite"
    flaky = FailFirstTimes(tmp_path, times=2)  # each point fails its first two calls
    first = SequenceLearner(flaky, list(range(3)))
    runner = BlockingRunner(
        first,
        executor=SequentialExecutor(),
        raise_if_retries_exceeded=False,
        checkpoint=path,
    )
    assert sorted(runner.failed) == [(i, i) for i in range(3)]
    assert [r["attempt"] for r in read_checkpoint(path)] == [1, 1, 1]

    # retries=1: one failure on record leaves one attempt, which fails (the 2nd call): the
    # points stay failed, rather than getting two fresh attempts and succeeding
    second = SequenceLearner(flaky, list(range(3)))
    runner = BlockingRunner(
        second,
        executor=SequentialExecutor(),
        retries=1,
        raise_if_retries_exceeded=False,
        checkpoint=path,
    )
    assert second.data == {}
    assert sorted(runner.failed) == [(i, i) for i in range(3)]
    assert [r["attempt"] for r in read_checkpoint(path)] == [1, 1, 1, 2, 2, 2]

    # retries=2: the third attempt of each point succeeds, numbered 3 in the log
    third = SequenceLearner(flaky, list(range(3)))
    runner = BlockingRunner(third, executor=SequentialExecutor(), retries=2, checkpoint=path)
    assert third.data == {i: 10 * i for i in range(3)}
    assert runner.failed == []
    assert runner.tracebacks == []
    assert [r["attempt"] for r in read_checkpoint(path)][-3:] == [3, 3, 3]


def test_points_that_used_up_their_retries_stay_failed_and_are_not_proposed(tmp_path):
    path = tmp_path / "run.sqlite"
    learner = SequenceLearner(fail_on_three, list(range(6)))
    BlockingRunner(
        learner, executor=SequentialExecutor(), raise_if_retries_exceeded=False, checkpoint=path
    )
    calls_before = len(read_checkpoint(path))
    resumed = SequenceLearner(fail_on_three, list(range(6)))
    runner = BlockingRunner(
        resumed,
        executor=SequentialExecutor(),
        raise_if_retries_exceeded=False,
        checkpoint=path,
    )
    assert runner.failed == [(3, 3)]  # as an uninterrupted run would end
    ((point, text),) = runner.tracebacks
    assert point == (3, 3)
    assert "three is not allowed" in text
    assert len(read_checkpoint(path)) == calls_before  # nothing evaluated again
    assert sorted(resumed.data) == [0, 1, 2, 4, 5]


def test_a_second_run_on_an_open_checkpoint_is_refused(tmp_path):
    path = tmp_path / "run.sqlite"

    async def main():
        learner = Learner1D(square, (-1, 1))
        runner = AsyncRunner(learner, executor=SequentialExecutor(), checkpoint=path)
        while learner.npoints < 20:
            await asyncio.sleep(0.005)
        with pytest.raises(CheckpointInUseError, match=r"in use by another run .*pid \d+"):
            AsyncRunner(Learner1D(square, (-1, 1)), npoints_goal=5, checkpoint=path)
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner
        return learner.npoints

    npoints = asyncio.run(main())
    # once the first run has ended, the checkpoint is free again
    resumed = Learner1D(square, (-1, 1))
    BlockingRunner(
        resumed, npoints_goal=npoints + 5, executor=SequentialExecutor(), checkpoint=path
    )
    assert resumed.npoints >= npoints + 5


def test_the_lock_is_released_when_the_process_is_killed(tmp_path):
    path = tmp_path / "run.sqlite"
    script = textwrap.dedent(
        f"""
        import os, signal
        from adaptive_runner import AsyncRunner, Learner1D, SequentialExecutor
        runner = AsyncRunner(Learner1D(abs, (-1, 1)), executor=SequentialExecutor(),
                             checkpoint={str(path)!r})
        print("open", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == -signal.SIGKILL
    assert "open" in result.stdout
    assert "pid" in (tmp_path / "run.sqlite.lock").read_text()  # the killed run's lock file
    learner = Learner1D(abs, (-1, 1))
    BlockingRunner(learner, npoints_goal=10, executor=SequentialExecutor(), checkpoint=path)
    assert learner.npoints >= 10
