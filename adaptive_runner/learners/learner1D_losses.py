"""Loss functions of the Learner1D, and the helpers for writing your own.

A loss function takes ``(xs, ys)``: the x and y values of an interval's end points, scaled (x by
the width of the bounds, y by the spread of the values), and returns how much the interval is
worth refining. With ``@uses_nth_neighbors(n)`` it receives ``2n + 2`` values: ``n`` neighbours on
each side, the interval in the middle, ``None`` where a neighbour does not exist.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

__all__ = [
    "abs_min_log_loss",
    "curvature_loss_function",
    "default_loss",
    "finite_loss",
    "loss_manager",
    "resolution_loss_function",
    "triangle_loss",
    "uniform_loss",
    "uses_nth_neighbors",
]


def uses_nth_neighbors(n: int) -> Callable[[Callable], Callable]:
    """Declare that a loss function needs ``n`` neighbouring intervals on each side.

    Examples
    --------
    >>> @uses_nth_neighbors(1)
    ... def my_loss(xs, ys):
    ...     return xs[2] - xs[1]   # xs == (left neighbour, start, end, right neighbour)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"uses_nth_neighbors: n must be a non-negative integer, got n={n!r}")

    def decorator(loss: Callable) -> Callable:
        loss.nth_neighbors = n
        return loss

    return decorator


def _dy(y0: Any, y1: Any) -> float:
    """|y1 - y0|, the largest component for vector values."""
    if isinstance(y0, float | int) and isinstance(y1, float | int):
        return abs(y1 - y0)
    return float(np.max(np.abs(np.asarray(y1, dtype=float) - np.asarray(y0, dtype=float))))


@uses_nth_neighbors(0)
def default_loss(xs: Sequence[float], ys: Sequence[Any]) -> float:
    """The interval's length in the scaled x-y plane (vector values: largest component)."""
    return math.hypot(xs[1] - xs[0], _dy(ys[0], ys[1]))


@uses_nth_neighbors(0)
def uniform_loss(xs: Sequence[float], ys: Sequence[Any]) -> float:
    """The interval's width: samples the domain uniformly."""
    return xs[1] - xs[0]


@uses_nth_neighbors(0)
def abs_min_log_loss(xs: Sequence[float], ys: Sequence[Any]) -> float:
    """The default loss on ``log|y|`` (smallest component): resolves where |y| is smallest."""
    logs = [math.log(float(np.min(np.abs(y)))) if np.min(np.abs(y)) > 0 else -745.0 for y in ys]
    return default_loss(xs, logs)


