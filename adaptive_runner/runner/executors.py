"""Executor adapters: one small class per kind of executor, found through a registry by type.

An adapter knows how many evaluations its executor runs at once (``ncores``), checks early that a
function can be sent to it, and turns ``function(point)`` into something the runner awaits. New
engines register an adapter with :func:`register_executor_adapter`, by class or, for optional
packages that must not be imported here, by the class's ``"module.QualName"``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import concurrent.futures.process
import contextlib
import functools
import importlib
import inspect
import os
import pickle
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import cloudpickle

__all__ = [
    "ExecutorAdapter",
    "SequentialExecutor",
    "WorkerDiedError",
    "adapter_for",
    "is_coroutine_function",
    "register_executor_adapter",
]


class SequentialExecutor(concurrent.futures.Executor):
    """An executor that runs each function call at once, in the calling thread.

    Useful for debugging (tracebacks point at your code, breakpoints work) and for functions so
    cheap that sending them to another process would cost more than running them.
    """

    def __init__(self) -> None:
        self._shutdown = False

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        if self._shutdown:
            raise RuntimeError("cannot submit to a SequentialExecutor after shutdown")
        future: concurrent.futures.Future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as e:
            future.set_exception(e)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._shutdown = True

    def __repr__(self) -> str:
        return "SequentialExecutor()"


class WorkerDiedError(RuntimeError):
    """The worker process evaluating a point died (``os._exit``, a signal, out of memory...).

    The runner counts it as a failed evaluation of that point, so it is retried per ``retries``.
    """


def timed_call(function: Callable, point: Any) -> tuple[Any, float]:
    """Evaluate ``function(point)`` and measure how long it took (runs inside the worker)."""
    start = time.perf_counter()
    value = function(point)
    return value, time.perf_counter() - start


async def timed_await(function: Callable, point: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    value = await function(point)
    return value, time.perf_counter() - start


def is_coroutine_function(function: Any) -> bool:
    """Whether calling ``function`` gives a coroutine (sees through partials and wrappers)."""
    seen = set()
    while id(function) not in seen:
        seen.add(id(function))
        if inspect.iscoroutinefunction(function):
            return True
        if inspect.iscoroutinefunction(getattr(function, "__call__", None)):  # noqa: B004
            return True
        if isinstance(function, functools.partial):
            function = function.func
        elif hasattr(function, "__wrapped__"):
            function = function.__wrapped__
        else:
            return False
    return False


def _function_name(function: Any) -> str:
    inner = getattr(function, "__wrapped__", function)
    return getattr(inner, "__qualname__", None) or repr(inner)


def settle(
    outer: concurrent.futures.Future,
    inner: concurrent.futures.Future,
    error: BaseException | None,
) -> None:
    """Give ``outer`` the outcome of ``inner`` (cancelled, ``error``, or its result); nothing
    when ``outer`` was cancelled meanwhile."""
    with contextlib.suppress(concurrent.futures.InvalidStateError):
        if inner.cancelled():
            outer.cancel()
        elif error is not None:
            outer.set_exception(error)
        else:
            outer.set_result(inner.result())


def explain_failure(error: BaseException, point: Any) -> None:
    """Add a note to ``error`` when the cause is not the function itself but sending its value
    back: a process pool pickles the return value in the worker (both the standard library's
    and loky's do it in ``_sendback_result``), and an unpicklable value (a lock, a generator, an
    open file) fails there with a message that names neither the point nor the reason."""
    cause = error.__cause__
    if cause is not None and "_sendback_result" in str(cause):
        error.add_note(
            f"adaptive_runner: the function returned a value for point {point!r} that could "
            "not be pickled, so the worker process could not send it back; return plain data "
            "(numbers, arrays, lists, dicts) instead"
        )


class ExecutorAdapter:
    """Runs evaluations on a ``concurrent.futures.Executor``-like object."""

    #: whether evaluations run in the event loop's thread (the runner then yields between them)
    runs_inline = False

    def __init__(self, executor: Any) -> None:
        self.executor = executor

    @property
    def ncores(self) -> int:
        workers = getattr(self.executor, "_max_workers", None)
        return int(workers) if workers else os.cpu_count() or 1

    @property
    def current_executor(self) -> Any:
        """The executor in use (an adapter may replace a broken one during the run)."""
        return self.executor

    def check_function(self, function: Callable) -> None:
        """Raise early if ``function`` cannot be sent to the executor."""

    def submit(self, function: Callable, point: Any) -> concurrent.futures.Future:
        return self.executor.submit(timed_call, function, point)

    def wrap(self, future: concurrent.futures.Future) -> Awaitable:
        return asyncio.wrap_future(future)

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        """Release what the adapter created for itself during the run (called when it ends)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.executor!r})"


