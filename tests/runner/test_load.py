"""Load: 100,000 loky evaluations in bounded memory, and 2,000 ``async def`` evaluations at once.

Memory is measured in a fresh subprocess, so nothing the test session has allocated (other tests,
pytest's own state) can hide growth or fake it. Two instruments, each compared with the data the
learner must hold (measured on a control learner told the same values without any runner):

- ``sys.getallocatedblocks()`` after a full garbage collection: the number of live small Python
  objects. It is exact and cheap, so it is read during the run at 10%, 50% and 100% of the
  points. Anything the runner kept per evaluation (a future, a timing, a log entry, the point)
  adds at least one object per evaluation, i.e. 100,000 blocks.
- The process RSS: large buffers too (pickling buffers, lists of pointers), with the allocator's
  slack, so its margin is wider; it catches big leaks such as every future (measured: ~6 kB
  and ~60 objects each, with their callbacks).
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adaptive_runner import AsyncRunner, BlockingRunner, SequenceLearner

N_LOAD = 100_000
#: evaluations in flight for the loky run. A trivial function makes each evaluation one round
#: trip through loky's queues (~0.5 ms); with only one per worker (the default, ntasks=2 here)
#: the workers mostly wait for the next round trip and the run takes ~2x longer.
LOAD_NTASKS = 8
#: how many live objects the run may hold beyond the data: the evaluations in flight, the event
#: loop, loky's queues (measured: under 1,000). One object kept per evaluation would be 100,000.
EXCESS_BLOCKS = N_LOAD // 20
#: RSS may exceed the data by the allocator's slack: partly used pymalloc arenas, the old and
#: new tables of a dict while it resizes, loky's pickling buffers (measured: data 8-9 MB, RSS
#: growth ~13 MB). Keeping every future added ~590 MB (and 6 million objects) when tried.
RSS_FACTOR, RSS_SLACK = 2, 16e6

N_ASYNC = 2_000
ASYNC_SLEEP = 0.25


def plus_one(x: int) -> int:
    return x + 1


def _load_run(n: int, ntasks: int) -> dict:
    """Run in the child process: the loky run with its memory samples, then the control."""
    import psutil

    process = psutil.Process()
    marks = sorted({n // 10, n // 2, n})

    # warm up what is created once per process: loky's workers and queues, imports, caches
    warm = SequenceLearner(plus_one, range(2_000))
    BlockingRunner(warm, goal=lambda learner: learner.done(), ntasks=ntasks)
    del warm

    learner = SequenceLearner(plus_one, range(n))
    samples: dict[int, dict] = {}
    gc.collect()
    rss_start, blocks_start = process.memory_info().rss, sys.getallocatedblocks()
    time_start = time.perf_counter()

    def goal(learner: SequenceLearner) -> bool:
        npoints = learner.npoints
        if npoints in marks and npoints not in samples:
            rss = process.memory_info().rss - rss_start
            blocks_before_gc = sys.getallocatedblocks() - blocks_start
            gc.collect()  # count what is kept, not garbage waiting for the cyclic collector
            samples[npoints] = {
                "seconds": time.perf_counter() - time_start,
                "rss": rss,
                "blocks_before_gc": blocks_before_gc,
                "blocks": sys.getallocatedblocks() - blocks_start,
            }
        return learner.done()

    runner = BlockingRunner(learner, goal=goal, ntasks=ntasks)  # executor=None: loky
    seconds = time.perf_counter() - time_start
    gc.collect()  # the runner is still alive: whatever it kept is counted
    samples[-1] = {
        "seconds": seconds,
        "rss": process.memory_info().rss - rss_start,
        "blocks": sys.getallocatedblocks() - blocks_start,
    }
    result = learner.result()
    expected = [x + 1 for x in range(n)]
    run = {
        "executor": type(runner.executor).__module__,
        "ntasks": runner.ntasks,
        "outcome": runner.outcome,
        "failed": len(runner.failed),
        "tracebacks": len(runner.tracebacks),
        "pending": len(runner.pending_points),
        "npoints": learner.npoints,
        "correct": result == expected,
        "first_wrong": next(
            (i for i, (a, b) in enumerate(zip(result, expected, strict=True)) if a != b), None
        ),
        "samples": samples,
    }

    # the control: the same values told to a learner directly, no runner, no executor
    import tracemalloc

    control = SequenceLearner(plus_one, range(n))
    gc.collect()
    blocks_start = sys.getallocatedblocks()
    tracemalloc.start()  # its own bookkeeping is not in pymalloc's blocks
    data: dict[int, dict] = {}
    while not control.done():
        (point,), _ = control.ask(1)
        control.tell(point, plus_one(point[1]))
        if control.npoints in marks:
            gc.collect()
            data[control.npoints] = {
                "bytes": tracemalloc.get_traced_memory()[0],
                "blocks": sys.getallocatedblocks() - blocks_start,
            }
    tracemalloc.stop()
    data[-1] = data[n]
    run["data"] = data
    return run


def _run_child(n: int, ntasks: int) -> dict:
    code = (
        f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        f"import test_load; print(json.dumps(test_load._load_run({n}, {ntasks})))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=280, check=False
    )
    assert completed.returncode == 0, completed.stderr
    run = json.loads(completed.stdout.strip().splitlines()[-1])
    for key in ("samples", "data"):
        run[key] = {int(k): v for k, v in run[key].items()}
    return run


@pytest.mark.timeout(300)
def test_100k_loky_evaluations_keep_no_memory_beyond_the_data():
    pytest.importorskip("psutil")
    run = _run_child(N_LOAD, LOAD_NTASKS)

    assert run["executor"].startswith("loky")
    assert run["ntasks"] == LOAD_NTASKS
    assert run["outcome"] == "finished"
    assert (run["failed"], run["tracebacks"], run["pending"]) == (0, 0, 0)
    assert run["npoints"] == N_LOAD
    assert run["correct"], f"wrong result at index {run['first_wrong']}"

    samples, data = run["samples"], run["data"]
    assert sorted(samples) == [-1, N_LOAD // 10, N_LOAD // 2, N_LOAD]  # every mark was seen
    report = []
    for mark in [N_LOAD // 10, N_LOAD // 2, N_LOAD, -1]:  # -1: after the run
        sample = samples[mark]
        held = data[mark]
        excess_blocks = sample["blocks"] - held["blocks"]
        rss_bound = RSS_FACTOR * held["bytes"] + RSS_SLACK
        label = "after the run" if mark == -1 else f"at {mark:,} points"
        report.append(
            f"{label}: {sample['seconds']:.1f} s, RSS +{sample['rss'] / 1e6:.1f} MB "
            f"(data {held['bytes'] / 1e6:.1f} MB), objects +{sample['blocks']:,} "
            f"(data {held['blocks']:,})"
        )
        assert excess_blocks <= EXCESS_BLOCKS, "\n".join(report)
        assert sample["rss"] <= rss_bound, "\n".join(report)
    # the count sees the data's 100,000 values, so it would see 100,000 kept objects too
    assert data[N_LOAD]["blocks"] >= 0.9 * N_LOAD


def test_loky_evaluations_leave_no_reference_cycles():
    """An evaluation's futures and callbacks are freed as soon as it ends, by reference counting.

    Left in reference cycles, they would wait for the cyclic garbage collector; an evaluation
    that runs for a while reaches its oldest generation, where garbage piles up until a full
    collection, and the collector's work grows with the number of evaluations.
    """
    n = 1_000
    learner = SequenceLearner(plus_one, range(n))
    gc.collect()
    gc.disable()
    try:
        BlockingRunner(learner, goal=lambda learner: learner.done())  # loky
        in_cycles = gc.collect()
    finally:
        gc.enable()
    assert learner.result() == [x + 1 for x in range(n)]
    # measured: ~60 objects once per run (event loop, tasks); when each evaluation on loky
    # left its futures and closures in a cycle, 51,100
    assert in_cycles < n // 4


class GatedDouble:
    """``async def`` evaluation ``2 * x`` that returns only once ``expected`` calls are in flight
    together (then sleeps ``sleep`` seconds), and counts how many ran at once.

    If the runner never has ``expected`` evaluations in flight, the calls time out and fail.
    """

    def __init__(self, expected: int, sleep: float) -> None:
        self.expected = expected
        self.sleep = sleep
        self.in_flight = 0
        self.max_in_flight = 0
        self.calls = 0
        self._all_in: asyncio.Event | None = None

    async def __call__(self, x: int) -> int:
        if self._all_in is None:  # created in the loop that runs the evaluations
            self._all_in = asyncio.Event()
        self.calls += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if self.in_flight >= self.expected:
            self._all_in.set()
        try:
            await asyncio.wait_for(self._all_in.wait(), timeout=30)
            await asyncio.sleep(self.sleep)
        finally:
            self.in_flight -= 1
        return 2 * x


@pytest.mark.parametrize("wait", ["await runner", "await runner.task", "block_until_done"])
def test_2000_async_evaluations_at_once(wait):
    function = GatedDouble(N_ASYNC, ASYNC_SLEEP)
    learner = SequenceLearner(function, range(N_ASYNC))

    def start() -> AsyncRunner:
        return AsyncRunner(learner, goal=lambda learner: learner.done(), ntasks=N_ASYNC)

    async def main() -> AsyncRunner:
        runner = start()  # inside a running loop: the run starts at once, in the background
        if wait == "await runner":
            await runner
        else:
            await runner.task
        return runner

    started = time.perf_counter()
    if wait == "block_until_done":
        runner = start()
        runner.block_until_done()
    else:
        runner = asyncio.run(main())
    elapsed = time.perf_counter() - started

    assert runner.status() == "finished"
    assert (runner.failed, runner.tracebacks, runner.pending_points) == ([], [], [])
    assert function.max_in_flight == N_ASYNC
    assert function.calls == N_ASYNC  # each point evaluated once
    assert function.in_flight == 0
    assert learner.result() == [2 * x for x in range(N_ASYNC)]
    # the sleeps overlapped: one after another they would take 2,000 x 0.25 s = 500 s
    assert elapsed < N_ASYNC * ASYNC_SLEEP / 10
