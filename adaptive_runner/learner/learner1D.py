"""python-adaptive's ``adaptive.learner.learner1D`` path: the Learner1D and its loss functions."""

from adaptive_runner.learners.learner1D import Learner1D
from adaptive_runner.learners.learner1D_losses import (
    abs_min_log_loss,
    curvature_loss_function,
    default_loss,
    finite_loss,
    loss_manager,
    resolution_loss_function,
    triangle_loss,
    uniform_loss,
    uses_nth_neighbors,
)

__all__ = [
    "Learner1D",
    "abs_min_log_loss",
    "curvature_loss_function",
    "default_loss",
    "finite_loss",
    "loss_manager",
    "resolution_loss_function",
    "triangle_loss",
    "uniform_loss",
    "uses_nth_neighbors",
]
