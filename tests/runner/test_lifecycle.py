"""Cancellation, results after the goal, periodic saving, logs and replay, helper tasks."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import pickle
import select
import time
import warnings

import pytest
from runner_functions import (
    CountingLearner,
    FailFirstTimes,
    async_sleep_forever,
    async_square,
    sleep_then_return,
    square,
)

from adaptive_runner import (
    AsyncRunner,
    BlockingRunner,
    SequenceLearner,
    SequentialExecutor,
    replay_log,
)
from adaptive_runner.display.terminal import live_info_terminal


def test_cancel_mid_run_leaves_a_clean_learner_and_no_running_helpers(tmp_path):
    async def main():
        learner = CountingLearner(async_sleep_forever)
        runner = AsyncRunner(learner, ntasks=4)
        saver = runner.start_periodic_saving({"fname": tmp_path / "l.pickle"}, interval=10)
        await asyncio.sleep(0.05)
        assert len(runner.pending_points) == 4
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner.task
        return learner, runner, saver

    learner, runner, saver = asyncio.run(main())
    assert runner.status() == "cancelled"
    assert runner.pending_points == []
    assert not learner.pending_points
    assert saver.done()
    assert (tmp_path / "l.pickle").exists()  # the final save happened on cancel too


def test_cancel_with_a_thread_pool_does_not_wait_for_running_evaluations():
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    learner = SequenceLearner(sleep_then_return, [0.01] * 10 + [1.5] * 4)

    async def main():
        runner = AsyncRunner(learner, executor=pool)
        while learner.npoints < 10:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        start = time.monotonic()
        runner.cancel()
        await asyncio.wait([runner.task])
        return runner, time.monotonic() - start

    runner, stop_time = asyncio.run(main())
    assert stop_time < 1.0
    assert runner.status() == "cancelled"
    assert learner.npoints == 10
    assert not learner.pending_points
    pool.shutdown(wait=True)


def test_results_that_arrived_when_the_goal_was_met_are_told():
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=4)

    def goal(learner):
        if learner.npoints == 1:
            time.sleep(0.3)  # meanwhile the other three evaluations finish
            return True
        return learner.npoints >= 1

    learner = CountingLearner(lambda x: sleep_then_return(0.05) and x)
    runner = BlockingRunner(learner, goal=goal, executor=pool, ntasks=4, log=True)
    assert learner.npoints == 4
    assert sorted(learner.data) == [0, 1, 2, 3]
    assert len([e for e in runner.log if e[0] == "tell"]) == 4
    pool.shutdown()


def test_a_single_evaluation_cancelled_from_pending_points_counts_as_a_failure():
    async def main():
        learner = SequenceLearner(async_sleep_forever, range(3))
        runner = AsyncRunner(learner, ntasks=3, raise_if_retries_exceeded=False)
        await asyncio.sleep(0.02)
        handle, point = runner.pending_points[0]
        assert handle.cancel()
        await asyncio.sleep(0.02)
        status = runner.status()
        failed = runner.failed
        runner.cancel()
        await asyncio.wait([runner.task])
        return status, failed, point, runner

    status, failed, point, runner = asyncio.run(main())
    assert status == "running"  # the run goes on
    assert failed == [point]
    assert "was cancelled" in runner.tracebacks[0][1]


def test_periodic_saving_writes_loadable_files_during_and_after_the_run(tmp_path):
    fname = tmp_path / "sub" / "learner.pickle"
    sequence = range(150)

    async def main():
        learner = SequenceLearner(async_square, sequence)
        runner = AsyncRunner(learner, ntasks=2)
        task = runner.start_periodic_saving(save_kwargs={"fname": fname}, interval=0.02)
        while not fname.exists():
            await asyncio.sleep(0.005)
        mid_run = SequenceLearner(async_square, sequence)
        mid_run.load(fname)
        npoints_mid_run = mid_run.npoints
        await runner
        return learner, task, npoints_mid_run

    learner, task, npoints_mid_run = asyncio.run(main())
    assert task.done()
    assert 0 <= npoints_mid_run < 150
    final = SequenceLearner(async_square, sequence)
    final.load(fname)
    assert final.data == learner.data
    assert len(final.data) == 150
    assert [p.name for p in fname.parent.iterdir()] == ["learner.pickle"]  # no temp files left


def test_periodic_saving_with_a_method(tmp_path):
    saved = []
    learner = SequenceLearner(async_square, range(20))
    runner = AsyncRunner(learner, ntasks=2)
    runner.start_periodic_saving(
        save_kwargs={"tag": "x"},
        interval=1000,
        method=lambda lrn, tag: saved.append((tag, lrn.npoints)),
    )
    runner.block_until_done()
    assert saved == [("x", 20)]  # the final save, after the run


def test_periodic_saving_bad_arguments_fail_at_once():
    runner = AsyncRunner(CountingLearner(async_square), npoints_goal=5)
    with pytest.raises(ValueError, match="save_kwargs"):
        runner.start_periodic_saving()
    with pytest.raises(ValueError, match="interval=0"):
        runner.start_periodic_saving({"fname": "x"}, interval=0)
    runner.block_until_done()


def test_a_failing_final_save_fails_the_run(tmp_path):
    def broken_save(learner):
        raise OSError("disk full")

    learner = SequenceLearner(async_square, range(5))
    runner = AsyncRunner(learner, ntasks=2)
    runner.start_periodic_saving(interval=1000, method=broken_save)
    with pytest.raises(OSError, match="disk full"):
        runner.block_until_done()
    assert runner.status() == "failed"
    assert learner.done()  # the data is all there


def test_a_failing_periodic_save_warns_and_the_run_goes_on():
    calls = []

    def flaky_save(learner):
        calls.append(learner.npoints)
        if len(calls) == 1:
            raise OSError("temporarily unavailable")

    async def slow(x):
        await asyncio.sleep(0.01)
        return x

    learner = SequenceLearner(slow, range(20))
    runner = AsyncRunner(learner, ntasks=1)
    runner.start_periodic_saving(interval=0.03, method=flaky_save)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runner.block_until_done()
    assert runner.status() == "finished"
    assert any("temporarily unavailable" in str(w.message) for w in caught)
    assert calls[-1] == 20


@pytest.mark.parametrize("ntasks", [1, 3])
def test_replay_log_reproduces_the_learner(ntasks):
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=ntasks)
    learner = CountingLearner(square)
    runner = BlockingRunner(learner, npoints_goal=40, executor=pool, log=True)
    replayed = CountingLearner(square)
    replay_log(replayed, runner.log)
    assert replayed.data == learner.data
    assert replayed.pending_points == learner.pending_points == set()
    assert replayed.ask(5) == learner.ask(5)
    pool.shutdown()


def test_replay_log_with_failures_and_retries(tmp_path):
    learner = SequenceLearner(FailFirstTimes(tmp_path, times=1), range(10))
    runner = BlockingRunner(learner, executor=SequentialExecutor(), retries=1, log=True)
    replayed = SequenceLearner(square, range(10))
    replay_log(replayed, pickle.loads(pickle.dumps(runner.log)))
    assert replayed.data == learner.data
    assert replayed.done()
    with pytest.raises(ValueError, match="unknown log entry"):
        replay_log(replayed, [("explode", 1)])


def test_live_info_terminal_plain_lines_when_not_a_terminal(capsys):
    async def slow(x):
        await asyncio.sleep(0.01)
        return x

    learner = CountingLearner(slow)
    runner = AsyncRunner(learner, npoints_goal=30, ntasks=1)
    task = runner.live_info_terminal(update_interval=0.05)
    runner.block_until_done()
    assert task.done()
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) >= 3
    assert "\x1b" not in out
    assert "\r" not in out
    assert lines[-1].startswith("finished")
    assert "points: 30" in lines[-1]
    assert "100.0%" in lines[-1]  # npoints goal: a progress bar
    assert "left:" not in lines[-1]  # no remaining time once the run has ended
    assert "overhead:" in lines[-1]
    assert lines[0].startswith("running")


def read_everything(fd: int) -> str:
    """All that was written to a pty so far (one read may return only part of it)."""
    chunks = []
    while select.select([fd], [], [], 0.2)[0]:
        try:
            chunk = os.read(fd, 100_000)
        except OSError:  # the other end is closed and drained
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


def test_live_info_terminal_redraws_in_place_on_a_terminal():
    master, slave = os.openpty()
    with os.fdopen(slave, "w") as tty:
        learner = SequenceLearner(async_square, range(20))
        runner = AsyncRunner(learner, ntasks=2)
        live_info_terminal(runner, update_interval=0.01, file=tty)
        runner.block_until_done()
    out = read_everything(master)
    os.close(master)
    assert "\r\x1b[2K" in out
    assert "finished" in out


def test_live_info_terminal_shows_failures_and_the_error():
    import io

    buffer = io.StringIO()
    learner = SequenceLearner(lambda x: 1 / (x - 2), range(5))
    runner = AsyncRunner(learner, executor=SequentialExecutor())
    live_info_terminal(runner, update_interval=10, file=buffer)
    with pytest.raises(ZeroDivisionError):
        runner.block_until_done()
    last = buffer.getvalue().splitlines()[-1]
    assert last.startswith("failed")
    assert "error: ZeroDivisionError" in last


def test_live_info_terminal_bad_interval():
    runner = AsyncRunner(CountingLearner(async_square), npoints_goal=1)
    with pytest.raises(ValueError, match="update_interval"):
        runner.live_info_terminal(update_interval=0)
    runner.block_until_done()


def test_cancel_before_the_run_started_ends_its_helpers(tmp_path):
    learner = CountingLearner(async_square)
    runner = AsyncRunner(learner, npoints_goal=10)
    saver = runner.start_periodic_saving({"fname": tmp_path / "l.pickle"}, interval=100)
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        runner.block_until_done()
    runner.ioloop.run_until_complete(asyncio.wait_for(saver, 5))
    assert runner.status() == "cancelled"
    assert learner.npoints == 0
    assert (tmp_path / "l.pickle").exists()  # the final save still happened