class SequentialAdapter(ExecutorAdapter):
    runs_inline = True

    @property
    def ncores(self) -> int:
        return 1


class ThreadPoolAdapter(ExecutorAdapter):
    pass


class _SurvivesWorkerDeath(ExecutorAdapter):
    """A process pool whose worker may die in the middle of an evaluation.

    When a worker dies, the pool breaks and every evaluation in it is lost at once, and the pool
    cannot say which point its dead worker was running. So the adapter finds out:

    - a point lost *alone* (the only evaluation in flight on that pool) gets a
      :class:`WorkerDiedError` naming it, which the runner counts as a failed evaluation of that
      point (retried per ``retries``);
    - points lost *together* become suspects and are sent again to the replacement pool without
      counting a failure, each on its own: new evaluations wait while a suspect runs, so if it
      kills its worker again it is lost alone, and named;
    - a point sent again for free more than :attr:`resubmissions` times fails at its next loss,
      so no function can keep a run going round in circles.

    The broken pool is replaced by :meth:`_replacement`.
    """

    #: how many times one point lost with others is sent again without counting a failure
    resubmissions = 5

    def __init__(self, executor: Any) -> None:
        super().__init__(executor)
        self._pool = executor  # the pool in use: the executor, or its latest replacement
        self._owned: list[Any] = []  # replacements we created, shut down when the run ends
        self._lock = threading.Lock()
        self._in_flight: dict[Any, set] = {}  # pool -> its evaluations (inner futures)
        self._lost: dict[Any, int] = {}  # broken pool -> evaluations in it when it broke
        # outer futures of the evaluations sent and not done; one abandoned by the runner (a
        # timeout) may still occupy its worker, but it does not hold a suspect back
        self._running: set[concurrent.futures.Future] = set()
        self._suspect_running = False
        self._suspects: deque = deque()  # (outer future, send) waiting to run alone
        self._waiting: deque = deque()  # (outer future, send) held back while suspects run

    @property
    def current_executor(self) -> Any:
        return self._pool

    def _replacement(self, broken: Any) -> tuple[Any, bool]:
        """A working pool like ``broken``, and whether we own it (shut it down at the end)."""
        raise NotImplementedError

    def _replace(self, broken: Any) -> None:
        with self._lock:
            if self._pool is not broken:  # replaced already, by another lost evaluation
                return
            new, owned = self._replacement(broken)
            self._pool = new
            if owned:
                self._owned.append(new)

    def _dispatch(self) -> None:
        """Send what may run now: a suspect alone once the pool is idle, else everything."""
        with self._lock:
            starts = []
            if self._suspect_running:
                pass
            elif self._suspects:
                while self._suspects and self._suspects[0][0].done():  # cancelled meanwhile
                    self._suspects.popleft()
                if self._suspects and all(outer.done() for outer in self._running):
                    outer, send = self._suspects.popleft()
                    starts.append((outer, send))
                    self._suspect_running = True
            else:
                starts = [(outer, send) for outer, send in self._waiting if not outer.done()]
                self._waiting.clear()
            self._running.update(outer for outer, _ in starts)
        for _, send in starts:
            send()

    def _finished(self, outer: concurrent.futures.Future, suspect: bool) -> None:
        with self._lock:
            self._running.discard(outer)
            if suspect:
                self._suspect_running = False
        self._dispatch()

    def submit(self, function: Callable, point: Any) -> concurrent.futures.Future:
        outer: concurrent.futures.Future = concurrent.futures.Future()
        current: list[concurrent.futures.Future] = []

        def send(free_left: int, suspect: bool) -> None:
            pool = self._pool
            try:
                try:
                    inner = pool.submit(timed_call, function, point)
                except concurrent.futures.process.BrokenProcessPool:
                    self._replace(pool)  # broken before we knew it: use a fresh one
                    pool = self._pool
                    inner = pool.submit(timed_call, function, point)
            except BaseException as e:
                self._finished(outer, suspect)
                with contextlib.suppress(concurrent.futures.InvalidStateError):
                    outer.set_exception(e)
                return
            with self._lock:
                self._in_flight.setdefault(pool, set()).add(inner)
            current[:] = [inner]
            if outer.cancelled():
                inner.cancel()
            inner.add_done_callback(lambda done: transfer(done, pool, free_left, suspect))

        def transfer(
            inner: concurrent.futures.Future, pool: Any, free_left: int, suspect: bool
        ) -> None:
            error = None if inner.cancelled() else inner.exception()
            broken = isinstance(error, concurrent.futures.process.BrokenProcessPool)
            with self._lock:
                group = self._in_flight.get(pool, set())
                n_lost = self._lost.setdefault(pool, len(group)) if broken else 0
                group.discard(inner)
            if broken:
                self._replace(pool)
                if n_lost > 1 and free_left > 0 and not outer.done():
                    resend = sending[0]
                    with self._lock:  # a suspect now: it runs again on its own
                        self._suspects.append((outer, lambda: resend(free_left - 1, True)))
                    self._finished(outer, suspect)
                    return
                died = WorkerDiedError(
                    f"the worker process evaluating point {point!r} died, so "
                    f"{type(self.executor).__name__} lost the evaluation "
                    f"({type(error).__name__}; see the exception above for details)"
                )
                died.__cause__ = error
                error = died
            settle(outer, inner, error)
            # the evaluation is over: cut the links that make its futures and closures a
            # reference cycle, so they are freed now rather than by the cyclic collector
            current.clear()
            sending.clear()
            self._finished(outer, suspect)

        # transfer resends a suspect through this list, not by name: send and transfer naming
        # each other would make a reference cycle that outlives the evaluation
        sending = [send]

        def cancel_inner(done: concurrent.futures.Future) -> None:
            if done.cancelled() and current:
                current[0].cancel()
            if done.cancelled() and self._suspects:  # a suspect may have waited for this one
                self._dispatch()

        outer.add_done_callback(cancel_inner)
        with self._lock:
            self._waiting.append((outer, lambda: send(self.resubmissions, False)))
        self._dispatch()
        return outer

    def shutdown(self) -> None:
        super().shutdown()
        self.close()

    def close(self) -> None:
        owned, self._owned = self._owned, []
        for pool in owned:
            pool.shutdown(wait=True, cancel_futures=True)


