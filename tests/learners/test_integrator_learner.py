"""IntegratorLearner specifics (the shared protocol is covered by the conformance suite)."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
from scipy import integrate

from adaptive_runner.learners.integrator_learner import (
    DivergentIntegralError,
    IntegratorLearner,
    gauss_kronrod,
)


def run(learner, function=None, batch=1, max_points=100_000):
    """Ask ``batch`` points and tell them all, until done (or ``max_points``)."""
    function = function or learner.function
    while not learner.done() and learner.npoints < max_points:
        points, _ = learner.ask(batch)
        if not points:
            break
        for x in points:
            learner.tell(x, function(x))
    return learner


def run_workers(learner, workers, seed):
    """Keep ``workers`` points in flight and tell them back in a random order."""
    rng = random.Random(seed)
    asked, running = [], []
    while not learner.done():
        if len(running) < workers:
            points, _ = learner.ask(workers - len(running))
            asked += points
            running += points
        if not running:
            break
        x = running.pop(rng.randrange(len(running)))
        learner.tell(x, learner.function(x))
    return asked


def quad(function, a, b, **kwargs):
    value, _ = integrate.quad(function, a, b, epsabs=0, epsrel=1e-13, limit=1000, **kwargs)
    return value


# name, function, bounds, the scipy reference (singular weights handled by quad's weight option),
# python-adaptive 1.5.2's evaluations to done() at tol 1e-6 and 1e-10 (benchmarks/integrator.py)
BATTERY = [
    ("exp", math.exp, (0, 1), lambda: quad(math.exp, 0, 1), (33, 33)),
    (
        "polynomial",
        lambda x: 3 * x**5 - x**2 + 1,
        (-1, 2),
        lambda: quad(lambda x: 3 * x**5 - x**2 + 1, -1, 2),
        (33, 33),
    ),
    (
        "peak",
        lambda x: 1 / (1e-4 + x * x),
        (-1, 1),
        lambda: quad(lambda x: 1 / (1e-4 + x * x), -1, 1, points=[0]),
        (455, 771),
    ),
    (
        "oscillating",
        lambda x: math.cos(50 * x),
        (0, 1),
        lambda: quad(lambda x: 1.0, 0, 1, weight="cos", wvar=50),
        (323, 695),
    ),
    (
        "gaussian",
        lambda x: math.exp(-x * x / 0.01),
        (-3, 2),
        lambda: quad(lambda x: math.exp(-x * x / 0.01), -3, 2, points=[0]),
        (191, 381),
    ),
    (
        "inverse-sqrt",
        lambda x: 1 / math.sqrt(x),
        (0, 1),
        lambda: quad(lambda x: 1.0, 0, 1, weight="alg", wvar=(-0.5, 0)),
        (757, 1733),
    ),
    (
        "log",
        math.log,
        (0, 1),
        lambda: quad(lambda x: 1.0, 0, 1, weight="alg-loga", wvar=(0, 0)),
        (427, 911),
    ),
    (
        "sqrt-cusp",
        lambda x: math.sqrt(abs(x - 0.3)),
        (0, 1),
        lambda: quad(lambda x: math.sqrt(abs(x - 0.3)), 0, 1, points=[0.3]),
        (461, 1065),
    ),
]


@pytest.mark.parametrize("tol_index", [0, 1], ids=["tol=1e-6", "tol=1e-10"])
@pytest.mark.parametrize(
    ("function", "bounds", "reference", "adaptive_evaluations"),
    [case[1:] for case in BATTERY],
    ids=[case[0] for case in BATTERY],
)
def test_battery_against_scipy_quad(function, bounds, reference, adaptive_evaluations, tol_index):
    tol = (1e-6, 1e-10)[tol_index]
    exact = reference()
    learner = run(IntegratorLearner(function, bounds, tol))
    assert learner.done()
    assert learner.err <= tol * abs(learner.igral)
    assert abs(learner.igral - exact) <= max(tol * abs(exact), learner.err)
    # no more evaluations than python-adaptive's IntegratorLearner needs for the same tol
    assert learner.npoints <= adaptive_evaluations[tol_index]
    assert learner.ask(1) == ([], [])


def test_rule_is_the_15_point_gauss_kronrod_rule():
    nodes, kronrod, gauss = gauss_kronrod(7)
    assert len(nodes) == 15
    assert np.all(np.diff(nodes) > 0)
    np.testing.assert_allclose(nodes, -nodes[::-1], atol=1e-15)
    # the 7 Gauss nodes are every other node, the zeros of P_7
    assert np.count_nonzero(gauss) == 7
    np.testing.assert_allclose(
        np.polynomial.legendre.legval(nodes[1::2], [0] * 7 + [1]), 0, atol=1e-13
    )
    exact = [2 / (k + 1) if k % 2 == 0 else 0 for k in range(26)]
    kronrod_moments = [kronrod @ nodes**k for k in range(26)]
    gauss_moments = [gauss @ nodes**k for k in range(26)]
    np.testing.assert_allclose(kronrod_moments[:24], exact[:24], atol=1e-14)  # degree 23
    np.testing.assert_allclose(gauss_moments[:14], exact[:14], atol=1e-14)  # degree 13
    assert abs(kronrod_moments[24] - exact[24]) > 1e-10  # and no more
    assert abs(gauss_moments[14] - exact[14]) > 1e-4


def test_end_points_are_never_evaluated():
    learner = IntegratorLearner(lambda x: 1 / math.sqrt(x * (1 - x)), (0, 1), 1e-8)
    run(learner)
    assert all(0 < x < 1 for x in learner.data)
    assert learner.igral == pytest.approx(math.pi, rel=1e-8)


def test_integrable_singularity_that_converges_slowly():
    learner = run(IntegratorLearner(lambda x: x**-0.9, (0, 1), 1e-6))
    assert learner.done()
    assert abs(learner.igral - 10) <= max(1e-6 * 10, learner.err)


# ---- divergence, non-finite values, limits of floating point ---------------------------------


@pytest.mark.parametrize(
    ("function", "near"),
    [
        (lambda x: 1 / x, 0.0),
        (lambda x: 1 / (1 - x), 1.0),
        (lambda x: 1 / x**2, 0.0),
        (lambda x: 1 / abs(x - 0.3), 0.3),
        (lambda x: 1 / (x - 0.3) ** 2, 0.3),
    ],
    ids=["1/x", "1/(1-x)", "1/x^2", "1/|x-0.3|", "1/(x-0.3)^2"],
)
def test_divergent_integral_raises_naming_the_interval(function, near):
    learner = IntegratorLearner(function, (0, 1), 1e-6)
    with pytest.raises(DivergentIntegralError, match=r"subinterval \[") as info:
        run(learner, max_points=5000)
    assert isinstance(info.value, ValueError)
    worst = max(learner.approximating_intervals, key=lambda interval: interval.err)
    assert worst.a - 1e-9 <= near <= worst.b + 1e-9
    assert repr(worst.a) in str(info.value)
    assert learner.npoints < 2000
    assert not learner.done()
    assert learner.loss() == math.inf
    # asking again keeps raising instead of handing out points
    with pytest.raises(DivergentIntegralError):
        learner.ask(1)


def test_divergent_learner_can_be_pickled_and_loaded(tmp_path):
    import pickle

    learner = IntegratorLearner(lambda x: 1 / x, (0, 1), 1e-6)
    with pytest.raises(DivergentIntegralError):
        run(learner)
    copy = pickle.loads(pickle.dumps(learner))
    assert copy.data == learner.data
    fname = tmp_path / "divergent.pickle"
    learner.save(fname)
    loaded = learner.new()
    loaded.load(fname)
    assert loaded.data == learner.data
    with pytest.raises(DivergentIntegralError):
        loaded.ask(1)


def test_nan_is_rejected_and_leaves_the_learner_unchanged():
    learner = IntegratorLearner(math.exp, (0, 1), 1e-8)
    points, _ = learner.ask(3)
    learner.tell(points[0], math.exp(points[0]))
    with pytest.raises(ValueError, match="nan") as info:
        learner.tell(points[1], float("nan"))
    assert repr(points[1]) in str(info.value)
    assert learner.npoints == 1
    assert points[1] in learner.pending_points
    with pytest.raises(ValueError, match="nan"):
        learner.tell_many(points[1:], [1.0, np.nan])
    assert learner.npoints == 1  # tell_many checks every value before recording any


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_infinite_value_raises_divergent_integral_error(value):
    learner = IntegratorLearner(math.exp, (0, 1), 1e-8)
    (x,), _ = learner.ask(1)
    with pytest.raises(DivergentIntegralError, match="inf"):
        learner.tell(x, value)
    assert learner.npoints == 0


def test_overflowing_values_raise_instead_of_giving_inf():
    learner = IntegratorLearner(lambda x: 1e308, (0, 10), 1e-6)
    with pytest.raises(DivergentIntegralError, match="overflows"):
        run(learner)


@pytest.mark.parametrize("value", ["1.0", None, [1.0, 2.0], np.array([1.0, 2.0]), 1j, True])
def test_non_real_values_are_rejected(value):
    learner = IntegratorLearner(math.exp, (0, 1), 1e-8)
    (x,), _ = learner.ask(1)
    with pytest.raises(ValueError, match="real-valued"):
        learner.tell(x, value)


def test_numpy_scalars_are_accepted():
    learner = IntegratorLearner(np.exp, (0, 1), 1e-8)
    run(learner)
    assert all(type(y) is float for y in learner.data.values())
    assert learner.igral == pytest.approx(math.e - 1, rel=1e-12)


def test_error_that_cannot_be_reduced_ends_the_run_and_is_reported():
    # near x = 1 the subintervals reach floating-point resolution before tol 1e-10 is met
    learner = run(IntegratorLearner(lambda x: 1 / math.sqrt(1 - x), (0, 1), 1e-10))
    assert learner.done()
    assert learner.err > 1e-10 * abs(learner.igral)
    assert abs(learner.igral - 2) <= learner.err
    assert learner.loss() == 0
    assert learner.ask(1) == ([], [])


def test_integral_that_is_zero():
    learner = run(IntegratorLearner(math.sin, (-1, 1), 1e-8))
    assert learner.done()
    assert abs(learner.igral) <= learner.err < 1e-12


# ---- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bounds",
    [(1, 0), (1, 1), (0, math.inf), (math.nan, 1), (-1e308, 1e308), (1.0, 1.0 + 1e-15), "ab", (0,)],
)
def test_bad_bounds_are_rejected(bounds):
    with pytest.raises(ValueError, match="bounds") as info:
        IntegratorLearner(math.exp, bounds, 1e-6)
    assert repr(bounds) in str(info.value)


@pytest.mark.parametrize("tol", [0, -1e-6, math.nan, math.inf, "1e-6", None, True])
def test_bad_tol_is_rejected(tol):
    with pytest.raises(ValueError, match="tol") as info:
        IntegratorLearner(math.exp, (0, 1), tol)
    assert repr(tol) in str(info.value)


def test_function_must_be_callable():
    with pytest.raises(TypeError, match="function"):
        IntegratorLearner(1.0, (0, 1), 1e-6)


@pytest.mark.parametrize("x", [-0.5, 1.5, math.nan, "0.5", None])
def test_points_outside_the_bounds_or_not_numbers_are_rejected(x):
    learner = IntegratorLearner(math.exp, (0, 1), 1e-6)
    with pytest.raises(ValueError, match="x="):
        learner.tell(x, 1.0)
    with pytest.raises(ValueError, match="x="):
        learner.tell_pending(x)
    assert learner.npoints == 0
    assert not learner.pending_points


def test_ask_zero_and_negative():
    learner = IntegratorLearner(math.exp, (0, 1), 1e-6)
    assert learner.ask(0) == ([], [])
    with pytest.raises(ValueError, match=r"\bn=-1\b"):
        learner.ask(-1)


# ---- many points at once -------------------------------------------------------------------------


def test_ask_many_points_while_others_are_pending():
    learner = IntegratorLearner(lambda x: 1 / (1e-4 + x * x), (-1, 1), 1e-8)
    first, first_improvements = learner.ask(20)
    second, _ = learner.ask(20)
    assert len(first) == len(second) == 20
    assert len(set(first) | set(second)) == 40
    assert learner.pending_points == set(first) | set(second)
    assert all(math.isinf(i) for i in first_improvements)  # nothing is known yet


@pytest.mark.parametrize("workers", [4, 50])
@pytest.mark.parametrize("seed", [0, 1])
def test_many_workers_with_results_in_random_order(workers, seed):
    function = lambda x: math.exp(-x) * math.cos(20 * x) + 1 / (0.01 + (x - 0.5) ** 2)  # noqa: E731
    learner = IntegratorLearner(function, (0, 2), 1e-9)
    asked = run_workers(learner, workers, seed)
    assert len(asked) == len(set(asked)), "a point was asked twice"
    assert learner.done()
    exact = quad(function, 0, 2, points=[0.5])
    assert abs(learner.igral - exact) <= max(1e-9 * abs(exact), learner.err)


def test_speculation_is_bounded():
    learner = IntegratorLearner(math.exp, (0, 1), 1e-6)
    points, _ = learner.ask(10_000)
    # the 15 points of the domain, then three levels of speculative halves below it
    assert len(points) == 15 * (1 + 2 + 4 + 8)
    assert len(set(points)) == len(points)
    assert learner.ask(1) == ([], [])
    for x in points[:15]:
        learner.tell(x, math.exp(x))
    assert learner.done()  # exp needs the 15 points of the whole domain only
    assert learner.ask(1) == ([], [])


def test_improvements_are_largest_for_the_worst_interval():
    learner = IntegratorLearner(lambda x: 1 / (0.001 + (x - 0.7) ** 2), (0, 1), 1e-8)
    run(learner, max_points=75)
    points, improvements = learner.ask(60, tell_pending=False)
    assert improvements == sorted(improvements, reverse=True)
    worst = max(learner.approximating_intervals, key=lambda interval: interval.err)
    assert worst.a < points[0] < worst.b


def test_telling_the_data_in_any_order_gives_the_same_estimate():
    function = lambda x: math.sqrt(x) * math.cos(7 * x)  # noqa: E731
    learner = IntegratorLearner(function, (0, 3), 1e-10)
    run_workers(learner, workers=20, seed=3)
    pairs = list(learner.data.items())
    random.Random(5).shuffle(pairs)
    again = IntegratorLearner(function, (0, 3), 1e-10)
    for x, y in pairs:
        again.tell(x, y)
    assert again.igral == learner.igral
    assert again.err == learner.err
    assert [(i.a, i.b) for i in again.approximating_intervals] == [
        (i.a, i.b) for i in learner.approximating_intervals
    ]


def test_points_the_learner_never_asked_for_are_kept_and_used():
    reference = run(IntegratorLearner(math.exp, (0, 2), 1e-12))
    # 1.0 is the middle node of the domain's rule; the others are not nodes
    foreign = [0.0, 0.3, 1.0, 2.0]
    learner = IntegratorLearner(math.exp, (0, 2), 1e-12)
    learner.tell_many(foreign, [math.exp(x) for x in foreign])
    assert learner.npoints == 4
    assert learner.loss() == math.inf
    asked, _ = learner.ask(100)
    assert 1.0 not in asked
    assert set(reference.data) - {1.0} <= set(asked)
    learner.tell_many(list(reference.data), list(reference.data.values()))
    assert learner.npoints == reference.npoints + 3
    assert learner.igral == reference.igral
    assert learner.done()


def test_told_nodes_are_used_without_asking():
    # the nodes of the whole domain, told before any ask, complete the first estimate
    asked, _ = IntegratorLearner(math.exp, (0, 1), 1e-6).ask(15)
    learner = IntegratorLearner(math.exp, (0, 1), 1e-6)
    for x in asked:
        learner.tell(x, math.exp(x))
    assert learner.done()
    assert learner.igral == pytest.approx(math.e - 1, rel=1e-14)


# ---- done, loss, intervals -----------------------------------------------------------------------


def test_loss_is_infinite_then_finite_then_zero():
    function = lambda x: 1 / (0.01 + x * x)  # noqa: E731
    learner = IntegratorLearner(function, (-1, 1), 1e-8)
    assert learner.loss() == math.inf
    assert learner.igral == 0
    assert learner.err == math.inf
    run(learner, max_points=15)
    assert not learner.done()
    assert 1 < learner.loss() < math.inf
    assert learner.loss() == pytest.approx(learner.err / (1e-8 * abs(learner.igral)))
    run(learner)
    assert learner.done()
    assert learner.loss() == 0
    assert learner.loss(real=False) == 0


def test_loss_with_pending_points_is_lower_and_restored():
    learner = IntegratorLearner(lambda x: 1 / (0.01 + x * x), (-1, 1), 1e-8)
    run(learner, max_points=45)
    loss = learner.loss()
    assert learner.loss(real=False) == loss
    learner.ask(10)
    assert learner.loss(real=False) < loss
    assert learner.loss() == loss
    learner.remove_unfinished()
    assert learner.loss(real=False) == loss


def test_approximating_intervals_cover_the_bounds_exactly():
    learner = run(IntegratorLearner(lambda x: math.log(x) * math.sin(10 * x), (0, 2), 1e-9))
    intervals = learner.approximating_intervals
    assert len(intervals) > 5
    assert intervals[0].a == 0
    assert intervals[-1].b == 2
    for left, right in itertools.pairwise(intervals):
        assert left.b == right.a
        assert left.a < left.b
    assert math.fsum(i.igral for i in intervals) == learner.igral
    assert math.fsum(i.err for i in intervals) == pytest.approx(learner.err, rel=1e-15)
    assert all(len(i.points) == 15 and all(p in learner.data for p in i.points) for i in intervals)


def test_graded_splitting_toward_a_singular_bound():
    learner = run(IntegratorLearner(lambda x: 1 / math.sqrt(x), (0, 1), 1e-8))
    first = learner.approximating_intervals[0]
    # bisection alone would need 30 evaluations per factor 2; graded splits reach far deeper
    assert first.b < 2.0 ** (-learner.npoints / 30 - 10)


# ---- data, dataframes, plotting ------------------------------------------------------------------


def test_to_numpy_is_sorted_pairs():
    learner = IntegratorLearner(math.exp, (0, 1), 1e-6)
    assert learner.to_numpy().shape == (0, 2)
    points, _ = learner.ask(20)
    for x in reversed(points):
        learner.tell(x, math.exp(x))
    table = learner.to_numpy()
    assert table.shape == (20, 2)
    assert np.all(np.diff(table[:, 0]) > 0)
    assert table[:, 1].tolist() == [math.exp(x) for x in table[:, 0]]


def scaled_exp(x, scale=2.0):
    return scale * math.exp(x)


def test_dataframe_round_trip_with_custom_names():
    pytest.importorskip("pandas")
    learner = run(IntegratorLearner(scaled_exp, (0, 1), 1e-8))
    df = learner.to_dataframe(x_name="t", y_name="f", function_prefix="arg.")
    assert list(df.columns) == ["t", "f", "arg.scale"]
    assert np.all(np.diff(df["t"]) > 0)
    loaded = IntegratorLearner(scaled_exp, (0, 1), 1e-8)
    loaded.load_dataframe(df, x_name="t", y_name="f", function_prefix="arg.")
    assert loaded.data == learner.data
    assert loaded.igral == learner.igral
    assert loaded.done()
    with pytest.raises(ValueError, match="'y'"):
        IntegratorLearner(scaled_exp, (0, 1), 1e-8).load_dataframe(df, x_name="t")


def test_load_dataframe_binds_changed_function_arguments():
    pytest.importorskip("pandas")
    learner = run(IntegratorLearner(scaled_exp, (0, 1), 1e-8))
    df = learner.to_dataframe()
    df["function.scale"] = 3.0
    loaded = IntegratorLearner(scaled_exp, (0, 1), 1e-8)
    loaded.load_dataframe(df)
    assert loaded.function(0.0) == 3.0


def test_plot_is_a_holoviews_object():
    hv = pytest.importorskip("holoviews")
    learner = IntegratorLearner(math.exp, (0, 1), 1e-6)
    assert isinstance(learner.plot(), hv.core.Dimensioned)
    run(learner)
    plot = learner.plot()
    assert isinstance(plot, hv.Overlay)
    scatter = plot.Scatter.I
    np.testing.assert_array_equal(scatter.dimension_values(0), learner.to_numpy()[:, 0])


def test_settings_survive_new_and_pickling():
    import pickle

    learner = IntegratorLearner(scaled_exp, (0.5, 2), 1e-7)
    run(learner, max_points=20)
    for other in (learner.new(), pickle.loads(pickle.dumps(learner))):
        assert other.bounds == (0.5, 2.0)
        assert other.tol == 1e-7
    copy = pickle.loads(pickle.dumps(learner))
    assert copy.data == learner.data
    assert copy.igral == learner.igral
