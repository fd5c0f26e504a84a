"""AverageLearner1D: the resampling rule, its settings, data in and out, bad inputs, NaN, and the
conformance properties that need ``samples``/``nsamples`` instead of ``data``/``npoints``."""

from __future__ import annotations

import math
import random
import sys
from fractions import Fraction

import numpy as np
import pytest
from cases_average import AVERAGE_CASES
from conformance import assert_same_learner, canonical, collect_pairs
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from adaptive_runner import BlockingRunner, SequentialExecutor
from adaptive_runner.learner.learner1D import curvature_loss_function
from adaptive_runner.learners.average_learner1D import AverageLearner1D


def noise(seed: int, x: float, sigma: float) -> float:
    return random.Random(f"{seed}-{x!r}").gauss(0.0, sigma)


def peak(point, sigma=0.1):
    seed, x = point
    return x + 0.01**2 / (0.01**2 + x**2) + noise(seed, x, sigma)


def run(learner, samples: int, batch: int = 1) -> None:
    told = 0
    while told < samples:
        points, _ = learner.ask(batch)
        assert points, "the learner ran out of points"
        for point in points:
            learner.tell(point, learner.function(point))
        told += len(points)


def next_point(learner):
    (point,), _ = learner.ask(1, tell_pending=False)
    return point


# ---- construction --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"bounds": (1, -1)}, ValueError, r"bounds=\(1, -1\)"),
        ({"bounds": (0, 0)}, ValueError, r"bounds=\(0, 0\)"),
        ({"bounds": (0, math.inf)}, ValueError, "bounds="),
        ({"bounds": "ab"}, ValueError, "bounds="),
        ({"delta": 0}, ValueError, "delta=0"),
        ({"delta": 1.5}, ValueError, "delta=1.5"),
        ({"delta": math.nan}, ValueError, "delta=nan"),
        ({"delta": "0.2"}, TypeError, "delta='0.2'"),
        ({"alpha": 0}, ValueError, "alpha=0"),
        ({"alpha": 0.5}, ValueError, "alpha=0.5"),
        ({"neighbor_sampling": 0}, ValueError, "neighbor_sampling=0"),
        ({"neighbor_sampling": 1.01}, ValueError, "neighbor_sampling=1.01"),
        ({"min_samples": 0}, ValueError, "min_samples=0"),
        ({"min_samples": 2.5}, ValueError, "min_samples=2.5"),
        ({"max_samples": 0}, ValueError, "max_samples=0"),
        ({"min_samples": 10, "max_samples": 5}, ValueError, "min_samples=10, max_samples=5"),
        ({"min_error": -1}, ValueError, "min_error=-1"),
        ({"min_error": math.inf}, ValueError, "min_error=inf"),
    ],
)
def test_bad_settings_fail_at_construction(kwargs, error, match):
    kwargs = {"bounds": (-1, 1), **kwargs}
    with pytest.raises(error, match=match):
        AverageLearner1D(peak, **kwargs)


def test_function_must_be_callable():
    with pytest.raises(TypeError, match="function must be callable"):
        AverageLearner1D(None, bounds=(0, 1))


def test_infinite_max_samples_means_no_limit():
    learner = AverageLearner1D(peak, bounds=(0, 1), max_samples=math.inf)
    assert learner.max_samples == sys.maxsize


def test_bad_ask_and_tell_inputs():
    learner = AverageLearner1D(peak, bounds=(-1, 1))
    with pytest.raises(ValueError, match=r"\bn\b"):
        learner.ask(-1)
    with pytest.raises(ValueError, match="seed, x"):
        learner.tell(0.5, 1.0)
    with pytest.raises(ValueError, match="seed"):
        learner.tell((0.5, 0.5), 1.0)
    with pytest.raises(ValueError, match="outside the bounds"):
        learner.tell((0, 2.0), 1.0)
    with pytest.raises(ValueError, match="vdim=1"):
        learner.tell((0, 0.0), [1.0, 2.0])
    with pytest.raises(ValueError, match="real numbers"):
        learner.tell((0, 0.0), "1")
    with pytest.raises(ValueError, match="2 points but 1 values"):
        learner.tell_many([(0, 0.0), (1, 0.0)], [1.0])
    assert learner.data == {}
    assert learner.nsamples == 0
    assert learner.ask(0) == ([], [])


