"""Building blocks of the AverageLearner1D: exact per-x sample sums, the Student t quantile,
a lazy-deletion priority queue, O(1) neighbour links, and argument checks."""

from __future__ import annotations

import heapq
import math
import numbers
import sys
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

__all__ = ["LazyQueue", "Neighbours", "SampleSums", "check_count", "check_fraction", "t_quantile"]


@lru_cache(maxsize=4096)
def t_quantile(alpha: float, dof: int) -> float:
    from scipy.special import stdtrit

    return float(stdtrit(dof, 1.0 - alpha))


class SampleSums:
    """Exact running sums of the samples at one x: ``total`` and ``squares`` are integers in units
    of ``2**-shift`` and ``2**-(2 * shift)``, so any order of adding gives the same mean and
    variance. Non-finite samples are counted apart; ``spread`` caches the learner's t * std."""

    __slots__ = ("count", "finite", "nan", "neg_inf", "pos_inf", "shift", "spread", "squares")
    __slots__ += ("total",)

    def __init__(self) -> None:
        self.count = self.shift = self.total = self.squares = 0
        self.nan = self.pos_inf = self.neg_inf = 0
        self.finite = True
        self.spread: float | None = None

    def add(self, y: float) -> None:
        self.count += 1
        self.spread = None
        if y - y == 0:  # finite
            numerator, denominator = y.as_integer_ratio()
            k = denominator.bit_length() - 1
            if k > self.shift:
                self.total <<= k - self.shift
                self.squares <<= 2 * (k - self.shift)
                self.shift = k
            d = self.shift - k
            self.total += numerator << d
            self.squares += (numerator * numerator) << (2 * d)
            return
        self.finite = False
        if math.isnan(y):
            self.nan += 1
        elif y > 0:
            self.pos_inf += 1
        else:
            self.neg_inf += 1

    def mean(self) -> float:
        if not self.finite:
            if self.nan or (self.pos_inf and self.neg_inf):
                return math.nan
            return math.inf if self.pos_inf else -math.inf
        return self.total / (self.count << self.shift)  # int / int: correctly rounded

    def variance(self) -> float:
        """The sample variance (ddof=1) of at least two finite samples."""
        n = self.count
        try:
            return (n * self.squares - self.total * self.total) / ((n * (n - 1)) << 2 * self.shift)
        except OverflowError:
            return math.inf


class LazyQueue:
    """x -> key, with the x of smallest (key, x) at hand: a heap with lazy deletion."""

    __slots__ = ("_entries", "_heap")

    def __init__(self) -> None:
        self._entries: dict[float, tuple[float, float]] = {}
        self._heap: list[tuple[float, float]] = []

    def set(self, x: float, key: float) -> None:
        entry = (key, x)
        if self._entries.get(x) != entry:
            self._entries[x] = entry
            heapq.heappush(self._heap, entry)
            if len(self._heap) > 2 * len(self._entries) + 64:
                self._heap = list(self._entries.values())
                heapq.heapify(self._heap)

    def discard(self, x: float) -> None:
        self._entries.pop(x, None)

    def peek(self) -> float | None:
        heap, entries = self._heap, self._entries
        while heap:
            top = heap[0]
            if entries.get(top[1]) is top:
                return top[1]
            heapq.heappop(heap)
        return None

    def clear(self) -> None:
        self._entries.clear()
        self._heap.clear()


class Neighbours:
    """x -> (previous x, next x) in a sorted set of floats (None at the ends), kept beside a
    SortedFloats so that the hot paths look neighbours up in O(1)."""

    __slots__ = ("links",)

    def __init__(self, ordered: Iterable[float] = ()) -> None:
        values = list(ordered)
        ends = [None, *values, None]
        self.links = {x: (ends[i], ends[i + 2]) for i, x in enumerate(values)}

    def insert(self, x: float, left: float | None, right: float | None) -> None:
        links = self.links
        links[x] = (left, right)
        if left is not None:
            links[left] = (links[left][0], x)
        if right is not None:
            links[right] = (x, links[right][1])

    def remove(self, x: float) -> tuple[float | None, float | None]:
        links = self.links
        left, right = links.pop(x)
        if left is not None:
            links[left] = (links[left][0], right)
        if right is not None:
            links[right] = (left, links[right][1])
        return left, right


def check_fraction(name: str, value: Any, high: float, high_open: bool = False) -> float:
    """``value`` as a float with ``0 < value <= high`` (``< high`` when ``high_open``)."""
    valid = f"0 < {name} {'<' if high_open else '<='} {high}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number with {valid}, got {name}={value!r}")
    if not (value > 0 and (value < high if high_open else value <= high)):
        raise ValueError(f"{name} must satisfy {valid}, got {name}={value!r}")
    return float(value)


def check_count(name: str, value: Any) -> int:
    if value == math.inf:
        return sys.maxsize
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {name}={value!r}")
    return int(value)
