"""mpi4py's MPIPoolExecutor as executor: a real job under ``mpiexec`` (Debian's OpenMPI).

The job (tests/runner/mpi_job.py) runs once per module with one manager and two workers,
``mpiexec -n 3 python -m mpi4py.futures mpi_job.py``, and writes what it saw to a JSON file.
MPI is part of the test environment: ``.ci/system-deps`` installs OpenMPI and ``.[test]``
installs mpi4py, so a missing one fails the tests instead of skipping them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

JOB = Path(__file__).with_name("mpi_job.py")
ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2


def _mpiexec_command(nprocs: int) -> tuple[list[str], dict[str, str]]:
    mpiexec = shutil.which("mpiexec")
    if mpiexec is None or importlib.util.find_spec("mpi4py") is None:
        pytest.fail(
            "the MPI tests need `mpiexec` (OpenMPI) and mpi4py: run `.ci/system-deps` (installs "
            "Debian's openmpi-bin and libopenmpi-dev), then `pip install -e '.[test]'`"
        )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    command = [mpiexec, "-n", str(nprocs)]
    version = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, check=False)
    if "Open MPI" in version.stdout or "OpenRTE" in version.stdout:
        # more ranks than the CI machine's 2 cores
        command.append("--oversubscribe")
        if os.geteuid() == 0:  # OpenMPI refuses root unless told twice (CI runs as root)
            env |= {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
    return command, env


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    out = tmp_path_factory.mktemp("mpi") / "results.json"
    command, env = _mpiexec_command(1 + WORKERS)
    command += [sys.executable, "-m", "mpi4py.futures", str(JOB), str(out)]
    # its own session, so a hung job is killed with all its ranks, not just mpiexec
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"the MPI job did not finish in 90 s; its output:\n{output}")
    assert process.returncode == 0, f"the MPI job failed ({process.returncode}):\n{output}"
    return json.loads(out.read_text())


def peak(x: float) -> float:  # the job's function
    return x + 0.01**2 / (0.01**2 + x**2)


def test_learner1d_reaches_its_goal_on_the_mpi_workers(job):
    result = job["learner1d"]
    assert result["ntasks"] == WORKERS  # the pool's workers, not the machine's cores
    assert result["loss"] <= 0.05
    data = result["data"]
    assert len(data) > 20
    assert [-1.0, peak(-1.0)] in data
    assert [1.0, peak(1.0)] in data
    assert all(y == pytest.approx(peak(x), rel=1e-12) for x, y in data)
    # the points gather on the peak at 0
    assert sum(abs(x) < 0.1 for x, _ in data) > len(data) / 3


def test_closure_runs_in_every_worker_rank_and_not_in_the_manager(job):
    result = job["sequence"]
    assert result["ntasks"] == WORKERS
    assert result["done"]
    values = result["values"]
    assert [v["x"] for v in values] == list(range(24))
    assert [v["value"] for v in values] == [x * x + 7 for x in range(24)]
    assert {v["rank"] for v in values} == {1, 2}
    pids = {v["pid"] for v in values}
    assert len(pids) == WORKERS
    assert job["manager_pid"] not in pids
    assert job["manager_rank"] == 0


def test_an_error_in_a_worker_reaches_the_caller(job):
    assert job["worker_error"].startswith("no value at")


def test_unpicklable_function_fails_at_once_naming_function_and_executor(job):
    message = job["unpicklable_error"]
    assert "main.<locals>.<lambda>" in message
    assert "mpi4py" in message
    assert "MPIPoolExecutor" in message
    assert "_thread.lock" in message


def test_importing_adaptive_runner_does_not_import_mpi4py():
    code = (
        "import sys, adaptive_runner\n"
        "from adaptive_runner.runner.executors import _REGISTRY\n"
        "assert 'mpi4py.futures.pool.MPIPoolExecutor' in _REGISTRY\n"
        "assert 'mpi4py' not in sys.modules, sorted(m for m in sys.modules if 'mpi' in m)\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
