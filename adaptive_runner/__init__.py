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
    CheckpointInUseError,
    CheckpointMismatchError,
    RunInterrupted,
    Runner,
    SequentialExecutor,
    WorkerDiedError,
    auto_goal,
    read_checkpoint,
    replay_log,
    run_summary,
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
    "CheckpointInUseError",
    "CheckpointMismatchError",
    "DataSaver",
    "DivergentIntegralError",
    "IntegratorLearner",
    "Learner1D",
    "Learner2D",
    "LearnerND",
    "RunInterrupted",
    "Runner",
    "SequenceLearner",
    "SequentialExecutor",
    "WorkerDiedError",
    "active_plotting_tasks",
    "auto_goal",
    "learner",
    "live_info",
    "live_plot",
    "make_datasaver",
    "notebook_extension",
    "read_checkpoint",
    "replay_log",
    "run_summary",
    "simple",
    "stop_after",
    "utils",
]
