"""Adapters for cluster engines: ``dask.distributed`` and ``ipyparallel``.

Imported only when the runner meets one of their executors (the registry in
:mod:`adaptive_runner.runner.executors` names these classes by ``"module.QualName"``), so importing
:mod:`adaptive_runner` never imports dask or ipyparallel; nor does this module itself.

Both send the function with cloudpickle, so lambdas and closures work; a function that cannot be
pickled is refused when the runner is created, with a message naming it and the executor.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Callable
from typing import Any

import cloudpickle

from adaptive_runner.runner.executors import (
    ExecutorAdapter,
    WorkerDiedError,
    _function_name,
    settle,
    timed_call,
)

__all__ = ["DaskAdapter", "IPyParallelAdapter"]


def _check_cloudpickle(function: Callable, engine: str) -> bytes:
    try:
        return cloudpickle.dumps(function)
    except Exception as e:
        raise TypeError(
            f"function {_function_name(function)} cannot be pickled with cloudpickle, so "
            f"{engine} cannot send it to its workers ({type(e).__name__}: {e}). Remove the "
            "unpicklable state (locks, open files, sockets...) from the function, or use a "
            "thread pool or SequentialExecutor."
        ) from e


def _dask_cancelled() -> type[BaseException]:
    """distributed's error for a future cancelled by the scheduler or the client."""
    from distributed.utils import CancelledError

    return CancelledError


class DaskAdapter(ExecutorAdapter):
    """A ``distributed.Client`` or its ``client.get_executor()``.

    ``ncores`` is the cluster's current number of worker threads, read from the totals the client
    refreshes in the background (every ``distributed.client.scheduler-info-interval``), so it is
    cheap to read and follows a cluster that scales while the run goes on.
    """

    #: the runner re-reads ``ncores`` during the run (when the user gave no ``ntasks``)
    ncores_varies = True

    def __init__(self, executor: Any) -> None:
        super().__init__(executor)
        if hasattr(executor, "get_executor"):  # a Client
            self.client = executor
            self._executor = executor.get_executor(pure=False)
        else:  # a ClientExecutor
            self.client = executor._client
            self._executor = executor
        if not getattr(self.client, "asynchronous", False):
            # fresh totals to start with; the client keeps them up to date afterwards (an older
            # client without n_workers, or one not connected yet, keeps what it has)
            with contextlib.suppress(Exception):
                self.client.scheduler_info(n_workers=0)

    @property
    def ncores(self) -> int:
        info = getattr(self.client, "_scheduler_identity", None) or {}
        total = info.get("total_threads")
        if total is None:
            workers = info.get("workers") or {}
            total = sum(w.get("nthreads", 0) for w in workers.values())
        return max(1, int(total))

    def check_function(self, function: Callable) -> None:
        _check_cloudpickle(function, f"the dask.distributed executor {self.client!r}")

    #: how many times an evaluation lost with its worker (cluster scaled down) is sent again
    resubmissions = 5

    def submit(self, function: Callable, point: Any) -> concurrent.futures.Future:
        """A future for ``function(point)`` that survives the loss of its worker.

        A worker process that dies while running the task (``os._exit``, a signal) is restarted
        by its nanny and dask runs the task again; once the scheduler gives up on it
        (``KilledWorker``, after ``distributed.scheduler.allowed-failures`` deaths), the point
        fails with :class:`~adaptive_runner.runner.executors.WorkerDiedError`, so the runner
        retries it per ``retries``.

        When the cluster shrinks, dask normally runs the lost task again elsewhere, but a task
        caught as its worker closes can come back cancelled; that is no failure of the function,
        so it is sent again (up to :attr:`resubmissions` times). Cancelling the returned future
        cancels the task.
        """
        outer: concurrent.futures.Future = concurrent.futures.Future()
        current: list[concurrent.futures.Future] = []

        def send(attempt: int) -> None:
            # pure=False: a point evaluated again (a retry) must be a new task, not the old one
            inner = self._executor.submit(timed_call, function, point, pure=False)
            current[:] = [inner]
            if outer.cancelled():  # cancelled while this was being sent
                inner.cancel()
            inner.add_done_callback(lambda done: transfer(done, attempt))

        def transfer(inner: concurrent.futures.Future, attempt: int) -> None:
            if outer.done():
                return
            error = None if inner.cancelled() else inner.exception()
            lost = inner.cancelled() or (
                error is not None and isinstance(error, asyncio.CancelledError | _dask_cancelled())
            )
            if lost and attempt < self.resubmissions:
                send(attempt + 1)
                return
            if type(error).__name__ == "KilledWorker":
                # the scheduler gave up on the task after its workers died running it
                # (distributed.scheduler.allowed-failures times): a failure of this point
                died = WorkerDiedError(f"the dask worker evaluating point {point!r} died ({error})")
                died.__cause__ = error
                error = died
            settle(outer, inner, error)
            # let go of the task at once: a dask future kept alive (outer -> cancel_task ->
            # inner -> dask future -> ... -> outer is a cycle, freed only by the garbage
            # collector) keeps its result in a worker's memory, recomputed if that worker dies
            current.clear()

        def cancel_task(done: concurrent.futures.Future) -> None:
            if done.cancelled() and current:
                current[0].cancel()

        outer.add_done_callback(cancel_task)
        send(0)
        return outer

    def shutdown(self) -> None:
        """Stop this runner's use of the client; the client and its cluster stay up."""
        self._executor.shutdown(wait=False)

    def __repr__(self) -> str:
        return f"DaskAdapter({self.client!r})"