# ---- the sampling rule ---------------------------------------------------------------------------


def test_fills_the_lower_bound_then_the_upper_one_like_python_adaptive():
    learner = AverageLearner1D(peak, bounds=(-1, 1))
    assert learner.ask(3) == ([(0, -1.0), (1, -1.0), (2, -1.0)], [math.inf] * 3)
    learner.remove_unfinished()
    run(learner, 100)
    assert {x: len(samples) for x, samples in learner.samples.items()} == {-1.0: 50, 1.0: 50}
    assert learner.npoints == 2
    assert learner.nsamples == 100
    # both bounds are filled: the next sample is a new x in the middle
    assert next_point(learner) == (0, 0.0)


def test_new_x_split_the_interval_of_largest_loss():
    learner = AverageLearner1D(lambda p: peak(p, sigma=0.01), bounds=(-1, 1), min_samples=5)
    run(learner, 1000)
    xs = sorted(learner.data)
    assert len(xs) > 20
    # every x but the bounds is the middle of two earlier ones: dyadic in [-1, 1]
    assert all(((x + 1) * 2**20).is_integer() for x in xs)
    # the peak at 0 is resolved more finely than the linear parts
    near, far = [x for x in xs if abs(x) < 0.1], [x for x in xs if abs(x) > 0.5]
    assert len(near) > len(far)


def test_min_samples_every_x_is_filled_before_anything_else():
    learner = AverageLearner1D(peak, bounds=(-1, 1), min_samples=7)
    run(learner, 300)
    while next_point(learner)[1] in learner.data:  # finish the x being filled or resampled
        point, _ = learner.ask(1)
        learner.tell(point[0], peak(point[0]))
    assert learner.min_samples_per_point >= 7
    assert min(len(samples) for samples in learner.samples.values()) >= 7


def test_resamples_where_the_noise_is_large_compared_with_the_local_loss():
    def half_noisy(point):  # a straight line, noisy only for x > 0
        seed, x = point
        return x + noise(seed, x, 0.3 if x > 0 else 0.001)

    learner = AverageLearner1D(half_noisy, bounds=(-1, 1), min_samples=10)
    run(learner, 3000)
    quiet = {x: len(s) for x, s in learner.samples.items() if x < 0}
    loud = [len(s) for x, s in learner.samples.items() if x > 0]
    # never resampled (only an x next to the noisy side may get more, from neighbor_sampling)
    assert all(count == 10 for x, count in quiet.items() if x < -0.25)
    assert np.mean(loud) > 5 * np.mean(list(quiet.values()))


def three_points(**settings) -> AverageLearner1D:
    """x = -1, 0, 1 with 50 samples each: the bounds nearly exact, x = 0 spread by +-0.05."""
    learner = AverageLearner1D(lambda p: p[1], bounds=(-1, 1), **settings)
    for x, spread in ((-1.0, 1e-3), (0.0, 0.05), (1.0, 1e-3)):
        learner.tell_many_at_point(x, {s: x + (-1) ** s * spread for s in range(50)})
    return learner


def rescaled_error_at_zero(learner) -> float:
    """The error bar at 0 over the loss of its intervals, by hand: the default loss, x scaled by
    the width 2, y by the range of the samples (the learner rounds it up by < 0.07%)."""
    values = [y for samples in learner.samples.values() for y in samples.values()]
    y_scale = max(values) - min(values)
    local = math.hypot(0.5, 1 / y_scale)  # both intervals: the means are -1, 0, 1
    return learner.error[0.0] / y_scale / local


@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_delta_decides_between_resampling_and_a_new_x(factor):
    rescaled = rescaled_error_at_zero(three_points())
    learner = three_points(delta=factor * rescaled)
    seed, x = next_point(learner)
    if factor < 1:  # the error bar is too wide for delta: resample x = 0
        assert (seed, x) == (50, 0.0)
    else:
        assert (seed, x) in ((0, -0.5), (0, 0.5))