def _triangle_area(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> float:
    u, v = q - p, r - p
    # Gram determinant: works for points in any number of dimensions
    gram = float(u @ u) * float(v @ v) - float(u @ v) ** 2
    return 0.5 * math.sqrt(max(gram, 0.0))


@uses_nth_neighbors(1)
def triangle_loss(xs: Sequence[float | None], ys: Sequence[Any]) -> float:
    """Mean area of the triangles made by consecutive points around the interval.

    Large where the curve bends; the width of the interval when it has no neighbours.
    """
    points = [
        np.concatenate(([x], np.atleast_1d(np.asarray(y, dtype=float))))
        for x, y in zip(xs, ys, strict=True)
        if x is not None
    ]
    if len(points) <= 2:
        return xs[2] - xs[1]
    areas = [_triangle_area(*points[i : i + 3]) for i in range(len(points) - 2)]
    return sum(areas) / len(areas)


def curvature_loss_function(
    area_factor: float = 1, euclid_factor: float = 0.02, horizontal_factor: float = 0.02
) -> Callable:
    """A loss that refines where the curve bends, with a little length and width added.

    ``loss = area_factor * sqrt(triangle_loss) + euclid_factor * default_loss
    + horizontal_factor * width``.
    """

    @uses_nth_neighbors(1)
    def curvature_loss(xs: Sequence[float | None], ys: Sequence[Any]) -> float:
        middle_xs, middle_ys = xs[1:3], ys[1:3]
        return (
            area_factor * math.sqrt(triangle_loss(xs, ys))
            + euclid_factor * default_loss(middle_xs, middle_ys)
            + horizontal_factor * (middle_xs[1] - middle_xs[0])
        )

    return curvature_loss


def resolution_loss_function(min_length: float = 0, max_length: float = 1) -> Callable:
    """The default loss, but 0 for intervals shorter than ``min_length`` and infinite for
    intervals longer than ``max_length`` (both in units of the bounds' width)."""
    if min_length < 0 or max_length < min_length:
        raise ValueError(
            "need 0 <= min_length <= max_length, got "
            f"min_length={min_length!r}, max_length={max_length!r}"
        )

    @uses_nth_neighbors(0)
    def resolution_loss(xs: Sequence[float], ys: Sequence[Any]) -> float:
        width = xs[1] - xs[0]
        if width < min_length:
            return 0.0
        if width > max_length:
            return math.inf
        return default_loss(xs, ys)

    return resolution_loss


def _round_significant(value: float) -> float:
    """``value`` rounded to 40 significant bits (about 12 digits), by Veltkamp splitting."""
    if not -1e290 < value < 1e290:  # would overflow (or is not finite): leave it
        return value
    scaled = value * _SPLITTER
    return scaled - (scaled - value)


_SPLITTER = float(2**13 + 1)  # keeps 53 - 13 = 40 bits


def finite_loss(interval: tuple[float, float], loss: float, x_scale: float) -> float:
    """A finite stand-in for ``loss`` for ordering: infinite or NaN becomes the scaled width.

    Rounded to about 12 significant digits, so that losses equal up to floating-point noise tie
    and the tie is broken by width and position rather than by noise.
    """
    if not math.isfinite(loss):
        loss = (interval[1] - interval[0]) / x_scale
    return _round_significant(loss)


_INFINITE_RANK = 1e300  # infinite losses rank above every finite one, wider intervals first


class LossManager:
    """A mapping interval -> loss that also yields the interval of largest loss quickly.

    Infinite (or NaN) losses come first, wider intervals before narrower ones, then finite
    losses from the largest down (losses beyond 1e290 in size count as infinite); ties go to the
    wider interval, then the leftmost, so the order is deterministic. Setting and deleting are
    O(log N): a binary heap with lazy deletion (replaced entries are dropped when they reach the
    top, and the heap is rebuilt when stale entries outnumber live ones). :meth:`items` sorts on
    demand.
    """

    #: leave out intervals with no float strictly inside (nothing there can be asked)
    only_splittable = False

    def __init__(self, x_scale: float) -> None:
        self.x_scale = x_scale
        # interval -> (rank, a - b, interval, loss); the heap orders these entries
        self._entries: dict[tuple[float, float], tuple] = {}
        self._heap: list[tuple] = []

    def _entry(self, interval: tuple[float, float], loss: float) -> tuple:
        a, b = interval
        if -1e290 < loss < 1e290:
            return (-_round_significant(loss), a - b, interval, loss)
        width = _round_significant((b - a) / self.x_scale)
        return (-_INFINITE_RANK * (1 + width), a - b, interval, loss)

    def __setitem__(self, interval: tuple[float, float], loss: float) -> None:
        a, b = interval
        if self.only_splittable and not a < (a + b) / 2 < b:
            return
        if -1e290 < loss < 1e290:  # the common case, inlined (NaN and inf fail this)
            scaled = loss * _SPLITTER
            entry = ((scaled - loss) - scaled, a - b, interval, loss)
        else:
            entry = self._entry(interval, loss)
        self._entries[interval] = entry
        heap = self._heap
        heapq.heappush(heap, entry)
        if len(heap) > 2 * len(self._entries) + 64:
            self._rebuild()

    def update(self, pairs: Iterable[tuple[tuple[float, float], float]]) -> None:
        """Set many losses at once (O(N), for rebuilding from scratch)."""
        for interval, loss in pairs:
            a, b = interval
            if not self.only_splittable or a < (a + b) / 2 < b:
                self._entries[interval] = self._entry(interval, loss)
        self._rebuild()

    def _rebuild(self) -> None:
        self._heap = list(self._entries.values())
        heapq.heapify(self._heap)

    def __delitem__(self, interval: tuple[float, float]) -> None:
        del self._entries[interval]

    def __getitem__(self, interval: tuple[float, float]) -> float:
        return self._entries[interval][3]

    def get(self, interval: tuple[float, float], default: Any = None) -> Any:
        entry = self._entries.get(interval)
        return default if entry is None else entry[3]

    def __contains__(self, interval: object) -> bool:
        return interval in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[tuple[float, float]]:
        return (interval for interval, _ in self.items())

    def items(self) -> Iterator[tuple[tuple[float, float], float]]:
        """(interval, loss) pairs, largest loss first."""
        return ((entry[2], entry[3]) for entry in sorted(self._entries.values()))

    def peekitem(self, index: int = 0) -> tuple[tuple[float, float], float]:
        """The ``index``-th (interval, loss) in order; O(1) amortized for index 0."""
        if index != 0:
            entry = sorted(self._entries.values())[index]
            return entry[2], entry[3]
        heap, entries = self._heap, self._entries
        while heap:
            top = heap[0]
            if entries.get(top[2]) is top:
                return top[2], top[3]
            heapq.heappop(heap)
        raise IndexError("peekitem from an empty LossManager")

    def clear(self) -> None:
        self._entries.clear()
        self._heap.clear()

    def as_dict(self) -> dict[tuple[float, float], float]:
        return {interval: entry[3] for interval, entry in self._entries.items()}


def loss_manager(x_scale: float) -> LossManager:
    """An interval -> loss mapping ordered from the largest loss down (see :class:`LossManager`)."""
    return LossManager(x_scale)
