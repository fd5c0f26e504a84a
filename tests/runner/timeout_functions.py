"""Functions for the timeout and retry-delay tests.

They live in a module (not in the test file) so process pools can import them by name; they keep
their call history in files, which works across processes.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path


class Misbehave:
    """Returns ``x * 10``; for the points in ``bad_points`` it first hangs (sleeps
    ``hang_seconds``) or raises, on the first call only or on every call (``always``).

    Each call appends its start time (``time.monotonic()``, one clock for all processes on a
    machine) to a file per point, so tests can see when every attempt started.
    """

    def __init__(
        self,
        folder: Path,
        bad_points: tuple = (),
        *,
        hang_seconds: float = 0.0,
        always: bool = False,
        work_seconds: float = 0.0,
    ) -> None:
        self.folder = Path(folder)
        self.bad_points = tuple(bad_points)
        self.hang_seconds = hang_seconds
        self.always = always
        self.work_seconds = work_seconds

    def __call__(self, x: int) -> int:
        marker = self.folder / f"calls-{x}"
        with marker.open("a") as f:
            f.write(f"{time.monotonic()!r}\n")
        attempt = len(marker.read_text().splitlines())
        if x in self.bad_points and (self.always or attempt == 1):
            if not self.hang_seconds:
                raise RuntimeError(f"attempt {attempt} at x={x} fails")
            time.sleep(self.hang_seconds)
        time.sleep(self.work_seconds)
        return x * 10

    def start_times(self, x: int) -> list[float]:
        """When each call for point ``x`` started."""
        marker = self.folder / f"calls-{x}"
        if not marker.exists():
            return []
        return [float(line) for line in marker.read_text().splitlines()]


class HangOnceAsync:
    """An ``async def`` function that hangs on its first call for ``hang_point`` and notes
    whether that call was cancelled before the point was tried again."""

    def __init__(self, hang_point: int) -> None:
        self.hang_point = hang_point
        self.calls = 0
        self.cancelled = False
        self.cancelled_before_retry: bool | None = None

    async def __call__(self, x: int) -> int:
        if x != self.hang_point:
            await asyncio.sleep(0.001)
            return x * 10
        self.calls += 1
        if self.calls > 1:
            self.cancelled_before_retry = self.cancelled
            return x * 10
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return x * 10