def test_min_error_and_max_samples_stop_resampling():
    delta = 0.5 * rescaled_error_at_zero(three_points())
    assert next_point(three_points(delta=delta)) == (50, 0.0)
    error = three_points().error[0.0]
    assert next_point(three_points(delta=delta, min_error=1.01 * error))[1] != 0.0
    assert next_point(three_points(delta=delta, min_error=0.99 * error)) == (50, 0.0)
    assert next_point(three_points(delta=delta, max_samples=50))[1] != 0.0


def test_max_samples_is_never_exceeded_even_with_pending_samples():
    learner = AverageLearner1D(
        lambda p: noise(*p, 10.0), bounds=(0, 1), min_samples=3, max_samples=8
    )
    run(learner, 500, batch=7)
    points, _ = learner.ask(50)
    counts: dict[float, int] = {}
    for _, x in points:
        counts[x] = counts.get(x, 0) + 1
    for x, samples in learner.samples.items():
        assert len(samples) <= 8
        assert len(samples) + counts.get(x, 0) <= 8


def test_min_error_stops_resampling():
    # big noise, but an error bar of 100 is good enough: nothing is resampled past min_samples
    learner = AverageLearner1D(
        lambda p: p[1] + noise(*p, 1.0), bounds=(0, 1), min_samples=4, min_error=100
    )
    run(learner, 400)
    assert {len(samples) for samples in learner.samples.values()} == {4}
    plain = AverageLearner1D(lambda p: p[1] + noise(*p, 1.0), bounds=(0, 1), min_samples=4)
    run(plain, 400)
    assert max(len(samples) for samples in plain.samples.values()) > 4


def test_a_new_x_gets_neighbor_sampling_times_its_neighbours_samples():
    learner = AverageLearner1D(lambda p: p[1], bounds=(-1, 1), min_samples=5)
    # 200 samples at each bound, nearly noiseless: they need no resampling
    for bound in (-1.0, 1.0):
        learner.tell_many_at_point(bound, {s: bound + (-1) ** s * 1e-6 for s in range(200)})
    points, _ = learner.ask(61, tell_pending=False)
    assert points[:60] == [(seed, 0.0) for seed in range(60)]  # ceil(0.3 * 200)
    assert points[60][1] != 0.0
    dense = AverageLearner1D(lambda p: p[1], bounds=(-1, 1), min_samples=5, neighbor_sampling=0.5)
    dense.copy_from(learner)
    points, _ = dense.ask(101, tell_pending=False)
    assert [x for _, x in points].count(0.0) == 100


def test_ask_spreads_a_batch_and_never_repeats_a_seed():
    learner = AverageLearner1D(peak, bounds=(-1, 1), min_samples=5)
    run(learner, 300)
    points, improvements = learner.ask(40)
    assert len(set(points)) == 40
    assert len(improvements) == 40
    for seed, x in points:
        assert seed not in learner.samples.get(x, {})
    assert set(points) == learner.pending_points
    more, _ = learner.ask(40)
    assert not set(more) & set(points)


def test_seeds_fill_the_gaps_left_by_told_seeds():
    learner = AverageLearner1D(lambda p: 1.0, bounds=(0, 1), min_samples=6)
    learner.tell_many_at_point(0.0, {0: 1.0, 3: 1.0})
    points, _ = learner.ask(3)
    assert points == [(1, 0.0), (2, 0.0), (4, 0.0)]
    learner.tell((2, 0.0), 1.0)
    learner.remove_unfinished()
    assert learner.ask(2)[0] == [(1, 0.0), (4, 0.0)]


def test_improvements_are_infinite_until_the_spread_is_known():
    learner = AverageLearner1D(peak, bounds=(-1, 1), min_samples=5)
    _, improvements = learner.ask(2)
    assert improvements == [math.inf, math.inf]
    learner.remove_unfinished()
    run(learner, 200)
    _, improvements = learner.ask(5)
    assert all(0 < improvement < math.inf for improvement in improvements)


