"""Per-point timeouts and the delay before a failed point is retried, on real executors."""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import time

import loky
import pytest
from runner_functions import square
from timeout_functions import HangOnceAsync, Misbehave

from adaptive_runner import AsyncRunner, BlockingRunner, SequenceLearner, SequentialExecutor

HANG = 1.0  # how long a hanging evaluation sleeps: well above every timeout below
TIMEOUT = 0.25


def make_pool(kind):
    # one worker more than the runner's ntasks=2: an abandoned evaluation keeps its worker busy
    if kind == "threads":
        return concurrent.futures.ThreadPoolExecutor(max_workers=3)
    if kind == "processes":
        return concurrent.futures.ProcessPoolExecutor(max_workers=3)
    return loky.get_reusable_executor(max_workers=3)


@pytest.mark.parametrize("kind", ["threads", "processes", "loky"])
def test_a_hanging_evaluation_times_out_and_is_retried(tmp_path, kind):
    # loky's shared executor may still be busy from earlier tests: a longer hang keeps the
    # "the run did not wait for it" check below clear of that
    hang = 3.0 if kind == "loky" else HANG
    function = Misbehave(tmp_path, bad_points=(2,), hang_seconds=hang)
    learner = SequenceLearner(function, range(6))
    executor = make_pool(kind)
    # the clock of a process pool's evaluation starts at submission: start the workers first
    list(executor.map(square, range(6)))
    try:
        runner = BlockingRunner(learner, executor=executor, ntasks=2, timeout=TIMEOUT, retries=1)
    finally:
        if kind != "loky":
            executor.shutdown(wait=True)
    if kind == "loky":
        # the shared executor: leave no abandoned evaluation running for the next test
        time.sleep(max(0.0, function.start_times(2)[0] + hang + 0.1 - time.monotonic()))
    assert learner.done()
    assert learner.result() == [x * 10 for x in range(6)]
    first, retry = function.start_times(2)  # the hanging attempt, then the retry
    # the timeout's clock starts when the evaluation is submitted (for process pools), a little
    # before the worker starts the function: allow that lag
    assert retry - first >= TIMEOUT - 0.05
    assert retry - first < hang  # the run did not wait for the hanging attempt to end
    # the abandoned attempt's late result was never told twice: one value per point
    assert runner.failed == []
    assert runner.to_retry == []
    assert runner.tracebacks == []
    assert not learner.pending_points


def test_the_timeout_error_names_the_point_and_the_timeout(tmp_path):
    function = Misbehave(tmp_path, bad_points=(1,), hang_seconds=HANG, always=True)
    learner = SequenceLearner(function, range(3))
    with (
        concurrent.futures.ThreadPoolExecutor(max_workers=3) as executor,
        pytest.raises(TimeoutError, match="took longer than") as info,
    ):
        BlockingRunner(learner, executor=executor, ntasks=2, timeout=TIMEOUT)
    notes = "\n".join(info.value.__notes__)
    assert "(1, 1)" in notes  # the point, as the learner knows it
    assert f"timeout={TIMEOUT}" in notes
    assert not learner.pending_points


def test_a_point_that_always_hangs_ends_in_failed_and_the_run_goes_on(tmp_path):
    function = Misbehave(tmp_path, bad_points=(3,), hang_seconds=HANG, always=True)
    learner = SequenceLearner(function, range(8))
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as executor:
        runner = BlockingRunner(
            learner,
            executor=executor,
            ntasks=2,
            timeout=TIMEOUT,
            retries=1,
            raise_if_retries_exceeded=False,
        )
    assert runner.failed == [(3, 3)]
    assert sorted(learner.data) == [0, 1, 2, 4, 5, 6, 7]
    assert len(function.start_times(3)) == 2
    ((point, text),) = runner.tracebacks
    assert point == (3, 3)
    assert "TimeoutError" in text
    assert f"timeout={TIMEOUT}" in text


def test_a_timed_out_coroutine_is_cancelled_before_its_retry():
    function = HangOnceAsync(hang_point=2)
    learner = SequenceLearner(function, range(5))
    runner = AsyncRunner(learner, ntasks=2, timeout=0.1, retries=1)
    start = time.monotonic()
    runner.block_until_done()
    assert runner.status() == "finished"
    assert time.monotonic() - start < 5
    assert function.cancelled
    assert function.cancelled_before_retry is True
    assert learner.result() == [x * 10 for x in range(5)]


def test_an_async_timeout_failure_without_retries_fails_the_run():
    function = HangOnceAsync(hang_point=0)
    learner = SequenceLearner(function, range(2))

    async def main():
        runner = AsyncRunner(learner, ntasks=1, timeout=0.05)
        with pytest.raises(TimeoutError):
            await runner
        return runner

    runner = asyncio.run(main())
    assert runner.status() == "failed"
    assert function.cancelled


def test_retry_delay_postpones_the_retry_while_other_points_go_on(tmp_path):
    delay = 0.4
    function = Misbehave(tmp_path, bad_points=(0,), work_seconds=0.01)
    learner = SequenceLearner(function, range(12))
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as executor:
        BlockingRunner(learner, executor=executor, retries=1, retry_delay=delay)
    assert learner.result() == [x * 10 for x in range(12)]
    first, retry = function.start_times(0)
    assert retry - first >= delay
    # the other slot did not wait: other points were evaluated between the two attempts
    others = [t for x in range(1, 12) for t in function.start_times(x)]
    assert any(first < t < retry for t in others)


def test_retry_delay_can_be_a_backoff_function(tmp_path):
    function = Misbehave(tmp_path, bad_points=(1,), always=True)
    learner = SequenceLearner(function, range(3))
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as executor:
        runner = BlockingRunner(
            learner,
            executor=executor,
            retries=2,
            raise_if_retries_exceeded=False,
            retry_delay=lambda attempt: 0.1 * attempt,
        )
    assert runner.failed == [(1, 1)]
    times = function.start_times(1)
    assert len(times) == 3
    assert times[1] - times[0] >= 0.1
    assert times[2] - times[1] >= 0.2


@pytest.mark.parametrize("timeout", [0, -1.0, math.nan, "1", True])
def test_bad_timeout_raises_at_construction(timeout):
    learner = SequenceLearner(square, range(3))
    with pytest.raises(ValueError, match="timeout="):
        AsyncRunner(learner, executor=SequentialExecutor(), timeout=timeout)
    with pytest.raises(ValueError, match="timeout="):
        BlockingRunner(learner, executor=SequentialExecutor(), timeout=timeout)
    assert learner.npoints == 0


@pytest.mark.parametrize("retry_delay", [-0.5, math.inf, "1", None, False])
def test_bad_retry_delay_raises_at_construction(retry_delay):
    learner = SequenceLearner(square, range(3))
    with pytest.raises(ValueError, match="retry_delay="):
        BlockingRunner(learner, executor=SequentialExecutor(), retry_delay=retry_delay)
    assert learner.npoints == 0


def test_timeout_is_refused_for_evaluations_in_the_loops_thread():
    learner = SequenceLearner(square, range(3))
    with pytest.raises(ValueError, match="timeout=1"):
        BlockingRunner(learner, executor=SequentialExecutor(), timeout=1)


def test_time_waiting_in_a_thread_pools_queue_does_not_count(tmp_path):
    # one worker, three evaluations at once: the last waits 0.3 s in the queue, then runs 0.15 s
    function = Misbehave(tmp_path, work_seconds=0.15)
    learner = SequenceLearner(function, range(4))
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        BlockingRunner(learner, executor=executor, ntasks=3, timeout=TIMEOUT)
    assert learner.result() == [x * 10 for x in range(4)]
