"""Per-point timeouts and the delay before a failed point is tried again.

``timeout`` bounds how long one evaluation may take: past it, the evaluation counts as a failure
with a :class:`TimeoutError` (retried like any other failure). A coroutine is cancelled; an
executor future is cancelled if it has not started, else abandoned: its result, should it arrive,
is dropped. ``retry_delay`` (seconds, or ``attempt -> seconds``) postpones the retry of a failed
point without holding up the other evaluations.
"""

from __future__ import annotations

import asyncio
import math
import numbers
from collections.abc import Awaitable, Callable
from typing import Any

#: seconds between looks at whether a queued evaluation has started (its clock then starts)
_QUEUE_POLL = 0.01


def check_timeout(timeout: Any) -> float | None:
    """``timeout`` as a float, or None; raise ValueError unless positive or None."""
    if timeout is None:
        return None
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, numbers.Real)
        or math.isnan(timeout)
        or timeout <= 0
    ):
        raise ValueError(
            f"timeout must be a positive number of seconds or None, got timeout={timeout!r}"
        )
    return float(timeout)


def check_retry_delay(retry_delay: Any) -> float | Callable[[int], float]:
    """``retry_delay`` as a float or a callable; raise ValueError unless a finite number >= 0
    or a callable ``attempt -> seconds``."""
    if callable(retry_delay):
        return retry_delay
    if (
        isinstance(retry_delay, bool)
        or not isinstance(retry_delay, numbers.Real)
        or not math.isfinite(retry_delay)
        or retry_delay < 0
    ):
        raise ValueError(
            "retry_delay must be a finite number of seconds >= 0 or a callable "
            f"attempt -> seconds, got retry_delay={retry_delay!r}"
        )
    return float(retry_delay)


def retry_delay_seconds(retry_delay: float | Callable[[int], float], attempt: int) -> float:
    """Seconds to wait before trying a point again after its ``attempt``-th failure."""
    if not callable(retry_delay):
        return retry_delay
    seconds = retry_delay(attempt)
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, numbers.Real)
        or not math.isfinite(seconds)
        or seconds < 0
    ):
        raise ValueError(
            f"retry_delay({attempt}) must return a finite number of seconds >= 0, got {seconds!r}"
        )
    return float(seconds)


async def await_with_timeout(
    awaitable: Awaitable,
    timeout: float | None,
    point: Any,
    started: Callable[[], bool] | None = None,
) -> Any:
    """Await ``awaitable``; past ``timeout`` seconds cancel it and raise a TimeoutError that
    names ``point`` and the timeout. A TimeoutError raised by the function itself passes as is.

    With ``started`` (e.g. ``future.running``), the clock starts only once it returns True, so
    time spent waiting in an executor's queue does not count.
    """
    if timeout is None:
        return await awaitable
    loop = asyncio.get_running_loop()
    scope = asyncio.timeout(None if started is not None else timeout)
    watcher: asyncio.TimerHandle | None = None

    def watch() -> None:
        nonlocal watcher
        if started():
            scope.reschedule(loop.time() + timeout)
            watcher = None
        else:  # still queued: look again soon (only queued evaluations are polled)
            watcher = loop.call_later(_QUEUE_POLL, watch)

    try:
        async with scope:
            if started is not None:
                watch()
            return await awaitable
    except TimeoutError:
        if not scope.expired():
            raise
    finally:
        if watcher is not None:
            watcher.cancel()
    error = TimeoutError(f"the evaluation of point {point!r} took longer than {timeout} s")
    error.add_note(
        f"adaptive_runner: point {point!r} exceeded timeout={timeout} s; "
        "its evaluation was cancelled (or abandoned, if it had already started in a worker)"
    )
    raise error
