"""Unit tests of the Learner2D and its loss functions (the protocol is in test_conformance.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.interpolate import LinearNDInterpolator

from adaptive_runner.learners.learner2D import Learner2D
from adaptive_runner.learners.learner2D_losses import (
    areas,
    default_loss,
    deviations,
    minimize_triangle_surface_loss,
    resolution_loss_function,
    thresholded_loss_function,
    triangle_loss,
    uniform_loss,
)

SQUARE = [(-1, 1), (-1, 1)]


def ring(xy):
    x, y = xy
    return x + math.exp(-((x**2 + y**2 - 0.75**2) ** 2) / 0.2**4)


def run(learner, npoints, batch=1, function=None):
    function = function or learner.function
    while learner.npoints < npoints:
        points, _ = learner.ask(batch)
        for p in points:
            learner.tell(p, function(p))
    return learner


def probe_ip(values):
    points = np.array([(-0.5, -0.5), (0.5, -0.5), (-0.5, 0.5), (0.5, 0.5), (0.1, 0.2)])
    return LinearNDInterpolator(points, np.asarray(values, dtype=float))


# ---- loss functions ------------------------------------------------------------------------------
def test_areas_sum_to_the_domain():
    ip = probe_ip([0, 1, 2, 3, 4])
    assert areas(ip).sum() == pytest.approx(1.0)
    assert uniform_loss(ip) == pytest.approx(np.sqrt(areas(ip)))


def test_deviation_is_zero_for_a_plane_and_positive_for_a_bump():
    points = np.array([(-0.5, -0.5), (0.5, -0.5), (-0.5, 0.5), (0.5, 0.5), (0.1, 0.2)])
    plane = LinearNDInterpolator(points, 2 * points[:, 0] - points[:, 1] + 1)
    assert deviations(plane).shape == (1, len(plane.tri.simplices))
    assert np.allclose(deviations(plane), 0, atol=1e-12)
    assert default_loss(plane) == pytest.approx(0.3 * areas(plane))
    bump = probe_ip([0, 0, 0, 0, 1])
    assert deviations(bump).max() > 0.1
    assert np.all(default_loss(bump) >= 0.3 * areas(bump))


def test_vector_deviations_have_one_row_per_component():
    ip = probe_ip(np.array([[0, 1], [1, 1], [2, 1], [3, 1], [4, 5]]))
    assert deviations(ip).shape == (2, len(ip.tri.simplices))


def test_surface_loss_is_the_area_for_constant_values():
    flat = probe_ip([1, 1, 1, 1, 1])
    assert minimize_triangle_surface_loss(flat) == pytest.approx(areas(flat))
    steep = probe_ip([0, 1, 0, 1, 5])
    assert np.all(minimize_triangle_surface_loss(steep) > areas(steep))


def test_triangle_loss_vanishes_on_a_plane():
    points = np.array([(-0.5, -0.5), (0.5, -0.5), (-0.5, 0.5), (0.5, 0.5), (0.1, 0.2)])
    plane = LinearNDInterpolator(points, points[:, 0] + points[:, 1])
    assert triangle_loss(plane) == pytest.approx(0, abs=1e-6)  # sqrt of rounding noise
    assert triangle_loss(probe_ip([0, 0, 0, 0, 1])).max() > 0


def test_resolution_loss_bounds_the_triangle_size():
    ip = probe_ip([0, 1, 2, 3, 4])
    area = areas(ip)
    loss = resolution_loss_function(min_distance=0.4, max_distance=0.45)(ip)
    assert np.all(loss[area < 0.16] == 0)
    assert np.all(np.isinf(loss[area > 0.45**2]))
    with pytest.raises(ValueError, match="min_distance"):
        resolution_loss_function(min_distance=0.5, max_distance=0.1)


def test_thresholded_loss_deprioritizes_triangles_outside_the_band():
    ip = probe_ip([-5, -5, -5, -5, -6])
    loss = thresholded_loss_function(lower_threshold=0, priority_factor=0.1)(ip)
    assert loss == pytest.approx(0.1 * default_loss(ip))
    inside = thresholded_loss_function(lower_threshold=-10, upper_threshold=10)(ip)
    assert inside == pytest.approx(default_loss(ip))


@pytest.mark.parametrize(
    "loss",
    [
        default_loss,
        uniform_loss,
        minimize_triangle_surface_loss,
        triangle_loss,
        resolution_loss_function(min_distance=0.001),
        thresholded_loss_function(upper_threshold=0.9),
    ],
    ids=["default", "uniform", "surface", "triangle", "resolution", "thresholded"],
)
def test_every_builtin_loss_learns(loss):
    learner = run(Learner2D(ring, SQUARE, loss_per_triangle=loss), 60)
    assert learner.npoints == 60
    assert 0 < learner.loss() < math.inf


def test_local_losses_agree_with_their_global_form():
    """A learner using a built-in loss (local, incremental) and one using the same loss through
    a python-adaptive style wrapper (global, on the interpolator) pick the same points."""
    local = Learner2D(ring, SQUARE, loss_per_triangle=uniform_loss)

    def wrapped_uniform(ip):  # not the built-in object: the learner calls it on the whole mesh
        return uniform_loss(ip)

    wrapped = Learner2D(ring, SQUARE, loss_per_triangle=wrapped_uniform)
    for _ in range(30):
        (a,), _ = local.ask(1)
        (b,), _ = wrapped.ask(1)
        assert a == pytest.approx(b)
        local.tell(a, ring(a))
        wrapped.tell(b, ring(b))


def test_custom_python_adaptive_style_loss():
    seen = []

    def loss_per_triangle(ip):
        seen.append((ip.tri.points.copy(), np.asarray(ip.values).copy()))
        return np.sqrt(areas(ip)) * (1 + np.abs(ip.values[ip.tri.simplices]).mean(axis=1).ravel())

    learner = run(Learner2D(ring, [(0, 2), (10, 14)], loss_per_triangle=loss_per_triangle), 40)
    assert learner.npoints == 40
    points, values = seen[-1]
    # scaled coordinates (the unit square centred on 0) and unscaled values
    assert points.min() == pytest.approx(-0.5)
    assert points.max() == pytest.approx(0.5)
    assert values.shape[1] == 1
    assert learner.loss() < math.inf


# ---- asking --------------------------------------------------------------------------------------
def test_corners_first_and_loss_infinite_until_they_are_known():
    learner = Learner2D(ring, [(0, 2), (-1, 3)])
    points, improvements = learner.ask(4)
    assert points == [(0.0, -1.0), (0.0, 3.0), (2.0, -1.0), (2.0, 3.0)]
    assert improvements == [math.inf] * 4
    for p in points[:3]:
        learner.tell(p, ring(p))
        assert learner.loss() == math.inf
        assert not learner.bounds_are_done
    learner.tell(points[3], ring(points[3]))
    assert learner.bounds_are_done
    assert learner.loss() < math.inf


def test_first_points_make_a_grid():
    learner = Learner2D(ring, SQUARE)
    points, _ = learner.ask(9)
    assert sorted(points) == sorted((x, y) for x in (-1.0, 0.0, 1.0) for y in (-1.0, 0.0, 1.0))


def test_pending_points_spread_out():
    learner = run(Learner2D(ring, SQUARE), 50)
    points, _ = learner.ask(20)
    assert len(set(points)) == 20
    coords = np.array(points)
    distances = np.linalg.norm(coords[:, None] - coords[None], axis=-1)
    np.fill_diagonal(distances, np.inf)
    # 20 points asked at once stay apart (the mean spacing of 70 points in the square is ~0.24)
    assert distances.min() > 0.02
    # and asking never repeats a told or pending point
    more, _ = learner.ask(20)
    assert not set(more) & set(points)
    assert not set(more) & set(learner.data)


def test_ask_without_tell_pending_keeps_pending_points():
    learner = run(Learner2D(ring, SQUARE), 30)
    learner.ask(5)
    pending = set(learner.pending_points)
    first = learner.ask(4, tell_pending=False)
    assert learner.pending_points == pending
    assert learner.ask(4, tell_pending=False) == first
    assert learner.ask(4)[0] == first[0]


def test_remove_unfinished_restores_the_loss():
    learner = run(Learner2D(ring, SQUARE), 30)
    before = (learner.loss(), learner.loss(real=False))
    learner.ask(7)
    assert learner.loss() == pytest.approx(before[0])  # pending points do not count as real
    learner.remove_unfinished()
    assert not learner.pending_points
    assert (learner.loss(), learner.loss(real=False)) == pytest.approx(before)


def test_real_loss_with_pending_points_equals_the_loss_of_the_data_alone():
    learner = run(Learner2D(ring, SQUARE), 40, batch=4)
    learner.ask(6)
    alone = Learner2D(ring, SQUARE)
    alone.tell_many(list(learner.data), list(learner.data.values()))
    assert learner.loss() == alone.loss()


# ---- values --------------------------------------------------------------------------------------
def test_nan_and_inf_values_do_not_stall():
    def holes(xy):
        x, y = xy
        if x > 0.5:
            return math.nan
        if x < -0.5 and y < -0.5:
            return math.inf
        return x * y

    learner = run(Learner2D(holes, SQUARE), 200)
    assert learner.npoints == 200
    assert math.isfinite(learner.loss())
    finite = [k for k, v in learner.data.items() if math.isfinite(v)]
    # most samples go where the function is finite
    assert len(finite) > 100
    assert learner.interpolated_on_grid(5)[2].shape == (5, 5)


def test_vector_output():
    def f(xy):
        x, y = xy
        return np.array([x + y, math.exp(-(x**2 + y**2) / 0.1), 1.0])

    learner = run(Learner2D(f, SQUARE), 80)
    assert learner.vdim == 3
    assert learner.to_numpy().shape == (80, 5)
    values = learner.interpolated_on_grid(7)[2]
    assert values.shape == (7, 7, 3)
    assert values[3, 3, 2] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="length 3"):
        learner.tell((0.123, 0.456), np.array([1.0, 2.0]))


def test_interpolated_on_grid_is_exact_for_a_plane():
    learner = run(Learner2D(lambda xy: 3 * xy[0] - xy[1], [(0, 1), (0, 2)]), 30)
    xs, ys, values = learner.interpolated_on_grid(11)
    assert (xs[0], xs[-1], ys[-1]) == (0, 1, 2)
    assert values == pytest.approx(3 * xs[:, None] - ys[None, :])
    assert learner.interpolated_on_grid()[2].ndim == 2
    assert learner.ip()(0, 0) == pytest.approx(learner.interpolator()(0.5, 1.0))


def test_dataframe_column_names():
    pytest.importorskip("pandas")
    learner = run(Learner2D(ring, SQUARE), 12)
    df = learner.to_dataframe(x_name="a", y_name="b", z_name="c")
    assert list(df.columns) == ["a", "b", "c"]
    other = Learner2D(ring, SQUARE)
    other.load_dataframe(df, x_name="a", y_name="b", z_name="c")
    assert other.data == learner.data


def test_plot_returns_holoviews():
    hv = pytest.importorskip("holoviews")
    learner = Learner2D(ring, SQUARE)
    assert isinstance(learner.plot(), hv.Image)  # empty learner
    run(learner, 30)
    assert isinstance(learner.plot(n=10), hv.Image)
    assert isinstance(learner.plot(tri_alpha=0.5), hv.Overlay)
    vector = run(Learner2D(lambda xy: np.array([xy[0], xy[1]]), SQUARE), 20)
    assert isinstance(vector.plot(n=10), hv.HoloMap)


# ---- bad inputs ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "bounds",
    [
        [(0, 0), (0, 1)],
        [(1, 0), (0, 1)],
        [(0, math.inf), (0, 1)],
        [(0, math.nan), (0, 1)],
        [(0, 1)],
        [(0, 1, 2), (0, 1)],
        "square",
    ],
)
def test_bad_bounds_are_named(bounds):
    with pytest.raises(ValueError, match="bounds"):
        Learner2D(ring, bounds)


def test_bad_function_and_loss_are_named():
    with pytest.raises(TypeError, match="function"):
        Learner2D(42, SQUARE)
    with pytest.raises(TypeError, match="loss_per_triangle"):
        Learner2D(ring, SQUARE, loss_per_triangle="default")


def test_bad_points_and_n_are_named():
    learner = Learner2D(ring, SQUARE)
    with pytest.raises(ValueError, match="point"):
        learner.tell((0.0, 0.0, 0.0), 1.0)
    with pytest.raises(ValueError, match="point"):
        learner.tell(0.5, 1.0)
    with pytest.raises(ValueError, match="outside the bounds"):
        learner.tell((2.0, 0.0), 1.0)
    with pytest.raises(ValueError, match=r"\bn\b"):
        learner.ask(-1)
    assert learner.ask(0) == ([], [])


# ---- running -------------------------------------------------------------------------------------
def test_blocking_runner_reaches_a_loss_goal():
    from adaptive_runner import BlockingRunner, SequentialExecutor

    learner = Learner2D(ring, SQUARE)
    BlockingRunner(learner, loss_goal=0.01, executor=SequentialExecutor())
    assert learner.loss() <= 0.01
    assert learner.npoints > 50
    assert not learner.pending_points
