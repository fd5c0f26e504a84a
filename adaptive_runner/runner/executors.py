"""Executor adapters: one small class per kind of executor, found through a registry by type.

An adapter knows how many evaluations its executor runs at once (``ncores``), checks early that a
function can be sent to it, and turns ``function(point)`` into something the runner awaits. New
engines register an adapter with :func:`register_executor_adapter`, by class or, for optional
packages that must not be imported here, by the class's ``"module.QualName"``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import importlib
import inspect
import os
import pickle
import time
from collections.abc import Awaitable, Callable
from typing import Any

import cloudpickle

__all__ = [
    "ExecutorAdapter",
    "SequentialExecutor",
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

    def check_function(self, function: Callable) -> None:
        """Raise early if ``function`` cannot be sent to the executor."""

    def submit(self, function: Callable, point: Any) -> concurrent.futures.Future:
        return self.executor.submit(timed_call, function, point)

    def wrap(self, future: concurrent.futures.Future) -> Awaitable:
        return asyncio.wrap_future(future)

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.executor!r})"


class SequentialAdapter(ExecutorAdapter):
    runs_inline = True

    @property
    def ncores(self) -> int:
        return 1


class ThreadPoolAdapter(ExecutorAdapter):
    pass


class ProcessPoolAdapter(ExecutorAdapter):
    """The standard library's process pool pickles with ``pickle``: no lambdas or closures."""

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


class LokyAdapter(ExecutorAdapter):
    """loky pickles with cloudpickle; we still check once so a failure is immediate and clear."""

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


class CoroutineAdapter:
    """``async def`` functions are awaited directly on the event loop; no executor."""

    runs_inline = False
    executor = None

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
