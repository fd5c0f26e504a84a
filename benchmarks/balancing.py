"""BalancingLearner: adaptive_runner against python-adaptive 1.5.2, in one run.

What is measured: the cost of one ``ask(1)`` plus one ``tell`` of a BalancingLearner of
L = 10, 100 and 1,000 Learner1D children (narrow peaks at different offsets, default loss,
default strategy ``"loss_improvements"``), in microseconds per point, function evaluation
included (it is cheap). Every child is first told the same 9 points (a linspace of its bounds),
then the BalancingLearner is built, a few untimed points are asked and told (the first ask
reads every child once: reported separately as ``first ask``), then ``--steps`` ask/tell pairs
are timed; median of ``--repeat`` runs. A python-adaptive run stops early after
``--max-seconds`` (its rows then say how many steps were timed).

Run it with both libraries in one environment:

    python -m venv /tmp/bench && /tmp/bench/bin/pip install -e . adaptive==1.5.2
    /tmp/bench/bin/python benchmarks/balancing.py [--quick] [--repeat 3] [--json out.json]

Without python-adaptive installed its rows are left out.
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import statistics
import time

import numpy as np

import adaptive_runner
from adaptive_runner.learners.balancing_learner import BalancingLearner

try:
    import adaptive
except ImportError:  # the comparison is optional
    adaptive = None

WARMUP = 10


def peak(x: float, offset: float = 0.0, a: float = 0.01) -> float:
    return x + a**2 / (a**2 + (x - offset) ** 2)


def libraries() -> dict[str, tuple[type, type]]:
    found = {"adaptive_runner": (adaptive_runner.Learner1D, BalancingLearner)}
    if adaptive is not None:
        found["python-adaptive"] = (adaptive.Learner1D, adaptive.BalancingLearner)
    return found


def build(learner_type: type, balancing_type: type, nlearners: int):
    xs = [float(x) for x in np.linspace(-1.0, 1.0, 9)]
    children = []
    for i in range(nlearners):
        child = learner_type(functools.partial(peak, offset=i / nlearners - 0.5), (-1.0, 1.0))
        for x in xs:
            child.tell(x, child.function(x))
        children.append(child)
    return balancing_type(children)


def one_run(classes: tuple[type, type], nlearners: int, steps: int, max_seconds: float) -> dict:
    learner = build(*classes, nlearners)
    function = learner.function
    start = time.perf_counter()
    (point,), _ = learner.ask(1)
    first_ask = time.perf_counter() - start
    learner.tell(point, function(point))
    for _ in range(WARMUP):
        (point,), _ = learner.ask(1)
        learner.tell(point, function(point))
    done = 0
    start = time.perf_counter()
    deadline = start + max_seconds
    while done < steps:
        (point,), _ = learner.ask(1)
        learner.tell(point, function(point))
        done += 1
        if done % 50 == 0 and time.perf_counter() > deadline:
            break
    elapsed = time.perf_counter() - start
    return {"us": elapsed / done * 1e6, "steps": done, "first_ask_ms": first_ask * 1e3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few steps, one repeat")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument(
        "--max-seconds", type=float, default=20.0, help="cap on one timed run (python-adaptive)"
    )
    parser.add_argument("--json", help="write the results here as JSON")
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    steps = 300 if args.quick else args.steps
    max_seconds = 2.0 if args.quick else args.max_seconds
    versions = f"Python {platform.python_version()}, adaptive_runner {adaptive_runner.__version__}"
    print(versions + (f", python-adaptive {adaptive.__version__}" if adaptive else ""))
    print(f"\nask(1) + tell of a BalancingLearner of L Learner1D children (median of {repeat})")
    results: list[dict] = []
    for nlearners in (10, 100, 1000):
        for name, classes in libraries().items():
            runs = [one_run(classes, nlearners, steps, max_seconds) for _ in range(repeat)]
            row = {
                "case": f"ask+tell L={nlearners}",
                "library": name,
                "us": statistics.median(run["us"] for run in runs),
                "best": min(run["us"] for run in runs),
                "steps": min(run["steps"] for run in runs),
                "first_ask_ms": statistics.median(run["first_ask_ms"] for run in runs),
            }
            results.append(row)
            print(
                f"  L={nlearners:>5,}  {name:<16} {row['us']:9.1f} us/pt (best {row['best']:.1f},"
                f" {row['steps']} steps)   first ask {row['first_ask_ms']:8.2f} ms"
            )
    if args.json:
        with open(args.json, "w") as file:
            json.dump({"results": results}, file, indent=1)


if __name__ == "__main__":
    main()
