"""python-adaptive's module paths (``adaptive.learner``, ``adaptive.learner.learner1D``, ...), so
imports written for it keep working with ``import adaptive_runner as adaptive``."""

from adaptive_runner.learner import (
    average_learner,
    average_learner1D,
    balancing_learner,
    integrator_learner,
    learner1D,
    learner2D,
    learnerND,
)
from adaptive_runner.learners import (
    AverageLearner,
    AverageLearner1D,
    BalancingLearner,
    BaseLearner,
    DataSaver,
    DivergentIntegralError,
    IntegratorLearner,
    Learner1D,
    Learner2D,
    LearnerND,
    SequenceLearner,
    make_datasaver,
)

__all__ = [
    "AverageLearner",
    "AverageLearner1D",
    "BalancingLearner",
    "BaseLearner",
    "DataSaver",
    "DivergentIntegralError",
    "IntegratorLearner",
    "Learner1D",
    "Learner2D",
    "LearnerND",
    "SequenceLearner",
    "average_learner",
    "average_learner1D",
    "balancing_learner",
    "integrator_learner",
    "learner1D",
    "learner2D",
    "learnerND",
    "make_datasaver",
]
