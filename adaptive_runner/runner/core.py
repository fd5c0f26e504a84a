"""The engine shared by the runners: slots that evaluate points, bookkeeping, goals and cleanup.

Design. The run is one asyncio task that owns ``ntasks`` *slot* tasks. A slot takes a point
(a retry first, else one the learner proposed), awaits its evaluation (an executor future, or the
coroutine itself for ``async def`` functions, with no task per point), tells the learner, checks
the goal and takes the next point. A slot that finds no point waiting becomes idle and schedules
one *refill* for this turn of the event loop; the refill asks the learner for one point per idle
slot in a single ``ask`` call and wakes them. Every step is O(1) in ``ntasks``: nothing ever
scans the pending evaluations.

When the goal is met, the run is cancelled, or it fails, the owner task stops every slot, tells
the results that had already arrived, cancels the rest, leaves the learner with no pending
points, and waits for its helper tasks (periodic saving, status display) to finish.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import numbers
import time
from collections import deque
from collections.abc import Callable, Coroutine, Hashable
from typing import Any

from adaptive_runner.learners.base import hashable_key
from adaptive_runner.runner.checkpoint import (
    RunLog,
    check_checkpoint,
    check_checkpoint_interval,
    open_run_log,
)
from adaptive_runner.runner.executors import (
    CoroutineAdapter,
    adapter_for,
    default_executor,
    explain_failure,
    is_coroutine_function,
    timed_await,
    timed_call,
)
from adaptive_runner.runner.failures import FailureBookkeeping
from adaptive_runner.runner.goals import Goal, resolve_goal
from adaptive_runner.runner.threads import check_worker_threads, limit_threads
from adaptive_runner.runner.timeouts import (
    await_with_timeout,
    check_retry_delay,
    check_timeout,
)

#: longest stretch (seconds) of inline evaluations before the event loop gets a turn
_INLINE_SLICE = 0.005


class EvaluationCancelledError(RuntimeError):
    """An evaluation was cancelled on its own (``future.cancel()`` from ``pending_points``)."""


class _CoroutineEvaluation:
    """What ``pending_points`` shows for an ``async def`` evaluation: it can be cancelled alone."""

    __slots__ = ("_cancel_requested", "_done", "_slot_task")

    def __init__(self, slot_task: asyncio.Task) -> None:
        self._slot_task = slot_task
        self._cancel_requested = False
        self._done = False

    def cancel(self) -> bool:
        if self._done or self._cancel_requested:
            return False
        self._cancel_requested = True
        self._slot_task.cancel()
        return True

    def cancelled(self) -> bool:
        return self._cancel_requested

    def done(self) -> bool:
        return self._done


class RunnerCore(FailureBookkeeping):
    """Bookkeeping and the asynchronous engine common to :class:`AsyncRunner` and
    :class:`BlockingRunner`; not used directly."""

    def __init__(
        self,
        learner: Any,
        goal: Callable[[Any], bool] | None = None,
        *,
        loss_goal: float | None = None,
        npoints_goal: int | None = None,
        end_time_goal: Any = None,
        duration_goal: Any = None,
        executor: Any = None,
        ntasks: int | None = None,
        log: bool = False,
        shutdown_executor: bool = False,
        retries: int = 0,
        raise_if_retries_exceeded: bool = True,
        allow_running_forever: bool = True,
        checkpoint: Any = None,
        checkpoint_interval: float = 0.5,
        timeout: float | None = None,
        retry_delay: float | Callable[[int], float] = 0,
        worker_threads: int | None = None,
    ) -> None:
        for method in ("ask", "tell", "remove_unfinished"):
            if not callable(getattr(learner, method, None)):
                raise TypeError(
                    f"learner must be a learner (no {method}()), got learner={learner!r}"
                )
        if not callable(getattr(learner, "function", None)):
            raise TypeError(f"learner.function must be callable, got {learner.function!r}")
        self.learner = learner
        self.goal: Goal = resolve_goal(
            goal,
            loss_goal=loss_goal,
            npoints_goal=npoints_goal,
            end_time_goal=end_time_goal,
            duration_goal=duration_goal,
            learner=learner,
            allow_running_forever=allow_running_forever,
        )
        if isinstance(retries, bool) or not isinstance(retries, numbers.Integral) or retries < 0:
            raise ValueError(f"retries must be a non-negative integer, got retries={retries!r}")
        if ntasks is not None and (
            isinstance(ntasks, bool) or not isinstance(ntasks, numbers.Integral) or ntasks < 1
        ):
            raise ValueError(f"ntasks must be a positive integer or None, got ntasks={ntasks!r}")
        #: threads per BLAS/OpenMP pool in the processes that evaluate, or None (see
        #: adaptive_runner.runner.threads)
        self.worker_threads = check_worker_threads(worker_threads)

        self._function = learner.function
        self._is_coroutine = is_coroutine_function(self._function)
        if self._is_coroutine:
            if executor is not None:
                raise ValueError(
                    f"learner.function is an async def function, which is awaited on the event "
                    f"loop; it cannot run on executor={executor!r}. Leave executor=None (use "
                    "ntasks= to limit concurrency) or pass a regular function."
                )
            if self.worker_threads is not None:
                raise ValueError(
                    f"worker_threads={worker_threads!r} cannot apply to an async def function: "
                    "it runs on the event loop in this process, not in a worker. Limit the "
                    "threads inside the function (threadpoolctl.threadpool_limits) or pass a "
                    "regular function."
                )
            self._adapter = CoroutineAdapter(ntasks)
        else:
            self._adapter = adapter_for(default_executor() if executor is None else executor)
            self._function = limit_threads(self._function, self.worker_threads, self._adapter)
            self._adapter.check_function(self._function)
        self.ntasks: int = int(ntasks) if ntasks is not None else self._adapter.ncores
        # an executor whose worker count changes (a dask cluster that scales): ntasks follows it
        self._follow_ncores = ntasks is None and getattr(self._adapter, "ncores_varies", False)
        self._slots: list[asyncio.Task] = []
        self._n_slots = 0  # slots still running; above ntasks for a while after a shrink
        self._capacity = 0.0  # worker-seconds up to the latest change of ntasks
        self._ntasks_since: float | None = None  # when ntasks last changed during the run
        self.shutdown_executor = shutdown_executor
        self.retries = int(retries)
        self.raise_if_retries_exceeded = raise_if_retries_exceeded
        #: seconds one evaluation may take before it counts as a failure (TimeoutError), or None
        self.timeout = check_timeout(timeout)
        if self.timeout is not None and self._adapter.runs_inline:
            raise ValueError(
                f"timeout={timeout!r} cannot be enforced on executor={self.executor!r}, which "
                "evaluates in the event loop's own thread; use a thread or process pool"
            )
        #: seconds (or ``attempt -> seconds``) to wait before a failed point is tried again
        self.retry_delay = check_retry_delay(retry_delay)
        self.log: list | None = [] if log else None
        #: the crash-safe run log's file (see adaptive_runner.runner.checkpoint), or None
        self.checkpoint = check_checkpoint(checkpoint)
        self.checkpoint_interval = check_checkpoint_interval(checkpoint_interval)
        # opened last: it replays the recorded evaluations into the learner
        self._run_log: RunLog | None = None

        self._point_key: Callable[[Any], Hashable] = getattr(learner, "point_key", hashable_key)
        self._init_failures()
        self._buffer: deque = deque()
        self._in_flight: dict[int, tuple[Any, Any]] = {}
        self._function_time = 0.0
        self._n_idle = 0
        self._last_yield = 0.0
        self._refill_scheduled = False
        self._stopping = False
        self._helpers: list[asyncio.Task] = []
        self._done_event: asyncio.Event | None = None
        #: how the run ended ("finished", "cancelled", "failed"), None while it runs
        self.outcome: str | None = None
        #: the error that failed the run, if it failed
        self.error: BaseException | None = None
        self.start_time = time.time()
        self.end_time: float | None = None
        #: evaluations in flight when the run stopped (cancelled or abandoned)
        self.n_cancelled = 0
        #: whether Ctrl-C stopped the run (see adaptive_runner.runner.interrupt)
        self.interrupted = False
        #: whether the function is running in the event loop's own thread right now
        self.evaluating_inline = False
        #: the file periodic saving writes to, when it has one (for the run's summary)
        self.saved_to: str | None = None
        self._run_log = open_run_log(
            self.checkpoint, self.checkpoint_interval, learner, self.log, self._point_key
        )
        if self._run_log is not None:
            self._resume_failures(self._run_log.unresolved_failures)

    # ---- public state ----------------------------------------------------------------------------
    @property
    def executor(self) -> Any:
        """The executor evaluations are sent to (None for ``async def`` functions).

        After a worker died and broke a process pool, this is the pool that replaced it (see
        :class:`~adaptive_runner.runner.executors.WorkerDiedError`).
        """
        return self._adapter.current_executor

    @property
    def pending_points(self) -> list[tuple[Any, Any]]:
        """``(future, point)`` for every evaluation in flight."""
        return list(self._in_flight.values())

    def elapsed_time(self) -> float:
        """Seconds since the run started (until it ended, once it has)."""
        end = time.time() if self.end_time is None else self.end_time
        return end - self.start_time

    def overhead(self) -> float:
        """Percentage of the workers' time not spent evaluating the function."""
        since = self.start_time if self._ntasks_since is None else self._ntasks_since
        end = time.time() if self.end_time is None else self.end_time
        capacity = self._capacity + (end - since) * self.ntasks
        if capacity <= 0:
            return 0.0
        return max(0.0, min(100.0, 100.0 * (1.0 - self._function_time / capacity)))

    # ---- the engine ------------------------------------------------------------------------------
    def _prepare(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind the run to ``loop`` (before it starts, so helpers can be added early)."""
        self._loop = loop
        self._stopped: asyncio.Future = loop.create_future()
        self._wakeup: asyncio.Future = loop.create_future()
        self._done_event = asyncio.Event()

    async def _run(self) -> None:
        loop = self._loop
        self.start_time = time.time()
        if self._run_log is not None:
            self._start_helper(self._run_log.keep_flushing(self))
        self.goal.start()
        slots: list[asyncio.Task] = []
        deadline = None
        try:
            if not self.goal(self.learner):
                slots = [loop.create_task(self._slot(i)) for i in range(self.ntasks)]
                self._slots, self._n_slots = slots, self.ntasks
                deadline = self._schedule_deadline()
                await self._stopped
        finally:
            if deadline is not None:
                deadline.cancel()
            helper_errors = await self._cleanup(slots)
        if helper_errors:  # e.g. the final save failed: the run must not look fine
            self.outcome, self.error = "failed", helper_errors[0]
            raise helper_errors[0]

    def _schedule_deadline(self) -> asyncio.TimerHandle | None:
        seconds = self.goal.seconds_left()
        if seconds is None:
            return None
        return self._loop.call_later(max(0.0, seconds), self._on_deadline)

    def _on_deadline(self) -> None:
        if self._stopped.done():
            return
        try:
            met = self.goal(self.learner)
        except Exception as e:
            self._stop(e)
            return
        if met:
            self._stop()
        else:  # clocks disagree by a hair: look again shortly
            self._loop.call_later(0.01, self._on_deadline)

    def _stop(self, error: BaseException | None = None) -> None:
        self._stopping = True  # slots take no new points from here on
        if self._stopped.done():
            return
        if error is None:
            self._stopped.set_result(None)
        else:
            self._stopped.set_exception(error)

    def _wake_idle(self) -> None:
        if self._n_idle:
            wakeup, self._wakeup = self._wakeup, self._loop.create_future()
            wakeup.set_result(None)

    def _schedule_refill(self) -> None:
        if not self._refill_scheduled:
            self._refill_scheduled = True
            self._loop.call_soon(self._refill)

    def _refill(self) -> None:
        """Ask the learner for one point per idle slot, in one call, then wake the idle slots.

        Scheduled with ``call_soon``, it runs after every slot that finished in this turn of the
        event loop has told its result and become idle, so those slots share one ``ask``.
        """
        self._refill_scheduled = False
        if self._stopping or self._stopped.done():
            return
        n = self._n_idle - len(self._buffer) - len(self._retry_queue)
        if n > 0:
            try:
                self._ask(n)
            except BaseException as e:  # a learner bug fails the run, loudly
                self._stop(e)
                return
        if self._buffer or self._retry_queue:
            self._wake_idle()
        elif self._n_idle == self._n_slots and not self._delayed_retries:
            self._stop()  # nothing in flight and the learner has no more points

    def _ask(self, n: int) -> None:
        points, _ = self.learner.ask(n)
        if self.log is not None:
            self.log.append(("ask", n))
        self._buffer.extend(points)

    async def _slot(self, slot_id: int) -> None:
        buffer, retry_queue = self._buffer, self._retry_queue
        # With one slot, or evaluations in the loop's thread, no other slot can become free in
        # this turn of the loop, so there is nothing to batch: ask at once, skipping a loop turn.
        ask_at_once = self.ntasks == 1 or self._adapter.runs_inline
        try:
            while not self._stopping:
                if self._n_slots > self.ntasks:  # the executor lost workers: one slot fewer
                    self._n_slots -= 1
                    self._schedule_refill()  # the others may all be idle: look again
                    return
                if not buffer and not retry_queue and ask_at_once:
                    self._ask(1)
                if retry_queue:
                    point = retry_queue.popleft()
                elif buffer:
                    point = buffer.popleft()
                else:
                    self._n_idle += 1
                    self._schedule_refill()
                    try:
                        await self._wakeup
                    finally:
                        self._n_idle -= 1
                    continue
                await self._evaluate(slot_id, point)
        except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
            raise  # Ctrl-C inside an inline evaluation reaches the blocking wait, which stops us
        except BaseException as e:  # a bug in the learner or the goal: fail the run, loudly
            self._stop(e)

    async def _evaluate(self, slot_id: int, point: Any) -> None:
        in_flight = self._in_flight
        handle = None
        try:
            if self._is_coroutine:
                handle = _CoroutineEvaluation(asyncio.current_task())
                in_flight[slot_id] = (handle, point)
                value, duration = await await_with_timeout(
                    timed_await(self._function, point), self.timeout, point
                )
                handle._done = True
            elif self._adapter.runs_inline:
                in_flight[slot_id] = (None, point)
                self.evaluating_inline = True  # Ctrl-C may interrupt the function itself
                try:
                    value, duration = timed_call(self._function, point)
                finally:
                    self.evaluating_inline = False
            else:
                future = self._adapter.submit(self._function, point)
                in_flight[slot_id] = (future, point)
                value, duration = await await_with_timeout(
                    self._adapter.wrap(future),
                    self.timeout,
                    point,
                    _started_check(self.executor, future),
                )
        except asyncio.CancelledError as e:
            in_flight.pop(slot_id, None)
            if self._stopping or not self._cancelled_alone(handle):
                raise
            error = EvaluationCancelledError(f"the evaluation of point {point!r} was cancelled")
            error.__cause__ = e
            self._on_failure(point, error)
            return
        except Exception as e:
            in_flight.pop(slot_id, None)
            explain_failure(e, point)
            self._on_failure(point, e)
            return
        except KeyboardInterrupt:
            in_flight.pop(slot_id, None)
            if self._is_coroutine or self._adapter.runs_inline:
                raise  # Ctrl-C in this process: the blocking wait stops the run
            # A worker process was interrupted: Ctrl-C in a terminal reaches the whole process
            # group, and the run itself stops a moment later. Not the point's fault: it goes
            # back in the queue without counting a failure.
            if not self._stopping:
                self._retry_queue.append(point)
            return
        del in_flight[slot_id]
        self._on_result(point, value, duration)
        if self._adapter.runs_inline and time.monotonic() - self._last_yield > _INLINE_SLICE:
            # evaluations in the loop's own thread: let other tasks (status, saving, cancel) run
            await asyncio.sleep(0)
            self._last_yield = time.monotonic()

    def _cancelled_alone(self, handle: Any) -> bool:
        """Whether a CancelledError hit one evaluation (cancelled by the user), not the run."""
        task = asyncio.current_task()
        if isinstance(handle, _CoroutineEvaluation):
            if handle._cancel_requested and task is not None:
                task.uncancel()
                return True
            return False
        return task is not None and task.cancelling() == 0

    def _tell(self, point: Any, value: Any, duration: float) -> bool:
        """Tell the learner a result; False if it rejected the value (a failure of the point).

        Learners check a value before they change anything, raising ``ValueError`` or
        ``TypeError`` (a vector where a number belongs, a string, an array of the wrong
        length): that is the function's fault at this point, so it counts as a failed
        evaluation, with an error naming the point. An error that says ``ends_run`` (a
        verdict on the whole learner, e.g. ``DivergentIntegralError``), or any other exception
        (a learner bug), fails the run.
        """
        self._function_time += duration
        try:
            self.learner.tell(point, value)
        except (ValueError, TypeError) as e:
            if getattr(e, "ends_run", False):
                raise
            rejected = ValueError(
                f"the value returned for point {point!r} was rejected by "
                f"{type(self.learner).__name__}: {e} (value: {_short_repr(value)})"
            )
            rejected.__cause__ = e
            self._on_failure(point, rejected)
            return False
        except Exception as e:
            e.add_note(f"adaptive_runner: learner.tell failed for point {point!r}, value {value!r}")
            raise
        if self.log is not None:
            self.log.append(("tell", point, value))
        attempt = 1
        if self._failures:
            key = self._point_key(point)
            entry = self._failures.pop(key, None)
            if entry is not None:
                attempt += entry[1]
                self._tracebacks.pop(key, None)
                self._failed.pop(key, None)  # failed in a resumed run, proposed again
        if self._run_log is not None:
            self._run_log.record(point, value, duration, attempt)
        return True

    def _on_result(self, point: Any, value: Any, duration: float) -> None:
        if not self._tell(point, value, duration):
            return
        if self._follow_ncores:
            self._resize(self._adapter.ncores)
        if self._n_idle:  # idle slots may get points now that the learner knows more
            self._schedule_refill()
        if self.goal(self.learner):
            self._stop()

    def _resize(self, ncores: int) -> None:
        """Follow an executor whose number of workers changed: start or retire slots."""
        if ncores == self.ntasks or ncores < 1 or self._stopping:
            return
        now = time.time()
        since = self.start_time if self._ntasks_since is None else self._ntasks_since
        self._capacity += (now - since) * self.ntasks
        self._ntasks_since, self.ntasks = now, ncores
        while self._n_slots < ncores:  # slot ids stay unique: the list only grows
            self._slots.append(self._loop.create_task(self._slot(len(self._slots))))
            self._n_slots += 1
        if self._n_slots > ncores:
            self._wake_idle()  # idle slots retire first

    async def _cleanup(self, slots: list[asyncio.Task]) -> list[BaseException]:
        self._stopping = True
        task = asyncio.current_task()
        if self._stopped.done() and not self._stopped.cancelled() and self._stopped.exception():
            self.outcome, self.error = "failed", self._stopped.exception()
        elif task is not None and task.cancelling():
            self.outcome = "cancelled"
        else:
            self.outcome = "finished"
        # results that have arrived are told, never dropped
        for slot_id, (handle, point) in list(self._in_flight.items()):
            if (
                isinstance(handle, concurrent.futures.Future)
                and handle.done()
                and not handle.cancelled()
                and handle.exception() is None
            ):
                del self._in_flight[slot_id]
                value, duration = handle.result()
                self._tell(point, value, duration)
            elif isinstance(handle, concurrent.futures.Future):
                handle.cancel()
        self.n_cancelled = len(self._in_flight)
        for slot in slots:
            slot.cancel()
        await _wait_uninterrupted(slots)
        self._in_flight.clear()
        self._buffer.clear()
        self._retry_queue.clear()
        for handle in self._delayed_retries.values():
            handle.cancel()
        self._delayed_retries.clear()
        self.learner.remove_unfinished()
        if self.log is not None:
            self.log.append(("remove_unfinished",))
        self.end_time = time.time()
        if self.shutdown_executor:
            self._adapter.shutdown()
        else:  # a pool that replaced one broken by a dead worker belongs to this run alone
            getattr(self._adapter, "close", lambda: None)()
        self._done_event.set()
        return await _wait_uninterrupted(self._helpers)

    # ---- helper tasks (saving, status) -----------------------------------------------------------
    def _start_helper(self, coroutine: Coroutine) -> asyncio.Task:
        """Start a task that the run owns: it must end soon after ``_wait_done`` returns True."""
        task = self._loop.create_task(coroutine)
        self._helpers.append(task)
        return task

    async def _wait_done(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the run to end; True once it has."""
        if self._done_event.is_set():
            return True
        try:
            await asyncio.wait_for(self._done_event.wait(), timeout)
        except TimeoutError:
            return False
        return True


def _started_check(executor: Any, future: Any) -> Callable[[], bool] | None:
    """For ``timeout``: whether a thread pool's worker has picked ``future`` up. Other executors
    mark futures running early or never (process pools: once in the call queue), so their clock
    starts at submission (None)."""
    if isinstance(executor, concurrent.futures.ThreadPoolExecutor) and isinstance(
        future, concurrent.futures.Future
    ):
        return lambda: future.running() or future.done()
    return None


def _short_repr(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


async def _wait_uninterrupted(tasks: list[asyncio.Task]) -> list[BaseException]:
    """Wait for ``tasks`` to end even if the waiting task is cancelled meanwhile.

    Returns the tasks' exceptions (marked retrieved: the caller reports them).
    """
    cancelled = False
    pending = [t for t in tasks if not t.done()]
    while pending:
        try:
            await asyncio.wait(pending)
        except asyncio.CancelledError:
            cancelled = True
        pending = [t for t in pending if not t.done()]
    errors = [t.exception() for t in tasks if not t.cancelled() and t.exception() is not None]
    if cancelled:
        raise asyncio.CancelledError
    return errors
