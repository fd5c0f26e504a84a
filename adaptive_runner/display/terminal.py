"""A live status line for runs in a terminal, and plain periodic lines for logs."""

from __future__ import annotations

import asyncio
import math
import sys
import weakref
from typing import Any, TextIO

from adaptive_runner.runner.summary import format_seconds

__all__ = [
    "RunProgress",
    "estimate_seconds_left",
    "evaluation_rate",
    "format_rate",
    "format_seconds_left",
    "live_info_terminal",
    "seconds_left_from_loss",
    "seconds_left_from_progress",
    "status_line",
]

_BAR_WIDTH = 24


def _progress_bar(fraction: float) -> str:
    filled = round(fraction * _BAR_WIDTH)
    return "[" + "#" * filled + "." * (_BAR_WIDTH - filled) + f"] {100 * fraction:5.1f}%"


def _status(runner: Any) -> str:
    status = getattr(runner, "status", None)
    if callable(status):
        return status()
    return getattr(runner, "outcome", None) or "running"


#: rates and extrapolations need this many seconds of observation first
MIN_OBSERVED_SECONDS = 1.0
#: progress extrapolation needs progress to have moved by this fraction first
MIN_PROGRESS_CHANGE = 0.01
#: loss-trend estimates need this many distinct point counts in the recent window ...
MIN_LOSS_SAMPLES = 4
#: ... spanning at least this factor of points
MIN_NPOINTS_FACTOR = 1.5
#: the loss must fall at least as fast as npoints ** -MIN_LOSS_EXPONENT to be extrapolated
MIN_LOSS_EXPONENT = 0.05
#: estimates beyond this are not shown (they say nothing useful)
MAX_ESTIMATE_SECONDS = 30 * 86400.0
_MAX_SAMPLES = 1024


class RunProgress:
    """What the status lines of one run remember between calls: samples of
    ``(elapsed seconds, npoints, goal progress or None, loss or None)``, oldest first.

    The first sample is always kept (rates are measured from it); when there are too many, every
    other later sample is dropped, so memory stays bounded however long the run.
    """

    def __init__(self) -> None:
        self.samples: list[tuple[float, int, float | None, float | None]] = []

    def observe(
        self, elapsed: float, npoints: int, fraction: float | None, loss: float | None
    ) -> None:
        """Record the run's state now."""
        self.samples.append((float(elapsed), int(npoints), fraction, loss))
        if len(self.samples) > _MAX_SAMPLES:
            self.samples[1:] = self.samples[2::2]


def evaluation_rate(first: tuple[float, int], last: tuple[float, int]) -> float | None:
    """Points per second between two ``(elapsed, npoints)`` observations; None until they are
    at least :data:`MIN_OBSERVED_SECONDS` apart (or when points were removed)."""
    seconds = last[0] - first[0]
    gained = last[1] - first[1]
    if not seconds >= MIN_OBSERVED_SECONDS or gained < 0:
        return None
    return gained / seconds


def seconds_left_from_progress(
    first: tuple[float, float], last: tuple[float, float]
) -> float | None:
    """Seconds until progress reaches 1, extrapolating linearly from two ``(elapsed,
    fraction)`` observations; None before enough time or progress has passed."""
    seconds = last[0] - first[0]
    gained = last[1] - first[1]
    if last[1] >= 1:
        return 0.0
    if not seconds >= MIN_OBSERVED_SECONDS or not gained >= MIN_PROGRESS_CHANGE:
        return None
    return _sensible((1 - last[1]) * seconds / gained)


def seconds_left_from_loss(
    samples: list[tuple[int, float]], loss_goal: float, rate: float | None
) -> float | None:
    """Seconds until the loss reaches ``loss_goal``, from ``(npoints, loss)`` samples.

    Adaptive sampling losses fall roughly as a power of the number of points, so the recent
    samples (those with at least half the latest number of points) are fitted by a straight
    line on log-log scale; the points still needed follow from the fit, and the time from
    ``rate`` (points per second). None when there are too few samples, the loss is not
    falling, or the estimate is not sensible.
    """
    if not samples or rate is None or not rate > 0:
        return None
    npoints_now, loss_now = samples[-1]
    if loss_now is not None and math.isfinite(loss_now) and loss_now <= loss_goal:
        return 0.0
    if not loss_goal > 0:  # a power law never reaches 0
        return None
    latest_for: dict[int, float] = {}
    for npoints, loss in samples:
        if npoints >= max(npoints_now / 2, 1) and loss is not None and 0 < loss < math.inf:
            latest_for[npoints] = loss
    if len(latest_for) < MIN_LOSS_SAMPLES:
        return None
    if max(latest_for) < MIN_NPOINTS_FACTOR * min(latest_for):
        return None
    xs = [math.log(n) for n in latest_for]
    ys = [math.log(v) for v in latest_for.values()]
    x_mean, y_mean = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - x_mean) ** 2 for x in xs)
    slope = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True)) / spread
    if not -slope >= MIN_LOSS_EXPONENT:
        return None
    fitted_log_loss = y_mean + slope * (math.log(npoints_now) - x_mean)
    # points where the fitted line crosses the goal
    log_needed = math.log(npoints_now) + (math.log(loss_goal) - fitted_log_loss) / slope
    if log_needed > 700:  # beyond any float
        return None
    more_points = math.exp(log_needed) - npoints_now
    if not more_points > 0:
        return None
    return _sensible(more_points / rate)


