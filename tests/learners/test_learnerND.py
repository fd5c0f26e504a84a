"""Tests of the LearnerND (the conformance suite runs on it too, see cases_learnernd.py)."""

from __future__ import annotations

import itertools
import math
import pickle
import subprocess
import sys

import numpy as np
import pytest
from scipy.interpolate import LinearNDInterpolator
from scipy.spatial import ConvexHull

from adaptive_runner.learners.learnerND import LearnerND
from adaptive_runner.learners.learnerND_losses import (
    curvature_loss_function,
    default_loss,
    std_loss,
    triangle_loss,
    uniform_loss,
    uses_nth_neighbors,
)


def ring(xy, width=0.2):
    x, y = xy
    return x + math.exp(-((x**2 + y**2 - 0.75**2) ** 2) / width**4)


def run(learner, npoints, batch=1):
    while learner.npoints < npoints:
        points, _ = learner.ask(batch)
        for point in points:
            learner.tell(point, learner.function(point))


def interpolation_error(learner, function, size=101):
    points = np.array(list(learner.data))
    values = np.array(list(learner.data.values()))
    grid = np.array(list(itertools.product(np.linspace(-1, 1, size), repeat=2)))
    approximation = LinearNDInterpolator(points, values)(grid)
    return float(np.mean(np.abs(approximation - [function(p) for p in grid])))


# ---- the loss functions: python-adaptive's values (measured on adaptive 1.5.2) ----------------
TRIANGLE = [(0, 0), (1, 0), (0, 1)]


def test_loss_functions_match_python_adaptive():
    assert default_loss(TRIANGLE, [0, 0, 1], 1.0) == pytest.approx(0.7071067811865475)
    assert default_loss(TRIANGLE, [0, 1, 3], 1.0) == pytest.approx(1.6583123951777001)
    assert default_loss(TRIANGLE, np.array([[0, 0], [0, 1], [1, 0]]), 1.0) == pytest.approx(1.0)
    assert uniform_loss(TRIANGLE, [0, 0, 1], 1.0) == pytest.approx(0.5)
    assert std_loss(TRIANGLE, [0, 0, 1], 1.0) == pytest.approx(0.8333333333333334)
    assert std_loss(TRIANGLE, [0, 1, 3], 1.0) == pytest.approx(1.3819171036881968)
    assert std_loss(TRIANGLE, np.array([[0, 0], [0, 1], [1, 0]]), 1.0) == pytest.approx(
        0.9714045207910317
    )
    neighbours, values = [(1, 1), (-1, -1)], [3, 0.5]
    assert triangle_loss(TRIANGLE, [0, 0, 1], 1.0, neighbours, values) == pytest.approx(
        0.29166666666666663
    )
    assert triangle_loss(TRIANGLE, [0, 0, 1], 1.0, [None, (-1, -1)], [None, 0.5]) == 0.25
    assert triangle_loss(TRIANGLE, [0, 0, 1], 1.0, [None, None], [None, None]) == 0
    curvature = curvature_loss_function(0.05)
    assert curvature.nth_neighbors == 1
    assert curvature(TRIANGLE, [0, 0, 0], 1.0, [(1, 1)], [1]) == pytest.approx(0.6506003663079277)
    tetrahedron = [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1)]
    assert curvature_loss_function(1)(
        tetrahedron, [0, 0, 0, 0], 1.0, [(1, 1, 1)], [0]
    ) == pytest.approx(0.5503212081491045)
    with pytest.raises(ValueError, match="exploration"):
        curvature_loss_function(-1)


# ---- asking and telling -----------------------------------------------------------------------
def test_corners_come_first_and_tri_appears_when_they_are_known():
    learner = LearnerND(ring, bounds=[(-1, 1), (-1, 1)])
    assert learner.tri is None
    assert learner.loss() == math.inf
    points, improvements = learner.ask(6)
    assert points[:4] == [(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)]
    assert improvements == [math.inf] * 6
    assert len(set(points)) == 6
    assert not learner.bounds_are_done
    for point in points:
        learner.tell(point, ring(point))
    assert learner.bounds_are_done
    assert learner.tri is not None
    assert math.isfinite(learner.loss())


