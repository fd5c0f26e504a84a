"""``worker_threads=n``: the BLAS/OpenMP pools of the evaluating processes get ``n`` threads.

Real executors (loky, process and thread pools, SequentialExecutor, a dask cluster, an ipyparallel
engine), no mocks: the function reports what threadpoolctl sees in the process that evaluates it.
numpy's OpenBLAS is the library measured; its default is compared against, not assumed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import subprocess
import sys
import threading

import loky
import numpy  # noqa: F401 -- loads OpenBLAS here and, through this module, in the workers
import pytest
from threadpoolctl import threadpool_info

from adaptive_runner import (
    AsyncRunner,
    BlockingRunner,
    Runner,
    SequenceLearner,
    SequentialExecutor,
)


def blas_threads(_: object = None) -> int:
    """Threads of the BLAS pools loaded in this process (the largest, if several)."""
    __import__("numpy")  # a fresh worker loads OpenBLAS here

    return max(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")


def blas_threads_in_a_child_process(_: object) -> int:
    """What a process started by the function gets: it reads the environment at start."""
    code = (
        "import numpy, threadpoolctl; print(max(i['num_threads'] for i in "
        "threadpoolctl.threadpool_info() if i['user_api'] == 'blas'))"
    )
    return int(subprocess.check_output([sys.executable, "-c", code], text=True))


def environment_variable(_: object) -> str | None:
    return os.environ.get("OPENBLAS_NUM_THREADS")


def local_blas_threads():
    """``blas_threads`` defined in a function, so cloudpickle sends it by value (to engines
    that cannot import this test module)."""

    def report(_):
        import threadpoolctl

        __import__("numpy")

        infos = threadpoolctl.threadpool_info()
        return max(info["num_threads"] for info in infos if info["user_api"] == "blas")

    return report


def evaluate(function, executor, worker_threads, n=6):
    """The values ``function`` returned for 0..n-1 in a run with ``worker_threads``."""
    learner = SequenceLearner(function, range(n))
    BlockingRunner(learner, executor=executor, worker_threads=worker_threads)
    return learner.result()


def default_and_limit(function, executor):
    """What ``function`` reports on ``executor`` left alone, and a thread count different from
    it. Measured for each executor: its workers may have started with a different environment
    (a dask nanny sets OMP/MKL/OPENBLAS_NUM_THREADS=1 in the process that starts a
    LocalCluster, so loky workers spawned after that start with 1 thread, while forked workers
    keep the BLAS their parent had)."""
    values = set(evaluate(function, executor, None))
    assert len(values) == 1
    default = values.pop()
    return default, (1 if default > 1 else 2)


@pytest.fixture(scope="module")
def reusable_loky():
    return loky.get_reusable_executor(max_workers=2)


def test_loky_workers_are_limited_and_get_their_default_back(reusable_loky):
    default, limit = default_and_limit(blas_threads, reusable_loky)
    assert evaluate(blas_threads, reusable_loky, limit) == [limit] * 6
    # the same reusable workers, a runner without the option: as they were
    assert evaluate(blas_threads, reusable_loky, None) == [default] * 6
    assert evaluate(blas_threads, None, limit) == [limit] * 6  # the default executor is loky's
    assert evaluate(blas_threads, None, None) == [default] * 6


def test_process_pool_workers_are_limited_and_get_their_default_back():
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
        default, limit = default_and_limit(blas_threads, pool)
        assert evaluate(blas_threads, pool, limit) == [limit] * 6
        assert evaluate(blas_threads, pool, None) == [default] * 6
        assert evaluate(blas_threads, pool, 3) == [3] * 6  # more than the cores: as asked


def test_environment_reaches_processes_the_function_starts_and_is_restored(reusable_loky):
    before = evaluate(environment_variable, reusable_loky, None, n=2)
    child_default, limit = default_and_limit(blas_threads_in_a_child_process, reusable_loky)
    assert evaluate(environment_variable, reusable_loky, limit, n=2) == [str(limit)] * 2
    assert evaluate(blas_threads_in_a_child_process, reusable_loky, limit, n=2) == [limit] * 2
    assert evaluate(environment_variable, reusable_loky, None, n=2) == before
    child_after = evaluate(blas_threads_in_a_child_process, reusable_loky, None, n=2)
    assert child_after == [child_default] * 2


def test_two_runners_at_once_on_the_same_workers_each_get_their_own(reusable_loky):
    async def main():
        first = SequenceLearner(blas_threads, range(40))
        second = SequenceLearner(blas_threads, range(40))
        runners = [
            AsyncRunner(first, executor=reusable_loky, worker_threads=1),
            AsyncRunner(second, executor=reusable_loky, worker_threads=3),
        ]
        await asyncio.gather(*(runner.task for runner in runners))
        return first.result(), second.result()

    first, second = asyncio.run(main())
    assert first == [1] * 40
    assert second == [3] * 40


@pytest.mark.parametrize(
    "make_executor",
    [lambda: concurrent.futures.ThreadPoolExecutor(max_workers=2), SequentialExecutor],
    ids=["threads", "sequential"],
)
def test_in_process_executors_limit_while_evaluating_and_restore_after(make_executor):
    here, environment = blas_threads(), dict(os.environ)
    limit = 1 if here > 1 else 2
    executor = make_executor()
    try:
        assert evaluate(blas_threads, executor, limit) == [limit] * 6
        assert blas_threads() == here  # the process is back as it was
        assert evaluate(blas_threads, executor, None) == [here] * 6
    finally:
        executor.shutdown()
    assert dict(os.environ) == environment  # this process's environment is left alone


def test_thread_pool_evaluations_that_overlap_share_the_limit():
    """Many threads entering and leaving: the limit holds while any evaluation runs."""
    here = blas_threads()
    limit = 1 if here > 1 else 2
    barrier = threading.Barrier(4)

    def overlapping(_):
        barrier.wait(timeout=10)
        value = blas_threads()
        barrier.wait(timeout=10)
        return value

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        learner = SequenceLearner(overlapping, range(12))
        BlockingRunner(learner, executor=pool, ntasks=4, worker_threads=limit)
    assert learner.result() == [limit] * 12
    assert blas_threads() == here


def test_the_setup_is_not_timed_as_evaluation():
    """threadpoolctl's import and library scan (about 3 ms in a fresh worker that has numpy)
    happen while the function is unpickled there, outside the evaluation's clock; the first
    evaluation only sets the pools (microseconds)."""
    executor = loky.ProcessPoolExecutor(max_workers=1)  # a fresh process: nothing is warm
    try:
        learner = SequenceLearner(environment_variable, range(4))
        runner = BlockingRunner(learner, executor=executor, worker_threads=1)
    finally:
        executor.shutdown(wait=True)
    assert learner.result() == ["1"] * 4
    assert runner._function_time < 0.0025  # the time the runner counts as evaluation


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "2", 2.0])
@pytest.mark.parametrize("runner_class", [BlockingRunner, AsyncRunner])
def test_bad_values_are_refused_at_construction(runner_class, value):
    learner = SequenceLearner(blas_threads, range(3))
    with pytest.raises(ValueError, match="worker_threads") as info:
        runner_class(learner, executor=SequentialExecutor(), worker_threads=value)
    assert repr(value) in str(info.value)
    assert learner.npoints == 0


def test_async_functions_are_refused():
    async def coroutine(x):
        return x

    learner = SequenceLearner(coroutine, range(3))
    with pytest.raises(ValueError, match=r"worker_threads=1 .*async def"):
        Runner(learner, worker_threads=1)


def _holding_a_lock():
    lock = threading.Lock()

    def function_with_a_lock(x):
        with lock:
            return x

    return function_with_a_lock


def test_unpicklable_functions_are_still_named(reusable_loky):
    with pytest.raises(TypeError, match="function_with_a_lock"):
        BlockingRunner(
            SequenceLearner(_holding_a_lock(), range(3)),
            executor=reusable_loky,
            worker_threads=1,
        )
    with (
        concurrent.futures.ProcessPoolExecutor(max_workers=1) as pool,
        pytest.raises(TypeError, match="function_with_a_lock"),
    ):
        BlockingRunner(
            SequenceLearner(_holding_a_lock(), range(3)), executor=pool, worker_threads=1
        )


def test_errors_of_the_function_name_it_and_keep_their_traceback(reusable_loky):
    def fails_at_two(x):
        if x == 2:
            raise ArithmeticError("two")
        return x

    learner = SequenceLearner(fails_at_two, range(4))
    runner = BlockingRunner(
        learner,
        executor=reusable_loky,
        worker_threads=1,
        raise_if_retries_exceeded=False,
    )
    ((point, text),) = runner.tracebacks
    assert point == (2, 2)
    assert "fails_at_two" in text
    assert "ArithmeticError: two" in text


def test_dask_worker_with_two_threads():
    """One worker process with two threads: tasks in either thread set and restore the pools.

    dask's nanny starts workers with OMP/MKL/OPENBLAS_NUM_THREADS=1 (its own oversubscription
    guard), so the default is measured there, and the limit differs from it.
    """
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        report = local_blas_threads()
        default = evaluate(report, client, None, n=12)
        assert len(set(default)) == 1
        limit = 2 if default[0] == 1 else 1
        assert evaluate(report, client, limit, n=12) == [limit] * 12
        assert evaluate(report, client, None, n=12) == default
        assert evaluate(report, client.get_executor(), limit, n=12) == [limit] * 12
        assert evaluate(report, client.get_executor(), None, n=12) == default


def test_ipyparallel_engine():
    ipyparallel = pytest.importorskip("ipyparallel")
    cluster = ipyparallel.Cluster(n=1)
    client = cluster.start_and_connect_sync()
    try:
        client.wait_for_engines(1, timeout=60)
        report = local_blas_threads()
        default = evaluate(report, client, None, n=2)
        limit = 1 if default[0] > 1 else 2
        assert evaluate(report, client, limit, n=4) == [limit] * 4
        assert evaluate(report, client, None, n=2) == default
    finally:
        client.close()
        cluster.stop_cluster_sync()
