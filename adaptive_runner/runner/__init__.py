"""Runners: drive a learner, evaluate its points on an executor, stop at a goal."""

from adaptive_runner.runner.async_runner import AsyncRunner, Runner
from adaptive_runner.runner.blocking import BlockingRunner
from adaptive_runner.runner.checkpoint import CheckpointMismatchError, read_checkpoint
from adaptive_runner.runner.executors import (
    SequentialExecutor,
    WorkerDiedError,
    register_executor_adapter,
)
from adaptive_runner.runner.filelock import CheckpointInUseError
from adaptive_runner.runner.goals import auto_goal, stop_after
from adaptive_runner.runner.interrupt import RunInterrupted
from adaptive_runner.runner.simple import replay_log, simple
from adaptive_runner.runner.summary import run_summary

__all__ = [
    "AsyncRunner",
    "BlockingRunner",
    "CheckpointInUseError",
    "CheckpointMismatchError",
    "RunInterrupted",
    "Runner",
    "SequentialExecutor",
    "WorkerDiedError",
    "auto_goal",
    "read_checkpoint",
    "register_executor_adapter",
    "replay_log",
    "run_summary",
    "simple",
    "stop_after",
]
