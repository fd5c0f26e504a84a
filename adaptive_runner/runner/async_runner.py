"""AsyncRunner: runs a learner on an asyncio task, so a notebook or async program stays usable."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

from adaptive_runner.runner.core import RunnerCore
from adaptive_runner.runner.eventloop import current_or_new_loop
from adaptive_runner.runner.interrupt import sigint_cancels, stop_after_interrupt
from adaptive_runner.runner.saving import check_interval, make_saver, periodic_saving

__all__ = ["AsyncRunner", "Runner"]


class AsyncRunner(RunnerCore):
    """Evaluate a learner's function in parallel until a goal is met, on an asyncio task.

    Inside a running event loop (Jupyter, ``asyncio.run``) the run starts at once in the
    background; ``await runner`` (or ``await runner.task``) waits for it. In a plain script, call
    :meth:`block_until_done`.

    Parameters
    ----------
    learner
        The learner to run.
    goal
        ``goal(learner) -> bool``; or give exactly one of the ``*_goal`` keywords instead. With no
        goal the run goes on until cancelled, or until a learner that finishes by itself is done.
    loss_goal, npoints_goal, end_time_goal, duration_goal
        Stop when ``learner.loss() <= loss_goal``, when ``learner.npoints >= npoints_goal``, at the
        ``datetime`` ``end_time_goal``, or ``duration_goal`` (``timedelta`` or seconds) after the
        start of the run.
    executor
        Where to evaluate: a ``concurrent.futures`` executor, ``loky.get_reusable_executor()``
        (the default), ``SequentialExecutor()``, ... ``async def`` functions take no executor.
    ntasks
        How many evaluations run at once; defaults to the executor's number of workers.
    log
        Record every ``ask`` and ``tell`` in ``runner.log`` (see :func:`replay_log`).
    shutdown_executor
        Shut the executor down when the run ends.
    retries
        How many times a point whose evaluation raised is tried again.
    raise_if_retries_exceeded
        After the retries: fail the run with the error (True) or put the point in
        ``runner.failed`` and go on (False).
    ioloop
        The event loop to run on (default: the running one, else a new one).
    allow_running_forever
        Allow a run without a goal (it then ends only when cancelled).
    checkpoint
        A file name (str or ``os.PathLike``, in an existing writable directory) for a
        crash-safe run log, or None (the default). Every finished evaluation (point, value,
        duration, failure and traceback, attempt number) is appended to this SQLite database
        (WAL mode) as it arrives. If the file exists, its successful evaluations are first told
        to the learner, in the order they were recorded, so a killed run resumes where it
        stopped; a checkpoint of a different kind of learner (type, bounds, sequence length)
        raises :class:`~adaptive_runner.runner.checkpoint.CheckpointMismatchError` (a
        ``ValueError``). Points and values are pickled one by one; the learner and its function
        never are. See :mod:`adaptive_runner.runner.checkpoint`.
    checkpoint_interval
        Seconds between commits of the run log (default 0.5; 0 commits every evaluation at
        once): a crash loses at most this much. The last batch is committed however the run
        ends (goal, cancel, failure).
    timeout
        Seconds one evaluation may take (None, the default: no limit). A slower evaluation
        counts as a failure with a ``TimeoutError`` naming the point and is retried per
        ``retries``; an ``async def`` evaluation is cancelled, an executor future is cancelled
        if it has not started, else abandoned (a late result is dropped, the run does not wait
        for it). The clock starts when the point is submitted, and an abandoned evaluation keeps
        its worker busy until it ends: if evaluations may hang, give the executor more workers
        than ``ntasks``. Not available with ``SequentialExecutor``.
    retry_delay
        Seconds to wait before a failed point is tried again (default 0), or a callable
        ``attempt -> seconds`` (``attempt`` = failures of that point so far, from 1) for a
        backoff. Other points keep being evaluated meanwhile.
    worker_threads
        An adaptive_runner addition (not in python-adaptive): limit the BLAS and OpenMP thread
        pools (OpenBLAS, MKL, BLIS, OpenMP, through ``threadpoolctl``) of every process that
        evaluates the function to this many threads, so that ``ncores`` workers do not each
        start ``ncores`` threads; ``worker_threads=1`` is the usual choice with one worker per
        core. None (the default) leaves the workers alone. In worker processes (loky, process
        pools, dask, ipyparallel) the setting and the ``OMP_NUM_THREADS``-style variables stay
        until a later runner on the same executor asks for something else (``None`` puts the
        previous state back); with a thread pool or ``SequentialExecutor`` the limit holds in
        this process while evaluations run. Not for ``async def`` functions. See
        :mod:`adaptive_runner.runner.threads`.

    Examples
    --------
    >>> runner = AsyncRunner(learner, npoints_goal=100)   # doctest: +SKIP
    >>> await runner                                       # doctest: +SKIP
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
        ioloop: asyncio.AbstractEventLoop | None = None,
        retries: int = 0,
        raise_if_retries_exceeded: bool = True,
        allow_running_forever: bool = True,
        checkpoint: str | os.PathLike | None = None,
        checkpoint_interval: float = 0.5,
        timeout: float | None = None,
        retry_delay: float | Callable[[int], float] = 0,
        worker_threads: int | None = None,
    ) -> None:
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
        if ioloop is None:
            ioloop, _ = current_or_new_loop()
        self.ioloop = ioloop
        self._prepare(ioloop)
        self.task: asyncio.Task = ioloop.create_task(self._run())
        # the run reports its own errors (status(), block_until_done, await); retrieving the
        # exception here keeps asyncio from printing "Task exception was never retrieved"
        self.task.add_done_callback(self._on_task_done)

    def _on_task_done(self, task: asyncio.Task) -> None:
        if not task.cancelled():
            task.exception()
        if self.outcome is None:  # cancelled before it started: nothing ran, settle the state
            self.outcome = "cancelled"
            self.end_time = self.end_time or self.start_time
            self._done_event.set()  # helper tasks (saving, status) finish now
            if self._run_log is not None:
                self._run_log.close()

    def __await__(self):
        return self.task.__await__()

    def status(self) -> str:
        """``"running"``, ``"cancelled"``, ``"failed"`` or ``"finished"``."""
        if not self.task.done():
            # while the run winds down (final save, last status line) its outcome is known
            return self.outcome or "running"
        if self.task.cancelled():
            return "cancelled"
        if self.task.exception() is not None:
            return "failed"
        return "finished"

    def cancel(self) -> None:
        """Stop the run: evaluations in flight are cancelled, arrived results are kept."""
        self.task.cancel()

    def block_until_done(self) -> None:
        """Run (or wait for) the run to its end; raises the run's error if it failed.

        Raises
        ------
        RuntimeError
            When called from inside the event loop the runner runs on (e.g. a Jupyter cell):
            blocking there would freeze the run. Use ``await runner`` instead.
        RunInterrupted
            On Ctrl-C, after the run stopped cleanly (arrived results told, checkpoint
            committed, final save made) and a summary was printed to stderr. It is a
            ``KeyboardInterrupt``; uncaught in a script, the process exits with status 130.
            See :mod:`adaptive_runner.runner.interrupt`.
        """
        if self.ioloop.is_running():
            raise RuntimeError(
                "block_until_done() cannot be used while the runner's event loop is running "
                "(e.g. inside Jupyter or an async function): use `await runner.task` "
                "(or `await runner`) instead"
            )
        with sigint_cancels(self, self.ioloop, self.task):
            try:
                self.ioloop.run_until_complete(self.task)
            except KeyboardInterrupt:  # ours, or Python's own handler (not in the main thread)
                self.interrupted = True
                raise stop_after_interrupt(self, self.ioloop, self.task) from None
            except asyncio.CancelledError:
                if not self.interrupted:  # cancelled by runner.cancel(), not by Ctrl-C
                    raise
                raise stop_after_interrupt(self, self.ioloop, self.task) from None

    def start_periodic_saving(
        self,
        save_kwargs: dict[str, Any] | None = None,
        interval: float = 30,
        method: Callable[..., Any] | None = None,
    ) -> asyncio.Task:
        """Save the learner every ``interval`` seconds, and once more when the run ends.

        Parameters
        ----------
        save_kwargs
            Keyword arguments for ``learner.save``, e.g. ``{"fname": "data.pickle"}``.
        interval
            Seconds between saves.
        method
            ``method(learner, **save_kwargs)`` saves instead of ``learner.save``.

        Returns
        -------
        The saving task; it ends after the final save.
        """
        save = make_saver(save_kwargs, method)
        fname = (save_kwargs or {}).get("fname")
        if fname is not None:  # named in the run's summary
            self.saved_to = str(fname)
        return self._start_helper(periodic_saving(self, save, check_interval(interval)))

    def live_info_terminal(
        self, *, update_interval: float = 0.5, overwrite_previous: bool = True
    ) -> asyncio.Task:
        """Show the run's status in the terminal; returns the display task."""
        # a thin forwarder: the display reads the runner, the runner does not depend on it
        from adaptive_runner.display.terminal import live_info_terminal

        return live_info_terminal(
            self, update_interval=update_interval, overwrite_previous=overwrite_previous
        )

    def live_plot(
        self,
        *,
        plotter: Callable[[Any], Any] | None = None,
        update_interval: float = 2.0,
        name: Any = None,
        normalize: bool = True,
    ) -> Any:
        """A holoviews DynamicMap of the learner that refreshes while the run goes on.

        See :func:`adaptive_runner.live_plot` for the parameters.
        """
        from adaptive_runner.display.notebook import live_plot

        return live_plot(
            self,
            plotter=plotter,
            update_interval=update_interval,
            name=name,
            normalize=normalize,
        )

    def live_info(self, *, update_interval: float = 0.1) -> Any:
        """An ipywidgets panel with the run's status and a cancel button.

        See :func:`adaptive_runner.live_info`.
        """
        from adaptive_runner.display.notebook import live_info

        return live_info(self, update_interval=update_interval)

    def __repr__(self) -> str:
        return (
            f"<AsyncRunner {self.status()} npoints={self.learner.npoints} "
            f"goal={self.goal!r} ntasks={self.ntasks}>"
        )


Runner = AsyncRunner
