"""Adapter for mpi4py's ``MPIPoolExecutor`` (also what ``MPICommExecutor`` gives its root rank).

Imported only when the runner meets such an executor (the registry in
:mod:`adaptive_runner.runner.executors` names the class by ``"module.QualName"``), so importing
:mod:`adaptive_runner` never imports mpi4py; nor does this module itself.

Launch the job with one manager and N - 1 workers, on one machine or a cluster::

    mpiexec -n N python -m mpi4py.futures run.py      # srun -n N ... under SLURM

where ``run.py`` creates ``MPIPoolExecutor()`` (no arguments: it uses the workers the launcher
started) and passes it to a runner as ``executor=``.

Pickling: mpi4py sends tasks with the standard ``pickle``, which refuses lambdas and closures.
Rather than switching mpi4py's pickler for the whole process (``MPI.pickle.__init__``, a global
that the user's own MPI code shares), the adapter pickles the *function* with cloudpickle once
per run and sends those bytes with every point; the workers only need plain ``pickle.loads``
(cloudpickle output is ordinary pickle data). Points and values still travel with mpi4py's
pickler, so they must be picklable (numbers, tuples and arrays are). A function cloudpickle
cannot pickle is refused when the runner is created, with a message naming the function and
the executor.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

from adaptive_runner.runner.distributed import _call_pickled, _check_cloudpickle
from adaptive_runner.runner.executors import ExecutorAdapter

__all__ = ["MPIAdapter"]


class MPIAdapter(ExecutorAdapter):
    """An ``mpi4py.futures.MPIPoolExecutor``.

    ``ncores`` is the pool's number of worker processes (``num_workers``: under
    ``mpiexec -n N python -m mpi4py.futures``, N - 1), read once, since an MPI pool does not
    change size; reading it starts the pool if it is not running yet and waits until it is.

    A worker process that dies takes the whole MPI job down with it (that is MPI's behaviour,
    not something a runner can survive); a per-point ``timeout`` drops a late result but cannot
    stop the worker computing it.
    """

    def __init__(self, executor: Any) -> None:
        super().__init__(executor)
        self._ncores: int | None = None
        self._pickled: tuple[Callable, bytes] | None = None

    @property
    def ncores(self) -> int:
        if self._ncores is None:
            # 0 once the pool is shut down or broken; the runner then fails at its first submit
            self._ncores = max(1, int(self.executor.num_workers))
        return self._ncores

    def _pickle(self, function: Callable) -> bytes:
        if self._pickled is None or self._pickled[0] is not function:
            engine = f"the mpi4py executor {self.executor!r}"
            self._pickled = (function, _check_cloudpickle(function, engine))
        return self._pickled[1]

    def check_function(self, function: Callable) -> None:
        self._pickle(function)

    def submit(self, function: Callable, point: Any) -> concurrent.futures.Future:
        return self.executor.submit(_call_pickled, self._pickle(function), point)

    def __repr__(self) -> str:
        return f"MPIAdapter({self.executor!r})"
