"""AverageLearner1D: learn a noisy function of one variable, ``f((seed, x)) -> random number``.

Points are ``(seed, x)``. Every x collects samples; ``data`` maps x to their mean, and the means
are learned as a :class:`~adaptive_runner.learners.learner1D.Learner1D` learns its values (same
loss functions). From two samples on, x has an error bar
``error = t(1 - alpha; n - 1) * std / sqrt(n)`` (Student t, ``std`` with ddof=1), so the true
value lies within ``mean +- error`` with probability ``1 - 2 * alpha``.

The resampling rule. ``ask`` hands out one sample at a time, the first of these that applies:

1. *fill*: an x that has fewer samples than it needs: ``min_samples``, and at least
   ``neighbor_sampling`` times the mean count of its two neighbours (never above
   ``max_samples``); the x with the fewest samples first. So a new x starts with ``min_samples``
   samples, more when its neighbours were resampled a lot.
2. the bounds, while they have no sample.
3. *resample*: the x of largest *rescaled error*, its error bar divided by the value scale and
   by the smaller loss of its two intervals, when that exceeds ``delta`` (and x has fewer than
   ``max_samples`` samples and an error bar wider than ``min_error``): its mean is uncertain
   compared with how much the curve still changes there.
4. *split*: otherwise a new x in the middle of the interval of largest loss, as the Learner1D.

Counts include pending samples, and the error bar of an x with pending samples is the one its
told spread gives with them, so a batch ask spreads over the points that need samples.

Every decision is a function of the told samples and the pending set. The sums per x are kept
exactly (integers, in units of the finest power of two among the samples), so means and spreads
do not depend on the order samples arrive in. Values are scaled by the range of all samples (as
python-adaptive does); it only widens, so the losses are rebuilt only when a new extreme sample
moves it past a step of the Learner1D's quantized scale. Otherwise a sample costs O(log N): the
fill and resample queues are heaps with lazy deletion and the losses are updated locally.

NaN or infinite samples make the mean at their x non-finite: such an x gets no more samples and
its intervals are split by width (as the Learner1D does), so they neither crash nor stall a run.
"""

from __future__ import annotations

import itertools
import math
import numbers
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from adaptive_runner.learners import plotting
from adaptive_runner.learners.average_learner1D_parts import (
    LazyQueue,
    Neighbours,
    SampleSums,
    check_count,
    check_fraction,
    t_quantile,
)
from adaptive_runner.learners.base import (
    BaseLearner,
    check_ask_n,
    describe_dataframe,
    function_from_dataframe,
    quantized_scale,
    require_holoviews,
    require_pandas,
)
from adaptive_runner.learners.learner1D import Learner1D
from adaptive_runner.learners.sorted_floats import SortedFloats

__all__ = ["AverageLearner1D"]


class _MeanCurve(Learner1D):
    """The Learner1D of the means. ``set_mean`` changes the mean at a told x and updates the
    losses around it; the value range is widened by samples (``widen``), not by means."""

    def _spread(self) -> float:
        return 0.0 if self._y_min is None else self._y_max - self._y_min

    def _update_y_range(self, *args: Any) -> bool:
        return False  # Learner1D.tell passes a mean: the range is widened by samples instead

    def widen(self, sample: float) -> bool:
        """Widen the value range with ``sample``; True when the scale changes."""
        sample = float(sample)
        return super()._update_y_range(sample, math.isfinite(sample))

    def set_mean(self, x: float, y: float, left: float | None, right: float | None) -> None:
        """Replace the mean at the told ``x`` (between ``left`` and ``right``) and update the
        losses that depend on it."""
        old = self.data[x]
        if old == y or (math.isnan(old) and math.isnan(y)):
            return
        self.data[x] = y
        if math.isfinite(y):
            self._nonfinite.discard(x)
        else:
            self._nonfinite.add(x)
        self._recompute_around(x, left, right)

    def rebuild(self, means: dict[float, float], pending: Iterable[float], low: Any, high: Any):
        """Start over from ``means``, the untold ``pending`` x and the samples' range."""
        self.data.clear()
        self.data.update(means)
        self.pending_points = set(pending)
        self._nonfinite = {x for x, y in means.items() if not math.isfinite(y)}
        self._real = SortedFloats(means)
        self._all = SortedFloats(itertools.chain(means, self.pending_points))
        self._vdim = 1 if means else None
        self._y_min, self._y_max = low, high
        self._y_scale = quantized_scale(self._spread())
        self._recompute_all()


