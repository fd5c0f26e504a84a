"""Functions and a learner the runner tests evaluate.

They live in a module (not in the test files) so process pools can import them by name.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from sortedcontainers import SortedSet

from adaptive_runner.learners.base import BaseLearner, check_ask_n


def square(x: Any) -> Any:
    return x * x


def slow_square(x: float) -> float:
    time.sleep(0.002)
    return x * x


def sleep_then_return(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError(f"three is not allowed (x={x})")
    return x


def raise_zero_division(x: int) -> float:
    return 1 / 0


def pid_of_worker(x: int) -> int:
    return os.getpid()


class FailFirstTimes:
    """Fails the first ``times`` calls for each point, counting calls in files (works across
    processes), then returns ``x * 10``."""

    def __init__(self, folder: Path, times: int) -> None:
        self.folder = Path(folder)
        self.times = times

    def __call__(self, x: int) -> int:
        marker = self.folder / f"calls-{x}"
        with marker.open("a") as f:
            f.write(".")
        calls = len(marker.read_text())
        if calls <= self.times:
            raise RuntimeError(f"flaky failure {calls} at x={x}")
        return x * 10


async def async_square(x: float) -> float:
    await asyncio.sleep(0.001)
    return x * x


async def async_sleep_forever(x: Any) -> Any:
    await asyncio.sleep(3600)
    return x


class ConcurrencyProbe:
    """An async function that records how many of its calls run at once."""

    def __init__(self) -> None:
        self.running = 0
        self.max_running = 0

    async def __call__(self, x: Any) -> Any:
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            await asyncio.sleep(0.005)
        finally:
            self.running -= 1
        return x


class CountingLearner(BaseLearner):
    """Proposes 0, 1, 2, ... forever; the loss is 1 / (npoints + 1).

    A minimal real learner with no natural end, for testing goals and the runner loop.
    """

    def __init__(self, function: Any) -> None:
        self.function = function
        self.data: dict[int, Any] = {}
        self.pending_points: set[int] = set()
        self._next = 0
        self._returned: SortedSet = SortedSet()  # removed pending points, proposed again first

    def ask(self, n: int, tell_pending: bool = True) -> tuple[list, list[float]]:
        n = check_ask_n(n)
        points = list(self._returned[:n])
        start = self._next
        points += range(start, start + n - len(points))
        if tell_pending:
            for p in points:
                self.tell_pending(p)
        return points, [1.0] * len(points)

    def tell(self, x: int, y: Any) -> None:
        self.data[x] = y
        self.pending_points.discard(x)
        self._returned.discard(x)
        self._next = max(self._next, x + 1)

    def tell_pending(self, x: int) -> None:
        self.pending_points.add(x)
        self._returned.discard(x)
        self._next = max(self._next, x + 1)

    def remove_unfinished(self) -> None:
        self._returned.update(self.pending_points)
        self.pending_points.clear()

    def loss(self, real: bool = True) -> float:
        n = len(self.data) if real else len(self.data) + len(self.pending_points)
        return 1 / (n + 1)

    def _get_data(self) -> dict:
        return dict(self.data)

    def _set_data(self, data: dict) -> None:
        for x, y in data.items():
            self.tell(x, y)

    def _settings(self) -> dict:
        return {"function": self.function}


class DieFirstTime:
    """Returns ``10 * x``, but at the first attempt at each ``x`` in ``die_at`` its worker
    process exits at once (``os._exit(1)``); a marker file in ``directory`` remembers it."""

    def __init__(self, directory: Path, die_at: Any, sleep: float = 0.0) -> None:
        self.directory = str(directory)
        self.die_at = set(die_at)
        self.sleep = sleep

    def __call__(self, x: Any) -> Any:
        marker = Path(self.directory) / f"died-{x}"
        if x in self.die_at and not marker.exists():
            marker.write_text(str(os.getpid()))
            os._exit(1)
        time.sleep(self.sleep)
        return 10 * x


class WaitToBeKilled:
    """At the first attempt at each ``x`` in ``die_at``, writes its process id to ``pid-{x}``
    in ``directory`` and sleeps (until the test kills it); otherwise returns ``10 * x``."""

    def __init__(self, directory: Path, die_at: Any) -> None:
        self.directory = str(directory)
        self.die_at = set(die_at)

    def __call__(self, x: Any) -> Any:
        marker = Path(self.directory) / f"pid-{x}"
        if x in self.die_at and not marker.exists():
            partial = marker.with_suffix(".tmp")
            partial.write_text(str(os.getpid()))
            partial.rename(marker)  # the test sees the whole id or nothing
            time.sleep(60)
        return 10 * x


def exit_at_zero(x: Any) -> Any:
    """Kills its worker process (``os._exit(1)``) at every attempt at 0; else ``10 * x``."""
    if x == 0:
        os._exit(1)
    time.sleep(0.02)
    return 10 * x


def vector_at_half(x: float) -> Any:
    """A scalar function that returns a vector at one point: the learner must reject it."""
    import numpy as np

    if x == 0.5:
        return np.array([1.0, 2.0])
    return x * x


def lock_at_three(x: int) -> Any:
    """Returns an unpicklable value (a lock) at 3: a process pool cannot send it back."""
    import threading

    if x == 3:
        return threading.Lock()
    return x
