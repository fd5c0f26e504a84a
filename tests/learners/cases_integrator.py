"""Conformance cases of the IntegratorLearner (appended to ``learner_cases.CASES``).

Both integrands run to ``done()`` by themselves (45 and 255 points), so the cases are finite: the
learner runs out of points and its loss is then 0.
"""

from __future__ import annotations

import math
from typing import Any

from conformance import LearnerCase

from adaptive_runner.learners.integrator_learner import IntegratorLearner

__all__ = ["INTEGRATOR_CASES"]


def integrator_settings(learner: Any) -> dict[str, Any]:
    return {"type": type(learner).__name__, "bounds": learner.bounds, "tol": learner.tol}


ONLY_NUMBERS = {
    "check_save_is_atomic": "IntegratorLearner values are real numbers: an unpicklable value "
    "is rejected by tell, so no save can be made to fail (atomic saving is tested in "
    "tests/test_persistence.py)"
}

INTEGRATOR_CASES: list[LearnerCase] = [
    LearnerCase(
        id="IntegratorLearner-smooth",
        make=lambda: IntegratorLearner(
            lambda x, scale=1.0: scale * math.exp(x) * math.sin(3 * x), bounds=(0, 3), tol=1e-10
        ),
        max_points=100,
        settings=integrator_settings,
        function_defaults={"scale": 1.0},
        skip=ONLY_NUMBERS,
    ),
    LearnerCase(
        id="IntegratorLearner-peak",
        make=lambda: IntegratorLearner(
            lambda x, width=0.05: 1 / (width**2 + (x - 0.2) ** 2), bounds=(-1, 1), tol=1e-8
        ),
        max_points=300,
        settings=integrator_settings,
        function_defaults={"width": 0.05},
        skip=ONLY_NUMBERS,
    ),
]
