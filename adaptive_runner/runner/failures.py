"""Failed evaluations: counting them per point, retrying (at once or after ``retry_delay``),
setting points aside or failing the run, and carrying the counts over a resumed checkpoint.

A mixin of :class:`~adaptive_runner.runner.core.RunnerCore`, which provides the run's state it
uses: ``learner``, ``log``, ``retries``, ``retry_delay``, ``raise_if_retries_exceeded``,
``_point_key``, ``_run_log``, ``_stopping``, ``_loop``, ``_stop()`` and ``_schedule_refill()``.
"""

from __future__ import annotations

import asyncio
import traceback
from collections import deque
from collections.abc import Hashable
from typing import Any

from adaptive_runner.runner.timeouts import retry_delay_seconds

__all__ = ["FailureBookkeeping"]


class FailureBookkeeping:
    """The failure half of a runner's bookkeeping (see the module docstring)."""

    def _init_failures(self) -> None:
        self._failures: dict[Hashable, list] = {}  # key -> [point, number of failures]
        self._tracebacks: dict[Hashable, tuple[Any, str]] = {}
        self._failed: dict[Hashable, Any] = {}
        self._retry_queue: deque = deque()
        # point key -> the timer that puts the point back in the retry queue after retry_delay
        self._delayed_retries: dict[Hashable, asyncio.TimerHandle] = {}

    @property
    def to_retry(self) -> list[tuple[Any, int]]:
        """``(point, number of failures)`` for failed points that will be tried again."""
        return [
            (p, n)
            for key, (p, n) in self._failures.items()
            if n <= self.retries and key not in self._failed
        ]

    @property
    def tracebacks(self) -> list[tuple[Any, str]]:
        """``(point, traceback text)`` of the latest failure of each point not (yet) evaluated."""
        return list(self._tracebacks.values())

    @property
    def failed(self) -> list[Any]:
        """Points that failed more than ``retries`` times (``raise_if_retries_exceeded=False``)."""
        return list(self._failed.values())

    def _resume_failures(self, failures: dict[Hashable, tuple[Any, int, str]]) -> None:
        """Carry the failure counts of a resumed checkpoint over to this run.

        A point that was waiting for a retry when the earlier run stopped is retried first, with
        the attempts it has left. A point that had used them all stays in :attr:`failed` with
        ``raise_if_retries_exceeded=False`` (as it would have in an uninterrupted run); with
        ``raise_if_retries_exceeded=True`` the earlier run failed on it, so resuming (after a
        fix, say) tries it once more, and fails again if it fails. Either way the point is
        pending in the learner, so the learner does not propose it on its own.
        """
        for key, (point, n_failed, traceback_text) in failures.items():
            exhausted = n_failed > self.retries
            # exhausted and raising: one more attempt
            n_failures = self.retries if exhausted and self.raise_if_retries_exceeded else n_failed
            self._failures[key] = [point, n_failures]
            self._tracebacks[key] = (point, traceback_text)
            self.learner.tell_pending(point)
            if self.log is not None:
                self.log.append(("tell_pending", point))
            if exhausted and not self.raise_if_retries_exceeded:
                self._failed[key] = point
            else:
                self._retry_queue.append(point)

    def _on_failure(self, point: Any, error: BaseException) -> None:
        key = self._point_key(point)
        entry = self._failures.setdefault(key, [point, 0])
        entry[1] += 1
        self._tracebacks[key] = (point, "".join(traceback.format_exception(error)))
        if self._run_log is not None:
            self._run_log.record_failure(point, self._tracebacks[key][1], entry[1])
        if entry[1] <= self.retries:
            delay = retry_delay_seconds(self.retry_delay, entry[1])
            if delay > 0:  # the other slots go on meanwhile
                self._delayed_retries[key] = self._loop.call_later(
                    delay, self._retry_after_delay, key, point
                )
            else:
                self._retry_queue.append(point)
            return
        if self.raise_if_retries_exceeded and not self._stopping:
            error.add_note(
                f"adaptive_runner: the evaluation of point {point!r} failed "
                f"({entry[1]} attempt{'s' if entry[1] > 1 else ''}, retries={self.retries}); "
                "the traceback above is the one from the last attempt"
            )
            self._stop(error)
            return
        # the point stays pending in the learner, so this run does not propose it again (a
        # failure that arrives while the run stops is kept here too: the run's outcome is set)
        self._failed[key] = point

    def _retry_after_delay(self, key: Hashable, point: Any) -> None:
        self._delayed_retries.pop(key, None)
        if self._stopping:
            return
        self._retry_queue.append(point)
        self._schedule_refill()  # wakes an idle slot for it
