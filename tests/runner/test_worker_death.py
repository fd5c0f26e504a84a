"""A worker process dies in the middle of an evaluation, for real: the function calls
``os._exit(1)``, or the test kills the worker with SIGKILL.

With loky (the default), ``concurrent.futures.ProcessPoolExecutor`` and a dask LocalCluster, the
point counts as a failed evaluation (a WorkerDiedError that names it), is retried per
``retries``, the run completes without hanging, and an executor is usable afterwards. A dask
scheduler with its default settings (``distributed.scheduler.allowed-failures``: 3) first runs the
task again on a live worker itself: the runner then sees a result and no failure.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import threading

import loky
import pytest
from faults import is_alive, kill_when_started
from runner_functions import DieFirstTime, WaitToBeKilled, exit_at_zero, square

from adaptive_runner import BlockingRunner, SequenceLearner
from adaptive_runner.runner.executors import WorkerDiedError

EXECUTOR_KINDS = ["loky", "process_pool"]


def make_executor(kind, max_workers):
    if kind == "loky":
        return loky.get_reusable_executor(max_workers=max_workers)
    return concurrent.futures.ProcessPoolExecutor(max_workers=max_workers)


def run(learner, executor, **kwargs):
    # a hang shows up as a failed test, not a stuck suite
    result: list = []
    thread = threading.Thread(
        target=lambda: result.append(_run_catching(learner, executor, **kwargs)), daemon=True
    )
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the run hung after a worker died"
    runner, error = result[0]
    if error is not None:
        raise error
    return runner


def _run_catching(learner, executor, **kwargs):
    try:
        return BlockingRunner(learner, executor=executor, **kwargs), None
    except BaseException as e:
        return None, e


@pytest.mark.parametrize("kind", EXECUTOR_KINDS)
def test_os_exit_is_a_failure_of_that_point_and_the_retry_succeeds(kind, tmp_path):
    executor = make_executor(kind, 2)
    learner = SequenceLearner(DieFirstTime(tmp_path, die_at=[2]), range(5))
    run(learner, executor, ntasks=1, retries=1)
    assert learner.result() == [0, 10, 20, 30, 40]
    assert (tmp_path / "died-2").exists()  # the worker really died once


@pytest.mark.parametrize("kind", EXECUTOR_KINDS)
def test_without_retries_the_error_names_the_point(kind, tmp_path):
    learner = SequenceLearner(DieFirstTime(tmp_path, die_at=[3]), range(5))
    with pytest.raises(WorkerDiedError, match=r"point \(3, 3\)"):
        run(learner, make_executor(kind, 2), ntasks=1)

    learner = SequenceLearner(DieFirstTime(tmp_path / "again", die_at=[1]), range(4))
    (tmp_path / "again").mkdir()
    runner = run(
        learner, make_executor(kind, 2), ntasks=1, retries=0, raise_if_retries_exceeded=False
    )
    assert runner.failed == [(1, 1)]
    [(point, text)] = runner.tracebacks
    assert point == (1, 1)
    assert "WorkerDiedError" in text
    assert "died" in text


@pytest.mark.parametrize("kind", EXECUTOR_KINDS)
def test_sigkill_from_outside_is_a_failure_of_that_point(kind, tmp_path):
    killer = kill_when_started(tmp_path / "pid-2")
    learner = SequenceLearner(WaitToBeKilled(tmp_path, die_at=[2]), range(4))
    runner = run(
        learner, make_executor(kind, 2), ntasks=1, retries=0, raise_if_retries_exceeded=False
    )
    killer.join(timeout=5)
    assert runner.failed == [(2, 2)]
    assert "WorkerDiedError" in runner.tracebacks[0][1]
    assert sorted(x for _, x in learner.data.items()) == [0, 10, 30]


@pytest.mark.parametrize("kind", EXECUTOR_KINDS)
def test_points_lost_with_the_broken_pool_are_sent_again(kind, tmp_path):
    # two workers busy: when one dies the whole pool breaks and the other point is lost too
    learner = SequenceLearner(DieFirstTime(tmp_path, die_at=[0, 5], sleep=0.05), range(10))
    run(learner, make_executor(kind, 2), ntasks=2, retries=0)
    assert learner.result() == [10 * x for x in range(10)]


@pytest.mark.parametrize("kind", EXECUTOR_KINDS)
def test_a_point_that_always_kills_its_worker_ends_up_failed(kind):
    # lost together with others it is sent again a few times for free, then counts as failing
    learner = SequenceLearner(exit_at_zero, range(6))
    runner = run(
        learner, make_executor(kind, 2), ntasks=2, retries=1, raise_if_retries_exceeded=False
    )
    assert runner.failed == [(0, 0)]
    assert sorted(learner.data.values()) == [10, 20, 30, 40, 50]


def test_loky_reusable_executor_works_after_a_worker_died(tmp_path):
    learner = SequenceLearner(DieFirstTime(tmp_path, die_at=[0]), range(3))
    broken = loky.get_reusable_executor()
    runner = run(learner, None, ntasks=1, retries=1)  # the default executor
    assert learner.result() == [0, 10, 20]
    # runner.executor names the executor that replaced the broken one, which works
    assert runner.executor is not broken
    assert runner.executor.submit(square, 3).result(timeout=10) == 9
    assert loky.get_reusable_executor().submit(square, 7).result(timeout=10) == 49
    learner = SequenceLearner(square, range(4))
    run(learner, None)
    assert learner.result() == [0, 1, 4, 9]


def test_users_process_pool_stays_broken_and_the_replacement_is_shut_down(tmp_path):
    before = set(multiprocessing.active_children())
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=2)
    learner = SequenceLearner(DieFirstTime(tmp_path, die_at=[1]), range(4))
    runner = run(learner, pool, ntasks=1, retries=1)
    assert learner.result() == [0, 10, 20, 30]
    assert runner.executor is not pool  # the run's own pool, which it shut down
    assert isinstance(runner.executor, concurrent.futures.ProcessPoolExecutor)
    with pytest.raises(RuntimeError, match="shutdown"):
        runner.executor.submit(square, 2)
    # the standard library cannot repair a broken pool: it says so clearly
    with pytest.raises(concurrent.futures.process.BrokenProcessPool):
        pool.submit(square, 2)
    # the run went on with a pool of its own, which it shut down: no worker outlives the run
    assert set(multiprocessing.active_children()) <= before


def _local_cluster(**config):
    distributed = pytest.importorskip("distributed")
    import dask

    # the scheduler reads its settings when it starts (it runs in this process)
    with dask.config.set(config):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
    client = distributed.Client(cluster)
    return cluster, client


@pytest.fixture(scope="module")
def strict_cluster_client():
    """A LocalCluster whose scheduler gives up on a task at the first death of its worker
    (``KilledWorker``): the runner sees every death."""
    cluster, client = _local_cluster(**{"distributed.scheduler.allowed-failures": 0})
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def default_cluster_client():
    """A LocalCluster with dask's default settings: a task whose worker died is run again
    elsewhere, up to ``distributed.scheduler.allowed-failures`` (3) deaths."""
    cluster, client = _local_cluster()
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture
def dask_strict_client(strict_cluster_client):
    strict_cluster_client.wait_for_workers(2, timeout=60)  # a killed worker is back
    return strict_cluster_client


@pytest.fixture
def dask_default_client(default_cluster_client):
    default_cluster_client.wait_for_workers(2, timeout=60)
    return default_cluster_client


def check_usable(client):
    """The nannies restarted the dead workers, and a new run uses both."""
    client.wait_for_workers(2, timeout=60)
    assert client.submit(square, 6).result(timeout=30) == 36
    learner = SequenceLearner(square, range(20))
    runner = run(learner, client)
    assert runner.ntasks == 2
    assert learner.result() == [x * x for x in range(20)]


@pytest.mark.timeout(60)
def test_dask_worker_death_is_a_failure_of_that_point(dask_strict_client, tmp_path):
    client = dask_strict_client
    learner = SequenceLearner(DieFirstTime(tmp_path, die_at=[2]), range(5))
    run(learner, client, ntasks=1, retries=1)
    assert learner.result() == [0, 10, 20, 30, 40]
    assert (tmp_path / "died-2").exists()

    learner = SequenceLearner(DieFirstTime(tmp_path / "again", die_at=[1]), range(3))
    (tmp_path / "again").mkdir()
    runner = run(learner, client, ntasks=1, raise_if_retries_exceeded=False)
    assert runner.failed == [(1, 1)]
    assert "WorkerDiedError" in runner.tracebacks[0][1]
    assert "point (1, 1)" in runner.tracebacks[0][1]
    check_usable(client)


@pytest.mark.timeout(60)
def test_dask_worker_sigkilled_mid_task_is_a_failure_of_that_point(dask_strict_client, tmp_path):
    client = dask_strict_client
    # ntasks follows the cluster (two workers): the other worker goes on meanwhile
    killer = kill_when_started(tmp_path / "pid-2")
    learner = SequenceLearner(WaitToBeKilled(tmp_path, die_at=[2]), range(6))
    runner = run(learner, client, retries=1)
    killer.join(timeout=5)
    assert learner.result() == [10 * x for x in range(6)]  # point 2 retried, and done
    assert not is_alive(int((tmp_path / "pid-2").read_text()))  # the worker really died
    assert not runner.tracebacks  # the retry succeeded, so no failure is left to report

    # without retries the run fails, naming the point
    again = tmp_path / "again"
    again.mkdir()
    client.wait_for_workers(2, timeout=60)
    killer = kill_when_started(again / "pid-1")
    learner = SequenceLearner(WaitToBeKilled(again, die_at=[1]), range(4))
    with pytest.raises(WorkerDiedError, match=r"dask worker evaluating point \(1, 1\) died"):
        run(learner, client, retries=0)
    killer.join(timeout=5)
    assert not learner.pending_points
    check_usable(client)


@pytest.mark.timeout(60)
def test_dask_reruns_a_task_whose_worker_was_killed_by_default(dask_default_client, tmp_path):
    import dask

    client = dask_default_client
    assert dask.config.get("distributed.scheduler.allowed-failures") >= 1
    # dask runs the task again on a live worker; the runner sees a result, no failure, so
    # even retries=0 completes
    killer = kill_when_started(tmp_path / "pid-2")
    learner = SequenceLearner(WaitToBeKilled(tmp_path, die_at=[2]), range(6))
    runner = run(learner, client, retries=0)
    killer.join(timeout=5)
    assert learner.result() == [10 * x for x in range(6)]
    assert not is_alive(int((tmp_path / "pid-2").read_text()))
    assert not runner.tracebacks
    assert not runner.failed

    check_usable(client)