# ---- statistics ----------------------------------------------------------------------------------


def test_means_are_exact_and_do_not_depend_on_the_order_of_the_samples():
    values = [1e16, 1.0, -1e16, 0.1, 0.2, 0.3, 1e-300, 3.0]
    forward = AverageLearner1D(peak, bounds=(0, 1))
    backward = AverageLearner1D(peak, bounds=(0, 1))
    for seed, y in enumerate(values):
        forward.tell((seed, 0.5), y)
    for seed, y in reversed(list(enumerate(values))):
        backward.tell((seed, 0.5), y)
    exact = float(sum(Fraction(y) for y in values) / len(values))
    assert forward.data[0.5] == backward.data[0.5] == exact
    assert forward.error == backward.error


def test_error_is_the_student_t_confidence_interval():
    stats = pytest.importorskip("scipy.stats")
    learner = AverageLearner1D(peak, bounds=(-1, 1), alpha=0.05)
    values = [peak((seed, 0.25)) for seed in range(30)]
    learner.tell_many_at_point(0.25, dict(enumerate(values)))
    expected = stats.t.ppf(0.95, 29) * np.std(values, ddof=1) / math.sqrt(30)
    assert learner.error[0.25] == pytest.approx(expected, rel=1e-12)
    assert learner.data[0.25] == pytest.approx(np.mean(values), rel=1e-15)
    learner.tell((0, 0.75), 1.0)
    assert learner.error[0.75] == math.inf


def test_nan_samples_neither_crash_nor_stall():
    def broken(point):
        seed, x = point
        return math.nan if 0.2 < x < 0.45 else x**2 + noise(seed, x, 0.05)

    learner = AverageLearner1D(broken, bounds=(0, 1), min_samples=5)
    run(learner, 2000)
    nan_xs = [x for x, mean in learner.data.items() if math.isnan(mean)]
    assert nan_xs
    # an x whose mean is NaN gets no more samples after the first
    assert all(len(learner.samples[x]) == 1 for x in nan_xs)
    assert learner.npoints > len(nan_xs) + 5
    assert math.isfinite(learner.loss())
    # and a NaN among good samples makes that mean NaN and stops its sampling
    learner.tell((10_000, 1.0), math.nan)
    assert math.isnan(learner.data[1.0])
    assert all(x != 1.0 for _, x in learner.ask(20)[0])


def test_infinite_samples():
    learner = AverageLearner1D(peak, bounds=(0, 1), min_samples=2)
    learner.tell_many_at_point(0.0, {0: math.inf, 1: 1.0})
    learner.tell_many_at_point(1.0, {0: -math.inf, 1: math.inf})
    assert learner.data[0.0] == math.inf
    assert math.isnan(learner.data[1.0])
    points, _ = learner.ask(3)
    assert [x for _, x in points] == [0.5, 0.5, 0.25]


# ---- data in and out -----------------------------------------------------------------------------


def test_tell_many_at_point_equals_telling_each_sample():
    samples = {seed: peak((seed, 0.5)) for seed in (3, 0, 7, 1)}
    bulk = AverageLearner1D(peak, bounds=(0, 1))
    bulk.tell_many_at_point(0.5, samples)
    single = AverageLearner1D(peak, bounds=(0, 1))
    for seed, y in samples.items():
        single.tell((seed, 0.5), y)
    assert bulk.samples == single.samples == {0.5: samples}
    assert bulk.data == single.data
    assert bulk.nsamples == 4
    assert bulk.npoints == 1


def test_minus_zero_and_zero_are_one_x():
    learner = AverageLearner1D(peak, bounds=(-1, 1))
    learner.tell((0, -0.0), 1.0)
    learner.tell((0, 0.0), 2.0)
    learner.tell((1, 0.0), 3.0)
    assert learner.nsamples == 2
    assert learner.data == {0.0: 2.0}
    assert math.copysign(1.0, next(iter(learner.data))) == 1.0


