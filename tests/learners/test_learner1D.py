"""Learner1D: choosing points, losses, scaling, NaN/inf, vector output, bad inputs.

The protocol itself (pickling, DataFrames, tell order, ...) is covered by the conformance suite;
the hypothesis state machine at the end checks the incremental bookkeeping against a learner
rebuilt from scratch after every step.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import adaptive_runner as adaptive
from adaptive_runner.learner.learner1D import (
    abs_min_log_loss,
    curvature_loss_function,
    default_loss,
    finite_loss,
    loss_manager,
    resolution_loss_function,
    triangle_loss,
    uniform_loss,
    uses_nth_neighbors,
)
from adaptive_runner.learners.base import SCALE_STEPS_PER_OCTAVE
from adaptive_runner.learners.sorted_floats import SortedFloats

Learner1D = adaptive.Learner1D
ROUNDING = 2 ** (1 / SCALE_STEPS_PER_OCTAVE)  # the largest factor between y scale and spread


def peak(x, a=0.01):
    return x + a**2 / (a**2 + x**2)


def run(learner: Learner1D, npoints: int, f=None, batch: int = 1) -> None:
    f = f or learner.function
    while learner.npoints < npoints:
        points, _ = learner.ask(batch)
        assert points, "the learner stopped giving points"
        for x in points:
            learner.tell(x, f(x))


# ---- bad inputs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bounds",
    [(1, 0), (0, 0), (0, math.inf), (-math.inf, 0), (math.nan, 1), (0,), "ab", None, (0, "x")],
)
def test_bad_bounds_fail_at_construction_naming_them(bounds):
    with pytest.raises(ValueError, match="bounds"):
        Learner1D(abs, bounds=bounds)


def test_function_must_be_callable():
    with pytest.raises(TypeError, match="function must be callable"):
        Learner1D(3.0, bounds=(0, 1))


def test_loss_must_be_callable():
    with pytest.raises(TypeError, match="loss_per_interval"):
        Learner1D(abs, bounds=(0, 1), loss_per_interval="default")


@pytest.mark.parametrize("n", [-1, 1.5, "2", None])
def test_ask_rejects_bad_n(n):
    with pytest.raises((ValueError, TypeError), match="n"):
        Learner1D(abs, bounds=(0, 1)).ask(n)


def test_ask_zero_gives_nothing():
    assert Learner1D(abs, bounds=(0, 1)).ask(0) == ([], [])


@pytest.mark.parametrize("x", [-0.1, 1.1, math.nan])
def test_tell_outside_bounds_fails_and_keeps_data(x):
    learner = Learner1D(abs, bounds=(0, 1))
    learner.tell(0.5, 0.5)
    with pytest.raises(ValueError, match="outside the bounds"):
        learner.tell(x, 1.0)
    assert learner.data == {0.5: 0.5}


def test_tell_rejects_non_numbers_and_mixed_value_shapes():
    learner = Learner1D(abs, bounds=(0, 1))
    with pytest.raises(ValueError, match="numbers"):
        learner.tell("0.5", 1.0)
    learner.tell(0.5, [1.0, 2.0])
    with pytest.raises(ValueError, match="length 2"):
        learner.tell(0.25, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="length 2"):
        learner.tell(0.75, 1.0)
    assert list(learner.data) == [0.5]


def test_bad_resolution_and_nth_neighbors_arguments():
    with pytest.raises(ValueError, match="min_length"):
        resolution_loss_function(min_length=0.5, max_length=0.1)
    with pytest.raises(ValueError, match="n must be"):
        uses_nth_neighbors(-1)


# ---- choosing points -----------------------------------------------------------------------------


def test_bounds_come_first_one_by_one():
    learner = Learner1D(peak, bounds=(-2, 3))
    first, improvement_first = learner.ask(1)
    second, improvement_second = learner.ask(1)
    assert first + second == [-2.0, 3.0]
    assert improvement_first == improvement_second == [math.inf]


def test_empty_learner_asked_for_many_gives_linspace():
    points, improvements = Learner1D(peak, bounds=(-1, 1)).ask(5)
    assert points == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert all(math.isinf(i) for i in improvements)


def test_loss_is_infinite_until_both_bounds_are_known():
    learner = Learner1D(lambda x: x, bounds=(0, 1))
    learner.tell_many([0.0, 0.2, 0.5, 0.7, 0.9], [0.0, 0.2, 0.5, 0.7, 0.9])
    assert learner.loss() == math.inf
    assert learner.ask(1)[0] == [1.0]  # the missing bound is asked before anything else
    learner.tell(1.0, 1.0)
    assert math.isfinite(learner.loss())


def test_pending_points_split_an_interval_into_equal_parts():
    learner = Learner1D(lambda x: x, bounds=(0, 1))
    learner.tell_many([0.0, 1.0], [0.0, 1.0])
    points, improvements = learner.ask(3)
    assert points == [0.5, 0.25, 0.75]
    loss = math.sqrt(2)
    assert improvements == pytest.approx([loss / 2, loss / 4, loss / 4])
    assert learner.pending_points == {0.25, 0.5, 0.75}
    # counted as split into four: the combined loss is a quarter of the real one
    assert learner.loss(real=False) == pytest.approx(loss / 4)
    assert learner.loss() == pytest.approx(loss)


def test_many_points_at_once_are_distinct_and_spread():
    learner = Learner1D(peak, bounds=(-1, 1))
    run(learner, 20)
    points, _ = learner.ask(200)
    assert len(set(points)) == 200
    assert not set(points) & set(learner.data)
    # no point lands closer to another than a thousandth of the smallest told interval
    everything = sorted([*points, *learner.data])
    assert min(np.diff(everything)) > 0


def test_ask_without_tell_pending_leaves_the_learner_unchanged():
    learner = Learner1D(peak, bounds=(-1, 1))
    run(learner, 30)
    before = learner.losses_combined.as_dict()
    first = learner.ask(4, tell_pending=False)
    assert learner.pending_points == set()
    assert learner.losses_combined.as_dict() == before
    assert learner.ask(4, tell_pending=False) == first


def test_the_peak_gets_the_points():
    learner = Learner1D(peak, bounds=(-1, 1))
    run(learner, 200)
    xs = np.array(sorted(learner.data))
    near_peak = np.count_nonzero(np.abs(xs) < 0.05)
    assert near_peak > 0.25 * len(xs)  # 2.5% of the domain holds over a quarter of the points


def test_bounds_a_few_floats_wide_never_give_duplicates():
    high = float(np.nextafter(np.nextafter(1.0, 2), 2))
    points, improvements = Learner1D(abs, bounds=(1.0, high)).ask(10)
    assert points == [1.0, float(np.nextafter(1.0, 2)), high]
    assert len(improvements) == 3


def test_an_interval_at_floating_point_resolution_is_not_split_forever():
    low = 1.0
    high = np.nextafter(np.nextafter(low, 2), 2)  # two ulps: exactly one float between
    learner = Learner1D(lambda x: 0.0 if x < 1 + 1e-16 else 1.0, bounds=(low, high))
    run(learner, 3)
    assert learner.ask(5) == ([], [])


# ---- losses --------------------------------------------------------------------------------------


def test_two_points_on_the_diagonal_have_loss_sqrt2():
    learner = Learner1D(lambda x: x, bounds=(0, 1))
    learner.tell(0.0, 0.0)
    learner.tell(1.0, 1.0)
    assert learner.loss() == pytest.approx(math.sqrt(2))
    assert learner.losses[(0.0, 1.0)] == pytest.approx(math.sqrt(2))


def test_default_and_uniform_loss_values():
    assert default_loss((0.0, 0.3), (0.0, 0.4)) == pytest.approx(0.5)
    assert default_loss((0.0, 0.3), (np.array([0.0, 1.0]), np.array([0.4, 1.1]))) == (
        pytest.approx(0.5)
    )
    assert uniform_loss((0.25, 0.5), (7.0, -3.0)) == 0.25


def test_abs_min_log_loss_resolves_zeros():
    # log|y| spreads apart near a zero of y, so an interval there has the larger loss
    near_zero = abs_min_log_loss((0.0, 0.1), (1e-6, 1e-3))
    far_from_zero = abs_min_log_loss((0.0, 0.1), (1.0, 1.001))
    assert near_zero > 5 > far_from_zero
    assert near_zero == pytest.approx(math.hypot(0.1, math.log(1e-3) - math.log(1e-6)))
    assert math.isfinite(abs_min_log_loss((0.0, 0.1), (0.0, 1.0)))


def test_triangle_loss_measures_bending():
    straight = triangle_loss((0.0, 0.1, 0.2, 0.3), (0.0, 0.1, 0.2, 0.3))
    bent = triangle_loss((0.0, 0.1, 0.2, 0.3), (0.0, 0.1, 0.0, 0.1))
    assert straight == pytest.approx(0.0, abs=1e-15)
    # two triangles with base 0.2 and height 0.1, area 0.01 each
    assert bent == pytest.approx(0.01)
    # at the edge only the existing neighbour counts; with none, the width is used
    assert triangle_loss((None, 0.1, 0.2, 0.3), (None, 0.1, 0.0, 0.1)) == pytest.approx(0.01)
    assert triangle_loss((None, 0.1, 0.3, None), (None, 0.1, 0.0, None)) == pytest.approx(0.2)


def test_curvature_loss_combines_its_parts():
    xs, ys = (0.0, 0.1, 0.2, 0.3), (0.0, 0.1, 0.0, 0.1)
    loss = curvature_loss_function(area_factor=2, euclid_factor=0.5, horizontal_factor=3)
    expected = (
        2 * math.sqrt(triangle_loss(xs, ys))
        + 0.5 * default_loss(xs[1:3], ys[1:3])
        + 3 * (xs[2] - xs[1])
    )
    assert loss(xs, ys) == pytest.approx(expected)
    assert loss.nth_neighbors == 1


def test_resolution_loss_bounds_the_interval_sizes():
    loss = resolution_loss_function(min_length=0.01, max_length=0.2)
    assert loss((0.0, 0.005), (0.0, 10.0)) == 0
    assert loss((0.0, 0.3), (0.0, 0.0)) == math.inf
    assert loss((0.0, 0.1), (0.0, 0.1)) == pytest.approx(default_loss((0.0, 0.1), (0.0, 0.1)))
    learner = Learner1D(peak, bounds=(-1, 1), loss_per_interval=loss)
    run(learner, 12)
    assert np.diff(sorted(learner.data)).max() / 2 <= 0.2  # no interval left above max_length
    while learner.loss() > 0:
        run(learner, learner.npoints + 1)
    widths = np.diff(sorted(learner.data)) / 2  # scaled by the bounds' width
    # every interval got below min_length, and none was split once it was there
    assert widths.max() < 0.01
    assert widths.min() >= 0.01 / 2


def test_custom_loss_gets_neighbours_with_none_padding():
    calls = []

    @uses_nth_neighbors(2)
    def recording_loss(xs, ys):
        calls.append((xs, ys))
        return xs[3] - xs[2]

    learner = Learner1D(lambda x: 2 * x, bounds=(0, 4), loss_per_interval=recording_loss)
    assert learner.nth_neighbors == 2
    learner.tell_many([0, 1, 2, 3, 4], [0, 2, 4, 6, 8])
    assert {len(xs) for xs, _ in calls} == {6}
    scaled = {xs[2:4]: (xs, ys) for xs, ys in calls}
    xs, ys = scaled[(0.0, 0.25)]
    assert xs == (None, None, 0.0, 0.25, 0.5, 0.75)
    assert ys == (None, None, 0.0, 0.25, 0.5, 0.75)  # y scaled by the spread, 8
    xs, _ = scaled[(0.5, 0.75)]
    assert xs == (0.0, 0.25, 0.5, 0.75, 1.0, None)


def test_plain_user_loss_without_the_decorator_works():
    def width_squared(xs, ys):
        return (xs[1] - xs[0]) ** 2

    learner = Learner1D(peak, bounds=(-1, 1), loss_per_interval=width_squared)
    run(learner, 33)
    assert learner.nth_neighbors == 0
    # a loss that only depends on the width samples a uniform grid
    assert sorted(learner.data) == pytest.approx(np.linspace(-1, 1, 33).tolist())


def test_finite_loss_and_loss_manager_order():
    assert finite_loss((0.0, 0.5), math.inf, x_scale=2.0) == 0.25
    assert finite_loss((0.0, 0.5), 0.1 + 0.2, x_scale=1.0) == finite_loss((0.0, 0.5), 0.3, 1.0)
    manager = loss_manager(1.0)
    manager[(0.0, 0.1)] = 0.5
    manager[(0.1, 0.3)] = 0.5  # ties go to the wider interval
    manager[(0.3, 0.4)] = math.inf  # infinite first
    manager[(0.4, 0.45)] = math.inf
    manager[(0.45, 0.5)] = 0.9
    manager[(0.5, 0.6)] = 0.5
    assert [interval for interval, _ in manager.items()] == [
        (0.3, 0.4),
        (0.4, 0.45),
        (0.45, 0.5),
        (0.1, 0.3),
        (0.0, 0.1),
        (0.5, 0.6),
    ]
    manager[(0.3, 0.4)] = 0.1  # replacing a loss moves the interval
    del manager[(0.4, 0.45)]
    assert manager.peekitem(0) == ((0.45, 0.5), 0.9)
    assert len(manager) == 5
    assert manager.peekitem(4) == ((0.3, 0.4), 0.1)


# ---- scaling -------------------------------------------------------------------------------------


def test_y_scale_follows_the_spread_of_the_values():
    learner = Learner1D(lambda x: x, bounds=(0, 1))
    assert learner.y_scale == 1
    learner.tell_many([0.0, 1.0], [3.0, 3.0])
    assert learner.y_scale == 1  # no spread yet
    learner.tell(0.5, 1003.0)
    assert 1000 <= learner.y_scale <= 1000 * ROUNDING


@pytest.mark.parametrize("factor", [1e-6, 3.7, 1e9])
def test_multiplying_the_function_changes_losses_by_at_most_the_rounding(factor):
    xs = np.linspace(-1, 1, 50).tolist()
    plain = Learner1D(peak, bounds=(-1, 1))
    plain.tell_many(xs, [peak(x) for x in xs])
    scaled = Learner1D(lambda x: factor * peak(x), bounds=(-1, 1))
    scaled.tell_many(xs, [factor * peak(x) for x in xs])
    ratios = [scaled.losses[i] / plain.losses[i] for i in plain.losses.as_dict()]
    assert max(ratios) <= ROUNDING
    assert min(ratios) >= 1 / ROUNDING


def test_a_power_of_two_factor_samples_exactly_the_same_points():
    plain = Learner1D(peak, bounds=(-1, 1))
    scaled = Learner1D(lambda x: 1024 * peak(x), bounds=(-1, 1))
    run(plain, 150)
    run(scaled, 150)
    assert sorted(plain.data) == sorted(scaled.data)


def test_rescaling_is_amortized_not_per_point():
    class CountingLearner1D(Learner1D):
        full_recomputations = 0

        def _recompute_all(self):
            type(self).full_recomputations += 1
            super()._recompute_all()

    # the range keeps growing, by a factor of 1e11 over the run, as a pole is approached
    learner = CountingLearner1D(lambda x: 1 / (abs(x - 0.3137) + 1e-12), bounds=(0, 1))
    run(learner, 2000)
    assert learner.y_scale > 1e11
    assert 1 < CountingLearner1D.full_recomputations < 2000 / 20


# ---- NaN, inf and vector output ------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_do_not_crash_or_stall(bad):
    def f(x):
        return bad if 0.2 < x < 0.4 else math.sin(10 * x)

    learner = Learner1D(f, bounds=(0, 1))
    run(learner, 300)
    xs = np.array(sorted(learner.data))
    bad_xs = xs[(xs > 0.2) & (xs < 0.4)]
    assert 0 < len(bad_xs) < 0.5 * len(xs)  # sampled, but the rest of the domain goes on
    assert math.isfinite(learner.loss())
    assert np.all(np.isfinite([learner.losses[i] for i in learner.losses.as_dict()]))
    assert learner.y_scale == pytest.approx(2, rel=0.1)  # the spread ignores non-finite values


def test_all_nan_function_samples_uniformly():
    learner = Learner1D(lambda x: math.nan, bounds=(0, 1))
    run(learner, 17)
    assert sorted(learner.data) == pytest.approx(np.linspace(0, 1, 17).tolist())
    assert learner.loss() == pytest.approx(1 / 16)


def test_a_loss_returning_nan_falls_back_to_the_width():
    learner = Learner1D(abs, bounds=(0, 1), loss_per_interval=lambda xs, ys: math.nan)
    learner.tell_many([0.0, 0.25, 1.0], [0.0, 0.25, 1.0])
    assert learner.losses[(0.25, 1.0)] == 0.75
    assert learner.ask(1)[0] == [0.625]


def test_vector_output():
    def f(x):
        return np.array([math.sin(3 * x), 100 * x, -x])

    learner = Learner1D(f, bounds=(0, 1))
    run(learner, 40)
    assert learner.vdim == 3
    table = learner.to_numpy()
    assert table.shape == (40, 4)
    assert np.all(np.diff(table[:, 0]) > 0)
    np.testing.assert_allclose(table[:, 1:], [f(x) for x in table[:, 0]])
    # the largest component of the scaled difference decides; here the linear one, 100 x
    a, b = table[0, 0], table[1, 0]
    assert learner.losses[(a, b)] == pytest.approx(math.hypot(b - a, 100 * (b - a) / 100), rel=0.05)
    df = learner.to_dataframe(with_default_function_args=False)
    assert list(df.columns) == ["x", "y_0", "y_1", "y_2"]


def test_vector_with_nan_component_is_not_finite():
    learner = Learner1D(lambda x: np.array([x, math.nan if x == 0.5 else x]), bounds=(0, 1))
    learner.tell_many([0.0, 0.5, 1.0], [learner.function(x) for x in (0.0, 0.5, 1.0)])
    assert learner.losses[(0.0, 0.5)] == 0.5  # width: one end is not finite


def test_to_numpy_interpolate_and_plot():
    learner = Learner1D(lambda x: x**2, bounds=(0, 2))
    learner.tell_many([2.0, 0.0, 1.0], [4.0, 0.0, 1.0])
    assert learner.to_numpy().tolist() == [[0.0, 0.0], [1.0, 1.0], [2.0, 4.0]]
    assert learner.interpolate(1.5) == pytest.approx(2.5)
    hv = pytest.importorskip("holoviews")
    (scatter,) = learner.plot()
    assert isinstance(scatter, hv.Scatter)
    assert scatter.data.tolist() == [[0.0, 0.0], [1.0, 1.0], [2.0, 4.0]]
    (curve,) = learner.plot(scatter_or_line="line")
    assert isinstance(curve, hv.Curve)
    with pytest.raises(ValueError, match="scatter_or_line"):
        learner.plot(scatter_or_line="bars")


def test_vector_plot_overlays_the_components():
    hv = pytest.importorskip("holoviews")
    learner = Learner1D(lambda x: np.array([x, 2 * x]), bounds=(0, 1))
    learner.tell_many([0.0, 1.0], [[0.0, 0.0], [1.0, 2.0]])
    overlay = learner.plot()
    assert isinstance(overlay, hv.Overlay)
    assert [element.data[:, 1].tolist() for element in overlay] == [[0.0, 1.0], [0.0, 2.0]]


def test_runner_fills_the_learner_to_the_loss_goal():
    learner = Learner1D(peak, bounds=(-1, 1))
    adaptive.BlockingRunner(learner, loss_goal=0.02, executor=adaptive.SequentialExecutor())
    assert learner.loss() <= 0.02
    assert not learner.pending_points


# ---- the sorted container ------------------------------------------------------------------------


@given(st.lists(st.floats(-1e6, 1e6), unique=True, max_size=1500), st.data())
@settings(max_examples=40, deadline=None)
def test_sorted_floats_matches_a_sorted_list(values, data):
    container = SortedFloats()
    reference: list[float] = []
    for value in values:
        container.add(value)
        reference.append(value)
    removed = data.draw(st.lists(st.sampled_from(values), unique=True) if values else st.just([]))
    for value in removed:
        container.remove(value)
        reference.remove(value)
    reference.sort()
    assert list(container) == reference
    assert len(container) == len(reference)
    probe = data.draw(st.floats(-2e6, 2e6))
    below = [v for v in reference if v < probe]
    above = [v for v in reference if v > probe]
    assert container.prev(probe) == (below[-1] if below else None)
    assert container.next(probe) == (above[0] if above else None)
    assert list(container.irange(-probe, probe)) == [v for v in reference if -probe <= v <= probe]
    with pytest.raises(KeyError):
        container.remove(3e6)


# ---- any interleaving keeps the invariants -------------------------------------------------------


def fresh_copy(learner: Learner1D) -> Learner1D:
    """The same data and pending points, bookkeeping rebuilt from scratch."""
    copy = Learner1D(learner.function, learner.bounds, learner.loss_per_interval)
    copy.tell_many(list(learner.data), list(learner.data.values()))
    for x in sorted(learner.pending_points):
        copy.tell_pending(x)
    return copy


def f_with_nan(x):
    return math.nan if 0.6 < x < 0.65 else math.sin(7 * x) + x**2


class Learner1DMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.learner = Learner1D(f_with_nan, bounds=(0, 1))

    @rule(n=st.integers(0, 6), tell_pending=st.booleans())
    def ask(self, n, tell_pending):
        known = set(self.learner.data) | set(self.learner.pending_points)
        points, improvements = self.learner.ask(n, tell_pending=tell_pending)
        assert len(points) == len(set(points)) == len(improvements)
        assert not set(points) & known

    @precondition(lambda self: self.learner.pending_points)
    @rule(data=st.data())
    def tell_a_pending_point(self, data):
        x = data.draw(st.sampled_from(sorted(self.learner.pending_points)))
        self.learner.tell(x, f_with_nan(x))

    @rule(x=st.floats(0, 1))
    def tell_pending_anywhere(self, x):
        self.learner.tell_pending(x)

    @rule(x=st.floats(0, 1))
    def tell_anywhere(self, x):
        self.learner.tell(x, f_with_nan(x))

    @rule()
    def remove_unfinished(self):
        self.learner.remove_unfinished()
        assert not self.learner.pending_points

    @invariant()
    def bookkeeping_matches_a_rebuilt_learner(self):
        learner = self.learner
        assert not set(learner.data) & learner.pending_points
        rebuilt = fresh_copy(learner)
        assert learner.losses.as_dict() == rebuilt.losses.as_dict()
        assert learner.losses_combined.as_dict() == pytest.approx(
            rebuilt.losses_combined.as_dict(), rel=1e-12
        )
        everything = sorted([*learner.data, *learner.pending_points])
        splittable = {(a, b) for a, b in itertools.pairwise(everything) if a < (a + b) / 2 < b}
        assert set(learner.losses_combined.as_dict()) == splittable

    @invariant()
    def loss_is_finite_once_the_bounds_are_known(self):
        learner = self.learner
        if all(bound in learner.data for bound in learner.bounds):
            assert math.isfinite(learner.loss())
            assert math.isfinite(learner.loss(real=False))
        else:
            assert learner.loss() == math.inf


Learner1DMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None
)
test_learner1d_interleavings = Learner1DMachine.TestCase
