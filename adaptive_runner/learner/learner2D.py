"""python-adaptive's ``adaptive.learner.learner2D`` path: the Learner2D and its loss functions."""

from adaptive_runner.learners.learner2D import Learner2D
from adaptive_runner.learners.learner2D_losses import (
    areas,
    default_loss,
    deviations,
    minimize_triangle_surface_loss,
    resolution_loss_function,
    thresholded_loss_function,
    triangle_loss,
    uniform_loss,
)

__all__ = [
    "Learner2D",
    "areas",
    "default_loss",
    "deviations",
    "minimize_triangle_surface_loss",
    "resolution_loss_function",
    "thresholded_loss_function",
    "triangle_loss",
    "uniform_loss",
]
