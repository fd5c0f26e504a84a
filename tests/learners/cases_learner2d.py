"""Conformance cases of the learner2d learner(s) (appended to ``learner_cases.CASES``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from conformance import LearnerCase
from scipy.interpolate import LinearNDInterpolator

from adaptive_runner.learners.learner2D import Learner2D
from adaptive_runner.learners.learner2D_losses import uniform_loss

__all__ = ["LEARNER2D_CASES"]

# a small interpolator to compare loss functions by what they compute
_PROBE_POINTS = np.array([(-0.5, -0.5), (0.5, -0.5), (-0.5, 0.5), (0.5, 0.5), (0.1, 0.2)])
PROBE_IP = LinearNDInterpolator(_PROBE_POINTS, np.array([0.0, 1.0, 0.5, 2.0, 3.0]))


def learner2d_settings(learner: Any) -> dict[str, Any]:
    return {
        "type": type(learner).__name__,
        "bounds": learner.bounds,
        "loss": tuple(np.round(learner.loss_per_triangle(PROBE_IP), 12).tolist()),
    }


ONLY_NUMBERS = {
    "check_save_is_atomic": "Learner2D values are numbers or vectors of numbers: no unpicklable "
    "value can be told (atomic saving is tested in tests/test_persistence.py)"
}


def ring(xy, width=0.2):
    x, y = xy
    return x + math.exp(-((x**2 + y**2 - 0.75**2) ** 2) / width**4)


LEARNER2D_CASES: list[LearnerCase] = [
    LearnerCase(
        id="Learner2D-ring",
        make=lambda: Learner2D(ring, bounds=[(-1, 1), (-1, 1)]),
        finite=False,
        settings=learner2d_settings,
        function_defaults={"width": 0.2},
        skip=ONLY_NUMBERS,
    ),
    LearnerCase(
        id="Learner2D-vector-nan-uniform",
        make=lambda: Learner2D(
            lambda xy: np.array([np.nan, 1.0]) if xy[0] > 0.5 else np.array([xy[0] * xy[1], 2.0]),
            bounds=[(0, 1), (-2, 3)],
            loss_per_triangle=uniform_loss,
        ),
        finite=False,
        settings=learner2d_settings,
        skip=ONLY_NUMBERS,
    ),
]
