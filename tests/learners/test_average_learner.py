"""AverageLearner: statistics, loss, tolerances, seeds, bad inputs."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

import adaptive_runner as adaptive
from adaptive_runner.learners.average_learner import MIN_NPOINTS_WITHOUT_SPREAD

AverageLearner = adaptive.AverageLearner


def normal(seed: int) -> float:
    return random.Random(seed).gauss(5.0, 2.0)


def fill(learner: AverageLearner, values) -> None:
    for seed, value in enumerate(values):
        learner.tell(seed, value)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({}, ValueError, "atol and rtol"),
        ({"atol": None, "rtol": None}, ValueError, "atol and rtol"),
        ({"atol": -0.1}, ValueError, "atol=-0.1"),
        ({"atol": 0}, ValueError, "atol=0"),
        ({"rtol": math.inf}, ValueError, "rtol=inf"),
        ({"rtol": math.nan}, ValueError, "rtol=nan"),
        ({"atol": "0.1"}, TypeError, "atol='0.1'"),
        ({"atol": 0.1, "min_npoints": 1}, ValueError, "min_npoints=1"),
        ({"atol": 0.1, "min_npoints": 2.5}, ValueError, "min_npoints=2.5"),
    ],
)
def test_bad_settings_fail_at_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        AverageLearner(normal, **kwargs)


def test_function_must_be_callable():
    with pytest.raises(TypeError, match="function must be callable"):
        AverageLearner(None, atol=0.1)


def test_bad_ask_and_tell_inputs():
    learner = AverageLearner(normal, atol=0.1)
    with pytest.raises(ValueError, match="n"):
        learner.ask(-1)
    with pytest.raises(ValueError, match="seed"):
        learner.tell(-3, 1.0)
    with pytest.raises(ValueError, match="seed"):
        learner.tell(1.5, 1.0)
    with pytest.raises(ValueError, match="finite"):
        learner.tell(0, math.nan)
    with pytest.raises(ValueError, match="real numbers"):
        learner.tell(0, [1.0])
    assert learner.data == {}
    assert learner.ask(0) == ([], [])


def test_mean_std_and_loss_match_numpy():
    values = [normal(seed) for seed in range(500)]
    learner = AverageLearner(normal, atol=0.05, rtol=0.01)
    fill(learner, values)
    assert learner.mean == pytest.approx(np.mean(values), rel=1e-12)
    assert learner.std == pytest.approx(np.std(values, ddof=1), rel=1e-12)
    standard_error = np.std(values, ddof=1) / math.sqrt(500)
    expected = max(standard_error / 0.05, standard_error / (0.01 * abs(np.mean(values))))
    assert learner.loss() == pytest.approx(expected, rel=1e-12)
    # the loss at another sample count scales as 1/sqrt(n)
    assert learner.loss(n=2000) == pytest.approx(expected / 2, rel=1e-12)


def test_only_rtol_with_a_zero_mean_never_converges():
    learner = AverageLearner(normal, rtol=0.1)
    fill(learner, [-1.0, 1.0] * 20)
    assert learner.mean == pytest.approx(0, abs=1e-15)
    assert learner.loss() > 1e12
    learner = AverageLearner(normal, rtol=0.1)
    fill(learner, [-1.0, 1.0])
    assert learner.mean == 0
    assert learner.loss(n=10**9) == math.inf


def test_loss_is_infinite_below_min_npoints():
    learner = AverageLearner(normal, atol=100.0, min_npoints=7)
    fill(learner, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert learner.loss() == math.inf
    learner.tell(6, 7.0)
    assert learner.loss() < 1


def test_two_equal_samples_do_not_declare_convergence():
    learner = AverageLearner(normal, atol=0.1)
    fill(learner, [3.0, 3.0])
    assert learner.std == 0
    assert learner.loss() == math.inf
    fill(learner, [3.0] * MIN_NPOINTS_WITHOUT_SPREAD)
    assert learner.loss() == 0  # many equal samples: the function is taken as deterministic
    spread = AverageLearner(normal, atol=0.1)
    fill(spread, [3.0, 3.5])
    assert math.isfinite(spread.loss())


def test_ask_gives_fresh_seeds_and_counts_pending():
    learner = AverageLearner(normal, atol=0.1)
    seeds, improvements = learner.ask(3)
    assert seeds == [0, 1, 2]
    assert improvements == [math.inf] * 3
    assert learner.n_requested == 3
    learner.tell(1, normal(1))
    learner.tell(5, normal(5))  # a seed nobody asked for is fine
    seeds, _ = learner.ask(4)
    assert seeds == [3, 4, 6, 7]
    assert learner.pending_points == {0, 2, 3, 4, 6, 7}
    learner.remove_unfinished()
    assert learner.pending_points == set()
    assert learner.ask(2, tell_pending=False)[0] == [0, 2]


def test_improvement_is_the_expected_loss_drop():
    learner = AverageLearner(normal, atol=0.1)
    fill(learner, [normal(seed) for seed in range(100)])
    _, improvements = learner.ask(10, tell_pending=False)
    expected = (learner.loss() - learner.loss(n=110)) / 10
    assert improvements == pytest.approx([expected] * 10)
    learner.ask(10)
    assert learner.loss(real=False) == pytest.approx(learner.loss(n=110))


def test_runner_reaches_the_tolerance():
    learner = AverageLearner(normal, atol=0.05)
    adaptive.BlockingRunner(learner, loss_goal=1.0, executor=adaptive.SequentialExecutor())
    assert learner.loss() <= 1
    assert abs(learner.mean - 5.0) < 5 * 0.05  # five standard errors
    # std / sqrt(n) <= atol needs n >= (2 / 0.05)**2 = 1600 samples, give or take the noise
    assert 1200 < learner.npoints < 2200


def test_plot_is_a_histogram_of_the_values():
    hv = pytest.importorskip("holoviews")
    learner = AverageLearner(normal, atol=0.1)
    assert isinstance(learner.plot(), hv.Histogram)
    fill(learner, [normal(seed) for seed in range(100)])
    histogram = learner.plot()
    assert isinstance(histogram, hv.Histogram)
    assert histogram.dimension_values("count").sum() == 100
    edges = histogram.interface.coords(histogram, "y", edges=True)
    assert edges.min() == pytest.approx(min(learner.data.values()))
    assert edges.max() == pytest.approx(max(learner.data.values()))
