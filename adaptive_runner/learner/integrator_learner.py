"""python-adaptive's ``adaptive.learner.integrator_learner`` path."""

from adaptive_runner.learners.integrator_learner import DivergentIntegralError, IntegratorLearner

__all__ = ["DivergentIntegralError", "IntegratorLearner"]
