"""SequenceLearner: evaluate a function on every element of a sequence."""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np
from sortedcontainers import SortedDict, SortedSet

from adaptive_runner.learners import plotting
from adaptive_runner.learners.base import (
    BaseLearner,
    check_ask_n,
    describe_dataframe,
    function_from_dataframe,
    require_holoviews,
    require_pandas,
)

__all__ = ["SequenceLearner"]


class _IgnoreIndex:
    """Call ``function(element)`` for a point ``(index, element)``.

    A class rather than a closure so it pickles with the standard library when ``function`` does
    (process pools need that). ``__wrapped__`` lets the runner see that ``function`` is a
    coroutine function.
    """

    def __init__(self, function: Callable) -> None:
        self.function = function
        self.__wrapped__ = function

    def __call__(self, point: tuple[int, Any]) -> Any:
        return self.function(point[1])

    def __repr__(self) -> str:
        return f"<elements of the sequence passed to {self.function!r}>"


class SequenceLearner(BaseLearner):
    """Evaluate ``function`` on every element of ``sequence``.

    Points are ``(index, element)`` tuples, so elements need not be hashable (dicts, lists and
    arrays are fine). ``data`` maps each index to its value; :meth:`result` gives the values in
    sequence order once :meth:`done`. The loss is the fraction of the sequence still to do.

    Parameters
    ----------
    function
        Called with one element of the sequence (an ``async def`` function works with the
        ``AsyncRunner``).
    sequence
        Any finite sequence or iterable; it is copied.

    Examples
    --------
    >>> learner = SequenceLearner(lambda d: d["a"] * 2, [{"a": 1}, {"a": 2}])
    >>> points, _ = learner.ask(2)
    >>> for point in points:
    ...     learner.tell(point, learner.function(point))
    >>> learner.result()
    [2, 4]
    """

    def __init__(self, function: Callable, sequence: Sequence | Any) -> None:
        if not callable(function):
            raise TypeError(f"function must be callable, got function={function!r}")
        try:
            self.sequence = list(sequence)
        except TypeError as e:
            raise TypeError(
                f"sequence must be a sequence or iterable, got sequence={sequence!r}"
            ) from e
        self._function = function
        self.function = _IgnoreIndex(function)
        self.data: SortedDict = SortedDict()
        self.pending_points: set[int] = set()
        # indices neither done nor pending: what ask hands out, lowest index first
        self._to_do: SortedSet = SortedSet(range(len(self.sequence)))

    # ---- protocol --------------------------------------------------------------------------------
    def _index(self, point: Any) -> int:
        try:
            index = point[0]
        except (TypeError, IndexError, KeyError):
            raise ValueError(
                f"SequenceLearner points are (index, element) tuples, got {point!r}"
            ) from None
        if not isinstance(index, int | np.integer) or not 0 <= index < len(self.sequence):
            raise ValueError(
                f"index {index!r} of point {point!r} is not in range(0, {len(self.sequence)})"
            )
        return int(index)

    def point_key(self, point: Any) -> Hashable:
        return self._index(point)

    def ask(self, n: int, tell_pending: bool = True) -> tuple[list, list[float]]:
        n = check_ask_n(n)
        indices = list(itertools.islice(self._to_do, n))
        if tell_pending:
            for index in indices:
                self._to_do.discard(index)
                self.pending_points.add(index)
        improvement = 1 / len(self.sequence) if self.sequence else 0.0
        return [(i, self.sequence[i]) for i in indices], [improvement] * len(indices)

    def tell(self, x: Any, y: Any) -> None:
        index = self._index(x)
        self.data[index] = y
        self.pending_points.discard(index)
        self._to_do.discard(index)

    def tell_pending(self, x: Any) -> None:
        index = self._index(x)
        if index in self.data:
            return
        self.pending_points.add(index)
        self._to_do.discard(index)

    def remove_unfinished(self) -> None:
        self._to_do.update(self.pending_points)
        self.pending_points.clear()

    def loss(self, real: bool = True) -> float:
        if self.done():
            return 0.0
        finished = self.npoints if real else self.npoints + len(self.pending_points)
        return (len(self.sequence) - finished) / len(self.sequence)

    def done(self) -> bool:
        """Whether every element has been evaluated (nothing left to do, nothing pending)."""
        return not self._to_do and not self.pending_points

    def result(self) -> list:
        """The values in sequence order.

        Raises
        ------
        ValueError
            If some elements are not evaluated yet (``learner.data`` has the partial results,
            keyed by index); returning a shorter list would misalign values and elements.
        """
        if len(self.data) != len(self.sequence):
            missing = len(self.sequence) - len(self.data)
            raise ValueError(
                f"{missing} of {len(self.sequence)} elements are not evaluated yet; "
                "learner.data holds the finished ones keyed by index"
            )
        return list(self.data.values())

    # ---- data -----------------------------------------------------------------------------------
    def _get_data(self) -> dict[int, Any]:
        return dict(self.data)

    def _set_data(self, data: dict[int, Any]) -> None:
        for index, value in data.items():
            self.tell((index, self.sequence[index]), value)

    def _settings(self) -> dict[str, Any]:
        return {"function": self._function, "sequence": self.sequence}

    def to_numpy(self) -> np.ndarray:
        """Rows of ``(index, *value)`` for the evaluated elements."""
        return np.array([(i, *np.atleast_1d(y)) for i, y in self.data.items()])

    def to_dataframe(
        self,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        index_name: str = "i",
        x_name: str = "x",
        y_name: str = "y",
        *,
        full_sequence: bool = False,
    ):
        """The data as a DataFrame with columns ``index_name``, ``x_name`` and ``y_name``.

        Parameters
        ----------
        with_default_function_args
            Add a ``function_prefix + name`` column for each defaulted function argument.
        full_sequence
            One row per element of the sequence, with ``y`` missing (NaN) where not evaluated.
        """
        pd = require_pandas()
        indices = range(len(self.sequence)) if full_sequence else list(self.data)
        df = pd.DataFrame(
            {
                index_name: list(indices),
                x_name: [self.sequence[i] for i in indices],
                y_name: [self.data.get(i, math.nan) for i in indices],
            }
        )
        describe_dataframe(
            df, [index_name], y_name, self._function, with_default_function_args, function_prefix
        )
        return df

    def load_dataframe(
        self,
        df: Any,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        index_name: str = "i",
        x_name: str = "x",
        y_name: str = "y",
        *,
        full_sequence: bool = False,
    ) -> None:
        """Tell the learner the rows of ``df`` (made by :meth:`to_dataframe`).

        Every row is a result, even when its value is None or NaN (a function may return those).
        With ``full_sequence=True`` (a frame written with ``to_dataframe(full_sequence=True)``)
        rows with a missing value are the elements not evaluated, and are skipped. A row whose
        element differs from the learner's sequence at that index raises ``ValueError``: the
        data belongs to another sequence.
        """
        pd = require_pandas()
        for column in (index_name, x_name, y_name):
            if column not in df.columns:
                raise ValueError(f"the dataframe has no column {column!r}: {list(df.columns)}")
        points, values = [], []
        for raw_index, element, value in zip(df[index_name], df[x_name], df[y_name], strict=True):
            if full_sequence and _is_missing(value, pd):
                continue
            index = int(raw_index)
            point = (index, self.sequence[index]) if 0 <= index < len(self.sequence) else None
            if point is None or not _equal_elements(point[1], element):
                raise ValueError(
                    f"row {index_name}={index}, {x_name}={element!r} does not match this "
                    "learner's sequence"
                )
            points.append(point)
            values.append(value)
        if with_default_function_args:
            self._function = function_from_dataframe(self._function, df, True, function_prefix)
            self.function = _IgnoreIndex(self._function)
        self.tell_many(points, values)

    def plot(self):
        """A holoviews ``Scatter`` of the results against their index in the sequence, when the
        results are real numbers (an empty scatter before any result). Other results have no
        plot: ``NotImplementedError`` then (look at them with :meth:`to_dataframe`). Needs
        holoviews."""
        hv = require_holoviews("SequenceLearner.plot")
        indices = list(self.data)
        results = [self.data[i] for i in indices]
        for i, y in zip(indices, results, strict=True):
            if not isinstance(y, numbers.Real):
                raise NotImplementedError(
                    "SequenceLearner.plot: no plot for this learner, it draws results that are "
                    f"real numbers and the result at index {i} is a {type(y).__name__}; use "
                    "learner.to_dataframe() to look at the results (or to plot them)"
                )
        index = hv.Dimension(
            "i", label="index", range=plotting.padded_range(0, max(len(self.sequence) - 1, 1))
        )
        table = np.array([indices, results], dtype=float).T.reshape(-1, 2)
        return hv.Scatter(table, kdims=[index], vdims=["y"])


def _is_missing(value: Any, pd: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays and other containers are values, not missing
        return False


def _equal_elements(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(a, b))
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False
