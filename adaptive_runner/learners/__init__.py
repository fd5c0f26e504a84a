"""Learners: pure ask/tell state machines that choose where to evaluate a function next."""

from adaptive_runner.learners.average_learner import AverageLearner
from adaptive_runner.learners.average_learner1D import AverageLearner1D
from adaptive_runner.learners.balancing_learner import BalancingLearner
from adaptive_runner.learners.base import BaseLearner
from adaptive_runner.learners.data_saver import DataSaver, make_datasaver
from adaptive_runner.learners.integrator_learner import DivergentIntegralError, IntegratorLearner
from adaptive_runner.learners.learner1D import Learner1D
from adaptive_runner.learners.learner2D import Learner2D
from adaptive_runner.learners.learnerND import LearnerND
from adaptive_runner.learners.sequence_learner import SequenceLearner

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
    "make_datasaver",
]
