"""The terminal status line: rate and estimated remaining time, from given observations (no
clocks, no timing: the runner below reports whatever elapsed time the test sets)."""

from __future__ import annotations

import math

import pytest

from adaptive_runner import Learner1D, SequenceLearner
from adaptive_runner.display.terminal import (
    MAX_ESTIMATE_SECONDS,
    RunProgress,
    estimate_seconds_left,
    evaluation_rate,
    format_rate,
    format_seconds_left,
    seconds_left_from_loss,
    seconds_left_from_progress,
    status_line,
)
from adaptive_runner.runner.goals import Goal, auto_goal


class StubRunner:
    """The runner state status_line reads, with an elapsed time set by the test."""

    def __init__(self, learner, goal):
        self.learner = learner
        self.goal = goal
        self.elapsed = 0.0
        self.failed: list = []
        self.to_retry: list = []
        self.outcome = None
        self.error = None

    def elapsed_time(self):
        return self.elapsed

    def overhead(self):
        return 12.5


class FixedTimeGoal(Goal):
    """A time goal whose remaining seconds the test sets."""

    def __init__(self, seconds_left):
        self.left = seconds_left

    def __call__(self, learner):
        return self.left <= 0

    def seconds_left(self):
        return self.left


def square(x):
    return x * x


def fill(learner, npoints):
    while learner.npoints < npoints:
        (point,), _ = learner.ask(1)
        learner.tell(point, learner.function(point))


# ---- the estimation functions ------------------------------------------------------------------


def test_evaluation_rate():
    assert evaluation_rate((0.0, 10), (4.0, 50)) == 10.0
    assert evaluation_rate((2.0, 10), (2.5, 50)) is None  # too short to say
    assert evaluation_rate((0.0, 10), (4.0, 10)) == 0.0  # stalled: an honest zero
    assert evaluation_rate((0.0, 10), (4.0, 5)) is None  # points went away: no rate


def test_seconds_left_from_progress():
    assert seconds_left_from_progress((0.0, 0.1), (10.0, 0.6)) == pytest.approx(8.0)
    assert seconds_left_from_progress((0.0, 0.1), (10.0, 0.1)) is None  # no progress
    assert seconds_left_from_progress((0.0, 0.1), (10.0, 0.105)) is None  # below 1 %
    assert seconds_left_from_progress((0.0, 0.1), (0.5, 0.6)) is None  # too early
    assert seconds_left_from_progress((0.0, 0.1), (10.0, 1.0)) == 0.0
    # progress going backwards (a goal whose fraction drops) never gives a negative time
    assert seconds_left_from_progress((0.0, 0.5), (10.0, 0.3)) is None


def power_law(npoints, exponent=1.0, scale=10.0):
    return scale * npoints**-exponent


def test_seconds_left_from_loss_follows_a_power_law():
    samples = [(n, power_law(n)) for n in range(50, 101, 10)]
    # loss 10 / n reaches 0.05 at n = 200: 100 more points at 10 points/s
    assert seconds_left_from_loss(samples, 0.05, rate=10.0) == pytest.approx(10.0)
    squared = [(n, power_law(n, exponent=2)) for n in range(50, 101, 10)]
    # 10 / n**2 reaches 1e-4 at n = 316.2...
    expected = (math.sqrt(10 / 1e-4) - 100) / 5.0
    assert seconds_left_from_loss(squared, 1e-4, rate=5.0) == pytest.approx(expected)


def test_seconds_left_from_loss_uses_only_the_recent_half():
    early = [(n, 1.0) for n in range(2, 40)]  # a flat start (e.g. before the peak was found)
    recent = [(n, power_law(n)) for n in range(50, 101, 10)]
    assert seconds_left_from_loss(early + recent, 0.05, rate=10.0) == pytest.approx(10.0)


def test_seconds_left_from_loss_refuses_to_guess():
    falling = [(n, power_law(n)) for n in range(50, 101, 10)]
    assert seconds_left_from_loss(falling, 0.05, rate=None) is None
    assert seconds_left_from_loss(falling, 0.05, rate=0.0) is None
    assert seconds_left_from_loss(falling[:3], 0.05, rate=10.0) is None  # too few samples
    narrow = [(n, power_law(n)) for n in range(90, 101, 2)]
    assert seconds_left_from_loss(narrow, 0.05, rate=10.0) is None  # too narrow a window
    flat = [(n, 0.5) for n in range(50, 101, 10)]
    assert seconds_left_from_loss(flat, 0.05, rate=10.0) is None  # not falling
    rising = [(n, n / 100) for n in range(50, 101, 10)]
    assert seconds_left_from_loss(rising, 0.05, rate=10.0) is None
    infinite = [(n, math.inf) for n in range(50, 101, 10)]
    assert seconds_left_from_loss(infinite, 0.05, rate=10.0) is None
    assert seconds_left_from_loss(falling, 0.0, rate=10.0) is None  # never reached
    slow = [(n, power_law(n, exponent=0.06)) for n in range(50, 101, 10)]
    assert seconds_left_from_loss(slow, 1e-6, rate=1.0) is None  # beyond any sensible time
    assert seconds_left_from_loss(falling, 0.2, rate=10.0) == 0.0  # 10 / 100 <= 0.2: met


