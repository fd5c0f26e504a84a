"""python-adaptive's ``adaptive.learner.learnerND`` path: the LearnerND and its loss functions."""

from adaptive_runner.learners.learnerND import LearnerND
from adaptive_runner.learners.learnerND_losses import (
    curvature_loss_function,
    default_loss,
    std_loss,
    triangle_loss,
    uniform_loss,
    uses_nth_neighbors,
)

__all__ = [
    "LearnerND",
    "curvature_loss_function",
    "default_loss",
    "std_loss",
    "triangle_loss",
    "uniform_loss",
    "uses_nth_neighbors",
]
