"""Runners: drive a learner, evaluate its points on an executor, stop at a goal."""

from adaptive_runner.runner.async_runner import AsyncRunner, Runner
from adaptive_runner.runner.blocking import BlockingRunner
from adaptive_runner.runner.executors import SequentialExecutor, register_executor_adapter
from adaptive_runner.runner.goals import auto_goal, stop_after
from adaptive_runner.runner.simple import replay_log, simple

__all__ = [
    "AsyncRunner",
    "BlockingRunner",
    "Runner",
    "SequentialExecutor",
    "auto_goal",
    "register_executor_adapter",
    "replay_log",
    "simple",
    "stop_after",
]
