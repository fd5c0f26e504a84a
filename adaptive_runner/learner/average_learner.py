"""python-adaptive's ``adaptive.learner.average_learner`` path."""

from adaptive_runner.learners.average_learner import AverageLearner

__all__ = ["AverageLearner"]
