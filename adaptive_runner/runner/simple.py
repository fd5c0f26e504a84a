"""simple() and replay_log(): running a learner without executor or event loop."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

from adaptive_runner.runner.executors import is_coroutine_function
from adaptive_runner.runner.goals import resolve_goal

__all__ = ["replay_log", "simple"]


def simple(
    learner: Any,
    goal: Callable[[Any], bool] | None = None,
    *,
    loss_goal: float | None = None,
    npoints_goal: int | None = None,
    end_time_goal: Any = None,
    duration_goal: Any = None,
    points_per_ask: int = 1,
) -> None:
    """Run ``learner`` in the calling thread until the goal is met: no executor, no event loop.

    Exceptions raised by the function propagate at once, with their original traceback, which
    makes this the runner for debugging.

    Parameters
    ----------
    points_per_ask
        How many points to ask for at a time (useful to test ``ask(n)`` behaviour).
    """
    if is_coroutine_function(getattr(learner, "function", None)):
        raise ValueError("simple() cannot evaluate an async def function; use AsyncRunner instead")
    if (
        isinstance(points_per_ask, bool)
        or not isinstance(points_per_ask, numbers.Integral)
        or points_per_ask < 1
    ):
        raise ValueError(
            f"points_per_ask must be a positive integer, got points_per_ask={points_per_ask!r}"
        )
    resolved = resolve_goal(
        goal,
        loss_goal=loss_goal,
        npoints_goal=npoints_goal,
        end_time_goal=end_time_goal,
        duration_goal=duration_goal,
        learner=learner,
        allow_running_forever=False,
    )
    resolved.start()
    while not resolved(learner):
        points, _ = learner.ask(points_per_ask)
        if not points:
            break  # the learner has nothing more to propose
        for point in points:
            learner.tell(point, learner.function(point))


def replay_log(learner: Any, log: list[tuple]) -> None:
    """Re-apply a runner's ``log`` (``("ask", n)``, ``("tell", x, y)``, ...) to ``learner``.

    A learner is deterministic, so a fresh learner given the log of a run ends in the same state.
    """
    for entry in log:
        method, *args = entry
        if method not in {"ask", "tell", "tell_many", "tell_pending", "remove_unfinished"}:
            raise ValueError(f"unknown log entry {entry!r}")
        getattr(learner, method)(*args)