class ProcessPoolAdapter(_SurvivesWorkerDeath):
    """The standard library's process pool pickles with ``pickle``: no lambdas or closures.

    A worker that dies breaks the pool for good (``BrokenProcessPool``). The runner then goes on
    with a new ``ProcessPoolExecutor`` of the same settings, which it owns and shuts down when
    the run ends; the pool you passed stays broken (the standard library cannot repair it), so
    create a new one for the next run, or use loky (the default), whose reusable executor is
    replaced by ``loky.get_reusable_executor()`` itself.
    """

    def _replacement(self, broken: Any) -> tuple[Any, bool]:
        settings = {
            "max_workers": broken._max_workers,
            "mp_context": getattr(broken, "_mp_context", None),
            "initializer": getattr(broken, "_initializer", None),
            "initargs": getattr(broken, "_initargs", ()),
        }
        if getattr(broken, "_max_tasks_per_child", None) is not None:
            settings["max_tasks_per_child"] = broken._max_tasks_per_child
        return concurrent.futures.ProcessPoolExecutor(**settings), True

    def check_function(self, function: Callable) -> None:
        try:
            pickle.dumps(function)
        except Exception as e:
            raise TypeError(
                f"function {_function_name(function)} cannot be pickled, so "
                f"concurrent.futures.ProcessPoolExecutor cannot send it to its workers ({e}). "
                "Use the default executor (loky, which uses cloudpickle and handles lambdas and "
                "closures) or define the function at module level."
            ) from e


