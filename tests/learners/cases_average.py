"""Conformance cases of the AverageLearner and AverageLearner1D (appended to
``learner_cases.CASES``)."""

from __future__ import annotations

import random
from typing import Any

from conformance import LearnerCase

from adaptive_runner import AverageLearner

__all__ = ["AVERAGE_CASES"]


def gaussian(seed: int, sigma: float = 2.0) -> float:
    """A reproducible random number per seed."""
    return random.Random(seed).gauss(1.0, sigma)


def average_settings(learner: Any) -> dict[str, Any]:
    return {
        "type": type(learner).__name__,
        "atol": learner.atol,
        "rtol": learner.rtol,
        "min_npoints": learner.min_npoints,
    }


ONLY_NUMBERS = {
    "check_save_is_atomic": "AverageLearner values are finite real numbers: an unpicklable "
    "value is rejected by tell, so no save can be made to fail (atomic saving is tested in "
    "tests/test_persistence.py)"
}

AVERAGE_CASES: list[LearnerCase] = [
    LearnerCase(
        id="AverageLearner-atol",
        make=lambda: AverageLearner(gaussian, atol=1e-3),
        finite=False,
        settings=average_settings,
        function_defaults={"sigma": 2.0},
        skip=ONLY_NUMBERS,
    ),
    LearnerCase(
        id="AverageLearner-rtol-min_npoints",
        make=lambda: AverageLearner(
            lambda seed: random.Random(seed).random(), rtol=1e-4, min_npoints=15
        ),
        finite=False,
        settings=average_settings,
        skip=ONLY_NUMBERS,
    ),
]