def test_formatting():
    assert format_rate(123.456) == "123 points/s"
    assert format_rate(2.5) == "2.5 points/s"
    assert format_rate(0.0) == "0 points/s"
    assert format_rate(0.5) == "30 points/min"
    assert format_rate(1 / 600) == "6 points/h"
    assert format_seconds_left(65) == "~1:05"
    assert format_seconds_left(2 * 3600 + 3 * 60) == "~2:03:00"
    assert format_seconds_left(3 * 86400 + 4 * 3600 + 10) == "~3d 4h"


def test_estimate_prefers_the_goal_s_own_time():
    progress = RunProgress()
    assert estimate_seconds_left(FixedTimeGoal(42.0), progress, rate=None) == 42.0
    assert estimate_seconds_left(FixedTimeGoal(-3.0), progress, rate=None) == 0.0
    assert estimate_seconds_left(FixedTimeGoal(math.inf), progress, rate=None) is None
    assert estimate_seconds_left(FixedTimeGoal(MAX_ESTIMATE_SECONDS * 2), progress, None) is None


def test_run_progress_memory_is_bounded_and_keeps_the_first_sample():
    progress = RunProgress()
    for i in range(5000):
        progress.observe(i, i, None, None)
    assert len(progress.samples) <= 1025
    assert progress.samples[0] == (0.0, 0, None, None)
    assert progress.samples[-1][1] == 4999
    assert [s[0] for s in progress.samples] == sorted(s[0] for s in progress.samples)


# ---- status_line with a runner in a given state ------------------------------------------------


def test_status_line_npoints_goal_rate_and_time_left():
    learner = Learner1D(square, (-1, 1))
    runner = StubRunner(learner, auto_goal(npoints=100, learner=learner))
    progress = RunProgress()
    fill(learner, 20)
    first = status_line(runner, progress)
    assert "rate:" not in first  # nothing to go on yet
    assert "left:" not in first
    fill(learner, 40)
    runner.elapsed = 2.0
    line = status_line(runner, progress)
    assert "points: 40 | rate: 10 points/s | loss:" in line
    # 20 % -> 40 % in 2 s: the other 60 % take 6 s
    assert "elapsed: 0:02 | left: ~0:06 | overhead: 12.5%" in line
    assert "\n" not in line
    runner.outcome = "finished"
    final = status_line(runner, progress)
    assert final.startswith("finished")
    assert "left:" not in final
    assert "rate: 10 points/s" in final


def test_status_line_loss_goal_estimates_from_the_loss_trend():
    learner = Learner1D(square, (-1, 1))
    runner = StubRunner(learner, auto_goal(loss=0.001, learner=learner))
    progress = RunProgress()
    lines = []
    for npoints in range(20, 101, 10):
        fill(learner, npoints)
        runner.elapsed = npoints / 10  # 10 points/s
        lines.append(status_line(runner, progress))
    assert "left:" not in lines[0]
    last = lines[-1]
    assert "rate: 10 points/s" in last
    losses = [(n, loss) for _, n, _, loss in progress.samples]
    expected = seconds_left_from_loss(losses, 0.001, rate=10.0)
    assert expected is not None  # the loss falls as a power of npoints
    assert expected > 0
    assert f"left: {format_seconds_left(expected)}" in last


def test_status_line_time_goal_and_sequence():
    learner = SequenceLearner(square, range(10))
    runner = StubRunner(learner, FixedTimeGoal(90.0))
    line = status_line(runner, RunProgress())
    assert "left: ~1:30" in line
    runner.goal = auto_goal(learner=learner)  # done when the sequence is done: progress known
    progress = RunProgress()
    status_line(runner, progress)
    fill(learner, 5)
    runner.elapsed = 5.0
    assert "left: ~0:05" in status_line(runner, progress)


def test_status_line_without_progress_is_remembered_per_runner():
    learner = Learner1D(square, (-1, 1))
    runner = StubRunner(learner, auto_goal(npoints=100, learner=learner))
    fill(learner, 10)
    status_line(runner)
    fill(learner, 30)
    runner.elapsed = 4.0
    assert "rate: 5 points/s" in status_line(runner)


def test_status_line_a_goal_without_an_end_shows_no_time_left():
    learner = Learner1D(square, (-1, 1))
    runner = StubRunner(learner, auto_goal(learner=learner))  # runs until cancelled
    progress = RunProgress()
    status_line(runner, progress)
    fill(learner, 30)
    runner.elapsed = 3.0
    line = status_line(runner, progress)
    assert "rate: 10 points/s" in line
    assert "left:" not in line
