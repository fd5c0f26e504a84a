"""Goals: when a run is done.

A goal is any callable ``goal(learner) -> bool``. The goals built here are small classes that
also know how far along they are (``progress``, for progress bars) and, for time goals, when
they will be met (``deadline``), so the runner can stop on time even while every evaluation is
still in flight.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

__all__ = ["auto_goal", "stop_after"]


class Goal:
    """Base class of the built-in goals."""

    def __call__(self, learner: Any) -> bool:
        raise NotImplementedError

    def progress(self, learner: Any) -> float | None:
        """Fraction done in [0, 1], or None when the goal has no known end."""
        return None

    def seconds_left(self) -> float | None:
        """Seconds until a time goal is met, or None for goals that do not depend on time."""
        return None

    def start(self) -> None:
        """Called when a run starts (a duration counts from here)."""


class CallableGoal(Goal):
    """A user's ``goal(learner) -> bool``."""

    def __init__(self, function: Callable[[Any], bool]) -> None:
        self.function = function

    def __call__(self, learner: Any) -> bool:
        return bool(self.function(learner))

    def progress(self, learner: Any) -> float | None:
        progress = getattr(self.function, "progress", None)
        return progress(learner) if callable(progress) else None

    def seconds_left(self) -> float | None:
        seconds_left = getattr(self.function, "seconds_left", None)
        return seconds_left() if callable(seconds_left) else None

    def start(self) -> None:
        start = getattr(self.function, "start", None)
        if callable(start):
            start()

    def __repr__(self) -> str:
        return f"goal {self.function!r}"


class LossGoal(Goal):
    def __init__(self, loss: float) -> None:
        self.loss = loss

    def __call__(self, learner: Any) -> bool:
        return learner.loss() <= self.loss

    def __repr__(self) -> str:
        return f"loss <= {self.loss:g}"


class NPointsGoal(Goal):
    def __init__(self, npoints: int) -> None:
        self.npoints = npoints

    def __call__(self, learner: Any) -> bool:
        return learner.npoints >= self.npoints

    def progress(self, learner: Any) -> float | None:
        return 1.0 if self.npoints == 0 else min(1.0, learner.npoints / self.npoints)

    def __repr__(self) -> str:
        return f"{self.npoints} points"


class EndTimeGoal(Goal):
    def __init__(self, end_time: datetime) -> None:
        self.end_time = end_time
        self._start = datetime.now(end_time.tzinfo)

    def start(self) -> None:
        self._start = datetime.now(self.end_time.tzinfo)

    def seconds_left(self) -> float:
        return (self.end_time - datetime.now(self.end_time.tzinfo)).total_seconds()

    def __call__(self, learner: Any) -> bool:
        return self.seconds_left() <= 0

    def progress(self, learner: Any) -> float | None:
        total = (self.end_time - self._start).total_seconds()
        return 1.0 if total <= 0 else min(1.0, max(0.0, 1 - self.seconds_left() / total))

    def __repr__(self) -> str:
        return f"until {self.end_time.isoformat(timespec='seconds')}"


