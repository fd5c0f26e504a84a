"""python-adaptive's module paths (``adaptive.learner``, ``adaptive.learner.learner1D``), so
imports written for it keep working with ``import adaptive_runner as adaptive``."""

from adaptive_runner.learner import learner1D
from adaptive_runner.learners import (
    BaseLearner,
    DataSaver,
    Learner1D,
    SequenceLearner,
    make_datasaver,
)

__all__ = [
    "BaseLearner",
    "DataSaver",
    "Learner1D",
    "SequenceLearner",
    "learner1D",
    "make_datasaver",
]
