"""A function that returns what the learner cannot take, or what a worker cannot send back: a
clear error naming the point, and every other result kept."""

from __future__ import annotations

import concurrent.futures
import math

import loky
import numpy as np
import pytest
from runner_functions import lock_at_three, vector_at_half

import adaptive_runner as adaptive
from adaptive_runner import (
    BlockingRunner,
    Learner1D,
    SequenceLearner,
    SequentialExecutor,
    read_checkpoint,
)

BAD = np.array([1.0, 2.0])  # a vector where every learner below expects a number


def _scalar_except_at(bad_point):
    def function(point):
        if point == bad_point:
            return BAD
        return float(np.sum(np.atleast_1d(point)) ** 2)

    return function


# learner factory, and the point at which the function misbehaves (one the learner asks early)
LEARNERS = {
    "Learner1D": (lambda f: adaptive.Learner1D(f, (0, 1)), 1.0),
    "Learner2D": (lambda f: adaptive.Learner2D(f, [(0, 1), (0, 1)]), (1.0, 1.0)),
    "LearnerND": (lambda f: adaptive.LearnerND(f, [(0, 1), (0, 1)]), (1.0, 1.0)),
    "AverageLearner": (lambda f: adaptive.AverageLearner(f, atol=0.01), 2),
    "IntegratorLearner": (lambda f: adaptive.IntegratorLearner(f, (0, 1), tol=1e-6), 0.5),
}


@pytest.mark.parametrize("kind", sorted(LEARNERS))
def test_a_wrong_shaped_value_fails_the_run_naming_the_point_and_keeps_the_rest(tmp_path, kind):
    make, bad_point = LEARNERS[kind]
    learner = make(_scalar_except_at(bad_point))
    checkpoint = tmp_path / "run.sqlite"
    with pytest.raises(ValueError, match=r"the value returned for point") as info:
        BlockingRunner(
            learner,
            npoints_goal=40,
            executor=SequentialExecutor(),
            checkpoint=checkpoint,
        )
    message = str(info.value)
    assert f"point {bad_point!r} was rejected" in message
    assert f"rejected by {type(learner).__name__}" in message
    # the learner holds every other value, nothing pending, and goes on working
    told = [r for r in read_checkpoint(checkpoint) if not r["failed"]]
    assert learner.npoints == len(told) >= 1
    assert not learner.pending_points
    (failure,) = [r for r in read_checkpoint(checkpoint) if r["failed"]]
    assert "rejected by" in failure["traceback"]


@pytest.mark.parametrize("kind", sorted(LEARNERS))
def test_a_wrong_shaped_value_can_be_set_aside_and_the_run_goes_on(kind):
    make, bad_point = LEARNERS[kind]
    learner = make(_scalar_except_at(bad_point))
    runner = BlockingRunner(
        learner,
        npoints_goal=30,
        executor=SequentialExecutor(),
        retries=1,
        raise_if_retries_exceeded=False,
    )
    assert learner.npoints >= 30
    assert len(runner.failed) == 1
    failed = runner.failed[0]
    assert np.allclose(np.atleast_1d(failed), np.atleast_1d(bad_point))
    ((_point, text),) = runner.tracebacks
    assert "rejected by" in text
    assert "(value: array([1., 2.]))" in text


def test_a_vector_after_numbers_on_a_process_pool(tmp_path):
    learner = Learner1D(vector_at_half, (0, 1))
    with pytest.raises(ValueError, match=r"point 0\.5 was rejected by Learner1D") as info:
        BlockingRunner(learner, npoints_goal=20, executor=loky.get_reusable_executor(2))
    assert "expected length 1" in str(info.value.__cause__)
    # results that arrived are kept (those in flight when the run failed are cancelled)
    assert 0.5 not in learner.data
    assert learner.npoints >= 1
    assert all(np.isscalar(y) for y in learner.data.values())
    assert not learner.pending_points


@pytest.mark.parametrize("pool", ["loky", "process"])
def test_an_unpicklable_return_value_names_the_point_and_keeps_the_rest(tmp_path, pool):
    if pool == "loky":
        executor = loky.get_reusable_executor(max_workers=2)
    else:
        executor = concurrent.futures.ProcessPoolExecutor(max_workers=2)
    learner = SequenceLearner(lock_at_three, range(8))
    checkpoint = tmp_path / "run.sqlite"
    try:
        with pytest.raises(TypeError, match="pickle") as info:
            BlockingRunner(learner, executor=executor, ntasks=1, checkpoint=checkpoint)
    finally:
        if pool == "process":
            executor.shutdown()
    notes = "\n".join(info.value.__notes__)
    assert "returned a value for point (3, 3) that could not be pickled" in notes
    assert sorted(learner.data) == [0, 1, 2]  # ntasks=1: in order, up to the bad one
    assert learner.data == {i: i for i in range(3)}
    told = [r["point"] for r in read_checkpoint(checkpoint) if not r["failed"]]
    assert told == [(i, i) for i in range(3)]


def test_unpicklable_return_values_set_aside_with_retries_exceeded_false():
    learner = SequenceLearner(lock_at_three, range(8))
    runner = BlockingRunner(
        learner, executor=loky.get_reusable_executor(2), raise_if_retries_exceeded=False
    )
    assert runner.failed == [(3, 3)]
    assert sorted(learner.data) == [0, 1, 2, 4, 5, 6, 7]
    ((point, text),) = runner.tracebacks
    assert point == (3, 3)
    assert "could not be pickled" in text


def reciprocal(x):
    return 1 / x if x else math.inf


def test_a_divergent_integral_still_ends_the_run_with_its_own_error():
    # DivergentIntegralError is a ValueError from tell, but a verdict on the learner, not on one
    # value: it is not set aside as a failed point, even with raise_if_retries_exceeded=False
    learner = adaptive.IntegratorLearner(reciprocal, (0, 1), tol=1e-6)
    with pytest.raises(adaptive.DivergentIntegralError, match="diverge"):
        BlockingRunner(learner, executor=SequentialExecutor(), raise_if_retries_exceeded=False)
