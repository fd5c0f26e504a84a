"""AverageLearner: statistics, loss, tolerances, seeds, bad inputs."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

import adaptive_runner as adaptive
from adaptive_runner.learners.average_learner import MIN_NPOINTS_FOR_SPREAD

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
    assert learner.mean == 0  # exact sums: no rounding residue
    assert learner.loss() == math.inf
    assert learner.loss(n=10**9) == math.inf


def test_mean_and_std_do_not_depend_on_the_order_of_telling():
    values = [normal(seed) * 10 ** (seed % 7) for seed in range(300)]
    forward, backward = AverageLearner(normal, atol=0.1), AverageLearner(normal, atol=0.1)
    fill(forward, values)
    for seed in reversed(range(300)):
        backward.tell(seed, values[seed])
    assert forward.mean == backward.mean
    assert forward.std == backward.std
    assert forward.mean == pytest.approx(math.fsum(values) / 300, rel=1e-15)


def test_loss_is_infinite_below_min_npoints():
    learner = AverageLearner(normal, atol=100.0, min_npoints=17)
    fill(learner, [float(i % 5) for i in range(16)])
    assert learner.loss() == math.inf
    learner.tell(16, 7.0)
    assert learner.loss() < 1


def test_few_samples_never_declare_convergence():
    # two equal samples, and two close ones: a spread near 0 from too few samples
    for values in ([3.0, 3.0], [3.0, 3.001]):
        learner = AverageLearner(normal, atol=0.1)
        fill(learner, values)
        assert learner.loss() == math.inf
        assert learner.loss(n=10**6) == math.inf  # more pending samples do not help either
    learner = AverageLearner(normal, atol=0.1)
    fill(learner, [3.0] * (MIN_NPOINTS_FOR_SPREAD - 1))
    assert learner.loss() == math.inf
    learner.tell(MIN_NPOINTS_FOR_SPREAD - 1, 3.0)
    assert learner.loss() == 0  # ten equal samples: the function is taken as deterministic


def test_the_runner_does_not_stop_after_a_lucky_pair():
    # seeds 0 and 1 of this function give nearly the same value: python-adaptive stops there
    def lucky(seed: int) -> float:
        return 1.0 + (0.0001 * seed if seed < 2 else random.Random(seed).gauss(0, 1))

    learner = AverageLearner(lucky, atol=0.05)
    adaptive.BlockingRunner(learner, loss_goal=1.0, executor=adaptive.SequentialExecutor())
    assert learner.npoints > 100  # std ~1 needs about (1 / 0.05)**2 = 400 samples


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
    assert isinstance(learner.plot().Histogram.I, hv.Histogram)
    fill(learner, [normal(seed) for seed in range(100)])
    histogram = learner.plot().Histogram.I
    assert isinstance(histogram, hv.Histogram)
    assert histogram.dimension_values("count").sum() == 100
    edges = histogram.interface.coords(histogram, "y", edges=True)
    assert edges.min() == pytest.approx(min(learner.data.values()))
    assert edges.max() == pytest.approx(max(learner.data.values()))
