"""Runner throughput: adaptive_runner against python-adaptive 1.5.2, in one run.

What is measured (best and median of ``--repeat`` runs, time.perf_counter around the whole run):

1. ``sequential``: BlockingRunner with SequentialExecutor on a cheap function (``abs``) over a
   SequenceLearner: the runner's own cost per point (plus ask/tell), in microseconds.
2. ``async sleep``: ``async def f(x): await asyncio.sleep(0.01)`` at ntasks=100 over a
   SequenceLearner. The ideal is 100 / 0.01 s = 10,000 points/s; reported as % of ideal.
   python-adaptive 1.5.2 cannot run an async function through its SequenceLearner (it sends the
   coroutine to a process pool: "cannot pickle 'coroutine' object"); the script checks that
   once and measures python-adaptive with a Learner1D instead.
3. ``async no-op``: ``async def f(x): return x`` at ntasks = 10, 100, 1000: the bookkeeping per
   point, which should not grow with ntasks.

Run it from a plain script (no running event loop), with both libraries installed in the same
environment for the comparison:

    python -m venv /tmp/bench && /tmp/bench/bin/pip install -e . adaptive==1.5.2
    /tmp/bench/bin/python benchmarks/runner_throughput.py [--quick] [--json results.json]

Without python-adaptive installed its columns are left out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable

import adaptive_runner

try:
    import adaptive
except ImportError:  # the comparison is optional
    adaptive = None

IDEAL_SLEEP_RATE = 100 / 0.01  # ntasks / seconds per call


async def sleep_10ms(x):
    await asyncio.sleep(0.01)
    return x


async def no_op(x):
    return x


def fresh_loop() -> None:
    """A new current event loop for python-adaptive, which runs on the thread's current loop."""
    asyncio.set_event_loop(asyncio.new_event_loop())


def timed(run: Callable[[], int], repeat: int) -> tuple[float, float]:
    """Best and median points per second of ``run`` (which returns its number of points)."""
    rates = []
    for _ in range(repeat):
        start = time.perf_counter()
        npoints = run()
        rates.append(npoints / (time.perf_counter() - start))
    return max(rates), statistics.median(rates)


# ---- adaptive_runner ---------------------------------------------------------------------------
def ours_sequential(n: int) -> int:
    learner = adaptive_runner.SequenceLearner(abs, range(n))
    adaptive_runner.BlockingRunner(learner, executor=adaptive_runner.SequentialExecutor())
    assert learner.done()
    return n


def ours_async(function: Callable, n: int, ntasks: int) -> int:
    learner = adaptive_runner.SequenceLearner(function, range(n))
    runner = adaptive_runner.AsyncRunner(learner, ntasks=ntasks)
    runner.block_until_done()
    assert learner.done()
    return n


# ---- python-adaptive (black box) ----------------------------------------------------------------
def theirs_sequential(n: int) -> int:
    learner = adaptive.SequenceLearner(abs, range(n))
    adaptive.BlockingRunner(
        learner, goal=lambda lrn: lrn.done(), executor=adaptive.runner.SequentialExecutor()
    )
    assert learner.done()
    return n


def theirs_async_sequence_works() -> str:
    """Whether python-adaptive's SequenceLearner runs an async function ("yes" or the error)."""
    fresh_loop()
    learner = adaptive.SequenceLearner(no_op, range(4))
    runner = adaptive.Runner(learner, goal=lambda lrn: lrn.done(), ntasks=2)
    try:  # python-adaptive prints the failure's traceback; it is expected here
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            runner.ioloop.run_until_complete(asyncio.wait_for(runner.task, 30))
    except Exception as e:
        return f"fails: {type(e).__name__}: {str(e).splitlines()[0]}"
    return "yes"


def theirs_async_learner1d(function: Callable, n: int, ntasks: int) -> int:
    fresh_loop()
    learner = adaptive.Learner1D(function, bounds=(-1, 1))
    runner = adaptive.Runner(learner, npoints_goal=n, ntasks=ntasks)
    runner.ioloop.run_until_complete(runner.task)
    return learner.npoints


# ---- the table -----------------------------------------------------------------------------------
def measure(quick: bool, repeat: int) -> list[dict]:
    n_seq = 5_000 if quick else 20_000
    n_sleep = 1_000 if quick else 6_000
    n_noop = 3_000 if quick else 20_000
    rows = []

    def add(case, library, best, median, **extra):
        rows.append({"case": case, "library": library, "best": best, "median": median, **extra})
        print(
            f"  {case:<32} {library:<16} best {best:10,.0f} pts/s  median {median:10,.0f} pts/s"
            f"  ({1e6 / median:7.1f} us/pt)" + "".join(f"  {k}={v}" for k, v in extra.items()),
            flush=True,
        )

    print("sequential executor, cheap function (SequenceLearner)")
    add("sequential", "adaptive_runner", *timed(lambda: ours_sequential(n_seq), repeat))
    if adaptive:
        add("sequential", "python-adaptive", *timed(lambda: theirs_sequential(n_seq), repeat))

    print("async def with asyncio.sleep(0.01), ntasks=100 (ideal 10,000 pts/s)")
    best, median = timed(lambda: ours_async(sleep_10ms, n_sleep, 100), repeat)
    add("async sleep", "adaptive_runner", best, median, pct_of_ideal=_pct(median))
    if adaptive:
        works = theirs_async_sequence_works()
        print(f"  python-adaptive SequenceLearner with an async function: {works}")
        rows.append({"case": "async SequenceLearner", "library": "python-adaptive", "works": works})
        best, median = timed(lambda: theirs_async_learner1d(sleep_10ms, n_sleep, 100), repeat)
        add("async sleep (Learner1D)", "python-adaptive", best, median, pct_of_ideal=_pct(median))

    print("async def no-op: bookkeeping per point against ntasks")
    for ntasks in (10, 100, 1000):
        add(
            f"async no-op ntasks={ntasks}",
            "adaptive_runner",
            *timed(lambda ntasks=ntasks: ours_async(no_op, n_noop, ntasks), repeat),
        )
        if adaptive:
            add(
                f"async no-op ntasks={ntasks} (Learner1D)",
                "python-adaptive",
                *timed(lambda ntasks=ntasks: theirs_async_learner1d(no_op, n_noop, ntasks), repeat),
            )
    return rows


def _pct(rate: float) -> str:
    return f"{100 * rate / IDEAL_SLEEP_RATE:.0f}%"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", RuntimeWarning)  # "coroutine never awaited" from that check
    versions = {
        "adaptive_runner": adaptive_runner.__version__,
        "python-adaptive": getattr(adaptive, "__version__", "not installed"),
        "python": platform.python_version(),
    }
    print(" ".join(f"{k} {v}" for k, v in versions.items()))
    rows = measure(args.quick, args.repeat)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"versions": versions, "results": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
