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
4. ``loky``: ``x + 1`` on 100,000 points (``--loky N``; skipped with ``--quick`` unless given)
   of a SequenceLearner through loky's reusable executor, BlockingRunner with default ntasks,
   one run per library, each in a fresh process: points per second and the growth of the
   process RSS during the run (the learner's data itself is ~9 MB at 100,000 points).

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
import gc
import io
import json
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

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


def plus_one(x):
    return x + 1


def loky_child(library: str, n: int) -> dict:
    """In a fresh process: ``n`` evaluations of ``plus_one`` over a SequenceLearner on loky's
    reusable executor, with ``library``'s BlockingRunner; seconds and RSS growth (bytes)."""
    import loky
    import psutil

    executor = loky.get_reusable_executor()
    executor.submit(abs, 1).result()  # the workers start before the clock does
    if library == "adaptive_runner":
        make, run = adaptive_runner.SequenceLearner, adaptive_runner.BlockingRunner
    else:
        fresh_loop()
        make, run = adaptive.SequenceLearner, adaptive.BlockingRunner
    # a short run first: what is created once per process (imports, caches) is not counted
    run(make(plus_one, range(1_000)), goal=lambda lrn: lrn.done(), executor=executor)
    learner = make(plus_one, range(n))
    process = psutil.Process()
    gc.collect()
    rss = process.memory_info().rss
    start = time.perf_counter()
    run(learner, goal=lambda lrn: lrn.done(), executor=executor)
    seconds = time.perf_counter() - start
    growth = process.memory_info().rss - rss
    assert learner.result() == [x + 1 for x in range(n)]
    return {"seconds": seconds, "rss_growth": growth}


def loky_case(library: str, n: int) -> dict:
    """Run :func:`loky_child` in a new interpreter, so earlier cases cannot skew its RSS."""
    here = str(Path(__file__).resolve().parent)
    code = (
        f"import json, sys, warnings; sys.path.insert(0, {here!r}); "
        "warnings.simplefilter('ignore'); import runner_throughput as bench; "
        f"print(json.dumps(bench.loky_child({library!r}, {n})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


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
def measure(quick: bool, repeat: int, loky_points: int | None = None) -> list[dict]:
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

    n_loky = (0 if quick else 100_000) if loky_points is None else loky_points
    if n_loky:
        print(f"loky, x + 1 on {n_loky:,} points (SequenceLearner, default ntasks, one run)")
        for library in ["adaptive_runner"] + (["python-adaptive"] if adaptive else []):
            result = loky_case(library, n_loky)
            rate = n_loky / result["seconds"]
            growth = f"{result['rss_growth'] / 1e6:.1f} MB"
            add(f"loky {n_loky:,}", library, rate, rate, rss_growth=growth)
    return rows


def _pct(rate: float) -> str:
    return f"{100 * rate / IDEAL_SLEEP_RATE:.0f}%"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument(
        "--loky",
        type=int,
        metavar="N",
        help="points of the loky case (default 100,000; 0 skips it; skipped by --quick)",
    )
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", RuntimeWarning)  # "coroutine never awaited" from that check
    versions = {
        "adaptive_runner": adaptive_runner.__version__,
        "python-adaptive": getattr(adaptive, "__version__", "not installed"),
        "python": platform.python_version(),
    }
    print(" ".join(f"{k} {v}" for k, v in versions.items()))
    rows = measure(args.quick, args.repeat, args.loky)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"versions": versions, "results": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