class LokyAdapter(_SurvivesWorkerDeath):
    """loky pickles with cloudpickle; we still check once so a failure is immediate and clear.

    A worker that dies breaks the executor (``TerminatedWorkerError``); the reusable executor is
    then replaced by ``loky.get_reusable_executor()``, which stays shared (not ours to shut
    down), and any other loky executor by a new one that the runner owns.
    """

    def _replacement(self, broken: Any) -> tuple[Any, bool]:
        import loky
        from loky.reusable_executor import _ReusablePoolExecutor

        if isinstance(broken, _ReusablePoolExecutor):
            return loky.get_reusable_executor(max_workers=broken._max_workers), False
        return loky.ProcessPoolExecutor(max_workers=broken._max_workers), True

    def check_function(self, function: Callable) -> None:
        try:
            cloudpickle.dumps(function)
        except Exception as e:
            raise TypeError(
                f"function {_function_name(function)} cannot be pickled with cloudpickle, so "
                f"the loky executor cannot send it to its workers ({e}). Use a thread pool or "
                "SequentialExecutor for functions holding unpicklable state."
            ) from e

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True, kill_workers=False)
        self.close()


class CoroutineAdapter:
    """``async def`` functions are awaited directly on the event loop; no executor."""

    runs_inline = False
    executor = None
    current_executor = None

    def __init__(self, ntasks: int | None = None) -> None:
        self._ncores = ntasks or os.cpu_count() or 1

    @property
    def ncores(self) -> int:
        return self._ncores

    def check_function(self, function: Callable) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def __repr__(self) -> str:
        return "CoroutineAdapter()"


_REGISTRY: dict[type | str, type[ExecutorAdapter] | str] = {
    SequentialExecutor: SequentialAdapter,
    concurrent.futures.ThreadPoolExecutor: ThreadPoolAdapter,
    concurrent.futures.ProcessPoolExecutor: ProcessPoolAdapter,
    "loky.process_executor.ProcessPoolExecutor": LokyAdapter,
    # cluster engines: adapters named by "module.QualName" too, imported on first use
    "distributed.client.Client": "adaptive_runner.runner.distributed.DaskAdapter",
    "distributed.cfexecutor.ClientExecutor": "adaptive_runner.runner.distributed.DaskAdapter",
    "ipyparallel.client.client.Client": "adaptive_runner.runner.distributed.IPyParallelAdapter",
    "ipyparallel.client.view.View": "adaptive_runner.runner.distributed.IPyParallelAdapter",
    "ipyparallel.client.view.ViewExecutor": (
        "adaptive_runner.runner.distributed.IPyParallelAdapter"
    ),
    "mpi4py.futures.pool.MPIPoolExecutor": "adaptive_runner.runner.mpi.MPIAdapter",
}


def register_executor_adapter(executor_type: type | str, adapter: type[ExecutorAdapter]) -> None:
    """Use ``adapter`` for executors of ``executor_type`` (a class or ``"module.QualName"``)."""
    _REGISTRY[executor_type] = adapter


def adapter_for(executor: Any) -> ExecutorAdapter:
    """The registered adapter for ``executor`` (looked up along its class's MRO)."""
    for cls in type(executor).__mro__:
        adapter = _REGISTRY.get(cls) or _REGISTRY.get(f"{cls.__module__}.{cls.__qualname__}")
        if isinstance(adapter, str):  # "module.QualName" of an adapter not imported yet
            module, _, name = adapter.rpartition(".")
            adapter = getattr(importlib.import_module(module), name)
        if adapter is not None:
            return adapter(executor)
    if isinstance(executor, concurrent.futures.Executor):
        return ExecutorAdapter(executor)
    raise TypeError(
        f"executor={executor!r} is not a supported executor: give a "
        "concurrent.futures.Executor (thread or process pool), loky.get_reusable_executor(), "
        "SequentialExecutor(), a distributed.Client, an ipyparallel.Client, or register an "
        "adapter with register_executor_adapter"
    )


def default_executor() -> Any:
    """loky's reusable executor: shared between runners and never shut down implicitly."""
    import loky

    return loky.get_reusable_executor()
