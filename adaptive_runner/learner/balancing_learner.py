"""python-adaptive's ``adaptive.learner.balancing_learner`` path."""

from adaptive_runner.learners.balancing_learner import BalancingLearner

__all__ = ["BalancingLearner"]
