"""Goals: construction errors, auto_goal, stop_after, and each goal kind ending a real run."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from runner_functions import CountingLearner, async_sleep_forever, square

import adaptive_runner as adaptive
from adaptive_runner import BlockingRunner, SequenceLearner, SequentialExecutor, auto_goal


def counting() -> CountingLearner:
    return CountingLearner(square)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"npoints_goal": 5, "loss_goal": 0.1}, "loss_goal, npoints_goal"),
        ({"goal": lambda learner: True, "duration_goal": 1}, "goal, duration_goal"),
        ({"duration_goal": -1}, "duration_goal=-1"),
        ({"duration_goal": timedelta(seconds=-3)}, "must not be negative"),
        ({"duration_goal": "1h"}, "duration_goal='1h'"),
        ({"goal": 10}, "goal=10"),
        ({"goal": "done"}, "goal='done'"),
        ({"npoints_goal": 2.5}, "npoints_goal=2.5"),
        ({"npoints_goal": -1}, "npoints_goal=-1"),
        ({"loss_goal": -0.5}, "loss_goal=-0.5"),
        ({"loss_goal": float("nan")}, "loss_goal=nan"),
        ({"end_time_goal": "tomorrow"}, "end_time_goal='tomorrow'"),
    ],
)
@pytest.mark.parametrize("runner_type", [adaptive.AsyncRunner, BlockingRunner])
def test_bad_goals_raise_at_construction(runner_type, kwargs, message):
    learner = counting()
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
        runner_type(learner, executor=SequentialExecutor(), **kwargs)
    assert learner.npoints == 0  # nothing ran


def test_blocking_runner_without_goal_is_an_error_for_endless_learners():
    with pytest.raises(ValueError, match="no goal"):
        BlockingRunner(counting(), executor=SequentialExecutor())


@pytest.mark.parametrize("n", [0, 1, 7, 50])
def test_npoints_goal(n):
    learner = counting()
    BlockingRunner(learner, npoints_goal=n, executor=SequentialExecutor())
    assert learner.npoints == n
    assert not learner.pending_points


def test_loss_goal():
    learner = counting()
    BlockingRunner(learner, loss_goal=0.01, executor=SequentialExecutor())
    assert learner.loss() <= 0.01
    assert learner.npoints == 99  # loss = 1/(n+1) first reaches 0.01 at n = 99


def test_callable_goal():
    learner = counting()
    BlockingRunner(learner, goal=lambda lrn: 12 in lrn.data, executor=SequentialExecutor())
    assert max(learner.data) == 12


def test_duration_goal_counts_from_the_start_of_the_run():
    learner = counting()
    start = time.monotonic()
    runner = BlockingRunner(learner, duration_goal=0.3, executor=SequentialExecutor())
    elapsed = time.monotonic() - start
    assert 0.3 <= elapsed < 5
    assert runner.elapsed_time() >= 0.3
    assert learner.npoints > 0


def test_duration_goal_stops_while_every_evaluation_is_still_running():
    # async evaluations that never end: the deadline alone must end the run
    learner = CountingLearner(async_sleep_forever)
    runner = adaptive.AsyncRunner(learner, duration_goal=timedelta(seconds=0.2), ntasks=4)
    start = time.monotonic()
    runner.block_until_done()
    assert time.monotonic() - start < 3
    assert runner.status() == "finished"
    assert learner.npoints == 0
    assert not learner.pending_points


def test_end_time_goal():
    learner = counting()
    end = datetime.now() + timedelta(seconds=0.2)
    BlockingRunner(learner, end_time_goal=end, executor=SequentialExecutor())
    assert datetime.now() >= end


def test_sequence_learner_finishes_by_itself_without_goal():
    learner = SequenceLearner(square, range(30))
    BlockingRunner(learner, executor=SequentialExecutor())
    assert learner.done()
    assert learner.result() == [x * x for x in range(30)]


def test_npoints_goal_beyond_a_sequence_ends_when_the_sequence_is_done():
    learner = SequenceLearner(square, range(5))
    BlockingRunner(learner, npoints_goal=100, executor=SequentialExecutor())
    assert learner.done()


def test_balancing_npoints_goal_applies_to_each_child():
    children = [adaptive.Learner1D(square, bounds=(-1, 1)) for _ in range(3)]
    learner = adaptive.BalancingLearner(children)
    BlockingRunner(learner, npoints_goal=20, executor=SequentialExecutor())
    assert all(child.npoints >= 20 for child in children)
    assert min(child.npoints for child in children) == 20  # stopped as soon as the last got 20


def test_balancing_npoints_goal_with_children_that_finish_early():
    short, long = SequenceLearner(square, range(2)), SequenceLearner(square, range(10))
    learner = adaptive.BalancingLearner([short, long])
    BlockingRunner(learner, npoints_goal=5, executor=SequentialExecutor())
    assert short.done()
    assert long.npoints == 5  # the short child being done counts as reaching its goal


def test_balancing_loss_goal_applies_to_the_whole():
    children = [adaptive.Learner1D(square, bounds=(-1, 1)) for _ in range(2)]
    learner = adaptive.BalancingLearner(children)
    BlockingRunner(learner, loss_goal=0.05, executor=SequentialExecutor())
    assert learner.loss() <= 0.05
    assert all(child.loss() <= 0.05 for child in children)


def test_auto_goal_rejects_two_goals():
    with pytest.raises(ValueError, match="at most one goal"):
        auto_goal(loss=0.1, npoints=10)


def test_auto_goal_without_goal():
    never = auto_goal()
    assert never(counting()) is False
    with pytest.raises(ValueError, match="allow_running_forever"):
        auto_goal(allow_running_forever=False)
    learner = SequenceLearner(square, [1])
    done = auto_goal(learner=learner)
    assert done(learner) is False
    learner.tell((0, 1), 1)
    assert done(learner) is True


def test_auto_goal_kinds():
    learner = counting()
    learner.tell_many(range(10), range(10))
    assert auto_goal(npoints=10)(learner)
    assert not auto_goal(npoints=11)(learner)
    assert auto_goal(loss=0.1)(learner)
    assert not auto_goal(loss=0.05)(learner)
    assert auto_goal(end_time=datetime.now() - timedelta(seconds=1))(learner)
    assert not auto_goal(end_time=datetime.now() + timedelta(hours=1))(learner)
    assert not auto_goal(duration=3600)(learner)
    assert auto_goal(duration=0)(learner)


def test_stop_after():
    goal = adaptive.stop_after(seconds=0.1)
    learner = counting()
    assert not goal(learner)
    time.sleep(0.15)
    assert goal(learner)
    with pytest.raises(ValueError, match="must not be negative"):
        adaptive.stop_after(minutes=-1)


def test_goal_progress_is_known_for_bounded_goals():
    learner = counting()
    learner.tell_many(range(5), range(5))
    assert auto_goal(npoints=20).progress(learner) == pytest.approx(0.25)
    assert auto_goal(loss=0.1).progress(learner) is None
    sequence = SequenceLearner(square, range(10))
    sequence.tell((0, 0), 0)
    assert auto_goal(learner=sequence).progress(sequence) == pytest.approx(0.1)
    half_hour = auto_goal(duration=1800)
    half_hour.start()
    assert 0 <= half_hour.progress(learner) < 0.01
