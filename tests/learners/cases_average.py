"""Conformance cases of the AverageLearner and AverageLearner1D (appended to
``learner_cases.CASES``)."""

from __future__ import annotations

import math
import random
from typing import Any

from conformance import LearnerCase

from adaptive_runner import AverageLearner
from adaptive_runner.learner.learner1D import curvature_loss_function
from adaptive_runner.learners.average_learner1D import AverageLearner1D

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


def noisy_peak(point: tuple[int, float], a: float = 0.1, sigma: float = 0.05) -> float:
    """A peak plus noise; the noise is picked by ``(seed, x)`` the same way in every process
    (a string seed does not depend on PYTHONHASHSEED)."""
    seed, x = point
    return x + a**2 / (a**2 + x**2) + random.Random(f"{seed}-{x!r}").gauss(0.0, sigma)


def average1d_settings(learner: Any) -> dict[str, Any]:
    probe = (0.1, 0.2)
    loss = learner.loss_per_interval
    nth = getattr(loss, "nth_neighbors", 0)
    return {
        "type": type(learner).__name__,
        "bounds": learner.bounds,
        "loss": loss((0.0, 0.5), probe) if nth == 0 else loss((None, 0.0, 0.5, None), probe * 2),
        "nth_neighbors": nth,
        "delta": learner.delta,
        "alpha": learner.alpha,
        "neighbor_sampling": learner.neighbor_sampling,
        "min_samples": learner.min_samples,
        "max_samples": learner.max_samples,
        "min_error": learner.min_error,
    }


def told_samples(learner: Any) -> dict[tuple[int, float], float]:
    """Every told sample by its point ``(seed, x)``: the AverageLearner1D keeps the mean per x
    in ``data`` (python-adaptive's API) and the samples in ``samples``."""
    return {(seed, x): y for x, by_seed in learner.samples.items() for seed, y in by_seed.items()}


def sample_count(learner: Any) -> int:
    return learner.nsamples


AVERAGE_CASES += [
    LearnerCase(
        id="AverageLearner1D-peak",
        make=lambda: AverageLearner1D(noisy_peak, bounds=(-1, 1), min_samples=3, delta=0.3),
        finite=False,
        max_points=60,
        settings=average1d_settings,
        function_defaults={"a": 0.1, "sigma": 0.05},
        skip=ONLY_NUMBERS,
        told=told_samples,
        count=sample_count,
    ),
    LearnerCase(
        id="AverageLearner1D-nan-curvature",
        # a lambda, NaN on part of the domain, a loss with neighbours, every setting changed
        make=lambda: AverageLearner1D(
            lambda point: (
                math.nan
                if 0.2 < point[1] < 0.4
                else math.sin(4 * point[1]) + random.Random(f"{point[0]} {point[1]!r}").random()
            ),
            bounds=(0, 1),
            loss_per_interval=curvature_loss_function(),
            delta=0.5,
            alpha=0.05,
            neighbor_sampling=0.8,
            min_samples=2,
            max_samples=6,
            min_error=0.01,
        ),
        finite=False,
        max_points=60,
        settings=average1d_settings,
        skip=ONLY_NUMBERS,
        told=told_samples,
        count=sample_count,
    ),
]