def _sensible(seconds: float) -> float | None:
    if not (math.isfinite(seconds) and 0 <= seconds <= MAX_ESTIMATE_SECONDS):
        return None
    return seconds


def format_rate(rate: float) -> str:
    """``rate`` points per second, in per-second, per-minute or per-hour units as readable."""
    if rate >= 1 or rate == 0:
        return f"{rate:.3g} points/s"
    if rate * 60 >= 1:
        return f"{rate * 60:.3g} points/min"
    return f"{rate * 3600:.3g} points/h"


def format_seconds_left(seconds: float) -> str:
    """An estimated remaining time, e.g. ``~1:05``, ``~2:03:00`` or ``~3d 4h``."""
    if seconds >= 86400:
        days, rest = divmod(round(seconds), 86400)
        return f"~{days}d {rest // 3600}h"
    return "~" + format_seconds(seconds)


def _loss_target(goal: Any) -> float | None:
    from adaptive_runner.runner.goals import EitherGoal, LossGoal

    if isinstance(goal, LossGoal):
        return goal.loss
    if isinstance(goal, EitherGoal):
        return _loss_target(goal.goal)
    return None


def estimate_seconds_left(goal: Any, progress: RunProgress, rate: float | None) -> float | None:
    """Seconds until ``goal`` is met: exact for time goals, extrapolated from the observed
    progress for goals that know it (a number of points, a sequence), from the loss trend for
    a loss goal; None when it cannot be estimated sensibly."""
    try:
        seconds = goal.seconds_left()
    except Exception:  # a user's goal object: no estimate rather than no status
        seconds = None
    if seconds is not None:
        return _sensible(max(0.0, float(seconds)))
    observed = [(t, p) for t, _, p, _ in progress.samples if p is not None]
    if len(observed) >= 2:
        return seconds_left_from_progress(observed[0], observed[-1])
    loss_goal = _loss_target(goal)
    if loss_goal is None:
        return None
    losses = [(n, loss) for _, n, _, loss in progress.samples]
    return seconds_left_from_loss(losses, loss_goal, rate)


_PROGRESS_OF: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _progress_of(runner: Any) -> RunProgress:
    try:
        progress = _PROGRESS_OF.get(runner)
        if progress is None:
            progress = _PROGRESS_OF[runner] = RunProgress()
    except TypeError:  # not weak-referenceable: no memory between calls
        progress = RunProgress()
    return progress


def status_line(runner: Any, progress: RunProgress | None = None) -> str:
    """One line describing the run: status, progress, points, rate, loss, failures, elapsed and
    estimated remaining time, overhead.

    ``progress`` remembers the earlier calls' observations that the rate and the remaining time
    are measured from (by default one kept per runner, so repeated calls build it up); both are
    left out until there is enough to go on.
    """
    learner = runner.learner
    if progress is None:
        progress = _progress_of(runner)
    parts = [_status(runner)]
    try:
        fraction = runner.goal.progress(learner)
    except Exception:  # a user's goal object must not take the display down
        fraction = None
    if fraction is not None:
        parts.append(_progress_bar(fraction))
    npoints = learner.npoints
    parts.append(f"points: {npoints}")
    elapsed = runner.elapsed_time()
    loss: float | None = None
    try:
        loss = float(learner.loss())
        parts.append(f"loss: {loss:.4g}" if math.isfinite(loss) else f"loss: {loss}")
    except Exception as e:  # a display must never take the run down
        parts.append(f"loss: unavailable ({type(e).__name__})")
    progress.observe(elapsed, npoints, fraction, loss)
    first = progress.samples[0]
    rate = evaluation_rate((first[0], first[1]), (elapsed, npoints))
    if rate is not None:
        parts.insert(-1, f"rate: {format_rate(rate)}")
    failures = len(runner.failed) + len(runner.to_retry)
    if failures:
        parts.append(f"failures: {len(runner.failed)} failed, {len(runner.to_retry)} retrying")
    parts.append(f"elapsed: {format_seconds(elapsed)}")
    if getattr(runner, "outcome", None) is None:  # still running
        seconds_left = estimate_seconds_left(runner.goal, progress, rate)
        if seconds_left is not None:
            parts.append(f"left: {format_seconds_left(seconds_left)}")
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

    progress = RunProgress()

    async def display() -> None:
        while True:
            done = await runner._wait_done(update_interval)
            line = status_line(runner, progress)
            show(line, final=done)
            if done:
                return

    task = runner._start_helper(display())
    return task