def test_learns_the_ring_better_than_a_grid():
    learner = LearnerND(ring, bounds=[(-1, 1), (-1, 1)])
    run(learner, 400)
    grid_points = list(itertools.product(np.linspace(-1, 1, 20), repeat=2))
    grid = LearnerND(ring, bounds=[(-1, 1), (-1, 1)])
    grid.tell_many(grid_points, [ring(p) for p in grid_points])
    assert interpolation_error(learner, ring) < 0.7 * interpolation_error(grid, ring)
    # the samples crowd around the ring
    radii = np.hypot(*np.array(list(learner.data)).T)
    assert np.mean(np.abs(radii - 0.75) < 0.15) > 0.3


def test_loss_decreases_and_points_stay_in_bounds():
    learner = LearnerND(ring, bounds=[(-1, 2), (0, 0.5)])
    run(learner, 60)
    early = learner.loss()
    run(learner, 300)
    assert learner.loss() < early
    assert all(learner.inside_bounds(p) for p in learner.data)


def test_pending_points_divide_the_loss():
    learner = LearnerND(ring, bounds=[(-1, 1), (-1, 1)])
    run(learner, 30)
    points, improvements = learner.ask(10)
    assert len(set(points)) == 10
    assert all(0 < i < math.inf for i in improvements)
    assert learner.pending_points == set(points)
    assert learner.loss(real=False) <= learner.loss()
    for point in points:
        learner.tell(point, ring(point))
    assert not learner.pending_points


def test_ask_without_tell_pending_and_remove_unfinished_restore_the_state():
    learner = LearnerND(ring, bounds=[(-1, 1), (-1, 1)])
    run(learner, 40)
    before = learner.ask(5, tell_pending=False)
    assert learner.ask(5, tell_pending=False) == before
    assert not learner.pending_points
    learner.ask(7)
    learner.remove_unfinished()
    assert learner.ask(5, tell_pending=False) == before


def test_updates_are_local():
    """After the start, one ask + tell evaluates the loss of a bounded number of simplices."""
    calls = []

    def counting_loss(simplex, values, value_scale):
        calls.append(1)
        return default_loss(simplex, values, value_scale)

    learner = LearnerND(lambda xy: xy[0] ** 2 + xy[1], [(-1, 1), (-1, 1)], counting_loss)
    run(learner, 300)
    counts = []
    for _ in range(50):
        calls.clear()
        run(learner, learner.npoints + 1)
        counts.append(len(calls))
    # the value scale never changes here (the extremes are the corners), so no global pass
    assert max(counts) < 40


def test_tell_order_does_not_matter_on_a_grid():
    """Many cocircular points: the learner is the same whatever order they are told in."""
    points = list(itertools.product(np.linspace(-1, 1, 7).tolist(), repeat=2))
    values = [ring(p) for p in points]
    rng = np.random.default_rng(0)
    results = set()
    for _ in range(3):
        order = rng.permutation(len(points))
        learner = LearnerND(ring, bounds=[(-1, 1), (-1, 1)])
        for i in order:
            learner.tell(points[i], values[i])
        results.add((learner.loss(), tuple(learner.ask(4, tell_pending=False)[0])))
    assert len(results) == 1


# ---- resuming, bad values, bad inputs -----------------------------------------------------------
def test_resuming_from_data_never_fails():
    learner = LearnerND(ring, bounds=[(-1, 1), (-1, 1)])
    run(learner, 80)
    resumed = LearnerND(ring, bounds=[(-1, 1), (-1, 1)])
    resumed.load_dataframe(learner.to_dataframe())
    assert resumed.loss() == pytest.approx(learner.loss())
    resumed.tell_many(list(learner.data), list(learner.data.values()))  # told again: ignored
    for x, y in list(learner.data.items())[:5]:
        resumed.tell(x, y)
    run(resumed, 120, batch=4)
    assert resumed.npoints == 120


def test_saved_learner_loads(tmp_path):
    learner = LearnerND(ring, bounds=[(-1, 1), (-1, 1)])
    run(learner, 50)
    fname = tmp_path / "learner.pickle"
    learner.save(fname)
    loaded = LearnerND(ring, bounds=[(-1, 1), (-1, 1)])
    loaded.load(fname)
    assert loaded.data == learner.data
    assert loaded.ask(3, tell_pending=False) == learner.ask(3, tell_pending=False)


