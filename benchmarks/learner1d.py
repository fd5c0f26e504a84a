"""Learner1D: adaptive_runner against python-adaptive 1.5.2, in one run.

What is measured:

1. ``per point``: the cost of one ``ask(1)`` plus one ``tell`` on a learner that already holds
   N = 1,000, 10,000 and 100,000 points (the narrow peak below). Both learners are loaded with
   the same N points (the points adaptive_runner's own learner chose), then ``--steps``
   ask/tell pairs are timed; median of ``--repeat`` runs, in microseconds per point.
2. ``tell_many``: loading the N points at once, in seconds (python-adaptive only up to 10,000:
   its tell_many took 194 s for 100,000 points on this machine).
3. ``quality``: each learner (default loss) runs sequentially (ask(1), tell) to 50, 100, 200 and
   400 points on four functions; reported is the max and the mean absolute error of the linear
   interpolation of the samples against the function (vector function: largest component): the
   max over a 100,001-point grid and the midpoints of the sampled intervals, the mean over the
   grid.

Run it with both libraries in one environment:

    python -m venv /tmp/bench && /tmp/bench/bin/pip install -e . adaptive==1.5.2
    /tmp/bench/bin/python benchmarks/learner1d.py [--quick] [--repeat 3] [--json out.json]

Without python-adaptive installed its columns are left out.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

import adaptive_runner

try:
    import adaptive
except ImportError:  # the comparison is optional
    adaptive = None


def peak(x, a=0.01):
    return x + a**2 / (a**2 + x**2)


def step(x):
    return 1.0 if x > 0.1234 else 0.0


def chirp(x):
    return np.sin(15 * x**2)


def vector(x):
    return np.array([np.sin(5 * x), np.exp(-((x - 0.3) ** 2) / 0.005)])


# name, function, bounds
FUNCTIONS: list[tuple[str, Callable, tuple[float, float]]] = [
    ("peak a=0.01", peak, (-1.0, 1.0)),
    ("step", step, (-1.0, 1.0)),
    ("sine, growing frequency", chirp, (0.0, 2.0)),
    ("vector (sine, gaussian)", vector, (-1.0, 1.0)),
]


def libraries() -> dict[str, type]:
    found = {"adaptive_runner": adaptive_runner.Learner1D}
    if adaptive is not None:
        found["python-adaptive"] = adaptive.Learner1D
    return found


def grow(learner, f, npoints: int) -> None:
    while learner.npoints < npoints:
        points, _ = learner.ask(1)
        for x in points:
            learner.tell(x, f(x))


def loaded(cls: type, xs: list[float], ys: list[float]):
    learner = cls(peak, bounds=(-1.0, 1.0))
    if cls is adaptive_runner.Learner1D:
        learner.tell_many(xs, ys)
    else:  # python-adaptive's tell_many is quadratic (194 s for 100,000 points): tell one by one
        for x, y in zip(xs, ys, strict=True):
            learner.tell(x, y)
    return learner


def per_point_us(cls: type, xs: list[float], ys: list[float], steps: int) -> float:
    learner = loaded(cls, xs, ys)
    start = time.perf_counter()
    for _ in range(steps):
        (x,), _ = learner.ask(1)
        learner.tell(x, peak(x))
    return (time.perf_counter() - start) / steps * 1e6


def tell_many_seconds(cls: type, xs: list[float], ys: list[float]) -> float:
    learner = cls(peak, bounds=(-1.0, 1.0))
    start = time.perf_counter()
    learner.tell_many(xs, ys)
    return time.perf_counter() - start


def errors(learner, f, bounds) -> tuple[float, float]:
    """Max and mean absolute error of the linear interpolation of the samples: the max over a
    100,001-point grid plus the midpoint of every sampled interval (so a jump narrower than the
    grid still counts), the mean over the grid."""
    data = sorted(learner.data.items())
    xs = np.array([x for x, _ in data])
    ys = np.array([np.atleast_1d(y) for _, y in data], dtype=float)
    grid = np.linspace(*bounds, 100_001)
    midpoints = (xs[1:] + xs[:-1]) / 2

    def deviation(points):
        exact = np.array([np.atleast_1d(f(x)) for x in points], dtype=float)
        columns = [np.interp(points, xs, ys[:, k]) for k in range(ys.shape[1])]
        return np.abs(np.stack(columns, axis=1) - exact).max(axis=1)

    on_grid = deviation(grid)
    return float(max(on_grid.max(), deviation(midpoints).max())), float(on_grid.mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--json", help="write the results here as JSON")
    args = parser.parse_args()
    sizes = [1_000, 3_000] if args.quick else [1_000, 10_000, 100_000]
    repeat = 1 if args.quick else args.repeat
    steps = 200 if args.quick else args.steps
    targets = [50, 100] if args.quick else [50, 100, 200, 400]
    results: list[dict] = []
    versions = f"Python {platform.python_version()}, adaptive_runner {adaptive_runner.__version__}"
    print(versions + (f", python-adaptive {adaptive.__version__}" if adaptive else ""))

    print("\nask(1) + tell, microseconds per point (median of", repeat, "runs)")
    for n in sizes:
        reference = adaptive_runner.Learner1D(peak, bounds=(-1.0, 1.0))
        grow(reference, peak, n)
        xs, ys = list(reference.data), list(reference.data.values())
        for name, cls in libraries().items():
            runs = [per_point_us(cls, xs, ys, steps) for _ in range(repeat)]
            row = {"case": f"per point N={n}", "library": name, "us": statistics.median(runs)}
            results.append(row)
            print(f"  N={n:>7,}  {name:<16} {row['us']:8.1f} us")
        for name, cls in libraries().items():
            if n <= 10_000 or cls is adaptive_runner.Learner1D:
                seconds = statistics.median(tell_many_seconds(cls, xs, ys) for _ in range(repeat))
                results.append({"case": f"tell_many N={n}", "library": name, "s": seconds})
                print(f"  N={n:>7,}  {name:<16} tell_many {seconds:.3f} s")

    print("\nmax | mean absolute interpolation error at npoints (default loss)")
    for label, f, bounds in FUNCTIONS:
        for name, cls in libraries().items():
            learner = cls(f, bounds=bounds)
            cells = []
            for target in targets:
                grow(learner, f, target)
                max_error, mean_error = errors(learner, f, bounds)
                results.append(
                    {
                        "case": f"quality {label} n={target}",
                        "library": name,
                        "max_error": max_error,
                        "mean_error": mean_error,
                    }
                )
                cells.append(f"{target}: {max_error:.2e} | {mean_error:.2e}")
            print(f"  {label:<24} {name:<16} " + "   ".join(cells))
    if args.json:
        with open(args.json, "w") as file:
            json.dump({"results": results}, file, indent=1)


if __name__ == "__main__":
    main()