def test_to_numpy_and_dataframe():
    pd = pytest.importorskip("pandas")
    learner = AverageLearner1D(peak, bounds=(-1, 1), min_samples=3)
    run(learner, 30)
    table = learner.to_numpy()
    assert table.shape == (30, 3)
    assert sorted(map(tuple, table.tolist())) == sorted(
        (seed, x, y) for x, samples in learner.samples.items() for seed, y in samples.items()
    )
    again = AverageLearner1D(peak, bounds=(-1, 1), min_samples=3)
    again.tell_many(table[:, :2], table[:, 2])  # float seeds that are whole numbers are fine
    assert again.samples == learner.samples
    means = learner.to_numpy(mean=True)
    assert means.tolist() == [[x, learner.data[x]] for x in sorted(learner.data)]

    df = learner.to_dataframe(seed_name="s", x_name="position", y_name="value")
    assert list(df.columns) == ["s", "position", "value", "function.sigma"]
    assert df["s"].dtype.kind == "i"
    mean_df = learner.to_dataframe(mean=True, with_default_function_args=False)
    assert list(mean_df.columns) == ["x", "y"]
    assert len(mean_df) == learner.npoints

    loaded = AverageLearner1D(peak, bounds=(-1, 1), min_samples=3)
    loaded.load_dataframe(df, seed_name="s", x_name="position", y_name="value")
    assert loaded.samples == learner.samples
    assert_same_learner(loaded, learner)
    assert isinstance(df, pd.DataFrame)


def test_empty_learner_data():
    learner = AverageLearner1D(peak, bounds=(-1, 1))
    assert learner.to_numpy().shape == (0, 3)
    assert learner.to_numpy(mean=True).shape == (0, 2)
    assert learner.min_samples_per_point == 0
    assert learner.loss() == math.inf
    assert learner.vdim == 1


def test_plot_returns_a_holoviews_overlay():
    hv = pytest.importorskip("holoviews")
    learner = AverageLearner1D(peak, bounds=(-1, 1), min_samples=4)
    assert isinstance(learner.plot(), hv.Overlay)
    run(learner, 50)
    plot = learner.plot()
    assert isinstance(plot, hv.Overlay)
    scatter, bars = plot
    assert len(scatter.data) == learner.npoints
    assert isinstance(bars, hv.ErrorBars)


# ---- runners -------------------------------------------------------------------------------------


def test_blocking_runner_reaches_a_loss_goal():
    learner = AverageLearner1D(
        lambda p: p[1] ** 3 + noise(*p, 0.05), bounds=(-1, 1), min_samples=10
    )
    BlockingRunner(learner, loss_goal=0.05, executor=SequentialExecutor())
    assert learner.loss() <= 0.05
    assert not learner.pending_points
    assert learner.npoints > 10


# ---- beyond the conformance suite: data holds means, samples hold the told points -------------

CASES_1D = [case for case in AVERAGE_CASES if case.id.startswith("AverageLearner1D")]
over_cases = pytest.mark.parametrize("case", CASES_1D, ids=[case.id for case in CASES_1D])


@over_cases
@pytest.mark.parametrize("batch", [1, 3])
def test_every_tell_adds_one_sample(case, batch):
    learner, told = case.make(), 0
    while told < case.max_points:
        points, improvements = learner.ask(batch)
        assert len(points) == len(improvements) == batch
        for point in reversed(points):
            learner.tell(point, case.value(learner, point))
            told += 1
            seed, x = learner.point_key(point)
            assert learner.nsamples == told
            assert seed in learner.samples[x]
            assert (seed, x) not in learner.pending_points
            assert learner.npoints == len(learner.data) == len(learner.samples)
    learner.tell(point, 123.0)  # telling a sample again changes nothing
    assert learner.nsamples == told
    assert not learner.pending_points


