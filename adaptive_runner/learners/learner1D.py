"""Learner1D: adaptive sampling of f: R -> R or R^N on an interval.

State. ``_real`` holds the evaluated x in order, ``_all`` the evaluated and pending ones. Each
interval between neighbouring evaluated points has a *real* loss (``losses``); each interval
between neighbouring points of ``_all`` has a *combined* loss (``losses_combined``): the real loss
of the evaluated interval that contains it, times the fraction of its width. Asking splits the
combined interval of largest loss in the middle, so k points asked into one evaluated interval cut
it into k + 1 pieces. A tell recomputes only the intervals whose neighbourhood contains the new
point: O(log N) per point.

Scaling. Losses see x divided by the width of the bounds and y divided by the spread of the finite
values (1 while it is 0). The spread used is rounded up to a power of 2**(1/16), so it is within
4.4% of the exact spread (multiplying f by a constant changes no loss by more than that), all
losses are recomputed only when the spread grows past such a step (O(log range) times in a run,
almost all of them while the learner is still small), and the state depends only on the data
told, never on the order it was told in.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from sortedcontainers import SortedList

from adaptive_runner.learners.base import (
    BaseLearner,
    add_function_columns,
    bind_function_args,
    check_ask_n,
    function_args_from_dataframe,
    require_pandas,
)
from adaptive_runner.learners.learner1D_losses import LossManager, default_loss

__all__ = ["Learner1D"]

_SCALE_STEPS_PER_OCTAVE = 16


def _quantized_scale(spread: float) -> float:
    if not spread > 0 or not math.isfinite(spread):
        return 1.0
    step = math.ceil(math.log2(spread) * _SCALE_STEPS_PER_OCTAVE - 1e-9)
    return 2.0 ** (step / _SCALE_STEPS_PER_OCTAVE)


def _is_finite(y: Any) -> bool:
    if isinstance(y, float | int):
        return math.isfinite(y)
    return bool(np.all(np.isfinite(y)))


class Learner1D(BaseLearner):
    """Learn a function of one variable, f: R -> R or R^N, on ``bounds``.

    Parameters
    ----------
    function
        ``function(x)`` returns a number or a vector (all of the same length).
    bounds
        ``(low, high)``, finite, with ``low < high``. Both are always evaluated first.
    loss_per_interval
        ``loss(xs, ys)`` on scaled values (see :mod:`adaptive_runner.learners.learner1D_losses`);
        :func:`default_loss` when None.

    Examples
    --------
    >>> learner = Learner1D(lambda x: x**2, bounds=(-1, 1))
    >>> points, _ = learner.ask(3)
    >>> points
    [-1.0, 0.0, 1.0]
    """

    def __init__(
        self,
        function: Callable,
        bounds: tuple[float, float],
        loss_per_interval: Callable | None = None,
    ) -> None:
        if not callable(function):
            raise TypeError(f"function must be callable, got function={function!r}")
        try:
            low, high = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise ValueError(
                f"bounds must be two numbers (low, high), got bounds={bounds!r}"
            ) from None
        if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
            raise ValueError(f"bounds must be finite with low < high, got bounds={bounds!r}")
        if loss_per_interval is not None and not callable(loss_per_interval):
            raise TypeError(
                f"loss_per_interval must be callable, got loss_per_interval={loss_per_interval!r}"
            )
        self.function = function
        self.bounds = (low, high)
        self.loss_per_interval = loss_per_interval or default_loss
        self.nth_neighbors: int = getattr(self.loss_per_interval, "nth_neighbors", 0)
        self._x_scale = high - low
        self.data: dict[float, Any] = {}
        self.pending_points: set[float] = set()
        self._real = SortedList()
        self._all = SortedList()
        self.losses = LossManager(self._x_scale)
        self.losses_combined = LossManager(self._x_scale)
        self._y_min: Any = None  # finite minimum per component
        self._y_max: Any = None
        self._y_scale = 1.0
        self._vdim: int | None = None

    # ---- public attributes -------------------------------------------------------------------
    @property
    def vdim(self) -> int:
        """Length of the function's output (1 for scalars)."""
        return self._vdim or 1

    @property
    def x_scale(self) -> float:
        return self._x_scale

    @property
    def y_scale(self) -> float:
        """The spread of the values used to scale losses (see the module docstring)."""
        return self._y_scale

    # ---- asking ----------------------------------------------------------------------------------
    def ask(self, n: int, tell_pending: bool = True) -> tuple[list[float], list[float]]:
        n = check_ask_n(n)
        if n == 0:
            return [], []
        if not self.data and not self.pending_points and n > 2:
            points = [float(x) for x in np.linspace(*self.bounds, n)]
            improvements = [math.inf] * n
        else:
            points, improvements = [], []
            for _ in range(n):
                point, improvement = self._next_point()
                if point is None:
                    break
                self.tell_pending(point)
                points.append(point)
                improvements.append(improvement)
            if not tell_pending:
                for point in points:
                    self._forget_pending(point)
            return points, improvements
        if tell_pending:
            for point in points:
                self.tell_pending(point)
        return points, improvements

    def _next_point(self) -> tuple[float | None, float]:
        for bound in self.bounds:
            if bound not in self.data and bound not in self.pending_points:
                return bound, math.inf
        if not self.losses_combined:
            return None, 0.0
        (a, b), loss = self.losses_combined.peekitem(0)
        x = (a + b) / 2
        if not a < x < b:  # the interval is at floating-point resolution: nothing left to split
            return None, 0.0
        return x, loss / 2

    # ---- telling ---------------------------------------------------------------------------------
    def _check_x(self, x: Any) -> float:
        if isinstance(x, bool) or not isinstance(x, numbers.Real):
            raise ValueError(f"Learner1D points are numbers, got x={x!r}")
        x = float(x)
        if not self.bounds[0] <= x <= self.bounds[1]:
            raise ValueError(f"x={x!r} is outside the bounds {self.bounds}")
        return x

    def tell_pending(self, x: float) -> None:
        x = self._check_x(x)
        if x in self.data or x in self.pending_points:
            return
        self.pending_points.add(x)
        self._insert_combined(x)

    def tell(self, x: float, y: Any) -> None:
        x = self._check_x(x)
        if x in self.data:
            return
        y = self._check_y(y)
        if x in self.pending_points:
            self.pending_points.discard(x)
        else:
            self._insert_combined(x)
        self.data[x] = y
        self._real.add(x)
        if self._update_y_range(y):
            self._recompute_all()
        else:
            self._update_around(x)

    def tell_many(self, xs: Iterable, ys: Iterable) -> None:
        xs, ys = list(xs), list(ys)
        if len(xs) != len(ys):
            raise ValueError(f"tell_many: got {len(xs)} points but {len(ys)} values")
        if len(xs) < 0.25 * len(self.data) + 8:  # few points: local updates are cheaper
            for x, y in zip(xs, ys, strict=True):
                self.tell(x, y)
            return
        for raw_x, raw_y in zip(xs, ys, strict=True):
            x = self._check_x(raw_x)
            if x not in self.data:
                self.data[x] = y = self._check_y(raw_y)
                self.pending_points.discard(x)
                self._update_y_range(y)
        self._real = SortedList(self.data)
        self._all = SortedList(self.data.keys() | self.pending_points)
        self._recompute_all()

    def _check_y(self, y: Any) -> Any:
        if isinstance(y, numbers.Real) and not isinstance(y, bool):
            if self._vdim not in (None, 1):
                raise ValueError(f"expected a vector of length {self._vdim}, got y={y!r}")
            self._vdim = 1
            return float(y)
        array = np.asarray(y, dtype=float)
        if array.ndim != 1 or (self._vdim is not None and array.shape != (self._vdim,)):
            raise ValueError(
                f"function values must be numbers or vectors of one length, got y={y!r}"
                + (f" (expected length {self._vdim})" if self._vdim else "")
            )
        self._vdim = len(array)
        return array

    def _update_y_range(self, y: Any) -> bool:
        """Widen the value range with ``y``; True when the loss scale changes."""
        values = np.atleast_1d(np.asarray(y, dtype=float))
        finite = np.isfinite(values)
        if not finite.any():
            return False
        low = np.where(finite, values, np.inf)
        high = np.where(finite, values, -np.inf)
        if self._y_min is None:
            self._y_min, self._y_max = low, high
        else:
            self._y_min = np.minimum(self._y_min, low)
            self._y_max = np.maximum(self._y_max, high)
        spread = float(np.max(self._y_max - self._y_min))
        scale = _quantized_scale(spread)
        if scale != self._y_scale:
            self._y_scale = scale
            return True
        return False

    def _forget_pending(self, x: float) -> None:
        self.pending_points.discard(x)
        index = self._all.index(x)
        left = self._all[index - 1] if index > 0 else None
        right = self._all[index + 1] if index + 1 < len(self._all) else None
        if left is not None:
            del self.losses_combined[(left, x)]
        if right is not None:
            del self.losses_combined[(x, right)]
        del self._all[index]
        if left is not None and right is not None:
            self.losses_combined[(left, right)] = self._combined_loss(left, right)

    def remove_unfinished(self) -> None:
        for x in sorted(self.pending_points):
            self._forget_pending(x)

    # ---- losses ----------------------------------------------------------------------------------
    def _insert_combined(self, x: float) -> None:
        index = self._all.bisect_left(x)
        left = self._all[index - 1] if index > 0 else None
        right = self._all[index] if index < len(self._all) else None
        self._all.add(x)
        if left is not None and right is not None:
            del self.losses_combined[(left, right)]
        if left is not None:
            self.losses_combined[(left, x)] = self._combined_loss(left, x)
        if right is not None:
            self.losses_combined[(x, right)] = self._combined_loss(x, right)

    def _combined_loss(self, a: float, b: float) -> float:
        real = self._real
        i = real.bisect_right(a) - 1
        if i < 0 or i + 1 >= len(real):
            return math.inf
        low, high = real[i], real[i + 1]
        if high < b:
            return math.inf
        loss = self.losses[(low, high)]
        return loss if (low, high) == (a, b) else loss * (b - a) / (high - low)

    def _interval_loss(self, i: int) -> float:
        """The real loss of the interval (real[i], real[i + 1])."""
        real, n = self._real, self.nth_neighbors
        a, b = real[i], real[i + 1]
        width = (b - a) / self._x_scale
        ya, yb = self.data[a], self.data[b]
        if not (_is_finite(ya) and _is_finite(yb)):
            return width  # NaN or inf at an end: sample it like the uniform loss would
        xs, ys = [], []
        for j in range(i - n, i + n + 2):
            if 0 <= j < len(real) and _is_finite(self.data[real[j]]):
                xs.append(real[j] / self._x_scale)
                ys.append(self.data[real[j]] / self._y_scale)
            else:
                xs.append(None)
                ys.append(None)
        loss = self.loss_per_interval(tuple(xs), tuple(ys))
        return width if math.isnan(loss) else float(loss)

    def _update_around(self, x: float) -> None:
        real, n = self._real, self.nth_neighbors
        index = real.index(x)
        if 0 < index < len(real) - 1:
            old = (real[index - 1], real[index + 1])
            if old in self.losses:
                del self.losses[old]
        first = max(0, index - n - 1)
        last = min(len(real) - 2, index + n)
        for i in range(first, last + 1):
            self.losses[(real[i], real[i + 1])] = self._interval_loss(i)
        if first <= last:
            self._update_combined_between(real[first], real[last + 1])

    def _update_combined_between(self, low: float, high: float) -> None:
        for a, b in itertools.pairwise(self._all.irange(low, high)):
            self.losses_combined[(a, b)] = self._combined_loss(a, b)

    def _recompute_all(self) -> None:
        self.losses.clear()
        for i in range(len(self._real) - 1):
            self.losses[(self._real[i], self._real[i + 1])] = self._interval_loss(i)
        self.losses_combined.clear()
        for a, b in itertools.pairwise(self._all):
            self.losses_combined[(a, b)] = self._combined_loss(a, b)

    def loss(self, real: bool = True) -> float:
        """The largest interval loss; infinite until both bounds are evaluated."""
        if any(bound not in self.data for bound in self.bounds):
            return math.inf
        losses = self.losses if real else self.losses_combined
        if not losses:
            return math.inf
        return losses.peekitem(0)[1]

    # ---- data ------------------------------------------------------------------------------------
    def _get_data(self) -> dict[float, Any]:
        return dict(self.data)

    def _set_data(self, data: dict[float, Any]) -> None:
        if data:
            self.tell_many(list(data), list(data.values()))

    def _settings(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "bounds": self.bounds,
            "loss_per_interval": self.loss_per_interval,
        }

    def to_numpy(self) -> np.ndarray:
        """Rows ``(x, *y)`` in x order."""
        return np.array([(x, *np.atleast_1d(self.data[x])) for x in self._real], dtype=float)

    def interpolate(self, x: Any) -> np.ndarray:
        """Linear interpolation of the data at ``x`` (columns are components for vectors)."""
        table = self.to_numpy()
        if len(table) == 0:
            raise ValueError("the learner has no data to interpolate")
        columns = [np.interp(x, table[:, 0], table[:, k]) for k in range(1, table.shape[1])]
        return columns[0] if len(columns) == 1 else np.stack(columns, axis=-1)

    def _y_columns(self, y_name: str) -> list[str]:
        return [y_name] if self.vdim == 1 else [f"{y_name}_{k}" for k in range(self.vdim)]

    def to_dataframe(
        self,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        x_name: str = "x",
        y_name: str = "y",
    ):
        """The data as a DataFrame: ``x_name`` and ``y_name`` (``y_0``.. for vector output)."""
        pd = require_pandas()
        table = self.to_numpy().reshape(-1, 1 + self.vdim)
        df = pd.DataFrame(table, columns=[x_name, *self._y_columns(y_name)])
        df.attrs["inputs"] = [x_name]
        df.attrs["output"] = y_name
        add_function_columns(df, self.function, with_default_function_args, function_prefix)
        return df

    def load_dataframe(
        self,
        df: Any,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        x_name: str = "x",
        y_name: str = "y",
    ) -> None:
        """Tell the learner the data of a DataFrame made by :meth:`to_dataframe`."""
        require_pandas()
        vector_columns = sorted(
            (c for c in df.columns if isinstance(c, str) and c.startswith(f"{y_name}_")),
            key=lambda c: int(c.rsplit("_", 1)[1]) if c.rsplit("_", 1)[1].isdigit() else -1,
        )
        if y_name in df.columns:
            ys = list(df[y_name].to_numpy(dtype=float))
        elif vector_columns:
            ys = list(df[vector_columns].to_numpy(dtype=float))
        else:
            raise ValueError(f"the dataframe has no column {y_name!r} or {y_name}_0, ...")
        if with_default_function_args:
            self.function = bind_function_args(
                self.function, function_args_from_dataframe(df, function_prefix)
            )
        self.tell_many(df[x_name].to_numpy(dtype=float).tolist(), ys)