class AverageLearner1D(BaseLearner):
    """Learn a noisy function ``f((seed, x))`` of one variable on ``bounds``, by averaging.

    The learner chooses between resampling existing x and adding new x; the module docstring
    gives the rule.

    Parameters
    ----------
    function
        ``function((seed, x))`` returns a real number (a random one: the seed picks it).
    bounds
        ``(low, high)``, finite, with ``low < high``.
    loss_per_interval
        A Learner1D loss function, applied to the means; the Learner1D default when None.
    delta
        An x is resampled while its error bar, scaled like the values, exceeds ``delta`` times
        the smaller loss of its two intervals. ``0 < delta <= 1``.
    alpha
        The error bars are Student-t confidence intervals of level ``1 - 2 * alpha``.
        ``0 < alpha < 0.5``.
    neighbor_sampling
        Every x has at least this fraction of the mean sample count of its neighbours.
        ``0 < neighbor_sampling <= 1``.
    min_samples
        Every x has at least this many samples (``1 <= min_samples <= max_samples``).
    max_samples
        No x gets more samples than this.
    min_error
        An x whose error bar is at most ``min_error`` is not resampled (``min_error >= 0``).

    Attributes
    ----------
    data : dict
        x -> the mean of the samples at x.
    samples : dict
        x -> {seed: value}, every sample told (also as ``_data_samples``, python-adaptive's name).
    pending_points : set
        The ``(seed, x)`` asked and not told yet.

    Examples
    --------
    >>> import random
    >>> def noisy(point):
    ...     seed, x = point
    ...     return x**2 + random.Random(f"{seed} {x}").gauss(0, 0.1)
    >>> learner = AverageLearner1D(noisy, bounds=(-1, 1), min_samples=10)
    >>> points, _ = learner.ask(3)
    >>> points
    [(0, -1.0), (1, -1.0), (2, -1.0)]
    """

    def __init__(
        self,
        function: Callable,
        bounds: tuple[float, float],
        loss_per_interval: Callable | None = None,
        delta: float = 0.2,
        alpha: float = 0.005,
        neighbor_sampling: float = 0.3,
        min_samples: int = 50,
        max_samples: int = sys.maxsize,
        min_error: float = 0,
    ) -> None:
        self._curve = _MeanCurve(function, bounds, loss_per_interval)
        self.function = function
        self.bounds = self._curve.bounds
        self.loss_per_interval = self._curve.loss_per_interval
        self.delta = check_fraction("delta", delta, 1)
        self.alpha = check_fraction("alpha", alpha, 0.5, high_open=True)
        self.neighbor_sampling = check_fraction("neighbor_sampling", neighbor_sampling, 1)
        self.min_samples = check_count("min_samples", min_samples)
        self.max_samples = check_count("max_samples", max_samples)
        if self.min_samples > self.max_samples:
            raise ValueError(
                "min_samples must not exceed max_samples, got "
                f"min_samples={min_samples!r}, max_samples={max_samples!r}"
            )
        if (
            isinstance(min_error, bool)
            or not isinstance(min_error, numbers.Real)
            or not 0 <= min_error < math.inf
        ):
            raise ValueError(f"min_error must be a finite number >= 0, got min_error={min_error!r}")
        self.min_error = float(min_error)
        self._data_samples: dict[float, dict[int, float]] = {}
        self._sums: dict[float, SampleSums] = {}
        self.pending_points: set[tuple[int, float]] = set()
        self._pending_seeds: dict[float, set[int]] = {}
        self._seed_hint: dict[float, int] = {}  # every seed below it is told or pending
        self._nsamples = 0
        self._counts: dict[float, int] = {}  # x -> samples told and pending
        self._real_neighbours = Neighbours()  # among the told x
        self._all_neighbours = Neighbours()  # among the told or pending x
        self._fill = LazyQueue()  # x -> number of samples, for the x short of samples
        self._resample = LazyQueue()  # x -> -rescaled error, for the x above delta

    # ---- public attributes ---------------------------------------------------------------------
    @property
    def data(self) -> dict[float, float]:
        """x -> the mean of the samples told at x."""
        return self._curve.data

    @property
    def samples(self) -> dict[float, dict[int, float]]:
        """x -> {seed: value}: every sample told."""
        return self._data_samples

    @property
    def nsamples(self) -> int:
        """The total number of samples told."""
        return self._nsamples

    @property
    def min_samples_per_point(self) -> int:
        """The smallest number of samples at any x (0 before any)."""
        return min((sums.count for sums in self._sums.values()), default=0)

    @property
    def vdim(self) -> int:
        """Length of the output: always 1 (scalar values)."""
        return 1

    @property
    def error(self) -> dict[float, float]:
        """x -> the half-width of its confidence interval (inf below two samples, NaN when the
        mean is not finite)."""
        return {x: self._spread(sums) / math.sqrt(sums.count) for x, sums in self._sums.items()}

    def loss(self, real: bool = True) -> float:
        """The largest interval loss of the means; ``real=False`` counts pending new x."""
        return self._curve.loss(real)

    # ---- statistics ----------------------------------------------------------------------------
    def _spread(self, sums: SampleSums) -> float:
        """t * std of the told samples (the error bar is this over sqrt(samples))."""
        spread = sums.spread
        if spread is None:
            if not sums.finite:
                spread = math.nan
            elif sums.count < 2:
                spread = math.inf
            else:
                spread = t_quantile(self.alpha, sums.count - 1) * math.sqrt(sums.variance())
            sums.spread = spread
        return spread

    def _rescaled_error(self, x: float) -> float:
        """The error bar over the smaller loss next to ``x``; 0 when x needs no resampling."""
        sums = self._sums[x]
        count = self._counts[x]
        if count >= self.max_samples or sums.count < 2 or not sums.finite:
            return 0.0
        error = self._spread(sums) / math.sqrt(count)
        if not error > self.min_error:
            return 0.0
        curve = self._curve
        left, right = self._real_neighbours.links[x]
        losses = curve.losses
        local = math.inf if left is None else losses[(left, x)]
        if right is not None:
            local = min(local, losses[(x, right)])
        if not 0 < local < math.inf:
            return 0.0
        return error / (curve.y_scale * local)

    def _refresh_resample(self, x: float) -> None:
        rescaled = self._rescaled_error(x)
        if rescaled > self.delta:
            self._resample.set(x, -rescaled)
        else:
            self._resample.discard(x)

    def _refresh_fill(self, x: float | None) -> None:
        """Queue ``x`` for filling while it has fewer samples than it needs."""
        if x is None:
            return
        counts = self._counts
        count, sums = counts.get(x, 0), self._sums.get(x)
        if count == 0 or (sums is not None and not sums.finite):
            self._fill.discard(x)
            return
        required = self.min_samples
        if count >= required:
            left, right = self._all_neighbours.links[x]
            if left is None or right is None:
                average = float(counts.get(right if left is None else left, 0))
            else:
                average = (counts[left] + counts[right]) / 2
            required = min(
                max(required, math.ceil(self.neighbor_sampling * average)), self.max_samples
            )
        if count < required:
            self._fill.set(x, count)
        else:
            self._fill.discard(x)

    def _count_changed(self, x: float) -> None:
        """Refresh what depends on the number of samples at ``x``."""
        left, right = self._all_neighbours.links[x]
        self._refresh_fill(x)
        self._refresh_fill(left)
        self._refresh_fill(right)
        if x in self._sums:
            self._refresh_resample(x)

    def _losses_changed(self, x: float, everywhere: bool) -> None:
        """Refresh the rescaled errors that depend on the losses next to ``x``."""
        if everywhere:
            self._resample.clear()
            for point in self._curve._real:
                self._refresh_resample(point)
            return
        links = self._real_neighbours.links
        self._refresh_resample(x)
        for side in (0, 1):  # the losses of nth_neighbors + 1 intervals each side changed
            point = x
            for _ in range(self._curve.nth_neighbors + 1):
                point = links[point][side]
                if point is None:
                    break
                self._refresh_resample(point)

    def _rebuild(self) -> None:
        """Rebuild the means, losses and queues from the samples and the pending set."""
        untold = [x for x in self._pending_seeds if x not in self._sums]
        finite = [y for told in self._data_samples.values() for y in told.values() if y - y == 0]
        low, high = (min(finite), max(finite)) if finite else (None, None)
        means = {x: sums.mean() for x, sums in self._sums.items()}
        self._curve.rebuild(means, untold, low, high)
        self._real_neighbours = Neighbours(self._curve._real)
        self._all_neighbours = Neighbours(self._curve._all)
        self._fill.clear()
        for x in self._curve._all:
            self._refresh_fill(x)
        self._losses_changed(0.0, everywhere=True)

    # ---- asking --------------------------------------------------------------------------------
    def ask(self, n: int, tell_pending: bool = True) -> tuple[list[tuple[int, float]], list[float]]:
        """``n`` samples ``(seed, x)`` to evaluate next and the loss improvement each is expected
        to bring; several may share an x (never a seed). See the module docstring for the rule."""
        n = check_ask_n(n)
        points, improvements = [], []
        for _ in range(n):
            x, improvement = self._next_sample()
            if x is None:
                break
            seed = self._free_seed(x)
            self._add_pending(seed, x)
            points.append((seed, x))
            improvements.append(improvement)
        if not tell_pending:
            for seed, x in reversed(points):
                self._remove_pending(seed, x)
        return points, improvements

    def _next_sample(self) -> tuple[float | None, float]:
        x = self._fill.peek()
        if x is not None:
            return x, self._sample_improvement(x)
        for bound in self.bounds:
            if bound not in self._sums and bound not in self._pending_seeds:
                return bound, math.inf
        x = self._resample.peek()
        if x is not None:
            return x, self._sample_improvement(x)
        combined = self._curve.losses_combined
        if not combined:
            return None, 0.0
        (a, b), loss = combined.peekitem(0)
        return (a + b) / 2, loss / 2

    def _sample_improvement(self, x: float) -> float:
        """How much one more sample shrinks the scaled error bar at ``x`` (inf below 2 told)."""
        sums = self._sums.get(x)
        if sums is None or sums.count < 2:
            return math.inf
        count = self._counts[x]
        shrink = 1 / math.sqrt(count) - 1 / math.sqrt(count + 1)
        return self._spread(sums) * shrink / self._curve.y_scale

    def _free_seed(self, x: float) -> int:
        seed = self._seed_hint.get(x, 0)
        told, pending = self._data_samples.get(x, ()), self._pending_seeds.get(x, ())
        while seed in told or seed in pending:
            seed += 1
        self._seed_hint[x] = seed
        return seed

    def _add_pending(self, seed: int, x: float) -> None:
        self.pending_points.add((seed, x))
        self._counts[x] = self._counts.get(x, 0) + 1
        pending = self._pending_seeds.setdefault(x, set())
        pending.add(seed)
        if len(pending) == 1 and x not in self._sums:
            everything = self._curve._all
            self._curve.tell_pending(x)
            self._all_neighbours.insert(x, everything.prev(x), everything.next(x))
        self._count_changed(x)

    def _remove_pending(self, seed: int, x: float) -> None:
        self.pending_points.discard((seed, x))
        pending = self._pending_seeds[x]
        pending.discard(seed)
        if self._counts[x] == 1:
            del self._counts[x]
        else:
            self._counts[x] -= 1
        if seed < self._seed_hint.get(x, seed):
            self._seed_hint[x] = seed
        if pending or x in self._sums:
            if not pending:
                del self._pending_seeds[x]
            self._count_changed(x)
            return
        del self._pending_seeds[x]
        left, right = self._all_neighbours.remove(x)
        self._curve._forget_pending(x)
        self._fill.discard(x)
        self._seed_hint.pop(x, None)
        self._refresh_fill(left)
        self._refresh_fill(right)

    def remove_unfinished(self) -> None:
        for seed, x in sorted(self.pending_points):
            self._remove_pending(seed, x)

    # ---- telling -------------------------------------------------------------------------------
    def point_key(self, point: Any) -> tuple[int, float]:
        return self._check_point(point)

    def _check_point(self, point: Any) -> tuple[int, float]:
        try:
            seed, x = point
        except (TypeError, ValueError):
            raise ValueError(
                f"AverageLearner1D points are (seed, x) pairs, got point={point!r}"
            ) from None
        if type(seed) is not int:
            # integer-valued floats too: the seed column of to_numpy() is float
            if isinstance(seed, bool) or not isinstance(seed, numbers.Real):
                raise ValueError(f"the seed of a point must be an integer, got point={point!r}")
            if not isinstance(seed, numbers.Integral) and not float(seed).is_integer():
                raise ValueError(f"the seed of a point must be an integer, got point={point!r}")
            seed = int(seed)
        if type(x) is not float:
            if isinstance(x, bool) or not isinstance(x, numbers.Real):
                raise ValueError(f"the x of a point must be a number, got point={point!r}")
            x = float(x)
        if not self.bounds[0] <= x <= self.bounds[1]:
            raise ValueError(f"x={x!r} of point={point!r} is outside the bounds {self.bounds}")
        return seed, x + 0.0  # -0.0 -> 0.0: one key per x

    @staticmethod
    def _check_value(y: Any, point: Any) -> float:
        if type(y) is float:
            return y
        if isinstance(y, bool | str | bytes) or np.ndim(y) != 0:
            raise ValueError(
                "AverageLearner1D learns scalar functions (vdim=1): values must be real "
                f"numbers, got y={y!r} for point={point!r}"
            )
        try:
            return float(y)
        except (TypeError, ValueError):
            raise ValueError(f"values must be real numbers, got y={y!r} for {point=}") from None

    def tell_pending(self, point: tuple[int, float]) -> None:
        seed, x = self._check_point(point)
        if seed in self._data_samples.get(x, ()) or (seed, x) in self.pending_points:
            return
        self._add_pending(seed, x)

    def _record(self, seed: int, x: float, y: float) -> bool:
        """Store a new sample in the sums and the pending set (not the curve); True when it
        was pending."""
        pending = self._pending_seeds.get(x)
        was_pending = pending is not None and seed in pending
        if was_pending:
            self.pending_points.discard((seed, x))
            pending.discard(seed)
            if not pending:
                del self._pending_seeds[x]
        else:
            self._counts[x] = self._counts.get(x, 0) + 1
        told = self._data_samples.get(x)
        if told is None:
            told = self._data_samples[x] = {}
            self._sums[x] = SampleSums()
        told[seed] = y
        self._sums[x].add(y)
        self._nsamples += 1
        return was_pending

    def tell(self, point: tuple[int, float], y: float) -> None:
        """Record that ``function(point) == y``; a seed told before at that x is ignored."""
        seed, x = self._check_point(point)
        told = self._data_samples.get(x)
        if told is not None and seed in told:
            return
        y = self._check_value(y, point)
        new_x = x not in self._counts  # neither told nor pending before
        was_pending = self._record(seed, x, y)
        sums, curve = self._sums[x], self._curve
        rescaled = curve.widen(y)
        if sums.count == 1:
            curve.tell(x, sums.mean())
            self._real_neighbours.insert(x, curve._real.prev(x), curve._real.next(x))
            if new_x:
                self._all_neighbours.insert(x, curve._all.prev(x), curve._all.next(x))
        else:
            curve.set_mean(x, sums.mean(), *self._real_neighbours.links[x])
        if rescaled:
            curve._recompute_all()
        self._losses_changed(x, everywhere=rescaled)
        if not was_pending or not sums.finite:  # else the counts are as they were
            self._count_changed(x)

    def tell_many(self, xs: Iterable, ys: Iterable) -> None:
        """Tell many ``(seed, x)`` points at once; large batches rebuild everything in one pass."""
        points, values = list(xs), list(ys)
        if len(points) != len(values):
            raise ValueError(f"tell_many: got {len(points)} points but {len(values)} values")
        if len(points) < 0.25 * self._nsamples + 8:  # few: local updates are cheaper
            for point, y in zip(points, values, strict=True):
                self.tell(point, y)
            return
        checked = [
            (*self._check_point(point), self._check_value(y, point))
            for point, y in zip(points, values, strict=True)
        ]
        for seed, x, y in checked:
            if seed not in self._data_samples.get(x, ()):
                self._record(seed, x, y)
        self._rebuild()

    def tell_many_at_point(self, x: float, seed_y_mapping: Mapping[int, float]) -> None:
        """Tell the samples ``{seed: value}`` taken at ``x``."""
        self.tell_many([(seed, x) for seed in seed_y_mapping], list(seed_y_mapping.values()))

    # ---- data ----------------------------------------------------------------------------------
    def _get_data(self) -> dict[float, dict[int, float]]:
        return {x: dict(told) for x, told in self._data_samples.items()}

    def _set_data(self, data: Mapping[float, Mapping[int, float]]) -> None:
        points = [(seed, x) for x, told in data.items() for seed in told]
        self.tell_many(points, [y for told in data.values() for y in told.values()])

    def _settings(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "bounds": self.bounds,
            "loss_per_interval": self.loss_per_interval,
            "delta": self.delta,
            "alpha": self.alpha,
            "neighbor_sampling": self.neighbor_sampling,
            "min_samples": self.min_samples,
            "max_samples": self.max_samples,
            "min_error": self.min_error,
        }

    def to_numpy(self, mean: bool = False) -> np.ndarray:
        """Rows ``(seed, x, y)`` of every sample, or with ``mean`` rows ``(x, mean)``; x order."""
        xs = list(self._curve._real)
        if mean:
            return np.array([(x, self.data[x]) for x in xs], dtype=float).reshape(-1, 2)
        rows = [(s, x, y) for x in xs for s, y in sorted(self._data_samples[x].items())]
        return np.array(rows, dtype=float).reshape(-1, 3)

    def to_dataframe(
        self,
        mean: bool = False,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        seed_name: str = "seed",
        x_name: str = "x",
        y_name: str = "y",
    ):
        """The samples as a DataFrame (columns ``seed_name``, ``x_name``, ``y_name``), or with
        ``mean`` the means (``x_name``, ``y_name``)."""
        pd = require_pandas()
        table = self.to_numpy(mean=mean)
        inputs = [x_name] if mean else [seed_name, x_name]
        df = pd.DataFrame(table, columns=[*inputs, y_name])
        if not mean:
            df[seed_name] = df[seed_name].astype(int)
        return describe_dataframe(
            df, inputs, y_name, self.function, with_default_function_args, function_prefix
        )

    def load_dataframe(
        self,
        df: Any,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        seed_name: str = "seed",
        x_name: str = "x",
        y_name: str = "y",
    ) -> None:
        """Tell the learner the samples of a DataFrame made by :meth:`to_dataframe`."""
        require_pandas()
        self.function = function_from_dataframe(
            self.function, df, with_default_function_args, function_prefix
        )
        seeds = df[seed_name].astype(int).tolist()
        xs = df[x_name].to_numpy(dtype=float).tolist()
        self.tell_many(list(zip(seeds, xs, strict=True)), df[y_name].to_numpy(dtype=float))

    def plot(self):
        """A holoviews ``Overlay``: the mean at each x (``Scatter``) with error bars of one
        standard error of the mean, ``std / sqrt(n)`` with ``std`` of ddof=1 (``ErrorBars``; no
        bar below two samples or where a sample is not finite). (:attr:`error` is wider: the
        confidence interval the learner resamples by.) The x axis spans the bounds with a 5%
        margin. An empty learner gives empty elements. Needs holoviews."""
        hv = require_holoviews("AverageLearner1D.plot")
        table = self.to_numpy(mean=True)
        errors = self._standard_errors()
        bars = np.column_stack([table, [errors[x] for x in table[:, 0]]]).reshape(-1, 3)
        x = hv.Dimension("x", range=plotting.padded_range(*self.bounds))
        scatter = hv.Scatter(table, kdims=[x], vdims=["y"])
        error_bars = hv.ErrorBars(bars, kdims=[x], vdims=["y", "yerr"])
        return hv.Overlay([scatter, plotting.styled(error_bars, line_width=1)])

    def _standard_errors(self) -> dict[float, float]:
        """x -> the standard error of the mean at x, ``std / sqrt(n)`` (``std`` with ddof=1;
        NaN when it is not a finite number)."""
        errors = {}
        for x, sums in self._sums.items():
            error = math.nan
            if sums.count >= 2 and sums.finite:
                error = math.sqrt(max(sums.variance(), 0.0) / sums.count)
            errors[x] = error if math.isfinite(error) else math.nan
        return errors

    def __repr__(self) -> str:
        return f"<AverageLearner1D npoints={self.npoints} nsamples={self.nsamples}>"