@over_cases
@settings(max_examples=15, derandomize=True, deadline=None)
@given(data=st.data())
def test_tell_order_independence_with_pending_points(case, data):
    pairs = collect_pairs(case, 120)
    pairs = pairs[: data.draw(st.integers(0, len(pairs)), label="n_told")]
    shuffled = [pairs[i] for i in data.draw(st.permutations(range(len(pairs))), label="order")]
    a, b = case.make(), case.make()
    for point, y in pairs:
        a.tell(point, y)
    for point, y in shuffled:
        b.tell(point, y)
    assert_same_learner(a, b)
    asked, _ = a.ask(5)
    for point in reversed(asked):
        b.tell_pending(point)
    assert_same_learner(a, b)


# ---- the incremental bookkeeping against a rebuild -----------------------------------------------


class IncrementalMatchesRebuild(RuleBasedStateMachine):
    """Random asks, tells (in any order), pending points and removals: the learner always equals
    one rebuilt from scratch from its samples and pending points."""

    loss_per_interval = None

    def __init__(self) -> None:
        super().__init__()
        self.learner = AverageLearner1D(
            lambda p: math.nan if p[1] == 0.75 else peak(p),
            bounds=(-1, 1),
            loss_per_interval=self.loss_per_interval,
            min_samples=2,
            max_samples=12,
            neighbor_sampling=0.9,
        )
        self.asked: list = []

    @rule(n=st.integers(1, 6))
    def ask(self, n):
        points, _ = self.learner.ask(n)
        assert len(set(points)) == len(points)
        self.asked.extend(points)

    @precondition(lambda self: self.asked)
    @rule(index=st.integers(0, 1000))
    def tell_one(self, index):
        point = self.asked.pop(index % len(self.asked))
        self.learner.tell(point, self.learner.function(point))

    @rule(seed=st.integers(0, 20), x=st.sampled_from([-0.6, 0.1, 0.75, 1.0]))
    def tell_unasked(self, seed, x):
        point = (seed, x)
        self.learner.tell(point, self.learner.function(point))
        if point in self.asked:
            self.asked.remove(point)

    @precondition(lambda self: self.asked)
    @rule(index=st.integers(0, 1000), seed=st.integers(100, 110))
    def tell_another_seed_at_a_pending_x(self, index, seed):
        _, x = self.asked[index % len(self.asked)]
        point = (seed, x)
        self.learner.tell(point, self.learner.function(point))
        if point in self.asked:
            self.asked.remove(point)

    @rule()
    def remove_unfinished(self):
        self.learner.remove_unfinished()
        self.asked.clear()

    @invariant()
    def equals_a_rebuild(self):
        learner = self.learner
        assert learner.pending_points == set(self.asked)
        rebuilt = AverageLearner1D(**learner._settings())
        rebuilt.tell_many_at_point(0.0, {})  # nothing: a rebuild needs no special case
        rebuilt._set_data(learner._get_data())
        for point in sorted(learner.pending_points):
            rebuilt.tell_pending(point)
        assert rebuilt.samples == learner.samples
        assert canonical(rebuilt.data) == canonical(learner.data)
        assert rebuilt.loss() == learner.loss()
        assert rebuilt.loss(real=False) == learner.loss(real=False)
        assert rebuilt.ask(4, tell_pending=False) == learner.ask(4, tell_pending=False)
        for point in learner.ask(6, tell_pending=False)[0]:
            seed, x = point
            assert point not in learner.pending_points
            assert seed not in learner.samples.get(x, {})


class IncrementalMatchesRebuildWithNeighbours(IncrementalMatchesRebuild):
    """The same with a loss that looks at neighbouring intervals (nth_neighbors=1)."""

    loss_per_interval = staticmethod(curvature_loss_function())


MACHINE_SETTINGS = settings(
    max_examples=30, stateful_step_count=25, derandomize=True, deadline=None
)
TestIncrementalMatchesRebuild = IncrementalMatchesRebuild.TestCase
TestIncrementalMatchesRebuild.settings = MACHINE_SETTINGS
TestIncrementalMatchesRebuildWithNeighbours = IncrementalMatchesRebuildWithNeighbours.TestCase
TestIncrementalMatchesRebuildWithNeighbours.settings = MACHINE_SETTINGS
