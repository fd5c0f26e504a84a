"""AverageLearner and AverageLearner1D: adaptive_runner against python-adaptive 1.5.2, in one run.

What is measured (learner time only: the function's own time is left out):

1. ``AverageLearner``: microseconds per ``ask(1)`` + ``tell`` while averaging ``--average-samples``
   normal random numbers (atol small enough that the learner never stops); median of
   ``--repeat`` runs.
2. ``AverageLearner1D``: microseconds per sample over a run of ``--samples`` samples with the
   default settings, asking ``ask(1)`` and telling each sample, and asking ``ask(10)`` and telling
   the ten; median of ``--repeat`` runs.
3. ``AverageLearner1D`` quality, from the ``ask(1)`` run: the RMS error of the means against the
   noiseless function over the x sampled, at a few sample counts (and how many x there are).

The function is ``x + a**2 / (a**2 + x**2)`` with ``a = 0.01`` on [-1, 1] plus normal noise of
standard deviation 0.1, drawn from a fixed table at an index given by ``hash((seed, x))`` (the hash
of ints and floats does not depend on PYTHONHASHSEED), so both libraries learn the same function.

Run it with both libraries in one environment:

    python -m venv /tmp/bench && /tmp/bench/bin/pip install -e . adaptive==1.5.2
    /tmp/bench/bin/python benchmarks/average_learners.py [--quick] [--repeat 3] [--json out.json]

Without python-adaptive installed its rows are left out.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import numpy as np

import adaptive_runner
from adaptive_runner.learners.average_learner1D import AverageLearner1D

try:
    import adaptive
except ImportError:  # the comparison is optional
    adaptive = None

A = 0.01
SIGMA = 0.1
NOISE = np.random.default_rng(20240601).normal(0.0, SIGMA, 1 << 20).tolist()


def clean(x: float) -> float:
    return x + A**2 / (A**2 + x**2)


def noisy(point: tuple[int, float]) -> float:
    seed, x = point
    return clean(x) + NOISE[hash((seed, x)) & 0xFFFFF]


def gaussian(seed: int) -> float:
    return NOISE[seed & 0xFFFFF]


def libraries() -> dict[str, dict[str, type]]:
    found = {
        "adaptive_runner": {
            "AverageLearner": adaptive_runner.AverageLearner,
            "AverageLearner1D": AverageLearner1D,
        }
    }
    if adaptive is not None:
        found["python-adaptive"] = {
            "AverageLearner": adaptive.AverageLearner,
            "AverageLearner1D": adaptive.AverageLearner1D,
        }
    return found


def average_us(cls: type, samples: int) -> float:
    learner = cls(gaussian, atol=1e-12)
    elapsed = 0.0
    for _ in range(samples):
        start = time.perf_counter()
        (seed,), _ = learner.ask(1)
        elapsed += time.perf_counter() - start
        y = gaussian(seed)
        start = time.perf_counter()
        learner.tell(seed, y)
        elapsed += time.perf_counter() - start
    return elapsed / samples * 1e6


def rms_error(learner) -> float:
    xs = np.array(list(learner.data), dtype=float)
    means = np.array(list(learner.data.values()), dtype=float)
    exact = xs + A**2 / (A**2 + xs**2)
    return float(np.sqrt(np.mean((means - exact) ** 2)))


def run_1d(cls: type, samples: int, batch: int, checkpoints: list[int]) -> tuple[float, list]:
    """Microseconds per sample over the run, and (samples, npoints, RMS) at the checkpoints."""
    learner = cls(noisy, bounds=(-1.0, 1.0))
    elapsed, told, quality = 0.0, 0, []
    pending = sorted(checkpoints)
    while told < samples:
        start = time.perf_counter()
        points, _ = learner.ask(batch)
        elapsed += time.perf_counter() - start
        values = [noisy(point) for point in points]
        start = time.perf_counter()
        for point, y in zip(points, values, strict=True):
            learner.tell(point, y)
        elapsed += time.perf_counter() - start
        told += len(points)
        while pending and told >= pending[0]:
            quality.append((pending.pop(0), learner.npoints, rms_error(learner)))
    return elapsed / told * 1e6, quality


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--average-samples", type=int, default=100_000)
    parser.add_argument("--json", help="write the results here as JSON")
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    samples = 2_000 if args.quick else args.samples
    average_samples = 10_000 if args.quick else args.average_samples
    checkpoints = sorted({c for c in (1_000, 5_000, 10_000, 20_000, samples) if c <= samples})
    results: list[dict] = []
    import scipy.special  # noqa: F401  (python-adaptive imports scipy at import: time neither)

    versions = f"Python {platform.python_version()}, adaptive_runner {adaptive_runner.__version__}"
    print(versions + (f", python-adaptive {adaptive.__version__}" if adaptive else ""))

    print(f"\nAverageLearner: ask(1) + tell, us per sample ({average_samples:,} samples)")
    for name, classes in libraries().items():
        us = statistics.median(
            average_us(classes["AverageLearner"], average_samples) for _ in range(repeat)
        )
        results.append({"case": "AverageLearner ask(1)+tell", "library": name, "us": us})
        print(f"  {name:<16} {us:8.2f} us")

    print(f"\nAverageLearner1D: us per sample over {samples:,} samples (median of {repeat})")
    quality: dict[str, list] = {}
    for batch in (1, 10):
        for name, classes in libraries().items():
            runs = [
                run_1d(classes["AverageLearner1D"], samples, batch, checkpoints)
                for _ in range(repeat)
            ]
            us = statistics.median(run[0] for run in runs)
            case = f"AverageLearner1D ask({batch})+tell"
            results.append({"case": case, "library": name, "us": us})
            print(f"  ask({batch:>2})+tell  {name:<16} {us:8.1f} us")
            if batch == 1:  # the runs are deterministic: any one gives the quality
                quality[name] = runs[0][1]
    print("\nAverageLearner1D: RMS error of the means vs the noiseless function, ask(1) runs")
    for name, checkpoints_reached in quality.items():
        for told, npoints, rms in checkpoints_reached:
            results.append(
                {
                    "case": f"AverageLearner1D RMS n={told}",
                    "library": name,
                    "rms": rms,
                    "npoints": npoints,
                }
            )
            print(f"  {name:<16} samples={told:>7,}  x={npoints:>5}  RMS={rms:.3e}")
    if args.json:
        with open(args.json, "w") as file:
            json.dump({"results": results}, file, indent=1)


if __name__ == "__main__":
    main()
