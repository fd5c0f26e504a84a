"""The runners with every kind of executor, and the errors for executors that cannot work."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os

import loky
import pytest
from runner_functions import (
    ConcurrencyProbe,
    CountingLearner,
    async_square,
    pid_of_worker,
    slow_square,
    square,
)

from adaptive_runner import (
    AsyncRunner,
    BlockingRunner,
    SequenceLearner,
    SequentialExecutor,
    simple,
)


@pytest.fixture(scope="module")
def thread_pool():
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        yield pool


@pytest.fixture(scope="module")
def process_pool():
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
        yield pool


def executors(request_name: str, thread_pool, process_pool):
    return {
        "sequential": SequentialExecutor(),
        "threads": thread_pool,
        "processes": process_pool,
        "loky": loky.get_reusable_executor(max_workers=2),
    }[request_name]


@pytest.mark.parametrize("kind", ["sequential", "threads", "processes", "loky"])
@pytest.mark.parametrize("runner_type", [AsyncRunner, BlockingRunner])
def test_every_executor_runs_a_sequence_to_the_end(kind, runner_type, thread_pool, process_pool):
    executor = executors(kind, thread_pool, process_pool)
    learner = SequenceLearner(slow_square, range(40))
    runner = runner_type(learner, executor=executor)
    if runner_type is AsyncRunner:
        runner.block_until_done()
        assert runner.status() == "finished"
    assert learner.result() == [x * x for x in range(40)]
    assert runner.pending_points == []
    assert not learner.pending_points
    assert 0 <= runner.overhead() <= 100
    assert runner.end_time is not None


def test_default_executor_is_lokys_shared_reusable_one():
    learner = SequenceLearner(pid_of_worker, range(20))
    runner = BlockingRunner(learner)
    assert runner.executor is loky.get_reusable_executor()
    assert os.getpid() not in learner.result()  # evaluated in worker processes
    # not shut down implicitly: a second runner uses the same executor
    second = BlockingRunner(SequenceLearner(square, range(5)))
    assert second.executor is runner.executor


def test_ntasks_defaults_to_the_executors_workers(thread_pool):
    runner = BlockingRunner(SequenceLearner(square, range(3)), executor=thread_pool)
    assert runner.ntasks == 3
    assert BlockingRunner(SequenceLearner(square, []), executor=SequentialExecutor()).ntasks == 1


def test_shutdown_executor():
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    BlockingRunner(SequenceLearner(square, range(5)), executor=pool, shutdown_executor=True)
    with pytest.raises(RuntimeError):
        pool.submit(square, 1)


def test_async_function_is_awaited_on_the_loop_with_ntasks_limit():
    probe = ConcurrencyProbe()
    learner = SequenceLearner(probe, range(60))
    runner = AsyncRunner(learner, ntasks=7)
    runner.block_until_done()
    assert learner.result() == list(range(60))
    assert probe.max_running == 7
    assert runner.executor is None


def test_async_function_with_an_executor_is_an_error(thread_pool):
    with pytest.raises(ValueError, match="async def"):
        AsyncRunner(SequenceLearner(async_square, range(3)), executor=thread_pool)


@pytest.mark.parametrize("runner", [BlockingRunner, simple])
def test_async_function_needs_the_async_runner(runner):
    learner = SequenceLearner(async_square, range(3))
    with pytest.raises(ValueError, match="AsyncRunner"):
        runner(learner)
    assert learner.npoints == 0


def test_lambda_with_a_stdlib_process_pool_fails_at_once(process_pool):
    learner = SequenceLearner(lambda x: x, range(3))
    with pytest.raises(TypeError, match="cannot be pickled") as info:
        BlockingRunner(learner, executor=process_pool)
    assert "loky" in str(info.value)
    assert "module level" in str(info.value)


def test_lambdas_and_closures_work_with_loky():
    offset = 5
    learner = SequenceLearner(lambda x: x + offset, range(10))
    BlockingRunner(learner, executor=loky.get_reusable_executor(max_workers=2))
    assert learner.result() == [x + 5 for x in range(10)]


def test_unpicklable_function_fails_at_once_with_loky():
    lock = __import__("threading").Lock()

    def uses_lock(x):
        with lock:
            return x

    with pytest.raises(TypeError, match=r"uses_lock.*cannot be pickled"):
        AsyncRunner(SequenceLearner(uses_lock, range(3)))


@pytest.mark.parametrize("bad", [object(), "loky", 42])
def test_unknown_executor_type(bad):
    with pytest.raises(TypeError, match="not a supported executor"):
        BlockingRunner(SequenceLearner(square, range(3)), executor=bad)


@pytest.mark.parametrize("ntasks", [0, -2, 1.5, True])
def test_bad_ntasks(ntasks):
    with pytest.raises(ValueError, match=f"ntasks={ntasks!r}"):
        BlockingRunner(SequenceLearner(square, range(3)), ntasks=ntasks)


@pytest.mark.parametrize("retries", [-1, 0.5, None])
def test_bad_retries(retries):
    with pytest.raises(ValueError, match="retries"):
        BlockingRunner(SequenceLearner(square, range(3)), retries=retries)


def test_not_a_learner():
    with pytest.raises(TypeError, match="learner"):
        BlockingRunner([1, 2, 3], npoints_goal=1)


def test_run_inside_a_running_event_loop():
    async def main():
        learner = SequenceLearner(async_square, range(30))
        runner = AsyncRunner(learner, ntasks=5)
        assert runner.status() == "running"
        with pytest.raises(RuntimeError, match=r"await runner\.task"):
            runner.block_until_done()
        await runner
        second = SequenceLearner(square, range(10))
        other = AsyncRunner(second, executor=SequentialExecutor())
        await other.task
        return learner, runner, second

    learner, runner, second = asyncio.run(main())
    assert runner.status() == "finished"
    assert learner.result() == [x * x for x in range(30)]
    assert second.done()


def test_blocking_runner_inside_a_running_event_loop_blocks_and_finishes():
    async def main():
        learner = SequenceLearner(square, range(20))
        BlockingRunner(learner, executor=SequentialExecutor())
        return learner

    assert asyncio.run(main()).result() == [x * x for x in range(20)]


def test_explicit_ioloop():
    loop = asyncio.new_event_loop()
    try:
        learner = CountingLearner(async_square)
        runner = AsyncRunner(learner, npoints_goal=25, ioloop=loop, ntasks=3)
        assert runner.ioloop is loop
        loop.run_until_complete(runner.task)
        assert learner.npoints >= 25
    finally:
        loop.close()


def test_the_loop_asks_for_all_free_slots_in_one_call():
    learner = CountingLearner(async_square)
    runner = AsyncRunner(learner, npoints_goal=40, ntasks=8, log=True)
    runner.block_until_done()
    asks = [entry[1] for entry in runner.log if entry[0] == "ask"]
    assert asks[0] == 8  # all slots free at the start: one call for all of them
    assert sum(asks) >= 40
