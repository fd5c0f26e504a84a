"""A sorted set of floats with cheap neighbour queries, for the one-dimensional learners.

The values live in consecutive sorted chunks of at most ``2 * CHUNK`` floats with a list of each
chunk's largest value beside them, so ``add``, ``remove`` and the neighbour queries cost two C
bisections plus a short list insert or delete: O(log N) with small constants, and no positional
index to maintain (positional indexing is what makes general sorted containers slow here).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator

__all__ = ["SortedFloats"]

CHUNK = 256


class SortedFloats:
    """Distinct floats in increasing order.

    Examples
    --------
    >>> values = SortedFloats([0.0, 1.0, 0.5])
    >>> values.prev(0.5), values.next(0.5), list(values)
    (0.0, 1.0, [0.0, 0.5, 1.0])
    """

    def __init__(self, values: Iterable[float] = ()) -> None:
        ordered = sorted(set(values))
        self._chunks = [ordered[i : i + CHUNK] for i in range(0, len(ordered), CHUNK)]
        self._maxes = [chunk[-1] for chunk in self._chunks]
        self._len = len(ordered)

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[float]:
        for chunk in self._chunks:
            yield from chunk

    def __contains__(self, x: float) -> bool:
        i = bisect_left(self._maxes, x)
        if i == len(self._maxes):
            return False
        chunk = self._chunks[i]
        j = bisect_left(chunk, x)
        return chunk[j] == x

    def add(self, x: float) -> None:
        """Insert ``x`` (which must not be present)."""
        maxes = self._maxes
        if not maxes:
            self._chunks.append([x])
            maxes.append(x)
            self._len = 1
            return
        i = bisect_left(maxes, x)
        if i == len(maxes):
            i -= 1
            self._chunks[i].append(x)
            maxes[i] = x
        else:
            insort(self._chunks[i], x)
        self._len += 1
        chunk = self._chunks[i]
        if len(chunk) > 2 * CHUNK:
            self._chunks[i : i + 1] = [chunk[:CHUNK], chunk[CHUNK:]]
            maxes[i : i + 1] = [chunk[CHUNK - 1], chunk[-1]]

    def insert(self, x: float) -> tuple[float | None, float | None]:
        """Insert ``x`` (which must not be present) and return its neighbours: one search
        instead of the three that ``add``, ``prev`` and ``next`` would take."""
        maxes, chunks = self._maxes, self._chunks
        if not maxes:
            chunks.append([x])
            maxes.append(x)
            self._len = 1
            return None, None
        i = bisect_left(maxes, x)
        if i == len(maxes):  # beyond the largest value: append to the last chunk
            i -= 1
            chunk = chunks[i]
            left, right = chunk[-1], None
            chunk.append(x)
            maxes[i] = x
        else:
            chunk = chunks[i]
            j = bisect_left(chunk, x)
            right = chunk[j]
            left = chunk[j - 1] if j > 0 else (chunks[i - 1][-1] if i > 0 else None)
            chunk.insert(j, x)
        self._len += 1
        if len(chunk) > 2 * CHUNK:
            chunks[i : i + 1] = [chunk[:CHUNK], chunk[CHUNK:]]
            maxes[i : i + 1] = [chunk[CHUNK - 1], chunk[-1]]
        return left, right

    def remove(self, x: float) -> None:
        """Delete ``x``; KeyError when it is not present."""
        i = bisect_left(self._maxes, x)
        chunk = self._chunks[i] if i < len(self._chunks) else None
        j = bisect_left(chunk, x) if chunk else 0
        if chunk is None or j == len(chunk) or chunk[j] != x:
            raise KeyError(x)
        del chunk[j]
        self._len -= 1
        if not chunk:
            del self._chunks[i]
            del self._maxes[i]
        else:
            self._maxes[i] = chunk[-1]

    def prev(self, x: float) -> float | None:
        """The largest value < ``x``, None if there is none."""
        i = bisect_left(self._maxes, x)
        if i < len(self._chunks):
            chunk = self._chunks[i]
            j = bisect_left(chunk, x)
            if j > 0:
                return chunk[j - 1]
        return self._chunks[i - 1][-1] if i > 0 else None

    def next(self, x: float) -> float | None:
        """The smallest value > ``x``, None if there is none."""
        i = bisect_right(self._maxes, x)
        if i == len(self._chunks):
            return None
        chunk = self._chunks[i]
        return chunk[bisect_right(chunk, x)]

    def step(self, x: float, k: int) -> float:
        """The value ``k`` places after ``x`` (before it when k < 0), clamped to the ends."""
        y = x
        for _ in range(abs(k)):
            z = self.next(y) if k > 0 else self.prev(y)
            if z is None:
                break
            y = z
        return y

    def irange(self, low: float, high: float) -> Iterator[float]:
        """The values in ``[low, high]``, in order."""
        i = bisect_left(self._maxes, low)
        chunks = self._chunks
        if i == len(chunks):
            return
        j = bisect_left(chunks[i], low)
        while i < len(chunks):
            chunk = chunks[i]
            for k in range(j, len(chunk)):
                value = chunk[k]
                if value > high:
                    return
                yield value
            i += 1
            j = 0
