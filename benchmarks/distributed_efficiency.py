"""Parallel efficiency on 2 worker processes: adaptive_runner against python-adaptive 1.5.2.

Efficiency = ideal time / wall time, where the ideal is ``N * 50 ms / 2 workers``: every worker
busy all the time and no cost besides the function. The function takes 50 ms, in two variants:

- ``sleep``: ``time.sleep(0.05)``, so the workers leave the CPU free for the runner, the
  scheduler and the pickling;
- ``cpu``: a busy loop of 50 ms, so the 2 workers compete with everything else for 2 cores.

Executors (created once, warmed up, shared by both libraries):

- ``dask``: ``distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1)``
  through a ``distributed.Client``;
- ``loky``: ``loky.get_reusable_executor(max_workers=2)``.

Both libraries run a ``BlockingRunner`` over a ``SequenceLearner`` of N points until it is done,
with the default ``ntasks`` (the executor's 2 workers). A third row, ``raw executor``, is the
executor's own ceiling: a plain loop that keeps 2 calls in flight (``concurrent.futures.wait``,
``client.get_executor()`` for dask), without learner or runner. Each measurement is the median of
``--repeat`` runs; the rows take turns (the order alternates between runs).

    python -m venv /tmp/bench && /tmp/bench/bin/pip install -e . adaptive==1.5.2 distributed loky
    /tmp/bench/bin/python benchmarks/distributed_efficiency.py [--quick] [--repeat 3] [--json f]

Without python-adaptive installed its rows are left out.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import json
import logging
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

SECONDS = 0.05  # per call
WORKERS = 2


def sleep_50ms(x):
    time.sleep(SECONDS)
    return x


def cpu_50ms(x):
    end = time.perf_counter() + SECONDS
    while time.perf_counter() < end:
        pass
    return x


FUNCTIONS = {"sleep": sleep_50ms, "cpu": cpu_50ms}


# ---- one run per library -------------------------------------------------------------------------
def ours(function: Callable, n: int, executor) -> float:
    learner = adaptive_runner.SequenceLearner(function, range(n))
    start = time.perf_counter()
    adaptive_runner.BlockingRunner(learner, executor=executor)
    wall = time.perf_counter() - start
    assert learner.done()
    return wall


def theirs(function: Callable, n: int, executor) -> float:
    learner = adaptive.SequenceLearner(function, range(n))
    start = time.perf_counter()
    adaptive.BlockingRunner(learner, goal=lambda lrn: lrn.done(), executor=executor)
    wall = time.perf_counter() - start
    assert learner.done()
    return wall


def raw(function: Callable, n: int, executor) -> float:
    """The executor's own ceiling: no learner, no runner; a loop that keeps 2 calls in flight."""
    if hasattr(executor, "get_executor"):  # a distributed.Client: its concurrent.futures face
        executor = executor.get_executor(pure=False)
    points = iter(range(n))
    start = time.perf_counter()
    pending = {executor.submit(function, x) for x in itertools.islice(points, WORKERS)}
    while pending:
        done, pending = concurrent.futures.wait(pending, return_when="FIRST_COMPLETED")
        for future in done:
            future.result()
            x = next(points, None)
            if x is not None:
                pending.add(executor.submit(function, x))
    return time.perf_counter() - start


# ---- executors -----------------------------------------------------------------------------------
def make_executors():
    """(name, executor) pairs, warmed up; and a function that closes them."""
    import distributed
    import loky

    logging.getLogger("distributed").setLevel(logging.ERROR)
    cluster = distributed.LocalCluster(
        n_workers=WORKERS,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = distributed.Client(cluster)
    client.wait_for_workers(WORKERS)
    pool = loky.get_reusable_executor(max_workers=WORKERS)
    for function in FUNCTIONS.values():  # start the processes, import and unpickle once
        client.gather(client.map(function, range(2 * WORKERS), pure=False))
        list(pool.map(function, range(2 * WORKERS)))

    def close():
        client.close()
        cluster.close()
        pool.shutdown(wait=True)

    return [("dask", client), ("loky", pool)], close


# ---- the table -----------------------------------------------------------------------------------
def measure(quick: bool, repeat: int) -> list[dict]:
    n = 20 if quick else 200
    ideal = n * SECONDS / WORKERS
    libraries = [("raw executor", raw), ("adaptive_runner", ours)]
    if adaptive:
        libraries.append(("python-adaptive", theirs))
    executors, close = make_executors()
    rows = []
    try:
        for executor_name, executor in executors:
            for function_name, function in FUNCTIONS.items():
                walls = {name: [] for name, _ in libraries}
                for i in range(repeat):  # the rows take turns; the order alternates
                    order = libraries if i % 2 == 0 else libraries[::-1]
                    for name, run in order:
                        walls[name].append(run(function, n, executor))
                for name, _ in libraries:
                    wall = statistics.median(walls[name])
                    row = {
                        "executor": executor_name,
                        "function": function_name,
                        "library": name,
                        "npoints": n,
                        "ideal_s": ideal,
                        "wall_s": wall,
                        "best_wall_s": min(walls[name]),
                        "efficiency": ideal / wall,
                        "lost_ms_per_point": 1e3 * (wall - ideal) * WORKERS / n,
                    }
                    rows.append(row)
                    print(
                        f"  {executor_name:<5} {function_name:<5} {name:<16} N={n}"
                        f"  wall {wall:6.2f} s (best {row['best_wall_s']:.2f}, ideal {ideal:.2f})"
                        f"  efficiency {100 * row['efficiency']:5.1f}%"
                        f"  lost {row['lost_ms_per_point']:5.1f} ms/pt per worker",
                        flush=True,
                    )
    finally:
        close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", DeprecationWarning)
    import distributed
    import loky

    versions = {
        "adaptive_runner": adaptive_runner.__version__,
        "python-adaptive": getattr(adaptive, "__version__", "not installed"),
        "distributed": distributed.__version__,
        "loky": loky.__version__,
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
