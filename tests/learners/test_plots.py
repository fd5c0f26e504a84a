"""Every learner's ``plot()``: the holoviews elements it returns, the data in them, and that bokeh
draws them (real holoviews and bokeh, no browser)."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest

hv = pytest.importorskip("holoviews")
pytest.importorskip("bokeh")
pytest.importorskip("scipy")

from bokeh.model import Model  # noqa: E402

import adaptive_runner as adaptive  # noqa: E402
from adaptive_runner.runner import simple  # noqa: E402

hv.renderer("bokeh")  # load the bokeh plotting extension, so the plots' options apply


def draw(element):
    """Draw ``element`` with bokeh, failing on any warning (e.g. numpy's "All-NaN slice")."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure = hv.render(element, backend="bokeh")
    assert isinstance(figure, Model)
    return figure


def glyph_data(figure) -> list[dict]:
    """The data sources of the glyphs bokeh draws."""
    return [dict(r.data_source.data) for r in figure.renderers if hasattr(r, "data_source")]


def rows(element) -> np.ndarray:
    """The key and value columns of ``element``, one row per point."""
    return np.column_stack([element.dimension_values(d) for d in element.dimensions()])


def path_lines(path) -> list[np.ndarray]:
    """The lines of a path element (drawn as one array with NaN rows between the lines)."""
    lines = []
    for points in path.split(datatype="array"):
        for piece in np.split(points, np.flatnonzero(np.isnan(points[:, 0]))):
            line = piece[~np.isnan(piece[:, 0])]
            if len(line):
                lines.append(line)
    return lines


def peak(x, a=0.05):
    return x + a**2 / (a**2 + x**2)


def plane(xy):
    return xy[0] + 2 * xy[1]


def bowl(xy):
    return xy[0] ** 2 + xy[1] ** 2


SQUARE = [(-1.0, 1.0), (-1.0, 1.0)]


# ---- Learner1D -----------------------------------------------------------------------------------


def test_learner1D_scatter_and_line_show_every_point():
    learner = adaptive.Learner1D(peak, (-1, 1))
    simple(learner, npoints_goal=30)
    overlay = learner.plot()
    assert isinstance(overlay, hv.Overlay)
    (scatter,) = overlay
    assert isinstance(scatter, hv.Scatter)
    assert len(scatter) == learner.npoints
    np.testing.assert_array_equal(rows(scatter), learner.to_numpy())
    assert scatter.get_dimension("x").range == pytest.approx((-1.1, 1.1))  # bounds + 5%
    (points,) = glyph_data(draw(overlay))
    assert len(points["x"]) == learner.npoints

    (curve,) = learner.plot(scatter_or_line="line")
    assert isinstance(curve, hv.Curve)
    np.testing.assert_array_equal(rows(curve), learner.to_numpy())
    draw(curve)


def test_learner1D_vector_output_has_one_labelled_element_per_component():
    learner = adaptive.Learner1D(lambda x: np.array([x, x**2, -x]), (0, 2))
    simple(learner, npoints_goal=15)
    for kind, element_type in (("scatter", hv.Scatter), ("line", hv.Curve)):
        overlay = learner.plot(scatter_or_line=kind)
        assert [type(e) for e in overlay] == [element_type] * 3
        assert [e.label for e in overlay] == ["y_0", "y_1", "y_2"]
        table = learner.to_numpy()
        for k, element in enumerate(overlay):
            np.testing.assert_array_equal(element.dimension_values("y"), table[:, k + 1])
        figure = draw(overlay)
        legend = [item.label["value"] for item in figure.legend[0].items]
        assert legend == ["y_0", "y_1", "y_2"]


def test_learner1D_empty_plot_has_the_same_type():
    learner = adaptive.Learner1D(peak, (-1, 1))
    (scatter,) = learner.plot()
    assert isinstance(scatter, hv.Scatter)
    assert len(scatter) == 0
    draw(learner.plot())
    with pytest.raises(ValueError, match="scatter_or_line"):
        learner.plot(scatter_or_line="bars")


# ---- Learner2D -----------------------------------------------------------------------------------


def image_points(image) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(image.dimension_values(i) for i in range(3))


def test_learner2D_image_is_the_interpolation_over_the_bounds():
    learner = adaptive.Learner2D(plane, [(0, 2), (-1, 1)])
    simple(learner, npoints_goal=40)
    image = learner.plot(n=16)
    assert isinstance(image, hv.Image)
    assert image.bounds.lbrt() == (0, -1, 2, 1)
    assert image.dimension_values(2, flat=False).shape == (16, 16)
    x, y, z = image_points(image)
    # a plane is its own linear interpolation: every pixel shows the value at its centre
    np.testing.assert_allclose(z, x + 2 * y, atol=1e-12)
    assert np.ptp(x) == pytest.approx(2 - 2 / 16)  # the pixel centres span the bounds
    (pixels,) = glyph_data(draw(image))
    assert pixels["image"][0].shape == (16, 16)
    assert isinstance(learner.plot(), hv.Image)  # a default size


def test_learner2D_triangulation_overlay_draws_every_edge_once():
    learner = adaptive.Learner2D(bowl, SQUARE)
    simple(learner, npoints_goal=50)
    overlay = learner.plot(n=10, tri_alpha=0.3)
    image, edges = overlay
    assert isinstance(image, hv.Image)
    assert isinstance(edges, hv.EdgePaths)
    segments = path_lines(edges)
    assert all(len(segment) == 2 for segment in segments)
    told = {tuple(p) for p in learner.data}
    assert {tuple(p) for segment in segments for p in segment} == told
    # a triangulation of V points, b of them on the boundary of the (convex) square, has
    # 3 V - 3 - b edges
    (x0, x1), (y0, y1) = SQUARE
    on_boundary = sum(1 for x, y in told if x in (x0, x1) or y in (y0, y1))
    assert len(segments) == 3 * len(told) - 3 - on_boundary
    assert len({tuple(sorted(map(tuple, s))) for s in segments}) == len(segments)
    draw(overlay)


def test_learner2D_vector_output_is_a_holomap_over_the_components():
    learner = adaptive.Learner2D(lambda xy: np.array([xy[0], xy[1], 3.0]), SQUARE)
    simple(learner, npoints_goal=20)
    holomap = learner.plot(n=8)
    assert isinstance(holomap, hv.HoloMap)
    assert [d.name for d in holomap.kdims] == ["component"]
    assert list(holomap.keys()) == [0, 1, 2]
    for k in range(3):
        x, y, z = image_points(holomap[k])
        np.testing.assert_allclose(z, [x, y, np.full_like(x, 3.0)][k], atol=1e-12)
    draw(holomap)
    with_edges = learner.plot(n=8, tri_alpha=0.5)
    assert all(isinstance(frame, hv.Overlay) for frame in with_edges)
    draw(with_edges)


def test_learner2D_without_enough_points_gives_an_empty_image_of_the_bounds():
    learner = adaptive.Learner2D(plane, [(0, 2), (-1, 1)])
    image = learner.plot()
    assert isinstance(image, hv.Image)
    assert image.bounds.lbrt() == (0, -1, 2, 1)
    assert np.isnan(image.dimension_values(2)).all()
    draw(image)
    learner.tell((0, -1), plane((0, -1)))
    overlay = learner.plot(tri_alpha=0.5)
    assert isinstance(overlay, hv.Overlay)
    assert path_lines(overlay.EdgePaths.I) == []
    draw(overlay)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        learner.plot(n=0)


# ---- LearnerND -----------------------------------------------------------------------------------


def test_learnerND_2D_image_and_triangulation():
    learner = adaptive.LearnerND(plane, [(0, 2), (-1, 1)])
    simple(learner, npoints_goal=40)
    image = learner.plot(n=12)
    assert isinstance(image, hv.Image)
    assert image.bounds.lbrt() == (0, -1, 2, 1)
    x, y, z = image_points(image)
    np.testing.assert_allclose(z, x + 2 * y, atol=1e-12)
    draw(image)

    overlay = learner.plot(n=12, tri_alpha=0.4)
    image, edges = overlay
    segments = path_lines(edges)
    told = {tuple(p) for p in learner.data}
    assert {tuple(p) for segment in segments for p in segment} == told
    on_boundary = sum(1 for x, y in told if x in (0, 2) or y in (-1, 1))
    assert len(segments) == 3 * len(told) - 3 - on_boundary
    draw(overlay)


def test_learnerND_vector_output_and_empty_learner():
    learner = adaptive.LearnerND(lambda xy: np.array([xy[0], -xy[1]]), SQUARE)
    assert np.isnan(learner.plot().dimension_values(2)).all()
    draw(learner.plot(tri_alpha=0.5))
    simple(learner, npoints_goal=20)
    holomap = learner.plot(n=6)
    assert isinstance(holomap, hv.HoloMap)
    assert list(holomap.keys()) == [0, 1]
    _x, y, z = image_points(holomap[1])
    np.testing.assert_allclose(z, -y, atol=1e-12)
    draw(holomap)
    draw(learner.plot(n=6, tri_alpha=0.2))


def test_learnerND_plot_needs_a_2D_domain_and_points_to_plot_slice():
    learner = adaptive.LearnerND(lambda p: p[0] + p[1] * p[2], [(-1, 1)] * 3)
    with pytest.raises(ValueError, match="plot_slice"):
        learner.plot()


def test_learnerND_slices():
    learner = adaptive.LearnerND(lambda p: p[0] + 2 * p[1] - p[2], [(-1, 1)] * 3)
    empty = learner.plot_slice({0: 0.0, 1: 0.5}, n=10)
    assert isinstance(empty, hv.Curve)
    assert np.isnan(empty.dimension_values(1)).all()
    draw(empty)
    simple(learner, npoints_goal=60)

    curve = learner.plot_slice({0: 0.25, 1: 0.5}, n=11)
    assert isinstance(curve, hv.Curve)
    assert [d.name for d in curve.dimensions()] == ["z", "value"]
    z, value = curve.dimension_values(0), curve.dimension_values(1)
    np.testing.assert_allclose(z, np.linspace(-1, 1, 11))
    np.testing.assert_allclose(value, 0.25 + 1.0 - z, atol=1e-12)
    draw(curve)

    image = learner.plot_slice({2: 0.5}, n=9)
    assert isinstance(image, hv.Image)
    assert [d.name for d in image.kdims] == ["x", "y"]
    x, y, value = image_points(image)
    np.testing.assert_allclose(value, x + 2 * y - 0.5, atol=1e-12)
    draw(image)

    for bad in ({0: 0.0, 1: 0.0, 2: 0.0}, {3: 0.0, 0: 0.0}, {"x": 0.0, 1: 0.0}):
        with pytest.raises(ValueError, match="cut_mapping"):
            learner.plot_slice(bad)


def test_learnerND_vector_slices():
    learner = adaptive.LearnerND(lambda p: np.array([p[0], p[1] + p[2]]), [(-1, 1)] * 3)
    simple(learner, npoints_goal=30)
    curves = learner.plot_slice({0: 0.5, 2: 0.0}, n=5)
    assert [c.label for c in curves] == ["value_0", "value_1"]
    np.testing.assert_allclose(curves.values()[0].dimension_values(1), 0.5, atol=1e-12)
    np.testing.assert_allclose(curves.values()[1].dimension_values(1), np.linspace(-1, 1, 5))
    draw(curves)
    images = learner.plot_slice({1: 0.0}, n=5)
    assert isinstance(images, hv.HoloMap)
    assert list(images.keys()) == [0, 1]
    draw(images)


def test_learnerND_isolines_lie_on_the_level_of_the_interpolation():
    learner = adaptive.LearnerND(bowl, SQUARE)
    simple(learner, npoints_goal=150)
    overlay = learner.plot_isoline(level=0.25, n=20)
    image, path = overlay
    assert isinstance(image, hv.Image)
    assert isinstance(path, hv.Path)
    (loop,) = path_lines(path)  # a circle: one closed line
    np.testing.assert_array_equal(loop[0], loop[-1])
    assert len(loop) > 8
    np.testing.assert_allclose(learner.ip()(loop), 0.25, atol=1e-12)
    np.testing.assert_allclose(np.hypot(*loop.T), 0.5, atol=0.1)
    draw(overlay)

    lines_only = learner.plot_isoline(level=[0.25, 0.5], n=-1)
    (path,) = lines_only
    assert len(path_lines(path)) == 2
    draw(lines_only)
    draw(learner.plot_isoline(level=0.25, tri_alpha=0.3))
    assert path_lines(learner.plot_isoline(level=10.0, n=-1).Path.I) == []

    line = adaptive.LearnerND(plane, SQUARE)
    simple(line, npoints_goal=30)
    (segment,) = path_lines(line.plot_isoline(level=0.5, n=-1).Path.I)  # one open line
    np.testing.assert_allclose(segment[:, 0] + 2 * segment[:, 1], 0.5, atol=1e-12)
    assert {round(abs(segment[0, 1]), 12), round(abs(segment[-1, 1]), 12)} == {
        0.75,
        0.25,
    }  # from the top edge to the bottom one (x + 2 y = 0.5 at x = +-1)

    empty = adaptive.LearnerND(bowl, SQUARE)
    draw(empty.plot_isoline(level=0.1))
    vector = adaptive.LearnerND(lambda p: np.array([p[0], p[1]]), SQUARE)
    vector.tell((0.0, 0.0), vector.function((0.0, 0.0)))
    with pytest.raises(ValueError, match="2D domain and a scalar function"):
        vector.plot_isoline()


# ---- AverageLearner ------------------------------------------------------------------------------


def normal(seed):
    return float(np.random.default_rng(seed).normal(3.0, 1.0))


def test_average_learner_histogram_counts_every_sample_and_marks_the_mean():
    learner = adaptive.AverageLearner(normal, atol=0.01)
    simple(learner, npoints_goal=400)
    overlay = learner.plot()
    histogram, mean = overlay
    assert isinstance(histogram, hv.Histogram)
    assert isinstance(mean, hv.VLines)
    assert histogram.dimension_values("count").sum() == learner.npoints == 400
    edges = histogram.interface.coords(histogram, "y", edges=True)
    assert edges[0] == min(learner.data.values())
    assert edges[-1] == max(learner.data.values())
    assert len(edges) - 1 == 20  # sqrt(400) bins
    assert mean.dimension_values(0).tolist() == [learner.mean]
    assert mean.label == "mean"
    figure = draw(overlay)
    assert [item.label["value"] for item in figure.legend[0].items] == ["mean"]


def test_average_learner_empty_and_equal_values():
    learner = adaptive.AverageLearner(normal, atol=0.1)
    histogram, mean = learner.plot()
    assert histogram.dimension_values("count").sum() == 0
    assert len(mean) == 0
    draw(learner.plot())
    learner.tell_many([0, 1], [2.0, 2.0])
    histogram, mean = learner.plot()
    assert histogram.dimension_values("count").sum() == 2
    assert mean.dimension_values(0).tolist() == [2.0]
    draw(learner.plot())


# ---- AverageLearner1D ----------------------------------------------------------------------------


def noisy_peak(seed_x):
    seed, x = seed_x
    return peak(x) + np.random.default_rng(seed).normal(scale=0.1)


def test_average_learner1D_means_with_standard_error_bars():
    learner = adaptive.AverageLearner1D(noisy_peak, (-1, 1), min_samples=5)
    simple(learner, npoints_goal=80)
    learner.tell((0, 0.123), 1.0)  # one sample: no error bar there
    overlay = learner.plot()
    scatter, bars = overlay
    assert isinstance(scatter, hv.Scatter)
    assert isinstance(bars, hv.ErrorBars)
    means = learner.to_numpy(mean=True)
    assert len(scatter) == len(learner.data)
    np.testing.assert_array_equal(rows(scatter), means)
    np.testing.assert_array_equal(rows(bars)[:, :2], means)
    expected = [
        np.std(list(learner.samples[x].values()), ddof=1) / math.sqrt(len(learner.samples[x]))
        if len(learner.samples[x]) > 1
        else math.nan
        for x in means[:, 0]
    ]
    np.testing.assert_allclose(bars.dimension_values("yerr"), expected, rtol=1e-12)
    assert np.isnan(bars.dimension_values("yerr")[means[:, 0] == 0.123]).all()
    assert scatter.get_dimension("x").range == pytest.approx((-1.1, 1.1))
    draw(overlay)


def test_average_learner1D_empty_plot():
    overlay = adaptive.AverageLearner1D(noisy_peak, (-1, 1)).plot()
    assert [type(e) for e in overlay] == [hv.Scatter, hv.ErrorBars]
    assert all(len(e) == 0 for e in overlay)
    draw(overlay)


# ---- IntegratorLearner ---------------------------------------------------------------------------


def test_integrator_learner_shows_the_points_and_the_intervals():
    learner = adaptive.IntegratorLearner(lambda x: math.sqrt(abs(x - 0.3)), (0, 1), 1e-5)
    simple(learner, goal=lambda learner: learner.done())
    overlay = learner.plot()
    vlines, curve, scatter = overlay
    assert isinstance(vlines, hv.VLines)
    assert isinstance(curve, hv.Curve)
    assert isinstance(scatter, hv.Scatter)
    assert len(scatter) == learner.npoints
    np.testing.assert_array_equal(rows(scatter), learner.to_numpy())
    np.testing.assert_array_equal(rows(curve), learner.to_numpy())
    ends = vlines.dimension_values(0)
    intervals = learner.approximating_intervals
    assert ends.tolist() == sorted({e for i in intervals for e in (i.a, i.b)})
    assert len(ends) == len(intervals) + 1 > 2  # the intervals tile the bounds
    assert (ends[0], ends[-1]) == (0, 1)
    draw(overlay)


def test_integrator_learner_empty_plot():
    overlay = adaptive.IntegratorLearner(math.exp, (0, 1), 1e-6).plot()
    vlines, curve, scatter = overlay
    assert len(curve) == len(scatter) == 0
    assert len(vlines) == 0
    draw(overlay)


# ---- BalancingLearner ----------------------------------------------------------------------------


def offset_peak(x, offset=0.0, a=0.1):
    return peak(x - offset, a)


def balanced():
    learner = adaptive.BalancingLearner.from_product(
        offset_peak,
        adaptive.Learner1D,
        {"bounds": (-1, 1)},
        {"offset": [0.0, 0.5], "a": [0.1, 0.2]},
    )
    simple(learner, npoints_goal=40)
    return learner


def test_balancing_learner_holomap_keys_are_the_cdims():
    learner = balanced()
    holomap = learner.plot(dynamic=False)
    assert isinstance(holomap, hv.HoloMap)
    assert [d.name for d in holomap.kdims] == ["offset", "a"]
    assert list(holomap.keys()) == [(0.0, 0.1), (0.0, 0.2), (0.5, 0.1), (0.5, 0.2)]
    for key, child in zip(holomap.keys(), learner.learners, strict=True):
        np.testing.assert_array_equal(rows(holomap[key].Scatter.I), child.to_numpy())
    draw(holomap)


def test_balancing_learner_dynamic_map_over_the_cdims():
    learner = balanced()
    dmap = learner.plot()
    assert isinstance(dmap, hv.DynamicMap)
    assert [d.name for d in dmap.kdims] == ["offset", "a"]
    assert [d.values for d in dmap.kdims] == [[0.0, 0.5], [0.1, 0.2]]
    np.testing.assert_array_equal(rows(dmap[0.5, 0.1].Scatter.I), learner.learners[2].to_numpy())
    draw(dmap)


def test_balancing_learner_cdims_forms_and_plotter():
    learners = [adaptive.Learner1D(lambda x, k=k: k * x, (0, 1)) for k in range(3)]
    learner = adaptive.BalancingLearner(learners)
    simple(learner, npoints_goal=15)
    default = learner.plot(dynamic=False)
    assert [d.name for d in default.kdims] == ["i_learner"]
    assert list(default.keys()) == [0, 1, 2]

    as_dicts = learner.plot(cdims=[{"k": 0}, {"k": 1}, {"k": 2}], dynamic=False)
    as_names = learner.plot(cdims=(["k"], [(0,), (1,), (2,)]), dynamic=False)
    assert list(as_dicts.keys()) == list(as_names.keys()) == [0, 1, 2]

    npoints = learner.plot(
        dynamic=False, plotter=lambda child: hv.Curve([(0, child.npoints)], "x", "n")
    )
    assert [npoints[i].dimension_values("n")[0] for i in range(3)] == [
        child.npoints for child in learners
    ]
    draw(npoints)
    with pytest.raises(ValueError, match="cdims"):
        learner.plot(cdims=[{"k": 0}])


def test_balancing_learner_sliders_on_a_missing_combination_show_an_empty_plot():
    learners = [adaptive.Learner1D(lambda x, k=k: k * x, (0, 1)) for k in range(3)]
    learner = adaptive.BalancingLearner(learners)
    simple(learner, npoints_goal=15)
    cdims = [{"a": 0, "b": 0}, {"a": 0, "b": 1}, {"a": 1, "b": 0}]  # (1, 1) has no learner
    dmap = learner.plot(cdims=cdims)
    (scatter,) = dmap[1, 1]
    assert isinstance(scatter, hv.Scatter)
    assert len(scatter) == 0
    (scatter,) = dmap[0, 1]
    assert len(scatter) == learners[1].npoints
    draw(dmap)


# ---- SequenceLearner and DataSaver ---------------------------------------------------------------


def test_sequence_learner_scatter_of_numeric_results():
    learner = adaptive.SequenceLearner(lambda x: x**0.5, [4, 9, 16, 25, 36])
    empty = learner.plot()
    assert isinstance(empty, hv.Scatter)
    assert len(empty) == 0
    draw(empty)
    learner.tell_many([(1, 9), (3, 25)], [3.0, 5])
    scatter = learner.plot()
    assert rows(scatter).tolist() == [[1.0, 3.0], [3.0, 5.0]]
    assert scatter.kdims[0].label == "index"
    simple(learner)
    scatter = learner.plot()
    assert len(scatter) == learner.npoints == 5
    assert scatter.dimension_values(1).tolist() == learner.result()
    draw(scatter)


def test_sequence_learner_without_numeric_results_has_no_plot():
    learner = adaptive.SequenceLearner(lambda x: {"double": 2 * x}, [1, 2, 3])
    simple(learner)
    with pytest.raises(NotImplementedError, match="no plot for this learner") as info:
        learner.plot()
    assert "to_dataframe()" in str(info.value)
    assert "dict" in str(info.value)


def test_data_saver_plots_the_wrapped_learner():
    saver = adaptive.DataSaver(
        adaptive.Learner1D(lambda x: {"y": x**2, "extra": "text"}, (0, 1)), lambda d: d["y"]
    )
    simple(saver, npoints_goal=10)
    (scatter,) = saver.plot()
    np.testing.assert_array_equal(rows(scatter), saver.learner.to_numpy())
    (curve,) = saver.plot(scatter_or_line="line")
    assert isinstance(curve, hv.Curve)
    draw(saver.plot())


# ---- holoviews is optional -----------------------------------------------------------------------


def one_of_each():
    saver = adaptive.DataSaver(adaptive.Learner1D(lambda x: {"y": x}, (0, 1)), lambda d: d["y"])
    return [
        adaptive.Learner1D(peak, (-1, 1)),
        adaptive.Learner2D(plane, SQUARE),
        adaptive.LearnerND(plane, SQUARE),
        adaptive.AverageLearner(normal, atol=0.1),
        adaptive.AverageLearner1D(noisy_peak, (-1, 1)),
        adaptive.IntegratorLearner(math.exp, (0, 1), 1e-6),
        adaptive.BalancingLearner([adaptive.Learner1D(peak, (-1, 1))]),
        adaptive.SequenceLearner(math.sqrt, [1, 2]),
        saver,
    ]


@pytest.mark.parametrize("learner", one_of_each(), ids=lambda learner: type(learner).__name__)
def test_every_plot_draws_empty_and_without_holoviews_says_what_to_install(learner, monkeypatch):
    plot = learner.plot(dynamic=False) if hasattr(learner, "learners") else learner.plot()
    draw(plot)
    monkeypatch.setitem(sys.modules, "holoviews", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"needs holoviews.*adaptive-runner\[notebook\]"):
        learner.plot()


def test_importing_the_package_does_not_import_holoviews():
    code = "import sys, adaptive_runner; print('holoviews' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"
