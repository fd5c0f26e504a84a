"""Conformance cases of the balancing learner(s) (appended to ``learner_cases.CASES``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance import LearnerCase

from adaptive_runner.learners.balancing_learner import BalancingLearner
from adaptive_runner.learners.learner1D import Learner1D
from adaptive_runner.learners.sequence_learner import SequenceLearner

__all__ = ["BALANCING_CASES"]


def shifted_peak(offset: float) -> Callable[..., float]:
    """A narrow peak at ``offset``: a closure, so the only defaulted argument is ``a`` (the same
    in every child, as the ``function.a`` column check needs)."""

    def peak(x: float, a: float = 0.05) -> float:
        return x + a**2 / (a**2 + (x - offset) ** 2)

    return peak


def balancing_settings(learner: Any) -> dict[str, Any]:
    children = []
    for child in learner.learners:
        settings = {"type": type(child).__name__}
        if isinstance(child, Learner1D):
            settings["bounds"] = child.bounds
            settings["loss"] = child.loss_per_interval((0.0, 0.5), (0.1, 0.2))
        else:
            settings["sequence"] = child.sequence
        children.append(settings)
    return {
        "type": type(learner).__name__,
        "strategy": learner.strategy,
        "cdims": learner.cdims,
        "children": children,
    }


ONLY_FLOATS = {
    "check_save_is_atomic": "Learner1D values are numbers: no unpicklable value can be told "
    "(atomic saving is tested in tests/test_persistence.py and by the SequenceLearner case)"
}

BALANCING_CASES: list[LearnerCase] = [
    LearnerCase(
        id="BalancingLearner-3-Learner1D",
        # different bounds and peaks per child, labelled by cdims
        make=lambda: BalancingLearner(
            [
                Learner1D(shifted_peak(offset), bounds=bounds)
                for offset, bounds in ((0.0, (-1, 1)), (0.5, (0, 2)), (-0.3, (-2, 0.5)))
            ],
            cdims=[{"offset": 0.0}, {"offset": 0.5}, {"offset": -0.3}],
        ),
        finite=False,
        max_points=60,
        settings=balancing_settings,
        function_defaults={"a": 0.05},
        skip=ONLY_FLOATS,
    ),
    LearnerCase(
        id="BalancingLearner-2-SequenceLearner-npoints",
        # children of unequal length, so one runs out first; the other strategy
        make=lambda: BalancingLearner(
            [
                SequenceLearner(lambda x, offset=1: x * x + offset, range(8)),
                SequenceLearner(
                    lambda x, offset=1: len(repr(x)) + offset, [{"a": 1}, [2], "three", 4, 5.0]
                ),
            ],
            strategy="npoints",
        ),
        settings=balancing_settings,
        function_defaults={"offset": 1},
    ),
]
