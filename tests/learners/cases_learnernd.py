"""Conformance cases of the learnernd learner(s) (appended to ``learner_cases.CASES``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from conformance import LearnerCase

from adaptive_runner.learners.learnerND import LearnerND
from adaptive_runner.learners.learnerND_losses import curvature_loss_function

__all__ = ["LEARNERND_CASES"]


def ring(xy: tuple[float, float], width: float = 0.2) -> float:
    """A sharp ring of radius 0.75 on a slope."""
    x, y = xy
    return x + math.exp(-((x**2 + y**2 - 0.75**2) ** 2) / width**4)


def learnernd_settings(learner: Any) -> dict[str, Any]:
    probe = [(0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)]
    values = [1.0, 2.0, 0.0, 4.0]
    loss = learner.loss_per_simplex
    arguments = (
        np.array(probe)[: learner.ndim + 1, : learner.ndim],
        values[: learner.ndim + 1],
        1.0,
    )
    if getattr(loss, "nth_neighbors", 0):
        arguments = (*arguments, [None] * (learner.ndim + 1), [None] * (learner.ndim + 1))
    return {
        "bounds": learner.bounds,
        "loss": loss(*arguments),
        "nth_neighbors": learner.nth_neighbors,
    }


ONLY_NUMBERS = {
    "check_save_is_atomic": "LearnerND values are numbers or float vectors: no unpicklable value "
    "can be told (atomic saving is tested in tests/test_persistence.py)"
}

LEARNERND_CASES: list[LearnerCase] = [
    LearnerCase(
        id="LearnerND-2D-ring",
        make=lambda: LearnerND(ring, bounds=[(-1, 1), (-1, 1)]),
        finite=False,
        settings=learnernd_settings,
        function_defaults={"width": 0.2},
        skip=ONLY_NUMBERS,
    ),
    LearnerCase(
        id="LearnerND-3D-vector-curvature",
        make=lambda: LearnerND(
            lambda p, shift=0.5: np.array([p[0] * p[1] + shift, math.sin(3 * p[2])]),
            bounds=[(0, 1), (-1, 1), (0, 2)],
            loss_per_simplex=curvature_loss_function(0.1),
        ),
        finite=False,
        max_points=30,
        settings=learnernd_settings,
        function_defaults={"shift": 0.5},
        skip=ONLY_NUMBERS,
    ),
]