def test_nan_and_inf_values_neither_crash_nor_stall():
    def broken(xy):
        x, y = xy
        if x > 0.3:
            return math.nan
        if x == y == 0:
            return math.inf
        return x * y

    learner = LearnerND(broken, bounds=[(-1, 1), (-1, 1)])
    run(learner, 300)
    xs = np.array(list(learner.data))[:, 0]
    assert math.isfinite(learner.loss())
    assert 0.05 < np.mean(xs > 0.3) < 0.6  # the NaN region is sampled, but not only it


def test_points_told_outside_the_domain_are_kept_but_ignored():
    learner = LearnerND(ring, bounds=[(-1, 1), (-1, 1)])
    run(learner, 20)
    loss = learner.loss()
    learner.tell((3.0, 0.0), 1.0)
    assert (3.0, 0.0) in learner.data
    assert learner.loss() == loss
    run(learner, 30)


@pytest.mark.parametrize(
    ("bounds", "match"),
    [
        ([(0, 0), (0, 1)], "low < high"),
        ([(0, math.inf), (0, 1)], "finite"),
        ([(1, 0), (0, 1)], "low < high"),
        ([(0, 1)], "at least 2 dimensions"),
        ([(0, 1, 2), (0, 1)], "pairs"),
        ("box", "pairs"),
    ],
)
def test_bad_bounds(bounds, match):
    with pytest.raises(ValueError, match=match):
        LearnerND(ring, bounds=bounds)


def test_bad_points_and_values():
    learner = LearnerND(ring, bounds=[(-1, 1), (-1, 1)])
    with pytest.raises(ValueError, match="2 coordinates"):
        learner.tell((0.1, 0.2, 0.3), 1.0)
    with pytest.raises(ValueError, match="finite"):
        learner.tell((0.1, math.nan), 1.0)
    with pytest.raises(ValueError, match="numbers"):
        learner.tell(0.5, 1.0)
    learner.tell((0.1, 0.2), 1.0)
    with pytest.raises(ValueError, match="vectors of one length"):
        learner.tell((0.2, 0.2), [1.0, 2.0])
    with pytest.raises(TypeError, match="func"):
        LearnerND(None, bounds=[(0, 1), (0, 1)])
    with pytest.raises(ValueError, match="nth_neighbors"):
        LearnerND(ring, [(0, 1), (0, 1)], uses_nth_neighbors(2)(lambda *a: 1.0))


# ---- domains, outputs, losses ----------------------------------------------------------------
def test_convex_hull_bounds():
    hull = ConvexHull(np.array([(0, 0), (2, 0), (1, 2), (0, 1)]))
    learner = LearnerND(lambda xy: xy[0] * xy[1], bounds=hull)
    run(learner, 60)
    assert learner.bounds_are_done
    assert all(learner.inside_bounds(p) for p in learner.data)
    assert not learner.inside_bounds((2, 2))
    copy = pickle.loads(pickle.dumps(learner))
    assert copy.data == learner.data
    assert copy.loss() == learner.loss()


@pytest.mark.parametrize(
    "loss", [uniform_loss, std_loss, triangle_loss, curvature_loss_function(), default_loss]
)
def test_vector_output_with_every_loss(loss):
    learner = LearnerND(
        lambda p: np.array([p[0] * p[1], math.sin(3 * p[2])]), [(0, 1)] * 3, loss_per_simplex=loss
    )
    run(learner, 60, batch=3)
    assert learner.vdim == 2
    assert learner.to_numpy().shape == (60, 5)
    assert learner.values.shape == (60, 2)
    assert learner.points.shape == (60, 3)
    assert math.isfinite(learner.loss())


def test_custom_loss_sees_scaled_simplices_and_values():
    seen = []

    def loss(simplex, values, value_scale):
        seen.append((np.asarray(simplex), np.asarray(values), value_scale))
        return 1.0

    learner = LearnerND(lambda p: 10 * p[0] + 2, [(0, 4), (-1, 1)], loss_per_simplex=loss)
    run(learner, 6)
    simplex, values, value_scale = seen[-1]
    assert simplex.shape == (3, 2)
    assert np.all(np.abs(simplex) <= 1.0)  # coordinates divided by the widths (4 and 2)
    assert value_scale == pytest.approx(1 / 40, rel=1e-3)  # 1 / the spread of the values
    assert values == pytest.approx([value_scale * (10 * x * 4 + 2) for x in simplex[:, 0]])


