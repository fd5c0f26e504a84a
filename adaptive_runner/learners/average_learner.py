"""AverageLearner: the mean of a random quantity, to a given absolute or relative precision."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

from adaptive_runner.learners import plotting
from adaptive_runner.learners.average_learner1D_parts import SampleSums
from adaptive_runner.learners.base import (
    BaseLearner,
    check_ask_n,
    describe_dataframe,
    function_from_dataframe,
    require_holoviews,
    require_pandas,
)

__all__ = ["AverageLearner"]

#: The fewest samples whose standard deviation the loss trusts. From fewer, the estimate is too
#: uncertain (below 10 samples its relative error exceeds 25%, and two equal or two close
#: samples give a spread near 0), so a run would stop after a lucky pair.
MIN_NPOINTS_FOR_SPREAD = 10


def _check_tolerance(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number or None, got {name}={value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number or None, got {name}={value!r}")
    return float(value)


class AverageLearner(BaseLearner):
    """Average ``function(seed)`` until the standard error of the mean is small enough.

    Points are integer seeds 0, 1, 2, ...; ``data`` maps seed -> value. The loss is
    ``max(se / atol, se / (rtol * |mean|))`` with ``se = std / sqrt(n)``, so a loss <= 1 means
    the requested precision is reached. Each point costs O(1): exact running sums of the values
    and their squares (integers), so the mean and spread are correctly rounded and do not depend
    on the order of telling.

    Parameters
    ----------
    function
        ``function(seed)`` returns a real number.
    atol, rtol
        Absolute and relative tolerance on the mean; at least one is required, each positive.
    min_npoints
        The loss is infinite with fewer samples (at least 2: a spread needs two). Whatever its
        value, the loss also stays infinite below ``MIN_NPOINTS_FOR_SPREAD`` (10) samples, so
        two equal or close samples never declare convergence (python-adaptive stops there).

    Examples
    --------
    >>> import random
    >>> learner = AverageLearner(lambda seed: random.Random(seed).gauss(1, 0.1), atol=0.01)
    >>> while learner.loss() > 1:
    ...     seeds, _ = learner.ask(10)
    ...     for seed in seeds:
    ...         learner.tell(seed, learner.function(seed))
    >>> abs(learner.mean - 1) < 0.05
    True
    """

    def __init__(
        self,
        function: Callable,
        atol: float | None = None,
        rtol: float | None = None,
        min_npoints: int = 2,
    ) -> None:
        if not callable(function):
            raise TypeError(f"function must be callable, got function={function!r}")
        self.atol = _check_tolerance("atol", atol)
        self.rtol = _check_tolerance("rtol", rtol)
        if self.atol is None and self.rtol is None:
            raise ValueError("at least one of atol and rtol must be given (both are None)")
        if isinstance(min_npoints, bool) or not isinstance(min_npoints, int) or min_npoints < 2:
            raise ValueError(
                f"min_npoints must be an integer >= 2, got min_npoints={min_npoints!r}"
            )
        self.function = function
        self.min_npoints = min_npoints
        self.data: dict[int, float] = {}
        self.pending_points: set[int] = set()
        self._next_seed = 0  # every seed below it is told or pending
        self._sums = SampleSums()  # exact: the same mean and spread in any telling order

    # ---- statistics ----------------------------------------------------------------------------
    @property
    def n_requested(self) -> int:
        """Seeds told or pending."""
        return len(self.data) + len(self.pending_points)

    @property
    def mean(self) -> float:
        """The mean of the values told (NaN before any)."""
        return self._sums.mean() if self.data else math.nan

    @property
    def std(self) -> float:
        """The sample standard deviation (ddof=1); infinite with fewer than two values."""
        n = len(self.data)
        if n < 2:
            return math.inf
        return math.sqrt(max(self._sums.variance(), 0.0))

    def loss(self, real: bool = True, *, n: int | None = None) -> float:
        """``max(se / atol, se / (rtol * |mean|))`` for ``n`` samples (default: those told, or
        told plus pending when ``real=False``); infinite while there are too few."""
        if n is None:
            n = len(self.data) if real else self.n_requested
        return self._loss_for(n)

    def _loss_for(self, n: int) -> float:
        told = len(self.data)
        if told < MIN_NPOINTS_FOR_SPREAD or n < self.min_npoints:
            return math.inf
        variance = self._sums.variance()
        standard_error = math.sqrt((variance if variance > 0 else 0.0) / n)
        loss = 0.0 if self.atol is None else standard_error / self.atol
        if self.rtol is not None:
            scale = self.rtol * abs(self._sums.mean())
            relative = standard_error / scale if scale > 0 else math.inf
            loss = max(loss, relative)
        return loss

    # ---- the protocol --------------------------------------------------------------------------
    def ask(self, n: int, tell_pending: bool = True) -> tuple[list[int], list[float]]:
        """The next ``n`` unused seeds; each improvement is the expected drop of the loss
        divided over them."""
        n = check_ask_n(n)
        if n == 0:
            return [], []
        data, pending = self.data, self.pending_points
        seed = self._next_seed
        if n == 1:  # the runner's usual request; _next_seed is unused by construction
            seeds = [seed]
        else:
            seeds = []
            while len(seeds) < n:
                if seed not in data and seed not in pending:
                    seeds.append(seed)
                seed += 1
        requested = len(data) + len(pending)
        before = self._loss_for(requested)
        if before == math.inf:
            improvement = math.inf
        else:
            improvement = (before - self._loss_for(requested + n)) / n
        if tell_pending:
            pending.update(seeds)
            self._advance_next_seed()
        return seeds, [improvement] * n

    def _advance_next_seed(self) -> None:
        seed, data, pending = self._next_seed, self.data, self.pending_points
        while seed in data or seed in pending:
            seed += 1
        self._next_seed = seed

    def point_key(self, point: Any) -> Hashable:
        return self._check_seed(point)

    def _check_seed(self, seed: Any) -> int:
        if type(seed) is int and seed >= 0:
            return seed
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"AverageLearner points are seeds (integers >= 0), got seed={seed!r}")
        return int(seed)

    def tell_pending(self, seed: int) -> None:
        seed = self._check_seed(seed)
        if seed not in self.data:
            self.pending_points.add(seed)
            self._advance_next_seed()

    def tell(self, seed: int, value: Any) -> None:
        seed = self._check_seed(seed)
        data = self.data
        if seed in data:
            return
        if type(value) is not float:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(
                    f"AverageLearner values are real numbers, got {value!r} for {seed=}"
                )
            value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"AverageLearner values must be finite, got {value!r} for {seed=}")
        self.pending_points.discard(seed)
        data[seed] = value
        self._sums.add(value)
        if seed == self._next_seed:
            self._advance_next_seed()

    def remove_unfinished(self) -> None:
        if self.pending_points:
            self._next_seed = min(self._next_seed, *self.pending_points)
        self.pending_points.clear()

    def _get_data(self) -> dict[int, float]:
        return dict(self.data)

    def _set_data(self, data: dict[int, float]) -> None:
        for seed, value in data.items():
            self.tell(seed, value)

    def _settings(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "atol": self.atol,
            "rtol": self.rtol,
            "min_npoints": self.min_npoints,
        }

    # ---- data out ------------------------------------------------------------------------------
    def to_numpy(self) -> np.ndarray:
        """Rows ``(seed, value)`` in seed order."""
        return np.array(sorted(self.data.items()), dtype=float).reshape(-1, 2)

    def to_dataframe(
        self,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        seed_name: str = "seed",
        y_name: str = "y",
    ):
        """The data as a DataFrame with columns ``seed_name`` and ``y_name``."""
        pd = require_pandas()
        seeds = sorted(self.data)
        df = pd.DataFrame({seed_name: seeds, y_name: [self.data[s] for s in seeds]})
        describe_dataframe(
            df, [seed_name], y_name, self.function, with_default_function_args, function_prefix
        )
        return df

    def load_dataframe(
        self,
        df: Any,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        seed_name: str = "seed",
        y_name: str = "y",
    ) -> None:
        """Tell the learner the data of a DataFrame made by :meth:`to_dataframe`."""
        require_pandas()
        self.function = function_from_dataframe(
            self.function, df, with_default_function_args, function_prefix
        )
        self.tell_many(df[seed_name].astype(int).tolist(), df[y_name].astype(float).tolist())

    def plot(self):
        """A holoviews ``Overlay``: the histogram of the values told (``sqrt(n)`` bins, from 5
        to 200) and a vertical line at their :attr:`mean`. An empty learner gives an empty
        histogram and no line. Needs holoviews."""
        hv = require_holoviews("AverageLearner.plot")
        values = np.fromiter(self.data.values(), dtype=float, count=len(self.data))
        y = hv.Dimension("y")
        if len(values):
            counts, edges = np.histogram(values, bins=min(max(5, math.isqrt(len(values))), 200))
        else:
            counts, edges = np.array([0]), np.array([0.0, 1.0])
        histogram = hv.Histogram((edges, counts), kdims=[y], vdims=["count"])
        mean = hv.VLines([self.mean] if len(values) else [], kdims=[y], label="mean")
        return hv.Overlay(
            [
                plotting.styled(histogram, alpha=0.7),
                plotting.styled(mean, color="black", line_width=2),
            ]
        )