class DurationGoal(Goal):
    """Met ``seconds`` after the run started (or after the first check, when used standalone)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._started_at: float | None = None

    def start(self) -> None:
        self._started_at = time.monotonic()

    def seconds_left(self) -> float:
        if self._started_at is None:
            self.start()
        return self.seconds - (time.monotonic() - self._started_at)

    def __call__(self, learner: Any) -> bool:
        return self.seconds_left() <= 0

    def progress(self, learner: Any) -> float | None:
        if self.seconds <= 0:
            return 1.0
        return min(1.0, max(0.0, 1 - self.seconds_left() / self.seconds))

    def __repr__(self) -> str:
        return f"{self.seconds:g} s"


class DoneGoal(Goal):
    """For learners that finish by themselves (``learner.done()``)."""

    def __call__(self, learner: Any) -> bool:
        return bool(learner.done())

    def progress(self, learner: Any) -> float | None:
        sequence = getattr(learner, "sequence", None)
        if sequence is None:
            return None
        return 1.0 if not sequence else learner.npoints / len(sequence)

    def __repr__(self) -> str:
        return "learner done"


class EveryChildGoal(Goal):
    """Met when ``goal`` is met for every child of a BalancingLearner."""

    def __init__(self, goal: Goal) -> None:
        self.goal = goal

    def __call__(self, learner: Any) -> bool:
        return all(self.goal(child) for child in learner.learners)

    def progress(self, learner: Any) -> float | None:
        fractions = [self.goal.progress(child) for child in learner.learners]
        if not fractions or None in fractions:
            return None
        return min(fractions)

    def seconds_left(self) -> float | None:
        return self.goal.seconds_left()

    def start(self) -> None:
        self.goal.start()

    def __repr__(self) -> str:
        return f"{self.goal!r} for every learner"


class EitherGoal(Goal):
    """Met when the ``goal`` is met or the learner is done by itself."""

    def __init__(self, goal: Goal, done: DoneGoal) -> None:
        self.goal, self.done = goal, done

    def __call__(self, learner: Any) -> bool:
        return self.goal(learner) or self.done(learner)

    def progress(self, learner: Any) -> float | None:
        fractions = [p for p in (self.goal.progress(learner), self.done.progress(learner)) if p]
        return max(fractions) if fractions else None

    def seconds_left(self) -> float | None:
        return self.goal.seconds_left()

    def start(self) -> None:
        self.goal.start()

    def __repr__(self) -> str:
        return f"{self.goal!r} (or learner done)"


class NeverGoal(Goal):
    def __call__(self, learner: Any) -> bool:
        return False

    def __repr__(self) -> str:
        return "no goal: runs until cancelled"


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_loss(loss: Any, name: str) -> float:
    if not _is_real(loss) or math.isnan(loss) or loss < 0:
        raise ValueError(f"{name} must be a non-negative number, got {name}={loss!r}")
    return float(loss)


def _check_npoints(npoints: Any, name: str) -> int:
    if not isinstance(npoints, numbers.Integral) or isinstance(npoints, bool) or npoints < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {name}={npoints!r}")
    return int(npoints)


def _check_end_time(end_time: Any, name: str) -> datetime:
    if not isinstance(end_time, datetime):
        raise ValueError(f"{name} must be a datetime.datetime, got {name}={end_time!r}")
    return end_time


def _check_duration(duration: Any, name: str) -> float:
    if isinstance(duration, timedelta):
        seconds = duration.total_seconds()
    elif _is_real(duration) and not math.isnan(duration):
        seconds = float(duration)
    else:
        raise ValueError(
            f"{name} must be a datetime.timedelta or a number of seconds, got {name}={duration!r}"
        )
    if seconds < 0:
        raise ValueError(f"{name} must not be negative, got {name}={duration!r}")
    return seconds


def _finishes_by_itself(learner: Any) -> bool:
    return callable(getattr(learner, "done", None))


def _is_balancing(learner: Any) -> bool:
    return isinstance(getattr(learner, "learners", None), list)


def auto_goal(
    *,
    loss: float | None = None,
    npoints: int | None = None,
    end_time: datetime | None = None,
    duration: timedelta | float | None = None,
    learner: Any = None,
    allow_running_forever: bool = True,
) -> Callable[[Any], bool]:
    """Build a goal from at most one of ``loss``, ``npoints``, ``end_time`` and ``duration``.

    A learner that finishes by itself (a SequenceLearner, an IntegratorLearner: anything with
    ``done()``) also ends the run when done. For a BalancingLearner, ``npoints`` and the time goals
    apply to each child; ``loss`` applies to the whole.

    Parameters
    ----------
    loss
        Stop when ``learner.loss() <= loss``.
    npoints
        Stop when ``learner.npoints >= npoints``.
    end_time
        Stop at this ``datetime``.
    duration
        Stop this long after the run starts (``timedelta`` or seconds).
    learner
        The learner the goal is for (lets the goal use its ``done()``).
    allow_running_forever
        Without any goal: if True, a goal that is never met (the run ends when cancelled or
        when the learner is done); if False, raise ``ValueError``.

    Raises
    ------
    ValueError
        For more than one goal, or a bad value.
    """
    given = {
        name: value
        for name, value in (
            ("loss", loss),
            ("npoints", npoints),
            ("end_time", end_time),
            ("duration", duration),
        )
        if value is not None
    }
    if len(given) > 1:
        raise ValueError(f"give at most one goal, got {', '.join(f'{k}=' for k in given)}")
    goal: Goal
    if loss is not None:
        goal = LossGoal(_check_loss(loss, "loss"))
    elif npoints is not None:
        goal = NPointsGoal(_check_npoints(npoints, "npoints"))
    elif end_time is not None:
        goal = EndTimeGoal(_check_end_time(end_time, "end_time"))
    elif duration is not None:
        goal = DurationGoal(_check_duration(duration, "duration"))
    elif learner is not None and _finishes_by_itself(learner):
        return DoneGoal()
    elif learner is not None and _is_balancing(learner) and learner.learners:
        if all(_finishes_by_itself(child) for child in learner.learners):
            return EveryChildGoal(DoneGoal())
        goal = NeverGoal()
    elif allow_running_forever:
        goal = NeverGoal()
    else:
        raise ValueError(
            "no goal given and allow_running_forever=False: give one of loss, npoints, "
            "end_time or duration"
        )
    if learner is not None and _is_balancing(learner) and isinstance(goal, NPointsGoal):
        if learner.learners and all(_finishes_by_itself(c) for c in learner.learners):
            goal = EitherGoal(goal, DoneGoal())  # per child: enough points, or the child is done
        goal = EveryChildGoal(goal)
    if learner is not None and _finishes_by_itself(learner) and not isinstance(goal, NeverGoal):
        goal = EitherGoal(goal, DoneGoal())
    return goal


def stop_after(*, seconds: float = 0, minutes: float = 0, hours: float = 0) -> Callable:
    """A goal met after the given time, counted from the start of the run that uses it.

    Examples
    --------
    >>> goal = stop_after(minutes=5)
    """
    total = seconds + 60 * minutes + 3600 * hours
    return DurationGoal(_check_duration(total, "stop_after duration"))


def resolve_goal(
    goal: Any,
    *,
    loss_goal: Any,
    npoints_goal: Any,
    end_time_goal: Any,
    duration_goal: Any,
    learner: Any,
    allow_running_forever: bool,
) -> Goal:
    """The runners' goal from their goal arguments; raises ValueError for bad combinations."""
    given = [
        name
        for name, value in (
            ("goal", goal),
            ("loss_goal", loss_goal),
            ("npoints_goal", npoints_goal),
            ("end_time_goal", end_time_goal),
            ("duration_goal", duration_goal),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise ValueError(f"give exactly one goal, got {len(given)}: {', '.join(given)}")
    if goal is not None:
        if isinstance(goal, Goal):
            return goal
        if not callable(goal):
            raise ValueError(
                f"goal must be a callable goal(learner) -> bool, got goal={goal!r}; "
                "for a loss or a number of points use loss_goal= or npoints_goal="
            )
        return CallableGoal(goal)
    checked = {
        "loss": None if loss_goal is None else _check_loss(loss_goal, "loss_goal"),
        "npoints": None if npoints_goal is None else _check_npoints(npoints_goal, "npoints_goal"),
        "end_time": None
        if end_time_goal is None
        else _check_end_time(end_time_goal, "end_time_goal"),
        "duration": None
        if duration_goal is None
        else _check_duration(duration_goal, "duration_goal"),
    }
    try:
        return auto_goal(**checked, learner=learner, allow_running_forever=allow_running_forever)
    except ValueError as e:
        raise ValueError(
            f"{e} (runner: pass goal=, loss_goal=, npoints_goal=, end_time_goal= or duration_goal=)"
        ) from None
