"""BlockingRunner: run a learner to its goal in the calling thread."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from typing import Any

from adaptive_runner.runner.core import RunnerCore
from adaptive_runner.runner.eventloop import new_event_loop
from adaptive_runner.runner.executors import is_coroutine_function
from adaptive_runner.runner.interrupt import sigint_cancels, stop_after_interrupt
from adaptive_runner.runner.summary import format_summary, run_summary

__all__ = ["BlockingRunner"]


class BlockingRunner(RunnerCore):
    """Evaluate a learner's function in parallel until the goal is met; returns when done.

    Takes the same arguments as :class:`AsyncRunner` except ``ioloop``, including
    ``checkpoint="run.sqlite"`` (a crash-safe run log that a new run resumes from),
    ``checkpoint_interval`` (seconds between its commits, default 0.5), ``timeout`` (seconds
    per evaluation; a slower one fails with a ``TimeoutError`` and is retried per ``retries``) and
    ``retry_delay`` (seconds, or ``attempt -> seconds``, before a failed point is tried again).
    ``worker_threads=n``, an adaptive_runner addition (not in python-adaptive), limits the BLAS
    and OpenMP thread pools of every process that evaluates the function to ``n`` threads
    (through ``threadpoolctl``; None, the default, leaves the workers alone), so that ``ncores``
    workers do not each start ``ncores`` threads; see :class:`AsyncRunner`.
    The constructor runs the whole job and raises the run's error if it fails. ``async def``
    functions need the :class:`AsyncRunner`.

    Ctrl-C stops the run cleanly (arrived results told, the checkpoint committed), prints a
    summary to stderr and raises :class:`~adaptive_runner.runner.interrupt.RunInterrupted`, a
    ``KeyboardInterrupt`` that, uncaught in a script, exits with status 130.

    Examples
    --------
    >>> runner = BlockingRunner(learner, npoints_goal=200)   # doctest: +SKIP
    >>> runner.elapsed_time()                                 # doctest: +SKIP
    """

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
        allow_running_forever: bool = False,
        checkpoint: str | os.PathLike | None = None,
        checkpoint_interval: float = 0.5,
        timeout: float | None = None,
        retry_delay: float | Callable[[int], float] = 0,
        worker_threads: int | None = None,
    ) -> None:
        if is_coroutine_function(getattr(learner, "function", None)):
            raise ValueError(
                "BlockingRunner cannot evaluate an async def function; use AsyncRunner "
                "(`await runner` in async code, runner.block_until_done() in a script)"
            )
        super().__init__(
            learner,
            goal,
            loss_goal=loss_goal,
            npoints_goal=npoints_goal,
            end_time_goal=end_time_goal,
            duration_goal=duration_goal,
            executor=executor,
            ntasks=ntasks,
            log=log,
            shutdown_executor=shutdown_executor,
            retries=retries,
            raise_if_retries_exceeded=raise_if_retries_exceeded,
            allow_running_forever=allow_running_forever,
            checkpoint=checkpoint,
            checkpoint_interval=checkpoint_interval,
            timeout=timeout,
            retry_delay=retry_delay,
            worker_threads=worker_threads,
        )
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._run_on_private_loop()
            return
        # This thread already runs an event loop (e.g. Jupyter): run ours in a helper thread and
        # block this one until it is done, as a blocking runner promises.
        errors: list[BaseException] = []

        def target() -> None:
            try:
                self._run_on_private_loop()
            except BaseException as e:
                errors.append(e)

        thread = threading.Thread(target=target, name="adaptive_runner.BlockingRunner")
        thread.start()
        try:
            thread.join()
        except KeyboardInterrupt:  # e.g. "interrupt the kernel": stop the run in its thread
            task = getattr(self, "_task", None)
            if task is not None:
                self._loop.call_soon_threadsafe(task.cancel)
            thread.join()
            raise KeyboardInterrupt(format_summary(run_summary(self, "interrupted"))) from None
        if errors:
            raise errors[0]

    def _run_on_private_loop(self) -> None:
        loop = new_event_loop()
        try:
            self._prepare(loop)
            task = self._task = loop.create_task(self._run())
            with sigint_cancels(self, loop, task):
                try:
                    loop.run_until_complete(task)
                except KeyboardInterrupt:  # ours, or Python's own handler (not in the main thread)
                    self.interrupted = True
                    raise stop_after_interrupt(self, loop, task) from None
                except asyncio.CancelledError:
                    if not self.interrupted:  # cancelled by runner.cancel(), not by Ctrl-C
                        raise
                    raise stop_after_interrupt(self, loop, task) from None
        finally:
            loop.close()

    def __repr__(self) -> str:
        return f"<BlockingRunner npoints={self.learner.npoints} goal={self.goal!r}>"
