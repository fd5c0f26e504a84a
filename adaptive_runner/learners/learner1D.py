"""Learner1D: adaptive sampling of f: R -> R or R^N on an interval.

State. ``_real`` holds the evaluated x in order, ``_all`` the evaluated and pending ones. Each
interval between neighbouring evaluated points has a *real* loss (``losses``); each interval
between neighbouring points of ``_all`` has a *combined* loss (``losses_combined``): the real loss
of the evaluated interval that contains it, times the fraction of its width. Asking splits the
combined interval of largest loss in the middle, so k points asked into one evaluated interval cut
it into k + 1 pieces. A tell recomputes only the intervals whose neighbourhood contains the new
point: O(log N) per point.

Scaling. Losses see x divided by the width of the bounds and y divided by the spread of the finite
values (1 while it is 0). The spread used is rounded up to a power of 2**(1/1024), so it is within
0.07% of the exact spread (multiplying f by a constant changes no loss by more than that), all
losses are recomputed only when the spread grows past such a step (measured: 0 to 17 times in
100,000 points on the benchmark functions, 31 times in 2,000 points approaching a pole, almost
all while the learner is small), and the state depends only on the data told, never on the
order it was told in. (A coarser rounding, 2**(1/16), changed which of two nearly equal
intervals is split first often enough to trail python-adaptive's samples on a chirp.)
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from adaptive_runner.learners import plotting
from adaptive_runner.learners.base import (
    BaseLearner,
    check_ask_n,
    checked_value,
    describe_dataframe,
    function_from_dataframe,
    quantized_scale,
    require_holoviews,
    require_pandas,
)
from adaptive_runner.learners.learner1D_losses import LossManager, default_loss
from adaptive_runner.learners.sorted_floats import SortedFloats

__all__ = ["Learner1D"]


def _is_finite(y: Any) -> bool:
    if isinstance(y, float | int):
        return math.isfinite(y)
    return bool(np.all(np.isfinite(y)))


class _CombinedLosses(LossManager):
    """The losses of the intervals between evaluated and pending points, leaving out intervals
    at floating-point resolution (no float lies inside them to ask); deleting a left-out
    interval is a no-op."""

    only_splittable = True

    def __delitem__(self, interval: tuple[float, float]) -> None:
        self._entries.pop(interval, None)


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
        self._default_loss = self.loss_per_interval is default_loss
        self._x_scale = high - low
        self.data: dict[float, Any] = {}
        self.pending_points: set[float] = set()
        self._nonfinite: set[float] = set()  # x whose value is (partly) NaN or infinite
        self._real = SortedFloats()  # evaluated x
        self._all = SortedFloats()  # evaluated and pending x
        self.losses = LossManager(self._x_scale)
        self.losses_combined = _CombinedLosses(self._x_scale)
        self._y_min: Any = None  # finite minimum (per component for vectors)
        self._y_max: Any = None
        self._y_scale = 1.0
        self._vdim: int | None = None

    # ---- public attributes ---------------------------------------------------------------------
    @property
    def vdim(self) -> int:
        """Length of the function's output (1 for scalars)."""
        return self._vdim or 1

    @property
    def x_scale(self) -> float:
        """The width of the bounds: x is divided by it before losses see it."""
        return self._x_scale

    @property
    def y_scale(self) -> float:
        """The spread of the values used to scale losses (see the module docstring)."""
        return self._y_scale

    # ---- asking --------------------------------------------------------------------------------
    def ask(self, n: int, tell_pending: bool = True) -> tuple[list[float], list[float]]:
        """``n`` points to evaluate next and the loss improvement each is expected to bring.

        The bounds come first; then the interval of largest loss (counting pending points as
        already splitting their interval) is cut in the middle, one point at a time.
        """
        n = check_ask_n(n)
        if n == 0:
            return [], []
        if not self.data and not self.pending_points and n > 2:
            # (a set: on bounds a few floats wide, linspace repeats values)
            points = sorted({float(x) for x in np.linspace(*self.bounds, n)})
            if tell_pending:
                for point in points:
                    self.tell_pending(point)
            return points, [math.inf] * len(points)
        points, improvements = [], []
        for _ in range(n):
            point, improvement = self._next_point()
            if point is None:
                break
            self.pending_points.add(point)
            self._insert_all(point)
            points.append(point)
            improvements.append(improvement)
        if not tell_pending:
            for point in reversed(points):
                self._forget_pending(point)
        return points, improvements

    def _next_point(self) -> tuple[float | None, float]:
        for bound in self.bounds:
            if bound not in self.data and bound not in self.pending_points:
                return bound, math.inf
        if not self.losses_combined:
            return None, 0.0
        (a, b), loss = self.losses_combined.peekitem(0)
        return (a + b) / 2, loss / 2

    # ---- telling -------------------------------------------------------------------------------
    def _check_x(self, x: Any) -> float:
        if type(x) is not float:
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
        self._insert_all(x)

    def tell(self, x: float, y: Any) -> None:
        x = self._check_x(x)
        if x in self.data:
            return
        y = self._check_y(y)
        if x in self.pending_points:
            self.pending_points.discard(x)
        else:
            self._insert_all(x)
        self.data[x] = y
        left, right = self._real.insert(x)
        finite = _is_finite(y)
        if not finite:
            self._nonfinite.add(x)
        if self._update_y_range(y, finite):
            self._recompute_all()
        else:
            if left is not None and right is not None:
                del self.losses[(left, right)]
            self._recompute_around(x, left, right)

    def tell_many(self, xs: Iterable, ys: Iterable) -> None:
        """Tell many points at once; the losses are rebuilt in one pass when that is cheaper."""
        xs, ys = list(xs), list(ys)
        if len(xs) != len(ys):
            raise ValueError(f"tell_many: got {len(xs)} points but {len(ys)} values")
        if len(xs) < 0.25 * len(self.data) + 8:  # few points: local updates are cheaper
            for x, y in zip(xs, ys, strict=True):
                self.tell(x, y)
            return
        data, pending = self.data, self.pending_points
        for raw_x, raw_y in zip(xs, ys, strict=True):
            x = self._check_x(raw_x)
            if x not in data:
                data[x] = y = self._check_y(raw_y)
                pending.discard(x)
                if not _is_finite(y):
                    self._nonfinite.add(x)
        self._real = SortedFloats(data)
        self._all = SortedFloats(itertools.chain(data, pending))
        self._y_min = self._y_max = None
        finite = [y for x, y in data.items() if x not in self._nonfinite]
        if finite:
            table = np.asarray(finite, dtype=float)
            self._y_min, self._y_max = table.min(axis=0), table.max(axis=0)
            if self._vdim == 1:
                self._y_min, self._y_max = float(self._y_min), float(self._y_max)
        self._y_scale = quantized_scale(self._spread())
        self._recompute_all()

    def _check_y(self, y: Any) -> Any:
        value, self._vdim = checked_value(y, self._vdim)
        return value

    def _spread(self) -> float:
        if self._y_min is None:
            return 0.0
        return float(np.max(np.asarray(self._y_max) - self._y_min))

    def _update_y_range(self, y: Any, finite: bool) -> bool:
        """Widen the value range with ``y``; True when the loss scale changes."""
        if type(y) is float:
            if not finite:
                return False
            if self._y_min is None:
                self._y_min = self._y_max = y
            elif y < self._y_min:
                self._y_min = y
            elif y > self._y_max:
                self._y_max = y
            else:
                return False
        elif finite and self._y_min is not None:
            if not ((y < self._y_min).any() or (y > self._y_max).any()):
                return False
            self._y_min = np.minimum(self._y_min, y)
            self._y_max = np.maximum(self._y_max, y)
        else:
            finite_components = np.isfinite(y)
            if not finite_components.any():
                return False
            low = np.where(finite_components, y, np.inf)
            high = np.where(finite_components, y, -np.inf)
            if self._y_min is None:
                self._y_min, self._y_max = low, high
            else:
                self._y_min = np.minimum(self._y_min, low)
                self._y_max = np.maximum(self._y_max, high)
        scale = quantized_scale(self._spread())
        if scale != self._y_scale:
            self._y_scale = scale
            return True
        return False

    def remove_unfinished(self) -> None:
        for x in sorted(self.pending_points):
            self._forget_pending(x)

    # ---- losses --------------------------------------------------------------------------------
    def _insert_all(self, x: float) -> None:
        """Add ``x`` (not yet evaluated) to the evaluated-or-pending points, splitting the
        interval it falls in."""
        combined, real, data = self.losses_combined, self._real, self.data
        left, right = self._all.insert(x)
        if left is not None and right is not None:
            del combined[(left, right)]
        # both pieces lie in the evaluated interval (low, high) around x
        low = left if left is None or left in data else real.prev(x)
        high = right if right is None or right in data else real.next(x)
        loss = math.inf if low is None or high is None else self.losses[(low, high)]
        if left is not None:
            combined[(left, x)] = loss * (x - left) / (high - low) if loss < math.inf else loss
        if right is not None:
            combined[(x, right)] = loss * (right - x) / (high - low) if loss < math.inf else loss

    def _forget_pending(self, x: float) -> None:
        self.pending_points.discard(x)
        all_points, combined = self._all, self.losses_combined
        left, right = all_points.prev(x), all_points.next(x)
        all_points.remove(x)
        if left is not None:
            del combined[(left, x)]
        if right is not None:
            del combined[(x, right)]
        if left is not None and right is not None:
            combined[(left, right)] = self._combined_loss(left, right)

    def _combined_loss(self, a: float, b: float) -> float:
        """The real loss of the evaluated interval holding (a, b), times the share of its width."""
        real = self._real
        low = a if a in self.data else real.prev(a)
        high = None if low is None else real.next(low)
        if high is None or high < b:
            return math.inf
        loss = self.losses[(low, high)]
        if low == a and high == b:
            return loss
        return loss * (b - a) / (high - low) if loss < math.inf else loss

    def _interval_loss(self, window: list[float], i: int) -> float:
        """The real loss of (window[i], window[i + 1]); ``window`` holds consecutive evaluated
        points and every neighbour the loss needs (or the ends of the data)."""
        data, x_scale, y_scale = self.data, self._x_scale, self._y_scale
        a, b = window[i], window[i + 1]
        ya, yb = data[a], data[b]
        width = (b - a) / x_scale
        nonfinite = self._nonfinite
        if a in nonfinite or b in nonfinite:
            return width  # NaN or inf at an end: sample it like the uniform loss would
        n = self.nth_neighbors
        if n == 0:
            if self._default_loss:  # inlined: the same arithmetic on the same scaled values
                if type(ya) is float:
                    return math.hypot(b / x_scale - a / x_scale, yb / y_scale - ya / y_scale)
                dy = float(np.max(np.abs(yb / y_scale - ya / y_scale)))
                return math.hypot(b / x_scale - a / x_scale, dy)
            loss = self.loss_per_interval((a / x_scale, b / x_scale), (ya / y_scale, yb / y_scale))
        else:
            xs, ys = [], []
            for j in range(i - n, i + n + 2):
                y = data[window[j]] if 0 <= j < len(window) else None
                if y is None or window[j] in nonfinite:
                    xs.append(None)
                    ys.append(None)
                else:
                    xs.append(window[j] / x_scale)
                    ys.append(y / y_scale)
            loss = self.loss_per_interval(tuple(xs), tuple(ys))
        loss = float(loss)
        return width if math.isnan(loss) else loss

    def _recompute_around(self, x: float, left: float | None, right: float | None) -> None:
        """Recompute the losses that depend on the value at the evaluated point ``x``.

        ``left`` and ``right`` are its evaluated neighbours (None at the ends). Besides
        :meth:`tell`, subclasses whose value at a point is refined after it was told (the
        AverageLearner1D's means) call this after changing ``data[x]`` in place.
        """
        real, n = self._real, self.nth_neighbors
        losses = self.losses
        if n == 0:
            window = [p for p in (left, x, right) if p is not None]
            start, stop = 0, len(window) - 1
        else:
            first, last = real.step(x, -(n + 1)), real.step(x, n + 1)
            window = list(real.irange(real.step(first, -n), real.step(last, n)))
            start = window.index(first)
            stop = window.index(last, start)
        combined = self.losses_combined
        if not self.pending_points:  # nothing splits the real intervals: combined == real
            for i in range(start, stop):
                interval = (window[i], window[i + 1])
                combined[interval] = losses[interval] = self._interval_loss(window, i)
            return
        for i in range(start, stop):
            losses[(window[i], window[i + 1])] = self._interval_loss(window, i)
        if start == stop:
            return
        # the evaluated-or-pending intervals inside the updated stretch take their share of the
        # real interval that holds them
        j = start
        low, high = window[j], window[j + 1]
        loss = losses[(low, high)]
        for a, b in itertools.pairwise(list(self._all.irange(window[start], window[stop]))):
            if a >= high:
                j += 1
                low, high = window[j], window[j + 1]
                loss = losses[(low, high)]
            if (a == low and b == high) or not loss < math.inf:
                combined[(a, b)] = loss
            else:
                combined[(a, b)] = loss * (b - a) / (high - low)

    def _recompute_all(self) -> None:
        window = list(self._real)
        self.losses.clear()
        self.losses.update(
            ((window[i], window[i + 1]), self._interval_loss(window, i))
            for i in range(len(window) - 1)
        )
        self.losses_combined.clear()
        self.losses_combined.update(
            ((a, b), self._combined_loss(a, b)) for a, b in itertools.pairwise(self._all)
        )

    def loss(self, real: bool = True) -> float:
        """The largest interval loss; infinite until both bounds are evaluated."""
        if any(bound not in self.data for bound in self.bounds):
            return math.inf
        losses = self.losses if real else self.losses_combined
        if not losses:
            return math.inf
        return losses.peekitem(0)[1]

    # ---- data ----------------------------------------------------------------------------------
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
        xs = list(self._real)
        if self.vdim == 1:
            return np.array([(x, self.data[x]) for x in xs], dtype=float).reshape(-1, 2)
        return np.array([(x, *self.data[x]) for x in xs], dtype=float).reshape(-1, 1 + self.vdim)

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
        describe_dataframe(
            df, [x_name], y_name, self.function, with_default_function_args, function_prefix
        )
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
        self.function = function_from_dataframe(
            self.function, df, with_default_function_args, function_prefix
        )
        self.tell_many(df[x_name].to_numpy(dtype=float).tolist(), ys)

    def plot(self, *, scatter_or_line: str = "scatter"):
        """The data as a holoviews ``Overlay``: the points (``"scatter"``) or a line through
        them (``"line"``); for a vector function one element per component, labelled ``y_0``,
        ``y_1``, ... (a legend). The x axis spans the bounds with a 5% margin, so the points on
        the bounds show whole. An empty learner gives an overlay of one empty element; the
        result is an ``Overlay`` in every case, so a live plot keeps one type. Needs holoviews.
        """
        if scatter_or_line not in ("scatter", "line"):
            raise ValueError(
                f'scatter_or_line must be "scatter" or "line", got {scatter_or_line!r}'
            )
        hv = require_holoviews("Learner1D.plot")
        element = hv.Scatter if scatter_or_line == "scatter" else hv.Curve
        table = self.to_numpy()
        x = hv.Dimension("x", range=plotting.padded_range(*self.bounds))
        if self.vdim == 1:
            return hv.Overlay([element(table.reshape(-1, 2), kdims=[x], vdims=["y"])])
        return hv.Overlay(
            [
                element(table[:, [0, k + 1]], kdims=[x], vdims=["y"], label=f"y_{k}")
                for k in range(self.vdim)
            ]
        )
