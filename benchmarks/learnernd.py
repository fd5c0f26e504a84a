"""LearnerND: adaptive_runner against python-adaptive 1.5.2, in one run.

What is measured:

1. ``per point``: the cost of one ``ask(1)`` plus one ``tell`` on a learner that already holds
   N points (2D: a sharp ring, N = 100, 500, 2,000; 3D: a sharp sphere shell, N = 100, 300,
   1,000). Each library grows its own learner to N (untimed), then ``--steps`` ask/tell pairs
   are timed; median of ``--repeat`` runs, in microseconds per point.
2. ``error``: each learner (default loss) runs sequentially (ask(1), tell) to N points; reported
   are the max and the mean absolute error of the linear interpolation of its samples (scipy's
   ``LinearNDInterpolator`` for both libraries) against the function on a regular grid (2D:
   201 x 201, 3D: 41^3).

Run it with both libraries in one environment (``adaptive-triangulation`` is python-adaptive's
optional Rust triangulation; with it installed, both of its backends are measured):

    python -m venv /tmp/bench
    /tmp/bench/bin/pip install -e . adaptive==1.5.2 adaptive-triangulation
    /tmp/bench/bin/python benchmarks/learnernd.py [--quick] [--repeat 3] [--json out.json]

Without python-adaptive installed its rows are left out.
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib.util
import json
import math
import platform
import statistics
import time
import warnings
from collections.abc import Callable

import numpy as np
from scipy.interpolate import LinearNDInterpolator

from adaptive_runner.learners.learnerND import LearnerND

try:
    import adaptive
except ImportError:  # the comparison is optional
    adaptive = None


def ring(xy, width=0.2):
    x, y = xy[0], xy[1]
    return x + math.exp(-((x * x + y * y - 0.75**2) ** 2) / width**4)


def shell(xyz, width=0.2):
    x, y, z = xyz[0], xyz[1], xyz[2]
    return x + math.exp(-((x * x + y * y + z * z - 0.6**2) ** 2) / width**4)


CASES = {2: ("2D ring", ring), 3: ("3D shell", shell)}


def libraries() -> dict[str, Callable]:
    """Our LearnerND, python-adaptive's with its pure Python triangulation and, when the
    optional ``adaptive-triangulation`` package (Rust) is installed, with that one."""
    found: dict[str, Callable] = {"adaptive_runner": LearnerND}
    if adaptive is not None:
        found["python-adaptive"] = functools.partial(
            adaptive.LearnerND, triangulation_backend="python"
        )
        if importlib.util.find_spec("adaptive_triangulation") is not None:
            found["python-adaptive (Rust)"] = functools.partial(
                adaptive.LearnerND, triangulation_backend="rust"
            )
    return found


def grow(learner, function, npoints: int) -> None:
    while learner.npoints < npoints:
        points, _ = learner.ask(1)
        for point in points:
            learner.tell(point, function(point))


def per_point_us(cls: Callable, dim: int, npoints: int, steps: int) -> tuple[float, float]:
    """(wall-clock, CPU) microseconds per ask(1) + tell; CPU time is less disturbed by other
    processes on a busy machine."""
    _, function = CASES[dim]
    gc.collect()  # free the cycles earlier runs left (a full collection would land in the timing)
    learner = cls(function, [(-1, 1)] * dim)
    grow(learner, function, npoints)
    gc.collect()
    start, start_cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        (point,), _ = learner.ask(1)
        learner.tell(point, function(point))
    wall = (time.perf_counter() - start) / steps * 1e6
    return wall, (time.process_time() - start_cpu) / steps * 1e6


def errors(cls: Callable, dim: int, npoints: int) -> tuple[float, float]:
    _, function = CASES[dim]
    learner = cls(function, [(-1, 1)] * dim)
    grow(learner, function, npoints)
    points = np.array(list(learner.data), dtype=float)
    values = np.array(list(learner.data.values()), dtype=float)
    size = 201 if dim == 2 else 41
    axes = np.meshgrid(*[np.linspace(-1, 1, size)] * dim, indexing="ij")
    grid = np.stack([a.ravel() for a in axes], axis=1)
    exact = np.array([function(p) for p in grid])
    approximation = LinearNDInterpolator(points, values)(grid)
    deviation = np.abs(approximation - exact)
    return float(np.nanmax(deviation)), float(np.nanmean(deviation))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--json", help="write the results here as JSON")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    repeat = 1 if args.quick else args.repeat
    steps = 20 if args.quick else args.steps
    speed_sizes = (
        {2: [100, 300], 3: [60, 120]} if args.quick else {2: [100, 500, 2000], 3: [100, 300, 1000]}
    )
    error_sizes = (
        {2: [50, 100], 3: [50]}
        if args.quick
        else {2: [100, 200, 400, 800], 3: [100, 200, 400, 800]}
    )
    results = []
    print(f"# LearnerND benchmark ({platform.python_implementation()} {platform.python_version()})")
    print("\n## ask(1) + tell per point, µs (median; wall-clock / CPU time)")
    print("| case | N | " + " | ".join(libraries()) + " |")
    print("|---|---|" + "---|" * len(libraries()))
    for dim, sizes in speed_sizes.items():
        name, _ = CASES[dim]
        for npoints in sizes:
            row = []
            for library, cls in libraries().items():
                runs = [per_point_us(cls, dim, npoints, steps) for _ in range(repeat)]
                median = statistics.median(wall for wall, _ in runs)
                median_cpu = statistics.median(cpu for _, cpu in runs)
                row.append(f"{median:.0f} / {median_cpu:.0f}")
                results.append(
                    {
                        "case": f"per point {name}",
                        "library": library,
                        "npoints": npoints,
                        "us_per_point": median,
                        "cpu_us_per_point": median_cpu,
                        "runs": runs,
                    }
                )
            print(f"| {name} | {npoints} | " + " | ".join(row) + " |")
    print("\n## interpolation error (max / mean) after N points")
    print("| case | N | " + " | ".join(libraries()) + " |")
    print("|---|---|" + "---|" * len(libraries()))
    for dim, sizes in error_sizes.items():
        name, _ = CASES[dim]
        for npoints in sizes:
            row = []
            for library, cls in libraries().items():
                maximum, mean = errors(cls, dim, npoints)
                row.append(f"{maximum:.3g} / {mean:.3g}")
                results.append(
                    {
                        "case": f"error {name}",
                        "library": library,
                        "npoints": npoints,
                        "max_error": maximum,
                        "mean_error": mean,
                    }
                )
            print(f"| {name} | {npoints} | " + " | ".join(row) + " |")
    if args.json:
        with open(args.json, "w") as file:
            json.dump({"results": results}, file, indent=1)


if __name__ == "__main__":
    main()
