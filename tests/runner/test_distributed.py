"""Cluster engines as executors: dask.distributed (a Client or its executor) and ipyparallel.

Real clusters on this machine, started once per module: a dask LocalCluster with two worker
processes of one thread each, and an ipyparallel cluster with two engines (each in an engine set
of its own, so tests can stop one, kill one or add one; every test starts with two).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest
from faults import is_alive, kill_when_started

from adaptive_runner import AsyncRunner, BlockingRunner, Learner1D, SequenceLearner
from adaptive_runner.runner.executors import WorkerDiedError, adapter_for
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
def ipp_cluster():
    """Two engines, each in an engine set of its own, so a test can stop one and start another.

    A heartbeat every 0.5 s (instead of 3 s) lets the controller register a new engine within
    a second or two rather than about eight.
    """
    cluster = ipyparallel.Cluster(n=1, controller_args=["--HeartMonitor.period=500"])
    client = cluster.start_and_connect_sync()
    try:
        cluster.start_engines_sync(n=1)
        client.wait_for_engines(2, timeout=60)
        yield cluster, client
    finally:
        client.close()
        cluster.stop_cluster_sync()


@pytest.fixture
def ipp_client(ipp_cluster):
    cluster, client = ipp_cluster
    try:
        yield client
    finally:  # a test that stopped or killed engines leaves two for the next one
        missing = 2 - len(client.ids)
        if missing > 0:
            cluster.start_engines_sync(n=missing)
            client.wait_for_engines(2, timeout=60)


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


async def down_to_one_in_flight(runner, learner):
    """Wait for ``ntasks`` to fall to 1, then check that 10 more points run one at a time."""
    await until(lambda: runner.ntasks == 1, "ntasks == 1", runner)
    await until(lambda: len(runner.pending_points) <= 1, "one in flight", runner)
    told = learner.npoints
    while learner.npoints < told + 10:  # from now on, never more than one in flight
        assert len(runner.pending_points) <= 1
        assert runner.status() == "running"
        await asyncio.sleep(0.002)


async def until(condition, what, runner):
    """Wait (up to a generous 60 s) for ``condition()``, failing early if the run ends."""
    deadline = time.monotonic() + 60
    while not condition():
        if runner.task.done():
            raise AssertionError(f"the run ended before {what}") from runner.task.exception()
        assert time.monotonic() < deadline, f"no {what} within 60 s"
        await asyncio.sleep(0.005)


def _slow_identity():
    # a closure: cloudpickle sends it by value, so engines need not import this test module
    def slow(x):
        time.sleep(0.02)
        return x

    return slow


def _wait_to_be_killed(directory, die_at):
    """At the first attempt at a point in ``die_at``: write the process id to ``pid-{x}`` and
    sleep until killed; else return ``10 * x``. (A closure, like :func:`_slow_identity`.)"""

    def wait_to_be_killed(x):
        marker = directory / f"pid-{x}"
        if x in die_at and not marker.exists():
            partial = marker.with_suffix(".tmp")
            partial.write_text(str(os.getpid()))
            partial.rename(marker)  # the killer sees the whole id or nothing
            time.sleep(60)
        return 10 * x

    return wait_to_be_killed


def test_ntasks_follows_the_cluster_when_it_scales(dask_cluster, dask_client):
    stop = threading.Event()

    async def main():
        learner = Learner1D(_slow_identity(), bounds=(-1, 1))
        runner = AsyncRunner(learner, goal=lambda _: stop.is_set(), executor=dask_client)
        assert runner.ntasks == 2
        await until(lambda: len(runner.pending_points) == 2, "two evaluations in flight", runner)

        dask_cluster.scale(3)
        await asyncio.to_thread(dask_client.wait_for_workers, 3, 60)
        await until(lambda: runner.ntasks == 3, "ntasks == 3", runner)
        await until(lambda: len(runner.pending_points) == 3, "three in flight", runner)

        dask_cluster.scale(1)
        await down_to_one_in_flight(runner, learner)

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


def _wait_for(condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.01)


@pytest.mark.timeout(90)
def test_ntasks_follows_ipyparallel_engines_joining_and_leaving(ipp_cluster, ipp_client):
    cluster, client = ipp_cluster
    # start from one engine: stop one of the fixture's engine sets (no run is using it)
    running = [set_id for set_id, engines in cluster.engines.items() if engines.running]
    cluster.stop_engines_sync(running[-1])
    _wait_for(lambda: len(client.ids) == 1, "engine unregistered")
    stop = threading.Event()

    async def main():
        learner = Learner1D(_slow_identity(), bounds=(-1, 1))
        # an engine stopped in the middle of an evaluation fails that point: retried
        runner = AsyncRunner(learner, goal=lambda _: stop.is_set(), executor=client, retries=5)
        assert runner.ntasks == 1
        await until(lambda: learner.npoints >= 5, "five points", runner)
        assert len(runner.pending_points) <= 1

        added = await asyncio.to_thread(cluster.start_engines_sync, 1)
        await until(lambda: runner.ntasks == 2, "ntasks == 2", runner)
        await until(lambda: len(runner.pending_points) == 2, "two in flight", runner)

        await asyncio.to_thread(cluster.stop_engines_sync, added)
        await down_to_one_in_flight(runner, learner)

        stop.set()
        await runner.task
        return runner, learner

    try:
        runner, learner = asyncio.run(main())
    finally:
        stop.set()
    assert runner.status() == "finished"
    assert 0 < runner.overhead() < 100
    assert all(x == y for x, y in learner.data.items())
    assert not learner.pending_points


@pytest.mark.timeout(90)
def test_ipyparallel_engine_killed_mid_evaluation(ipp_cluster, ipp_client, tmp_path):
    cluster, client = ipp_cluster
    # the killed point fails with WorkerDiedError and is retried on the other engine
    killer = kill_when_started(tmp_path / "pid-2")
    learner = SequenceLearner(_wait_to_be_killed(tmp_path, die_at={2}), range(6))
    runner = BlockingRunner(learner, executor=client, retries=1)
    killer.join(timeout=5)
    assert learner.result() == [10 * x for x in range(6)]
    assert not is_alive(int((tmp_path / "pid-2").read_text()))
    assert not runner.tracebacks
    _wait_for(lambda: len(client.ids) == 1, "the dead engine unregistered")

    # without retries the run fails cleanly, naming the point
    cluster.start_engines_sync(n=1)
    client.wait_for_engines(2, timeout=60)
    again = tmp_path / "again"
    again.mkdir()
    killer = kill_when_started(again / "pid-1")
    learner = SequenceLearner(_wait_to_be_killed(again, die_at={1}), range(4))
    with pytest.raises(WorkerDiedError, match=r"engine evaluating point \(1, 1\) died"):
        BlockingRunner(learner, executor=client, retries=0)
    killer.join(timeout=5)
    assert not learner.pending_points
    _wait_for(lambda: len(client.ids) == 1, "the dead engine unregistered")


def _engine_set_of(cluster, pid):
    """The id of the engine set whose engine runs in process ``pid``."""
    for set_id, engines in cluster.engines.items():
        if any(getattr(e, "pid", None) == pid for e in engines.launchers.values()):
            return set_id
    raise AssertionError(f"no engine set has an engine with pid {pid}")


@pytest.mark.timeout(90)
def test_ipyparallel_engine_stopped_mid_evaluation_finishes_it_first(
    ipp_cluster, ipp_client, tmp_path
):
    cluster, client = ipp_cluster

    def slow_at_one(x):
        if x == 1:
            partial = tmp_path / "pid.tmp"
            partial.write_text(str(os.getpid()))
            partial.rename(tmp_path / "pid")
            time.sleep(1)
        return 10 * x

    def stop_its_engine():
        pid_file = tmp_path / "pid"
        _wait_for(pid_file.exists, "evaluation of point 1 started")
        cluster.stop_engines_sync(_engine_set_of(cluster, int(pid_file.read_text())))

    stopper = threading.Thread(target=stop_its_engine, daemon=True)
    stopper.start()
    # the engine gets SIGTERM, finishes the evaluation under way, then exits (an evaluation
    # longer than the launcher's stop_seconds_until_kill is killed: a WorkerDiedError, as above)
    learner = SequenceLearner(slow_at_one, range(8))
    runner = BlockingRunner(learner, executor=client, retries=0)
    stopper.join(timeout=30)
    assert not stopper.is_alive()
    assert learner.result() == [10 * x for x in range(8)]
    assert not runner.tracebacks
    _wait_for(lambda: len(client.ids) == 1, "stopped engine unregistered")
