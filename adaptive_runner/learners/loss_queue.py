"""The loss entries of the Learner2D's triangles, by triangle, with the smallest at hand.

An entry is a tuple of floats ending in its triangle, ``(-loss, sx, sy, loss, t)`` (or, for a
triangle whose loss is infinite, ``(-inf, -area, sx, sy, inf, t)``); the smallest entry, in
Python's tuple order, is the triangle to split next. This is a dict of the entries and a heap
with lazy deletion (a changed entry is pushed again and the old one skipped when it comes up).
:func:`new_loss_queue` gives the C version of the optional ``_speedups`` module when it is
built: an indexed heap of plain doubles with the same methods and the same order.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator

from adaptive_runner.learners import speedups

__all__ = ["LossQueue", "new_loss_queue"]


class LossQueue:
    """Entries by triangle; ``top()`` is the smallest."""

    def __init__(self) -> None:
        self._entries: dict[tuple, tuple] = {}
        self._heap: list[tuple] = []

    def set(self, triangle: tuple, entry: tuple) -> None:
        """Make ``entry`` the entry of ``triangle``."""
        self._entries[triangle] = entry
        heapq.heappush(self._heap, entry)
        if len(self._heap) > 2 * len(self._entries) + 64:
            # in place: the old list is in the collector's oldest generation, a new one would
            # be traversed by every young collection until it ages
            self._heap[:] = self._entries.values()
            heapq.heapify(self._heap)

    def discard(self, triangle: tuple) -> None:
        """Forget the entry of ``triangle`` (if any)."""
        self._entries.pop(triangle, None)

    def top(self) -> tuple | None:
        """The smallest entry, or None when there is none."""
        heap, entries = self._heap, self._entries
        while heap:
            entry = heap[0]
            if entries.get(entry[-1]) is entry:
                return entry
            heapq.heappop(heap)
        return None

    def reset(self, entries: dict[tuple, tuple]) -> None:
        """Replace every entry by those of ``entries`` ({triangle: entry})."""
        self._entries = dict(entries)
        self._heap = list(self._entries.values())
        heapq.heapify(self._heap)

    def items(self) -> Iterator[tuple[tuple, tuple]]:
        """The (triangle, entry) pairs, in no particular order."""
        return iter(list(self._entries.items()))

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, triangle: object) -> bool:
        return triangle in self._entries


def new_loss_queue() -> LossQueue:
    """A LossQueue: the C one when the speedups are built and switched on."""
    compiled = speedups.compiled
    return compiled.LossQueue() if compiled is not None else LossQueue()
