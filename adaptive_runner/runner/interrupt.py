"""Ctrl-C during a blocking run: stop cleanly, keep everything, say so, exit with status 130.

When SIGINT reaches a script blocked in :class:`BlockingRunner` or
:meth:`AsyncRunner.block_until_done`, the run is cancelled like ``runner.cancel()``: results
that have arrived are told, evaluations in flight are cancelled, the checkpoint's last batch is
committed and periodic saving makes its final save.

The first Ctrl-C does not raise ``KeyboardInterrupt`` wherever the main thread happens to be
(in the middle of ``learner.tell`` or of a checkpoint commit, which would leave them half done):
while the run blocks, a SIGINT handler of ours asks the event loop to cancel the run, which then
stops at a clean point. Only when the function itself runs in this thread
(``SequentialExecutor``) is it interrupted directly, so a long evaluation does not hold the stop
up. A worker process that gets the Ctrl-C too (a terminal signals the whole process group) sends
back a ``KeyboardInterrupt``, which puts its point back without counting a failure. The handler
is installed only in the main thread and only over Python's default one; SIGTERM is left alone
(the command line turns it into a SIGINT). Then a summary goes to stderr and
:class:`RunInterrupted` is raised. It is both a ``KeyboardInterrupt`` (``except
KeyboardInterrupt`` still catches it) and a ``SystemExit(130)``: uncaught, the interpreter exits
with status 130 (128 + SIGINT, what shells and batch systems expect) without a traceback, the
summary having said what happened.

In an interactive session (IPython, Jupyter, ``python -i``) a plain ``KeyboardInterrupt`` is
raised instead, so the session stays open. A second Ctrl-C while the run winds down stops
waiting and raises at once (the checkpoint's WAL keeps every batch committed before it).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

from adaptive_runner.runner.summary import format_summary, run_summary

__all__ = ["RunInterrupted", "stop_after_interrupt"]

#: the exit status of a process stopped by Ctrl-C (128 + SIGINT)
EXIT_INTERRUPTED = 130


class RunInterrupted(SystemExit, KeyboardInterrupt):
    """A run stopped by Ctrl-C in a script, after it wound down; exits the process with 130.

    Attributes
    ----------
    summary : dict
        The run's :func:`~adaptive_runner.runner.summary.run_summary` when it stopped.
    """

    def __init__(self, summary: dict[str, Any]) -> None:
        super().__init__(EXIT_INTERRUPTED)
        self.summary = summary

    def __str__(self) -> str:
        return format_summary(self.summary)


def interactive() -> bool:
    """Whether Python runs an interactive session (a REPL, IPython or a Jupyter kernel)."""
    if hasattr(sys, "ps1") or sys.flags.interactive:
        return True
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    return get_ipython is not None and get_ipython() is not None


@contextlib.contextmanager
def sigint_cancels(runner: Any, loop: asyncio.AbstractEventLoop, task: asyncio.Future) -> Iterator:
    """While in this block, the first Ctrl-C cancels ``task`` (the run) from the event loop
    instead of raising where it lands; a second one raises ``KeyboardInterrupt`` at once."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return

    def on_sigint(signum: int, frame: Any) -> None:
        first = not runner.interrupted
        runner.interrupted = True
        if not first or runner.evaluating_inline:
            raise KeyboardInterrupt  # forced, or the function runs in this very thread
        loop.call_soon_threadsafe(task.cancel)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _wind_down(loop: asyncio.AbstractEventLoop, task: asyncio.Future) -> None:
    task.cancel()
    try:
        loop.run_until_complete(asyncio.wait([task]))
    except KeyboardInterrupt:
        print(
            "adaptive_runner: interrupted again while stopping; not waiting for the run to end",
            file=sys.stderr,
            flush=True,
        )
        raise
    if not task.cancelled():
        task.exception()  # reported in the summary; keeps asyncio from logging it


def stop_after_interrupt(
    runner: Any, loop: asyncio.AbstractEventLoop, task: asyncio.Future
) -> KeyboardInterrupt:
    """Wind the run of ``task`` on ``loop`` down after Ctrl-C, print the summary, and return
    the exception for the caller to raise (see the module docstring)."""
    _wind_down(loop, task)
    summary = run_summary(runner, status="interrupted" if runner.outcome == "cancelled" else None)
    print(format_summary(summary), file=sys.stderr, flush=True)
    if interactive():
        return KeyboardInterrupt(format_summary(summary))
    return RunInterrupted(summary)
