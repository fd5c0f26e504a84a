"""The learner benchmark scripts stay runnable (structure only: speed is measured, never
asserted)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"


def run_quick(script: str, tmp_path: Path) -> list[dict]:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick", "--repeat", "1", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text())["results"]


def test_learner1d_benchmark_quick_run(tmp_path):
    results = run_quick("learner1d.py", tmp_path)
    ours = {row["case"]: row for row in results if row["library"] == "adaptive_runner"}
    assert {"per point N=1000", "per point N=3000", "tell_many N=3000"} <= set(ours)
    assert all(ours[f"per point N={n}"]["us"] > 0 for n in (1000, 3000))
    quality = [row for case, row in ours.items() if case.startswith("quality")]
    assert len(quality) == 4 * 2  # four functions at two sizes
    for row in quality:
        assert 0 <= row["mean_error"] <= row["max_error"]


def test_integrator_benchmark_quick_run(tmp_path):
    results = run_quick("integrator.py", tmp_path)
    assert len(results) == 4
    for row in results:
        assert row["ours"]["evals"] > 0
        # the benchmark's own correctness column: the estimate is within its error bound
        assert row["ours_x16"]["within"]
        assert row["ours"]["abs_error"] <= max(row["tol"] * 10, row["ours"]["err"])


def test_average_learners_benchmark_quick_run(tmp_path):
    results = run_quick("average_learners.py", tmp_path)
    ours = {row["case"]: row for row in results if row["library"] == "adaptive_runner"}
    assert ours["AverageLearner ask(1)+tell"]["us"] > 0
    assert ours["AverageLearner1D ask(1)+tell"]["us"] > 0
    assert ours["AverageLearner1D ask(10)+tell"]["us"] > 0
    rms = [row for case, row in ours.items() if "RMS" in case]
    assert rms
    for row in rms:
        assert 0 < row["rms"] < 1  # the means approach the noiseless function
        assert row["npoints"] >= 2


def test_balancing_benchmark_quick_run(tmp_path):
    results = run_quick("balancing.py", tmp_path)
    ours = {row["case"]: row for row in results if row["library"] == "adaptive_runner"}
    assert set(ours) == {"ask+tell L=10", "ask+tell L=100", "ask+tell L=1000"}
    for row in ours.values():
        assert 0 < row["best"] <= row["us"]
        assert row["first_ask_ms"] > 0


def test_learner2d_benchmark_quick_run(tmp_path):
    results = run_quick("learner2d.py", tmp_path)
    ours = {row["case"]: row for row in results if row["library"] == "adaptive_runner"}
    functions = ["ring", "step tanh((r^2-0.5)/0.01)", "vector (sin cos, gaussian)"]
    quality = {f"quality {f} n={n}" for f in functions for n in (100, 200)}
    assert set(ours) == {"per point N=300", "per point N=1000"} | quality
    assert all(
        0 < ours[f"per point N={n}"]["best_us"] <= ours[f"per point N={n}"]["us"]
        for n in (300, 1000)
    )
    for case in quality:
        error = ours[case]["rms_error"]
        assert math.isfinite(error)
        assert error >= 0
    for f in functions:  # twice the points, a smaller interpolation error
        assert ours[f"quality {f} n=200"]["rms_error"] < ours[f"quality {f} n=100"]["rms_error"]


def test_learnernd_benchmark_quick_run(tmp_path):
    results = run_quick("learnernd.py", tmp_path)
    ours = {
        (row["case"], row["npoints"]): row for row in results if row["library"] == "adaptive_runner"
    }
    per_point = {("per point 2D ring", n) for n in (100, 300)}
    per_point |= {("per point 3D shell", n) for n in (60, 120)}
    errors = {("error 2D ring", 50), ("error 2D ring", 100), ("error 3D shell", 50)}
    assert set(ours) == per_point | errors
    for key in per_point:
        row = ours[key]
        assert row["us_per_point"] > 0
        assert row["cpu_us_per_point"] > 0
        assert len(row["runs"]) == 1  # --repeat 1
        assert row["us_per_point"] == row["runs"][0][0]
    for key in errors:
        row = ours[key]
        assert math.isfinite(row["max_error"])
        assert 0 <= row["mean_error"] <= row["max_error"]