@pytest.mark.parametrize("dim", [4, 5])
def test_higher_dimensions(dim):
    learner = LearnerND(lambda p: sum(x * x for x in p), [(-1, 1)] * dim)
    run(learner, 2**dim + 40, batch=2)
    assert learner.bounds_are_done
    assert math.isfinite(learner.loss())


# ---- DataFrames and plots ---------------------------------------------------------------------
def test_dataframe_columns():
    pytest.importorskip("pandas")
    learner = LearnerND(lambda xyz, a=2: xyz[0] + a, [(0, 1)] * 3)
    run(learner, 10)
    df = learner.to_dataframe()
    assert list(df.columns) == ["x", "y", "z", "value", "function.a"]
    assert df.attrs == {"inputs": ["x", "y", "z"], "output": "value"}
    custom = learner.to_dataframe(point_names=("a", "b", "c"), value_name="f")
    assert list(custom.columns)[:4] == ["a", "b", "c", "f"]
    with pytest.raises(ValueError, match="point_names"):
        learner.to_dataframe(point_names=("a", "b"))
    two_d = LearnerND(ring, [(-1, 1), (-1, 1)])
    run(two_d, 5)
    assert list(two_d.to_dataframe().columns) == ["x", "y", "value", "function.width"]


def test_plots():
    hv = pytest.importorskip("holoviews")
    learner = LearnerND(ring, [(-1, 1), (-1, 1)])
    run(learner, 60)
    assert isinstance(learner.plot(), hv.Image)
    assert isinstance(learner.plot(n=30, tri_alpha=0.5), hv.Overlay)
    assert isinstance(learner.plot_slice({0: 0.2}), hv.Curve)
    assert isinstance(learner.plot_isoline(level=0.5), hv.Overlay)
    cube = LearnerND(lambda p: p[0] * p[1] * p[2], [(-1, 1)] * 3)
    run(cube, 40)
    assert isinstance(cube.plot_slice({2: 0.1}, n=20), hv.Image)
    with pytest.raises(ValueError, match="2D domain"):
        cube.plot()
    points, triangles = cube._isosurface(0.1)
    assert triangles
    assert all(abs(p[0] * p[1] * p[2] - 0.1) < 0.5 for p in points)


# ---- plotly plots (plot_3D, plot_isosurface) -----------------------------------------------------
def mesh_triangles(mesh) -> list[np.ndarray]:
    """The triangles of a plotly Mesh3d, each a 3 x 3 array of its corners."""
    corners = np.column_stack([np.asarray(mesh[axis], dtype=float) for axis in "xyz"])
    return [corners[list(t)] for t in zip(mesh.i, mesh.j, mesh.k, strict=True)]


def line_segments(trace) -> list[frozenset]:
    """The segments of a Scatter3d drawn as ``a, b, None, a, b, None, ...``."""
    columns = [list(trace[axis]) for axis in "xyz"]
    assert len(columns[0]) % 3 == 0
    segments = []
    for n in range(0, len(columns[0]), 3):
        assert all(column[n + 2] is None for column in columns)
        ends = [tuple(float(column[n + m]) for column in columns) for m in (0, 1)]
        segments.append(frozenset(ends))
    return segments


def rounded_triangles(mesh) -> set[frozenset]:
    """The triangles of a Mesh3d as sets of corners rounded to 1e-9 (vertex order and
    numbering left out)."""
    return {frozenset(map(tuple, np.round(t, 9).tolist())) for t in mesh_triangles(mesh)}


def area(triangle: np.ndarray) -> float:
    return float(np.linalg.norm(np.cross(triangle[1] - triangle[0], triangle[2] - triangle[0])) / 2)


