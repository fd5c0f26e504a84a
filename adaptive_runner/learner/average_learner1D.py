"""python-adaptive's ``adaptive.learner.average_learner1D`` path."""

from adaptive_runner.learners.average_learner1D import AverageLearner1D

__all__ = ["AverageLearner1D"]
