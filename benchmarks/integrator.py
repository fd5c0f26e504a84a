"""IntegratorLearner: adaptive_runner against python-adaptive 1.5.2, in one run.

For each integrand of the battery and each tolerance, both learners run to ``done()`` with an
``ask(1)``/``tell`` loop. Reported per learner:

- ``evals``: the number of function evaluations (told points);
- ``|error|``: the absolute error of ``igral`` against the exact integral (analytic);
- ``err``: the learner's own error estimate;
- ``us/pt``: bookkeeping per point in microseconds: the loop's time minus the time the function
  takes on the same points, divided by the number of points (best of ``--repeat`` runs).

``ours x16`` is adaptive_runner with 16 simulated workers (``ask`` keeps 16 points in flight,
results come back in random order): the evaluations it needs to reach ``done()``, and whether the
result is within max(tol * |exact|, err).

python-adaptive evaluates the end points (Clenshaw-Curtis); the singular integrands return 0
there, a finite stand-in (adaptive_runner never evaluates the end points).

Run it with both libraries in one environment:

    python -m venv /tmp/bench && /tmp/bench/bin/pip install -e . adaptive==1.5.2
    /tmp/bench/bin/python benchmarks/integrator.py [--quick] [--repeat 3] [--json out.json]

Without python-adaptive installed its columns are left out.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import time
import warnings
from collections.abc import Callable

from adaptive_runner.learners.integrator_learner import IntegratorLearner

try:
    import adaptive
except ImportError:  # the comparison is optional
    adaptive = None


def inverse_sqrt(x):
    return 1 / math.sqrt(x) if x > 0 else 0.0


def log(x):
    return math.log(x) if x > 0 else 0.0


# name, function, bounds, exact integral
BATTERY: list[tuple[str, Callable, tuple[float, float], float]] = [
    ("exp(x) [0,1]", math.exp, (0, 1), math.e - 1),
    ("3x^5-x^2+1 [-1,2]", lambda x: 3 * x**5 - x**2 + 1, (-1, 2), 31.5),
    ("1/(1e-4+x^2) [-1,1]", lambda x: 1 / (1e-4 + x * x), (-1, 1), 200 * math.atan(100)),
    ("cos(50x) [0,1]", lambda x: math.cos(50 * x), (0, 1), math.sin(50) / 50),
    (
        "exp(-x^2/0.01) [-3,2]",
        lambda x: math.exp(-x * x / 0.01),
        (-3, 2),
        0.05 * math.sqrt(math.pi) * (math.erf(20) + math.erf(30)),
    ),
    ("1/sqrt(x) [0,1]", inverse_sqrt, (0, 1), 2.0),
    ("log(x) [0,1]", log, (0, 1), -1.0),
    (
        "sqrt|x-0.3| [0,1]",
        lambda x: math.sqrt(abs(x - 0.3)),
        (0, 1),
        2 / 3 * (0.3**1.5 + 0.7**1.5),
    ),
]

QUICK = {"exp(x) [0,1]", "1/(1e-4+x^2) [-1,1]", "cos(50x) [0,1]", "1/sqrt(x) [0,1]"}


def run_serial(make: Callable, function: Callable) -> tuple[object, float]:
    """Run ``ask(1)``/``tell`` to done; return the learner and the bookkeeping seconds."""
    learner = make()
    start = time.perf_counter()
    while not learner.done():
        points, _ = learner.ask(1)
        if not points:
            break
        for x in points:
            learner.tell(x, function(x))
    elapsed = time.perf_counter() - start
    xs = list(learner.data)
    start = time.perf_counter()
    for x in xs:
        function(x)
    return learner, max(0.0, elapsed - (time.perf_counter() - start))


def run_workers(make: Callable, function: Callable, workers: int, seed: int = 0):
    """Keep ``workers`` points in flight; results come back in random order."""
    rng = random.Random(seed)
    learner = make()
    running: list[float] = []
    while not learner.done():
        if len(running) < workers:
            points, _ = learner.ask(workers - len(running))
            running += points
        if not running:
            break
        x = running.pop(rng.randrange(len(running)))
        learner.tell(x, function(x))
    return learner


def measure(name, function, bounds, exact, tol, repeat):
    row = {"integrand": name, "tol": tol}
    makers = {"ours": lambda: IntegratorLearner(function, bounds, tol)}
    if adaptive is not None:
        makers["adaptive"] = lambda: adaptive.IntegratorLearner(function, bounds, tol)
    for library, make in makers.items():
        runs = [run_serial(make, function) for _ in range(repeat)]
        learner = runs[0][0]
        row[library] = {
            "evals": learner.npoints,
            "abs_error": abs(float(learner.igral) - exact),
            "err": float(learner.err),
            "us_per_point": min(t for _, t in runs) / learner.npoints * 1e6,
        }
    parallel = run_workers(makers["ours"], function, workers=16)
    row["ours_x16"] = {
        "evals": parallel.npoints,
        "within": abs(parallel.igral - exact) <= max(tol * abs(exact), parallel.err),
    }
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="four integrands, tol 1e-6 only")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs per learner")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    tolerances = (1e-6,) if args.quick else (1e-6, 1e-10)
    battery = [case for case in BATTERY if not args.quick or case[0] in QUICK]
    repeat = 1 if args.quick else args.repeat

    rows = []
    header = (
        f"{'integrand':23s} {'tol':>6s} | {'evals':>5s} {'|error|':>8s} {'err':>8s} {'us/pt':>5s}"
    )
    if adaptive is not None:
        header += f" | {'evals':>5s} {'|error|':>8s} {'err':>8s} {'us/pt':>5s}"
    header += f" | {'x16':>5s}"
    title = f"{'':30s} | {'adaptive_runner':^30s}"
    if adaptive is not None:
        title += f" | {'python-adaptive ' + adaptive.__version__:^30s}"
    print(title + " | ours")
    print(header)
    print("-" * len(header))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # python-adaptive warns about overflow on 1/sqrt(x)
        for name, function, bounds, exact in battery:
            for tol in tolerances:
                row = measure(name, function, bounds, exact, tol, repeat)
                rows.append(row)
                line = f"{name:23s} {tol:6.0e}"
                for library in ("ours", "adaptive"):
                    if library in row:
                        r = row[library]
                        line += (
                            f" | {r['evals']:5d} {r['abs_error']:8.1e} {r['err']:8.1e}"
                            f" {r['us_per_point']:5.0f}"
                        )
                x16 = row["ours_x16"]
                line += f" | {x16['evals']:5d}{'' if x16['within'] else '!'}"
                print(line)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"python": platform.python_version(), "results": rows}, f, indent=1)


if __name__ == "__main__":
    main()
