"""Cluster engines as executors: dask.distributed (a Client or its executor) and ipyparallel.

Real clusters on this machine, started once per module: a dask LocalCluster with two worker
processes of one thread each, and an ipyparallel cluster with two engines.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from adaptive_runner import AsyncRunner, BlockingRunner, Learner1D
from adaptive_runner.runner.executors import adapter_for
from adaptive_runner.utils import daskify

distributed = pytest.importorskip("distributed")
ipyparallel = pytest.importorskip("ipyparallel")


@pytest.fixture(scope="module")
def dask_cluster():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def dask_client(dask_cluster):
    client = distributed.Client(dask_cluster)
    try:
        client.wait_for_workers(2, timeout=60)
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module")
def ipp_client():
    cluster = ipyparallel.Cluster(n=2)
    client = cluster.start_and_connect_sync()
    try:
        client.wait_for_engines(2, timeout=60)
        yield client
    finally:
        client.close()
        cluster.stop_cluster_sync()


def _closure_over(scale):
    def function(x):
        return scale * x**2

    return function


@pytest.mark.parametrize("kind", ["client", "executor"])
def test_dask_runs_lambdas_and_closures_to_a_loss_goal(dask_client, kind):
    executor = dask_client if kind == "client" else dask_client.get_executor()
    offset = 0.5
    for function in (lambda x: x**3 + offset, _closure_over(3.0)):
        learner = Learner1D(function, bounds=(-1, 1))
        runner = BlockingRunner(learner, loss_goal=0.05, executor=executor)
        assert runner.ntasks == 2  # the cluster's worker threads
        assert learner.loss() <= 0.05
        assert all(y == function(x) for x, y in learner.data.items())
        assert 0 < runner.overhead() < 100


def test_dask_errors_reach_the_caller(dask_client):
    def fails_right(x):
        if x > 0.5:
            raise ValueError(f"no value at {x}")
        return x

    with pytest.raises(ValueError, match="no value at"):
        BlockingRunner(Learner1D(fails_right, (-1, 1)), npoints_goal=50, executor=dask_client)


def test_dask_task_cancelled_behind_the_runners_back_is_sent_again(dask_client):
    # what a task caught by a worker that closes (cluster.scale down) can look like
    adapter = adapter_for(dask_client)
    before = set(dask_client.futures)

    def slow_double(x):
        time.sleep(0.3)
        return 2 * x

    future = adapter.submit(slow_double, 1.5)
    deadline = time.monotonic() + 30
    while not set(dask_client.futures) - before:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    (key,) = set(dask_client.futures) - before
    dask_client.cancel([distributed.Future(key, dask_client)])
    value, duration = future.result(timeout=30)
    assert value == 3.0
    assert duration >= 0.3
    assert not future.cancelled()

    cancelled = adapter.submit(slow_double, 2.0)  # cancelling ours cancels the task
    assert cancelled.cancel()
    assert cancelled.cancelled()


def _holds_a_lock():
    lock = threading.Lock()

    def locked_square(x):
        with lock:
            return x**2

    return locked_square


def test_unpicklable_function_fails_at_once_naming_function_and_executor(dask_client, ipp_client):
    for executor, engine in [
        (dask_client, "dask.distributed"),
        (dask_client.get_executor(), "dask.distributed"),
        (ipp_client, "ipyparallel"),
        (ipp_client.executor(), "ipyparallel"),
    ]:
        learner = Learner1D(_holds_a_lock(), bounds=(-1, 1))
        with pytest.raises(TypeError) as info:
            BlockingRunner(learner, npoints_goal=10, executor=executor)
        message = str(info.value)
        assert "locked_square" in message
        assert engine in message
        assert "lock" in message
        assert learner.npoints == 0
        assert not learner.pending_points


def test_daskify_evaluates_on_the_cluster(dask_client):
    def shifted(x):
        return x + 1

    function = daskify(dask_client, cache=True)(shifted)
    learner = Learner1D(function, bounds=(-1, 1))
    AsyncRunner(learner, npoints_goal=20, ntasks=2).block_until_done()
    assert learner.npoints == 20
    assert all(y == x + 1 for x, y in learner.data.items())

    async def twice():
        return await function(3.0), await function(3.0)  # the second from the cache

    assert asyncio.run(twice()) == (4.0, 4.0)


def test_ntasks_follows_the_cluster_when_it_scales(dask_cluster, dask_client):
    stop = threading.Event()

    def slow(x):
        time.sleep(0.02)
        return x

    async def until(condition, what, runner):
        deadline = time.monotonic() + 60
        while not condition():
            if runner.task.done():
                raise AssertionError(f"the run ended before {what}") from runner.task.exception()
            assert time.monotonic() < deadline, f"no {what} within 60 s"
            await asyncio.sleep(0.005)

    async def main():
        learner = Learner1D(slow, bounds=(-1, 1))
        runner = AsyncRunner(learner, goal=lambda _: stop.is_set(), executor=dask_client)
        assert runner.ntasks == 2
        await until(lambda: len(runner.pending_points) == 2, "two evaluations in flight", runner)

        dask_cluster.scale(3)
        await asyncio.to_thread(dask_client.wait_for_workers, 3, 60)
        await until(lambda: runner.ntasks == 3, "ntasks == 3", runner)
        await until(lambda: len(runner.pending_points) == 3, "three in flight", runner)

        dask_cluster.scale(1)
        await until(lambda: runner.ntasks == 1, "ntasks == 1", runner)
        await until(lambda: len(runner.pending_points) <= 1, "one in flight", runner)
        told = learner.npoints
        while learner.npoints < told + 10:  # from now on, never more than one in flight
            assert len(runner.pending_points) <= 1
            assert runner.status() == "running"
            await asyncio.sleep(0.002)

        stop.set()
        await runner.task
        return runner, learner

    try:
        runner, learner = asyncio.run(main())
    finally:
        stop.set()
        dask_cluster.scale(2)
        dask_client.wait_for_workers(2, timeout=60)
    assert runner.status() == "finished"
    assert 0 < runner.overhead() < 100  # a negative one would show as 0
    assert all(x == y for x, y in learner.data.items())
    assert not learner.pending_points


def test_ipyparallel_client_and_its_executors(ipp_client):
    scale = 2.0
    for executor in (ipp_client, ipp_client.executor(), ipp_client.load_balanced_view().executor):
        learner = Learner1D(lambda x: scale * x**3, bounds=(-1, 1))
        runner = BlockingRunner(learner, npoints_goal=25, executor=executor)
        assert runner.ntasks == 2  # the engines
        assert learner.npoints >= 25  # results that arrive after the goal is met are told
        assert all(y == scale * x**3 for x, y in learner.data.items())
        assert 0 < runner.overhead() < 100
