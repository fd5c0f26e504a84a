"""Learner2D: adaptive_runner against python-adaptive 1.5.2, in one run.

What is measured:

1. ``per point``: the cost of one ``ask(1)`` plus one ``tell`` on a learner that already holds
   N = 1,000, 2,000 and 10,000 points (the ring below, default loss). Our learner grows to N by
   itself; python-adaptive is told the same N points, then both do ``--steps`` ask/tell pairs
   (python-adaptive fewer: its cost grows linearly with N, see ``PYTHON_ADAPTIVE_STEPS``);
   median and best of ``--repeat`` runs, the libraries taking turns, in microseconds per
   point. ``adaptive_runner (Python only)`` is
   ours with its optional C speedups switched off (what a machine without a C compiler runs).
2. ``quality``: each learner (default loss) runs sequentially (ask(1), tell) to 500, 1,000 and
   2,000 points on three functions; reported is the RMS error of the linear interpolation of
   the samples (scipy's LinearNDInterpolator over the told points, the same for both libraries)
   against the function on a 301 x 301 grid of the bounds (vector function: over all
   components).

Run it with both libraries in one environment:

    python -m venv /tmp/bench && /tmp/bench/bin/pip install -e . adaptive==1.5.2
    /tmp/bench/bin/python benchmarks/learner2d.py [--quick] [--repeat 3] [--json out.json]

Without python-adaptive installed its columns are left out.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import platform
import statistics
import time
from collections.abc import Callable, Iterator

import numpy as np
from scipy.interpolate import LinearNDInterpolator

import adaptive_runner
from adaptive_runner.learners import speedups
from adaptive_runner.learners.learner2D import Learner2D

try:
    import adaptive
except ImportError:  # the comparison is optional
    adaptive = None

BOUNDS = [(-1.0, 1.0), (-1.0, 1.0)]
#: python-adaptive's ask/tell pairs per N (it rebuilds its interpolator on every ask)
PYTHON_ADAPTIVE_STEPS = {1_000: 100, 2_000: 50, 10_000: 10}


def ring(xy):
    x, y = xy
    return x + math.exp(-((x**2 + y**2 - 0.75**2) ** 2) / 0.2**4)


def step(xy):
    x, y = xy
    return math.tanh((x**2 + y**2 - 0.5) / 0.01)


def vector(xy):
    x, y = xy
    return np.array(
        [math.sin(4 * x) * math.cos(3 * y), math.exp(-((x - 0.3) ** 2 + (y + 0.2) ** 2) / 0.02)]
    )


FUNCTIONS: list[tuple[str, Callable]] = [
    ("ring", ring),
    ("step tanh((r^2-0.5)/0.01)", step),
    ("vector (sin cos, gaussian)", vector),
]


PURE = "adaptive_runner (Python only)"


def libraries() -> dict[str, type]:
    """Ours with its C speedups (when built), ours without them, python-adaptive's."""
    found = {"adaptive_runner": Learner2D}
    if speedups.compiled is not None:
        found[PURE] = Learner2D
    if adaptive is not None:
        found["python-adaptive"] = adaptive.Learner2D
    return found


@contextlib.contextmanager
def variant(name: str) -> Iterator[None]:
    """Switch our Learner2D to its Python code for the PURE row."""
    compiled = speedups.compiled
    if name == PURE:
        speedups.compiled = None
    try:
        yield
    finally:
        speedups.compiled = compiled


def grow(learner, f, npoints: int) -> None:
    while learner.npoints < npoints:
        points, _ = learner.ask(1)
        for p in points:
            learner.tell(p, f(p))


def per_point_us(name: str, cls: type, n: int, steps: int, reference) -> float:
    if cls is Learner2D:
        learner = Learner2D(ring, BOUNDS)
        grow(learner, ring, n)
    else:
        learner = cls(ring, BOUNDS)
        for p, y in reference.data.items():
            learner.tell(p, y)
    start = time.perf_counter()
    for _ in range(steps):
        (p,), _ = learner.ask(1)
        learner.tell(p, ring(p))
    return (time.perf_counter() - start) / steps * 1e6


def rms_error(learner, truth: np.ndarray, grid: tuple[np.ndarray, np.ndarray]) -> float:
    keys = list(learner.data)
    points = np.array(keys, dtype=float)
    values = np.array([np.atleast_1d(learner.data[k]) for k in keys], dtype=float)
    estimate = LinearNDInterpolator(points, values)(*grid).reshape(truth.shape)
    return float(np.sqrt(np.mean((estimate - truth) ** 2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--json", help="write the results here as JSON")
    args = parser.parse_args()
    sizes = [300, 1_000] if args.quick else [1_000, 2_000, 10_000]
    repeat = 1 if args.quick else args.repeat
    steps = 50 if args.quick else args.steps
    targets = [100, 200] if args.quick else [500, 1_000, 2_000]
    side = 101 if args.quick else 301
    results: list[dict] = []
    versions = f"Python {platform.python_version()}, adaptive_runner {adaptive_runner.__version__}"
    print(versions + (f", python-adaptive {adaptive.__version__}" if adaptive else ""))

    print(
        f"\nask(1) + tell, microseconds per point: median and best of {repeat} runs, the "
        "libraries taking turns (this machine's speed drifts, so every library sees the same)"
    )
    for n in sizes:
        reference = Learner2D(ring, BOUNDS)
        grow(reference, ring, n)
        runs: dict[str, list[float]] = {name: [] for name in libraries()}
        for _ in range(repeat):
            for name, cls in libraries().items():
                count = steps if cls is Learner2D else min(steps, PYTHON_ADAPTIVE_STEPS.get(n, 20))
                with variant(name):
                    runs[name].append(per_point_us(name, cls, n, count, reference))
        for name, times in runs.items():
            row = {
                "case": f"per point N={n}",
                "library": name,
                "us": statistics.median(times),
                "best_us": min(times),
            }
            results.append(row)
            print(f"  N={n:>6,}  {name:<30} {row['us']:8.1f} us  (best {row['best_us']:.1f})")

    print(f"\nRMS error of the linear interpolation on a {side}x{side} grid (default loss)")
    axis = np.linspace(-1, 1, side)
    xx, yy = np.meshgrid(axis, axis, indexing="ij")
    grid = (xx.ravel(), yy.ravel())
    for label, f in FUNCTIONS:
        truth = np.array([np.atleast_1d(f(p)) for p in zip(*grid, strict=True)], dtype=float)
        for name, cls in libraries().items():
            if name == PURE:
                continue  # the same points as with the speedups (tests/learners/test_speedups.py)
            learner = cls(f, BOUNDS)
            cells = []
            for target in targets:
                grow(learner, f, target)
                error = rms_error(learner, truth, grid)
                results.append(
                    {"case": f"quality {label} n={target}", "library": name, "rms_error": error}
                )
                cells.append(f"{target}: {error:.2e}")
            print(f"  {label:<27} {name:<16} " + "   ".join(cells), flush=True)
    if args.json:
        with open(args.json, "w") as file:
            json.dump({"results": results}, file, indent=1)


if __name__ == "__main__":
    main()
