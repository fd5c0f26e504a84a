"""A real MPI job for tests/runner/test_mpi.py: run it under ``mpiexec`` through mpi4py.futures.

    mpiexec -n 3 python -m mpi4py.futures tests/runner/mpi_job.py results.json

Rank 0 runs this script; the other ranks are the MPIPoolExecutor's workers. The job runs

- a Learner1D to a loss goal with a BlockingRunner (the function is defined here, in the
  script, which plain pickle could only send by name);
- a SequenceLearner with a closure (plain pickle refuses it) on an AsyncRunner, whose values
  record the MPI rank and process id that evaluated each point;
- a function that raises in a worker, and records the error the runner raises;
- a runner given a function that cannot be pickled at all, and records the error;

and writes what it saw to the JSON file named by its argument.
"""

from __future__ import annotations

import json
import os
import sys
import threading

from mpi4py import MPI
from mpi4py.futures import MPIPoolExecutor

from adaptive_runner import BlockingRunner, Learner1D, Runner, SequenceLearner


def peak(x: float) -> float:
    return x + 0.01**2 / (0.01**2 + x**2)


def where_evaluated(offset: int):
    def function(x: int) -> dict:
        return {
            "x": x,
            "value": x * x + offset,
            "rank": MPI.COMM_WORLD.Get_rank(),
            "pid": os.getpid(),
        }

    return function


def main(out_path: str) -> None:
    results: dict = {"manager_rank": MPI.COMM_WORLD.Get_rank(), "manager_pid": os.getpid()}
    with MPIPoolExecutor() as executor:
        learner = Learner1D(peak, bounds=(-1, 1))
        runner = BlockingRunner(learner, loss_goal=0.05, executor=executor)
        results["learner1d"] = {
            "ntasks": runner.ntasks,
            "loss": learner.loss(),
            "data": sorted([float(x), float(y)] for x, y in learner.data.items()),
        }

        sequence = SequenceLearner(where_evaluated(offset=7), sequence=list(range(24)))
        runner = Runner(sequence, executor=executor)
        runner.block_until_done()
        results["sequence"] = {
            "ntasks": runner.ntasks,
            "done": sequence.done(),
            "values": sequence.result(),
        }

        def fails_right(x: float) -> float:
            if x > 0.5:
                raise ValueError(f"no value at {x}")
            return x

        try:
            BlockingRunner(Learner1D(fails_right, (-1, 1)), npoints_goal=50, executor=executor)
        except ValueError as e:
            results["worker_error"] = str(e)

        lock = threading.Lock()
        try:
            BlockingRunner(
                Learner1D(lambda x: lock and x, (0, 1)), npoints_goal=5, executor=executor
            )
        except TypeError as e:
            results["unpicklable_error"] = str(e)
    with open(out_path, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":  # rank 0 only: the workers import this file as "__worker__"
    main(sys.argv[1])
