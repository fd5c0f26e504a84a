"""The benchmark script stays runnable (structure only: speed is measured, never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "runner_throughput.py"


def test_runner_benchmark_quick_run_writes_every_case(tmp_path):
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--repeat", "1", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())["results"]
    ours = {row["case"]: row for row in results if row["library"] == "adaptive_runner"}
    assert set(ours) == {
        "sequential",
        "async sleep",
        "async no-op ntasks=10",
        "async no-op ntasks=100",
        "async no-op ntasks=1000",
    }
    for row in ours.values():
        assert row["best"] >= row["median"] > 0
    assert ours["async sleep"]["pct_of_ideal"].endswith("%")