def test_plot_3D_of_a_2D_learner_is_its_surface():
    import plotly.graph_objects as go  # a test dependency (the test extra)

    learner = LearnerND(ring, [(-1, 1), (-1, 1)])
    run(learner, 50)
    fig = learner.plot_3D(return_fig=True)
    assert isinstance(fig, go.Figure)
    assert [trace.type for trace in fig.data] == ["mesh3d"]
    (mesh,) = fig.data
    # the vertices are the data, with the values as heights
    heights = dict(
        zip(zip(mesh.x.tolist(), mesh.y.tolist(), strict=True), mesh.z.tolist(), strict=True)
    )
    assert heights == pytest.approx(learner.data)
    triangles = mesh_triangles(mesh)
    # the triangles tile the square: no hole, no overlap, none flat
    flat = [np.column_stack([t[:, :2], np.zeros(3)]) for t in triangles]
    assert sum(area(t) for t in flat) == pytest.approx(4.0, rel=1e-12)
    assert min(area(t) for t in flat) > 0

    with_edges = learner.plot_3D(with_triangulation=True, return_fig=True)
    assert [trace.type for trace in with_edges.data] == ["mesh3d", "scatter3d"]
    lines = with_edges.data[1]
    assert lines.mode == "lines"
    segments = line_segments(lines)
    assert len(set(segments)) == len(segments)  # each edge drawn once
    # Euler's formula for a triangulated disk: V - E + F = 1
    assert len(heights) - len(segments) + len(triangles) == 1
    for segment in segments:
        for x, y, z in segment:
            assert z == heights[x, y]  # the edges lie on the surface

    # pending points (a runner at work) leave no hole: the surface is that of the data
    learner.ask(5)
    assert len(learner.pending_points) == 5
    during = learner.plot_3D(return_fig=True).data[0]
    assert rounded_triangles(during) == rounded_triangles(mesh)


def test_plot_3D_of_a_3D_learner_shows_the_points_and_their_triangulation():
    import plotly.graph_objects as go

    learner = LearnerND(lambda p: p[0] ** 2 + p[1] ** 2 + p[2] ** 2, [(-1, 1), (0, 2), (0, 1)])
    run(learner, 40)
    fig = learner.plot_3D(return_fig=True)
    assert isinstance(fig, go.Figure)
    assert [trace.type for trace in fig.data] == ["scatter3d"]
    (markers,) = fig.data
    assert markers.mode == "markers"
    coordinates = np.column_stack([markers.x, markers.y, markers.z])
    colours = dict(zip(map(tuple, coordinates.tolist()), markers.marker.color, strict=True))
    assert colours == pytest.approx(learner.data)  # every point, coloured by its value

    fig = learner.plot_3D(with_triangulation=True, return_fig=True)
    assert [trace.type for trace in fig.data] == ["scatter3d", "scatter3d"]
    segments = line_segments(fig.data[1])
    vertices = learner.tri.vertices
    edges = {
        frozenset((vertices[a], vertices[b]))
        for simplex in learner.tri.simplices
        for a, b in itertools.combinations(simplex, 2)
    }
    assert len(segments) == len(edges)
    assert set(segments) == edges
    ends = np.array([end for segment in segments for end in segment])
    assert np.all(ends >= [-1, 0, 0])
    assert np.all(ends <= [1, 2, 1])


def test_plot_3D_needs_a_scalar_function_on_2_or_3_dimensions():
    four_d = LearnerND(sum, [(0, 1)] * 4)
    run(four_d, 20)
    with pytest.raises(ValueError, match="2D or 3D domain"):
        four_d.plot_3D(return_fig=True)
    vector = LearnerND(lambda p: np.array([p[0], p[1]]), [(0, 1)] * 2)
    run(vector, 10)
    with pytest.raises(ValueError, match="scalar"):
        vector.plot_3D(return_fig=True)


def test_plot_isosurface_of_a_linear_function_is_the_plane():
    import plotly.graph_objects as go

    learner = LearnerND(lambda p: p[0] + p[1] + p[2], [(-1, 1)] * 3)
    run(learner, 50)
    level = 0.5
    fig = learner.plot_isosurface(level=level)
    assert isinstance(fig, go.Figure)
    assert [trace.type for trace in fig.data] == ["mesh3d", "mesh3d"]
    surface, hull = fig.data
    triangles = mesh_triangles(surface)
    corners = np.concatenate(triangles)
    # a linear function is interpolated exactly: every corner is on the plane, in the cube
    assert np.allclose(corners.sum(axis=1), level, atol=1e-12)
    assert np.all(np.abs(corners) <= 1 + 1e-12)
    # and the triangles cover the plane's section of the cube once: area sqrt(3) (3 - level^2)
    assert sum(area(t) for t in triangles) == pytest.approx(math.sqrt(3) * (3 - level**2))
    # the domain, translucent: the cube's 8 corners and 12 triangles, area 6 * 4
    assert hull.opacity == pytest.approx(0.2)
    hull_corners = {tuple(p) for p in np.column_stack([hull.x, hull.y, hull.z]).tolist()}
    assert hull_corners == set(itertools.product([-1.0, 1.0], repeat=3))
    assert sum(area(t) for t in mesh_triangles(hull)) == pytest.approx(24.0)

    without_hull = learner.plot_isosurface(level=level, hull_opacity=0)
    assert [trace.type for trace in without_hull.data] == ["mesh3d"]
    with pytest.raises(ValueError, match="level=5"):
        learner.plot_isosurface(level=5)
    with pytest.raises(ValueError, match="3D domain"):
        LearnerND(ring, [(-1, 1), (-1, 1)]).plot_isosurface()


