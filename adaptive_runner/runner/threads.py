"""``worker_threads=n``: how many threads the BLAS and OpenMP pools of the evaluating processes use.

An adaptive_runner addition (python-adaptive has no such option). With ``ncores`` worker processes
that each call numpy or scipy, every process's OpenBLAS, MKL or OpenMP pool starts ``ncores``
threads by default, so ``ncores**2`` threads fight over ``ncores`` cores. ``worker_threads=n``
limits those pools to ``n`` threads (``threadpoolctl.threadpool_limits(limits=n)``) in every
process that evaluates the runner's function. ``None`` (the default) leaves the workers alone.

How the limit is applied depends on where the evaluations run:

- **Worker processes** (loky, ``ProcessPoolExecutor``, dask and ipyparallel workers, mpi4py and any
  other executor): the function is sent wrapped in :class:`WorkerThreadLimit`. The first
  evaluation in a worker sets the pools of the libraries loaded there, and the ``*_NUM_THREADS``
  environment variables (``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``, ...),
  which libraries loaded later and processes that the function starts read. The setting stays in
  force for the evaluations that follow, which then pay one comparison (about 0.25 µs), not a
  new ``threadpool_limits`` (0.5 to 1.5 ms a call: it scans the loaded libraries each time). The
  scan happens once (again only after new imports), while the wrapper is unpickled, before the
  evaluation's clock starts; the first evaluation only sets the pools (microseconds). Workers
  outlive runs (loky's reusable executor, a dask cluster): a later runner of this process gets
  what it asks for from its first evaluation in each worker, its own ``n``, or with ``None`` the
  pools and variables as they were before (once a runner has limited workers, runners without
  the option send their function wrapped too, to restore). Work sent to those workers by other
  means (plain ``executor.submit``, another process's client) meets the setting of the latest
  runner there; two runners at once on the same workers each get their own, switching costs
  about 10 µs.
- **This process** (``ThreadPoolExecutor``, ``SequentialExecutor``, a dask cluster with
  ``processes=False``): the pools are shared by the whole process, so they are limited while at
  least one evaluation runs and put back when none does (:class:`InProcessThreadLimit`, about
  10 µs an evaluation); numpy calls of other threads during an evaluation are limited too. The
  environment is left alone.
- ``async def`` functions run on the event loop, not in a worker: the runners refuse
  ``worker_threads`` for them (limit inside the function with ``threadpoolctl`` instead).
"""

from __future__ import annotations

import contextlib
import numbers
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

__all__ = [
    "InProcessThreadLimit",
    "WorkerThreadLimit",
    "check_worker_threads",
    "limit_threads",
]

#: variables that BLAS and OpenMP libraries read when they are loaded
ENVIRONMENT_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def check_worker_threads(worker_threads: Any) -> int | None:
    """``worker_threads`` as an int, or None; ValueError for anything but a positive integer."""
    if worker_threads is None:
        return None
    if (
        isinstance(worker_threads, bool)
        or not isinstance(worker_threads, numbers.Integral)
        or worker_threads < 1
    ):
        raise ValueError(
            "worker_threads must be a positive integer (threads per BLAS/OpenMP pool in each "
            f"worker) or None (leave the workers alone), got worker_threads={worker_threads!r}"
        )
    _require_threadpoolctl()
    return int(worker_threads)


def _require_threadpoolctl() -> None:
    try:
        import threadpoolctl  # noqa: F401
    except ImportError as e:
        raise ImportError(
            "worker_threads needs threadpoolctl (pip install 'threadpoolctl>=3')"
        ) from e


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _set_num_threads(library: Any, n: int) -> None:
    # threadpoolctl lets only one thread at a time set a pthreads OpenBLAS ("controlling
    # thread"); our changes are serialized by our own lock, whichever thread makes them
    clear = getattr(type(library), "clear_controlling_thread", None)
    if clear is not None:
        clear(force=True)
    library.set_num_threads(n)
    if clear is not None:
        clear(force=True)