def _call_pickled(pickled_function: bytes, point: Any) -> tuple[Any, float]:
    """Runs on an ipyparallel engine: unpickle the function, then time ``function(point)``."""
    import pickle

    from adaptive_runner.runner.executors import timed_call

    return timed_call(pickle.loads(pickled_function), point)


def _is_engine_death(error: BaseException | None) -> bool:
    """Whether ipyparallel failed a task because its engine went away, not the function."""
    if error is None:
        return False
    from ipyparallel import error as ipp_errors

    if isinstance(error, ipp_errors.EngineError):
        return True
    # errors raised on the controller's side arrive wrapped, named by ``ename``
    return isinstance(error, ipp_errors.RemoteError) and error.ename == "EngineError"


class IPyParallelAdapter(ExecutorAdapter):
    """An ``ipyparallel.Client``, one of its views, or a view's executor (``client.executor()``).

    A client is used through a load-balanced view over all its engines. ``ncores`` is the view's
    number of engines; for a view over all engines (a client, ``client.load_balanced_view()``)
    that is ``len(client.ids)``, which the client's own I/O thread keeps current as engines
    register and unregister, so ``ntasks`` follows engines that join or leave during the run.
    A view over fixed targets keeps its size.

    An engine that dies in the middle of an evaluation makes that point fail with
    :class:`~adaptive_runner.runner.executors.WorkerDiedError`, so the runner retries it per
    ``retries``. An engine stopped by its cluster (SIGTERM) first finishes the evaluation under
    way; only one that outlasts the launcher's ``stop_seconds_until_kill`` is killed, and lost.
    """

    def __init__(self, executor: Any) -> None:
        super().__init__(executor)
        if hasattr(executor, "load_balanced_view"):  # a Client
            self.view = executor.load_balanced_view()
        elif hasattr(executor, "apply_async"):  # a View
            self.view = executor
        else:  # a ViewExecutor
            self.view = executor.view
        self._pickled: tuple[Callable, bytes] | None = None
        # targets None or "all": every engine the client knows, now and later
        targets = getattr(self.view, "targets", None)
        #: the runner re-reads ``ncores`` during the run (when the user gave no ``ntasks``)
        self.ncores_varies = targets is None or targets == "all"

    @property
    def ncores(self) -> int:
        return max(1, len(self.view))

    def _pickle(self, function: Callable) -> bytes:
        if self._pickled is None or self._pickled[0] is not function:
            self._pickled = (function, _check_cloudpickle(function, f"ipyparallel {self.view!r}"))
        return self._pickled[1]

    def check_function(self, function: Callable) -> None:
        self._pickle(function)

    def submit(self, function: Callable, point: Any) -> concurrent.futures.Future:
        """A future for ``function(point)``; the loss of its engine is a failure of the point.

        ipyparallel reports a task whose engine went away (killed, stopped, crashed) as a
        ``RemoteError`` of type ``EngineError``, once the controller notices the engine is gone
        (on a local cluster, about five seconds after a SIGKILL). That becomes a
        :class:`WorkerDiedError` naming the point. Cancelling the returned future cancels the
        client's future for the task.
        """
        inner = self.view.apply_async(_call_pickled, self._pickle(function), point)
        outer: concurrent.futures.Future = concurrent.futures.Future()

        def transfer(done: concurrent.futures.Future) -> None:
            error = None if done.cancelled() else done.exception()
            if _is_engine_death(error):
                died = WorkerDiedError(
                    f"the ipyparallel engine evaluating point {point!r} died ({error})"
                )
                died.__cause__ = error
                error = died
            settle(outer, done, error)

        def cancel_task(done: concurrent.futures.Future) -> None:
            if done.cancelled():
                inner.cancel()

        outer.add_done_callback(cancel_task)
        inner.add_done_callback(transfer)
        return outer

    def shutdown(self) -> None:
        """The engines are not ours to stop (as ``ViewExecutor.shutdown`` does not stop them)."""

    def __repr__(self) -> str:
        return f"IPyParallelAdapter({self.view!r})"
