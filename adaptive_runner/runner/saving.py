"""Periodic saving of a learner during a run, with a final save when the run ends."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["make_saver", "periodic_saving"]


def make_saver(save_kwargs: dict | None, method: Callable | None) -> Callable[[Any], None]:
    if method is None and not save_kwargs:
        raise ValueError(
            "start_periodic_saving needs save_kwargs (e.g. save_kwargs={'fname': 'l.pickle'}) "
            "or a method(learner, **save_kwargs)"
        )
    if method is not None and not callable(method):
        raise ValueError(f"method must be callable, got method={method!r}")
    kwargs = dict(save_kwargs or {})
    if method is None:
        return lambda learner: learner.save(**kwargs)
    return lambda learner: method(learner, **kwargs)


def check_interval(interval: Any) -> float:
    if isinstance(interval, bool) or not isinstance(interval, int | float) or not interval > 0:
        raise ValueError(
            f"interval must be a positive number of seconds, got interval={interval!r}"
        )
    return float(interval)


async def periodic_saving(runner: Any, save: Callable[[Any], None], interval: float) -> None:
    """Save ``runner.learner`` every ``interval`` seconds and once after the run ends.

    A failing save warns (RuntimeWarning) and the run goes on: losing a checkpoint must not
    lose the run. The final save's error propagates to the saving task.
    """
    while True:
        done = await runner._wait_done(interval)
        if done:
            save(runner.learner)  # the final save: always, after the learner is settled
            return
        try:
            save(runner.learner)
        except Exception as e:
            warnings.warn(
                f"periodic saving failed, will retry: {e!r}", RuntimeWarning, stacklevel=1
            )