def test_plot_isosurface_of_a_sphere_is_closed_and_ignores_pending_points():
    learner = LearnerND(lambda p: p[0] ** 2 + p[1] ** 2 + p[2] ** 2, [(-1, 1)] * 3)
    run(learner, 80)
    level = 0.4  # a sphere of radius 0.63 inside the cube; no sample has exactly this value
    surface = learner.plot_isosurface(level=level).data[0]
    triangles = list(zip(surface.i, surface.j, surface.k, strict=True))
    assert len(triangles) > 20
    # closed: every edge of the surface is shared by exactly two triangles
    edges: dict[frozenset, int] = {}
    for triangle in triangles:
        assert len(set(triangle)) == 3
        for a, b in itertools.combinations(triangle, 2):
            edges[frozenset((a, b))] = edges.get(frozenset((a, b)), 0) + 1
    assert set(edges.values()) == {2}
    # the linear interpolant of a convex function lies above it, so f <= level on the surface
    radii = np.asarray(surface.x) ** 2 + np.asarray(surface.y) ** 2 + np.asarray(surface.z) ** 2
    assert np.all(radii <= level + 1e-12)
    assert np.all(radii > 0.1)

    # pending points, on the surface and where the learner asks
    for point in [(0.6, 0.2, 0.1), (-0.1, -0.6, 0.2), (0.3, 0.3, -0.5)]:
        learner.tell_pending(point)
    learner.ask(3)
    assert len(learner.pending_points) == 6
    during = learner.plot_isosurface(level=level).data[0]
    # the same crossing points, as many triangles (a quadrilateral may be split along its other
    # diagonal: the triangulation without the pending points numbers its vertices anew)
    assert len(during.i) == len(surface.i)
    before, after = (np.column_stack([mesh.x, mesh.y, mesh.z]) for mesh in (surface, during))
    assert before.shape == after.shape
    distances = np.linalg.norm(before[:, None, :] - after[None, :, :], axis=2)
    assert distances.min(axis=1).max() < 1e-12
    assert distances.min(axis=0).max() < 1e-12


def test_plotly_plots_name_plotly_when_it_is_missing():
    # a Python in which ``import plotly`` fails, as where plotly is not installed
    code = """
import math, sys
sys.modules["plotly"] = None
try:
    import plotly.graph_objects
except ImportError:
    print("blocked")
from adaptive_runner.learners.learnerND import LearnerND
plane = LearnerND(lambda p: p[0] + p[1], [(-1, 1), (-1, 1)])
cube = LearnerND(lambda p: p[0] + p[1] + p[2], [(-1, 1)] * 3)
for learner in (plane, cube):
    for _ in range(12):
        (point,), _ = learner.ask(1)
        learner.tell(point, learner.function(point))
for name, call in [
    ("plot_3D", lambda: plane.plot_3D(return_fig=True)),
    ("plot_isosurface", lambda: cube.plot_isosurface(level=0.5)),
]:
    try:
        call()
    except ImportError as error:
        print(name, "ImportError:", error)
    else:
        print(name, "no error")
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "blocked"
    assert lines[1].startswith("plot_3D ImportError: LearnerND.plot_3D needs plotly")
    assert lines[2].startswith(
        "plot_isosurface ImportError: LearnerND.plot_isosurface needs plotly"
    )
    assert all("pip install plotly" in line for line in lines[1:])
    assert len(lines) == 3
