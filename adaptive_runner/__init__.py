"""adaptive_runner: adaptive sampling of expensive functions.

A *learner* proposes the most informative points, a *runner* evaluates them in parallel and tells
the results back, until a *goal* is met. Compatible with the public API of python-adaptive:
``import adaptive_runner as adaptive``.
"""

from adaptive_runner import learner, utils
from adaptive_runner.display import (
    active_plotting_tasks,
    live_info,
    live_plot,
    notebook_extension,
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
from adaptive_runner.runner import (
    AsyncRunner,
    BlockingRunner,
    Runner,
    SequentialExecutor,
    auto_goal,
    replay_log,
    simple,
    stop_after,
)

__version__ = "0.1.0"

__all__ = [
    "AsyncRunner",
    "AverageLearner",
    "AverageLearner1D",
    "BalancingLearner",
    "BaseLearner",
    "BlockingRunner",
    "DataSaver",
    "DivergentIntegralError",
    "IntegratorLearner",
    "Learner1D",
    "Learner2D",
    "LearnerND",
    "Runner",
    "SequenceLearner",
    "SequentialExecutor",
    "active_plotting_tasks",
    "auto_goal",
    "learner",
    "live_info",
    "live_plot",
    "make_datasaver",
    "notebook_extension",
    "replay_log",
    "simple",
    "stop_after",
    "utils",
]
