"""A live status line for runs in a terminal, and plain periodic lines for logs."""

from __future__ import annotations

import asyncio
import math
import sys
from typing import Any, TextIO

__all__ = ["live_info_terminal", "status_line"]

_BAR_WIDTH = 24


def _format_seconds(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _progress_bar(fraction: float) -> str:
    filled = round(fraction * _BAR_WIDTH)
    return "[" + "#" * filled + "." * (_BAR_WIDTH - filled) + f"] {100 * fraction:5.1f}%"


def _status(runner: Any) -> str:
    status = getattr(runner, "status", None)
    if callable(status):
        return status()
    return getattr(runner, "outcome", None) or "running"


def status_line(runner: Any) -> str:
    """One line describing the run: status, progress, points, loss, failures, time, overhead."""
    learner = runner.learner
    parts = [_status(runner)]
    fraction = runner.goal.progress(learner)
    if fraction is not None:
        parts.append(_progress_bar(fraction))
    parts.append(f"points: {learner.npoints}")
    try:
        loss = learner.loss()
        parts.append(f"loss: {loss:.4g}" if math.isfinite(loss) else f"loss: {loss}")
    except Exception as e:  # a display must never take the run down
        parts.append(f"loss: unavailable ({type(e).__name__})")
    failures = len(runner.failed) + len(runner.to_retry)
    if failures:
        parts.append(f"failures: {len(runner.failed)} failed, {len(runner.to_retry)} retrying")
    parts.append(f"elapsed: {_format_seconds(runner.elapsed_time())}")
    parts.append(f"overhead: {runner.overhead():.1f}%")
    error = getattr(runner, "error", None)
    if error is not None:
        parts.append(f"error: {type(error).__name__}: {error}")
    return " | ".join(parts)


def live_info_terminal(
    runner: Any,
    *,
    update_interval: float = 0.5,
    overwrite_previous: bool = True,
    file: TextIO | None = None,
) -> asyncio.Task:
    """Print the run's status every ``update_interval`` seconds until it ends.

    On a terminal with ``overwrite_previous`` the line is redrawn in place; otherwise (a log file,
    a pipe, a cluster job's output) plain lines are printed, with no escape codes. The last line
    is printed after the run ends, with the error if it failed.

    Returns
    -------
    The display task, owned by the run: it ends when the run ends.
    """
    if isinstance(update_interval, bool) or not (
        isinstance(update_interval, int | float) and update_interval > 0
    ):
        raise ValueError(
            f"update_interval must be a positive number of seconds, got {update_interval!r}"
        )
    out = sys.stdout if file is None else file
    isatty = getattr(out, "isatty", lambda: False)
    in_place = overwrite_previous and isatty()

    def show(line: str, final: bool) -> None:
        if in_place:
            out.write("\r\x1b[2K" + line + ("\n" if final else ""))
        else:
            out.write(line + "\n")
        out.flush()

    async def display() -> None:
        while True:
            done = await runner._wait_done(update_interval)
            line = status_line(runner)
            show(line, final=done)
            if done:
                return

    task = runner._start_helper(display())
    return task