class _ProcessPools:
    """This process's BLAS/OpenMP libraries, their thread counts before we changed them, and
    the setting in force. One instance per process (:data:`_POOLS`)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.libraries: dict[str, Any] = {}  # file path -> threadpoolctl's controller
        self.originals: dict[str, int] = {}  # file path -> threads before any change of ours
        self.environment: dict[str, str | None] = {}  # variable -> value before we set it
        self.modules_seen = -1  # len(sys.modules) at the latest scan: new imports, new scan
        self.kept: int | None = None  # the lasting setting of a worker process
        self.active = 0  # in-process evaluations running (InProcessThreadLimit)
        self.active_threads: int | None = None  # their setting

    def discover(self) -> None:
        """Find the libraries loaded since the latest scan (a no-op unless modules were
        imported meanwhile). Reads only; changes nothing."""
        if len(sys.modules) == self.modules_seen:
            return
        from threadpoolctl import ThreadpoolController

        with self.lock:
            self.modules_seen = len(sys.modules)
            for library in ThreadpoolController().lib_controllers:
                if library.filepath in self.libraries:
                    continue
                threads = library.num_threads
                if threads is None:  # a library that cannot tell (and so cannot be set)
                    continue
                self.libraries[library.filepath] = library
                # loaded under our variables, it started with our count: its own default is
                # the number of CPUs it may use
                self.originals[library.filepath] = (
                    _available_cpus() if self.environment else threads
                )

    def set_threads(self, n: int | None) -> None:
        """Every known pool to ``n`` threads; None: back to what each had before."""
        for path, library in self.libraries.items():
            _set_num_threads(library, self.originals[path] if n is None else n)

    def keep(self, n: int | None) -> None:
        """Set ``n`` (None: restore) for this and the following evaluations of this process."""
        # ``kept`` changes last: another thread of this worker reads it without the lock to
        # decide whether its evaluation may start, so it must not see the new setting before
        # the pools have it
        with self.lock:
            if n is None:
                if not self.active:
                    self.set_threads(None)
                for name, value in self.environment.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value
                self.environment.clear()
                self.kept = None
                return
            self.discover()  # before the variables change: the originals are the real ones
            for name in ENVIRONMENT_VARIABLES:
                self.environment.setdefault(name, os.environ.get(name))
                os.environ[name] = str(n)
            if not self.active:
                self.set_threads(n)
            self.kept = n

    def enter(self, n: int) -> None:
        """An in-process evaluation starts: limit the pools to ``n`` while it runs."""
        with self.lock:
            self.active += 1
            if self.active == 1 or n != self.active_threads or not self._scanned():
                self.discover()
                self.set_threads(n)
                self.active_threads = n

    def exit(self) -> None:
        """An in-process evaluation ended: once none runs, back to the lasting setting."""
        with self.lock:
            self.active -= 1
            if self.active == 0:
                self.active_threads = None
                self.set_threads(self.kept)

    def _scanned(self) -> bool:
        return len(sys.modules) == self.modules_seen

    def after_fork(self) -> None:
        """In a forked child (a fork-started process pool): no evaluation of ours runs here
        yet, and a lock held by another thread of the parent would never be released."""
        self.lock = threading.RLock()
        limited_in_parent, self.active, self.active_threads = self.active > 0, 0, None
        if limited_in_parent:  # the parent's in-process limit is not the child's
            self.set_threads(self.kept)


_POOLS = _ProcessPools()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_POOLS.after_fork)


class _LimitedFunction:
    """A function and a thread count, named like the function (for error messages)."""

    def __init__(self, function: Callable[[Any], Any], threads: int | None) -> None:
        self.function = function
        self.threads = threads
        self.__wrapped__ = function
        for attribute in ("__name__", "__qualname__", "__doc__"):
            value = getattr(function, attribute, None)
            if value is not None:
                setattr(self, attribute, value)

    def __getstate__(self) -> tuple[Callable[[Any], Any], int | None]:
        return self.function, self.threads

    def __setstate__(self, state: tuple[Callable[[Any], Any], int | None]) -> None:
        self.__init__(*state)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.function!r}, threads={self.threads!r})"


class WorkerThreadLimit(_LimitedFunction):
    """``function`` evaluated in a worker process whose pools have ``threads`` threads.

    The setting lasts in the worker (see the module's docstring); ``threads=None`` puts back
    what an earlier runner changed, and does nothing in a worker that no runner limited.
    """

    def __setstate__(self, state: tuple[Callable[[Any], Any], int | None]) -> None:
        super().__setstate__(state)
        if self.threads is not None:
            # in the worker, before the evaluation's clock starts: import threadpoolctl and
            # scan the loaded libraries (reads only; the limit is set by the first call)
            with contextlib.suppress(Exception):  # the call reports it, with a clear traceback
                _POOLS.discover()

    def __call__(self, point: Any) -> Any:
        threads = self.threads
        if _POOLS.kept != threads or (
            threads is not None and len(sys.modules) != _POOLS.modules_seen
        ):
            _POOLS.keep(threads)
        return self.function(point)


class InProcessThreadLimit(_LimitedFunction):
    """``function`` evaluated in this process (threads): the pools have ``threads`` threads
    while at least one evaluation runs, and are put back when none does."""

    def __init__(self, function: Callable[[Any], Any], threads: int | None) -> None:
        super().__init__(function, threads)
        _POOLS.discover()  # here, not in the first evaluation's time

    def __call__(self, point: Any) -> Any:
        _POOLS.enter(self.threads)
        try:
            return self.function(point)
        finally:
            _POOLS.exit()


# Whether a runner of this process has sent a limit to worker processes. Those workers outlive
# the run (loky's reusable executor, dask and ipyparallel workers), and a later runner may reach
# them through another executor object (a new ``client.get_executor()``, a second client of
# the same cluster, the pool that replaced a broken one), so from then on every runner without
# the option sends WorkerThreadLimit(function, None), which puts a limited worker back as it
# was (and costs a comparison in a worker that never was limited).
_workers_limited = False


def _runs_in_this_process(adapter: Any) -> bool:
    import concurrent.futures

    if getattr(adapter, "runs_inline", False):
        return True
    if isinstance(getattr(adapter, "executor", None), concurrent.futures.ThreadPoolExecutor):
        return True
    cluster = getattr(getattr(adapter, "client", None), "cluster", None)
    return getattr(cluster, "processes", True) is False  # a dask cluster of threads


def limit_threads(
    function: Callable[[Any], Any], worker_threads: int | None, adapter: Any
) -> Callable[[Any], Any]:
    """What the runner evaluates for ``function`` with ``worker_threads`` (checked already)
    on ``adapter``'s executor: ``function`` itself, or a wrapper that sets the thread pools."""
    if _runs_in_this_process(adapter):
        if worker_threads is None:
            return function
        return InProcessThreadLimit(function, worker_threads)
    global _workers_limited  # noqa: PLW0603 -- the state of this process
    if worker_threads is None:
        return WorkerThreadLimit(function, None) if _workers_limited else function
    _workers_limited = True
    return WorkerThreadLimit(function, worker_threads)
