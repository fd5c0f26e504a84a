"""Errors are never hidden: tracebacks, retries, failed points, and no asyncio noise."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import logging

import loky
import pytest
from runner_functions import (
    CountingLearner,
    FailFirstTimes,
    fail_on_three,
    raise_zero_division,
    square,
)

from adaptive_runner import (
    AsyncRunner,
    BlockingRunner,
    SequenceLearner,
    SequentialExecutor,
    simple,
)


def make_executor(kind):
    if kind == "sequential":
        return SequentialExecutor()
    if kind == "threads":
        return concurrent.futures.ThreadPoolExecutor(max_workers=2)
    return loky.get_reusable_executor(max_workers=2)


@pytest.mark.parametrize("kind", ["sequential", "threads", "loky"])
def test_error_names_the_point_and_keeps_the_original_traceback(kind):
    learner = SequenceLearner(fail_on_three, range(6))
    with pytest.raises(ValueError, match="three is not allowed") as info:
        BlockingRunner(learner, executor=make_executor(kind))
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "(3, 3)" in notes  # the point, as the learner knows it
    assert "retries=0" in notes
    # the original traceback, also from a worker process, is in the error chain
    text = "".join(__import__("traceback").format_exception(info.value))
    assert "fail_on_three" in text
    assert 'raise ValueError(f"three is not allowed' in text
    # the learner is consistent: the other points are told or forgotten, none pending
    assert not learner.pending_points
    assert 3 not in learner.data


def test_async_runner_failure_status_and_tracebacks():
    learner = SequenceLearner(raise_zero_division, range(4))
    runner = AsyncRunner(learner, executor=SequentialExecutor())
    with pytest.raises(ZeroDivisionError):
        runner.block_until_done()
    assert runner.status() == "failed"
    assert isinstance(runner.task.exception(), ZeroDivisionError)
    [(point, tb)] = runner.tracebacks
    assert point == (0, 0)
    assert "ZeroDivisionError" in tb
    assert "raise_zero_division" in tb


@pytest.mark.parametrize("kind", ["sequential", "threads", "loky"])
def test_retries_then_success(kind, tmp_path):
    learner = SequenceLearner(FailFirstTimes(tmp_path, times=2), range(5))
    runner = BlockingRunner(learner, executor=make_executor(kind), retries=2)
    assert learner.result() == [0, 10, 20, 30, 40]
    assert runner.failed == []
    assert runner.to_retry == []
    assert runner.tracebacks == []  # every point succeeded in the end
    calls = sorted(len((tmp_path / f"calls-{x}").read_text()) for x in range(5))
    assert calls == [3] * 5  # two failures and one success each


def test_retries_exceeded_raises_by_default(tmp_path):
    learner = SequenceLearner(FailFirstTimes(tmp_path, times=3), range(3))
    with pytest.raises(RuntimeError, match="flaky failure 3") as info:
        BlockingRunner(learner, executor=SequentialExecutor(), retries=2)
    assert "3 attempts, retries=2" in "\n".join(info.value.__notes__)
    assert not learner.pending_points


def test_retries_exceeded_without_raising_collects_failed_points():
    learner = SequenceLearner(fail_on_three, range(8))
    runner = BlockingRunner(
        learner, executor=SequentialExecutor(), retries=1, raise_if_retries_exceeded=False
    )
    assert runner.failed == [(3, 3)]
    assert [p for p, _ in runner.tracebacks] == [(3, 3)]
    assert "three is not allowed" in runner.tracebacks[0][1]
    assert sorted(learner.data) == [0, 1, 2, 4, 5, 6, 7]
    # the run ended (nothing more to do) and left the learner clean: the failed point can be
    # asked again by a later run
    assert not learner.pending_points
    assert learner.ask(5)[0] == [(3, 3)]


def test_failed_points_are_not_proposed_again_during_the_run():
    learner = CountingLearner(fail_on_three)
    runner = BlockingRunner(
        learner,
        npoints_goal=20,
        executor=SequentialExecutor(),
        retries=2,
        raise_if_retries_exceeded=False,
        log=True,
    )
    assert runner.failed == [3]
    told = [entry[1] for entry in runner.log if entry[0] == "tell"]
    assert 3 not in told
    assert len(told) == len(set(told)) == 20


def test_to_retry_is_visible_while_the_run_goes_on():
    calls = {}

    async def slow_failure_at_three(x):
        calls[x] = calls.get(x, 0) + 1
        if x == 3:
            await asyncio.sleep(0.05)
            raise RuntimeError("still broken")
        await asyncio.sleep(0.001)
        return x

    seen = []
    holder = []

    def goal(lrn):
        seen.append(holder[0].to_retry if holder else [])
        return lrn.npoints >= 60

    runner = AsyncRunner(
        CountingLearner(slow_failure_at_three),
        goal=goal,
        ntasks=2,
        retries=5,
        raise_if_retries_exceeded=False,
    )
    holder.append(runner)
    runner.block_until_done()
    assert [(3, 1)] in seen  # after the first failure, before the second
    assert calls[3] >= 2
    assert runner.status() == "finished"


def test_no_task_exception_was_never_retrieved_noise(caplog):
    async def main():
        learner = SequenceLearner(raise_zero_division, range(3))
        runner = AsyncRunner(learner, executor=SequentialExecutor())
        await asyncio.wait([runner.task])  # wait without retrieving the exception
        return runner.status()

    with caplog.at_level(logging.ERROR, logger="asyncio"):
        assert asyncio.run(main()) == "failed"
        gc.collect()
    assert "never retrieved" not in caplog.text


def test_a_learner_bug_fails_the_run_loudly():
    class BrokenTell(CountingLearner):
        def tell(self, x, y):
            if x == 2:
                raise KeyError("learner bug")
            super().tell(x, y)

    learner = BrokenTell(square)
    with pytest.raises(KeyError, match="learner bug") as info:
        BlockingRunner(learner, npoints_goal=10, executor=SequentialExecutor())
    assert "learner.tell failed for point 2" in "\n".join(info.value.__notes__)


def test_simple_propagates_exceptions_directly():
    learner = SequenceLearner(fail_on_three, range(6))
    with pytest.raises(ValueError, match="three"):
        simple(learner)
    assert sorted(learner.data) == [0, 1, 2]


def test_simple_runs_to_the_goal_with_points_per_ask():
    learner = CountingLearner(square)
    simple(learner, npoints_goal=9, points_per_ask=4)
    assert learner.npoints == 12  # asks of 4 until the goal is met
    with pytest.raises(ValueError, match="points_per_ask=0"):
        simple(learner, npoints_goal=1, points_per_ask=0)
