"""``adaptive-runner run FUNCTION``: run a learner on a function until a goal, as a batch job.

Everything the command line says is checked first (the function, the learner and its bounds, the
goal, the executor, the files to write); a mistake is one line on stderr and exit status 2, with
nothing run and no file created or changed. Then an :class:`~adaptive_runner.AsyncRunner` runs,
saving (``--save``) and logging (``--checkpoint``) as it goes, showing a status line, and at the
end, however the run ended, the data and the picture are written and a summary is printed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sqlite3
import sys
import threading
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from adaptive_runner.cli import executors, specs
from adaptive_runner.cli.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
)

__all__ = ["LOG_STATUS_INTERVAL", "TERMINAL_STATUS_INTERVAL", "main_run"]

#: seconds between status lines when the output is not a terminal (a cluster job's log)
LOG_STATUS_INTERVAL = 30.0
#: seconds between redraws of the status line on a terminal
TERMINAL_STATUS_INTERVAL = 0.5


# --- checks before anything runs -------------------------------------------------------------


def _goal_keywords(args: argparse.Namespace) -> dict[str, Any]:
    given = [
        option
        for option, value in (
            ("--loss-goal", args.loss_goal),
            ("--npoints-goal", args.npoints_goal),
            ("--duration-goal", args.duration_goal),
            ("--end-time", args.end_time),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise UsageError(f"give exactly one goal, got {len(given)}: {', '.join(given)}")
    if not given and args.learner not in ("sequence", "integrator"):
        raise UsageError(
            "give a goal: one of --loss-goal, --npoints-goal, --duration-goal, --end-time"
        )
    keywords: dict[str, Any] = {}
    if args.loss_goal is not None:
        if not (math.isfinite(args.loss_goal) and args.loss_goal >= 0):
            raise UsageError(f"--loss-goal {args.loss_goal!r} must be a number >= 0")
        keywords["loss_goal"] = args.loss_goal
    if args.npoints_goal is not None:
        if args.npoints_goal < 1:
            raise UsageError(f"--npoints-goal {args.npoints_goal} must be at least 1")
        keywords["npoints_goal"] = args.npoints_goal
    if args.duration_goal is not None:
        keywords["duration_goal"] = specs.parse_duration(args.duration_goal, "--duration-goal")
    if args.end_time is not None:
        keywords["end_time_goal"] = specs.parse_end_time(args.end_time, "--end-time")
    return keywords


def _check_numbers(args: argparse.Namespace) -> None:
    if args.ntasks is not None and args.ntasks < 1:
        raise UsageError(f"--ntasks {args.ntasks} must be at least 1")
    if args.retries < 0:
        raise UsageError(f"--retries {args.retries} must be 0 or more")
    for option, value in (
        ("--timeout", args.timeout),
        ("--save-interval", args.save_interval),
        ("--status-interval", args.status_interval),
    ):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise UsageError(f"{option} {value!r} must be a positive number of seconds")
    if args.timeout is not None and args.executor == "sequential":
        raise UsageError("--timeout cannot apply to --executor sequential (use thread or loky)")


def _check_file(option: str, path_text: str, resume: bool) -> Path:
    """A file the run writes and may resume from: its folder must exist and be writable, and an
    existing file is only used with --resume (never overwritten)."""
    path = Path(path_text)
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"{option} {path_text!r}: the folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path_text!r}: the folder {str(folder)!r} is not writable")
    if path.is_dir():
        raise UsageError(f"{option} {path_text!r} is a folder, not a file")
    if path.exists() and not resume:
        raise UsageError(
            f"{option} {path_text!r} exists: pass --resume to continue from it, or choose "
            "another file (earlier work is never overwritten)"
        )
    return path


def _check_checkpoint(path: Path, learner: Any) -> None:
    """An existing --checkpoint must be a checkpoint of this kind of learner (read-only check,
    so a wrong file is refused before the run opens it for writing)."""
    from adaptive_runner.runner.checkpoint import fingerprint

    option = f"--checkpoint {str(path)!r}"
    # without a write-ahead log beside it (a run that ended cleanly) the file is complete and is
    # read as immutable, which creates no -wal/-shm files; with one (a killed run) the log holds
    # committed rows, so the file is opened read-only the usual way
    has_log = path.with_name(path.name + "-wal").exists()
    uri = f"{path.resolve().as_uri()}?{'mode=ro' if has_log else 'immutable=1'}"
    try:
        connection = sqlite3.connect(uri, uri=True)
        try:
            stored = dict(connection.execute("SELECT key, value FROM run").fetchall())
        finally:
            connection.close()
    except sqlite3.Error as e:
        raise UsageError(f"{option} is not an adaptive_runner checkpoint ({e})") from None
    if not str(stored.get("format", "")).startswith("adaptive_runner.checkpoint/"):
        raise UsageError(f"{option} is not an adaptive_runner checkpoint")
    mine = json.dumps(fingerprint(learner), sort_keys=True)
    if stored.get("fingerprint") != mine:
        raise UsageError(
            f"{option} was written by a run of a different learner "
            f"({stored.get('fingerprint')}); this run's learner is {mine}"
        )


def _load_saved(path: Path, learner: Any) -> None:
    try:
        learner.load(path)
    except Exception as e:
        message = str(e).splitlines()[0] if str(e) else ""
        raise UsageError(
            f"--save {str(path)!r} is not a saved {type(learner).__name__} "
            f"({type(e).__name__}: {message})"
        ) from None


def _check_outputs(args: argparse.Namespace, learner: Any) -> dict[str, Path]:
    targets: dict[str, Path] = {}
    if args.output is None and args.plot is None:
        return targets
    from adaptive_runner.cli import outputs

    if args.output is not None:
        targets["output"] = outputs.check_data_path(args.output)
    if args.plot is not None:
        targets["plot"] = outputs.check_plot_path(args.plot, learner)
    return targets


def _check_distinct(args: argparse.Namespace) -> None:
    named = [
        (option, value)
        for option, value in (
            ("--save", args.save),
            ("--checkpoint", args.checkpoint),
            ("--output", args.output),
            ("--plot", args.plot),
        )
        if value is not None
    ]
    seen: dict[Path, str] = {}
    for option, value in named:
        resolved = Path(value).resolve()
        if resolved in seen:
            raise UsageError(f"{seen[resolved]} and {option} name the same file {value!r}")
        seen[resolved] = option


# --- the run ---------------------------------------------------------------------------------


@contextmanager
def _signals_interrupt(loop: Any):
    """Ctrl-C (SIGINT) and SIGTERM (a batch system's time limit, `kill`) stop the run cleanly.

    Both are handled by the runner's event loop (``add_signal_handler``): the handler raises
    KeyboardInterrupt from a loop callback, outside the run's tasks, so it reaches
    ``block_until_done``, which winds the run down (final save, checkpoint commit) and raises
    RunInterrupted. A handler installed with ``signal.signal`` would raise wherever the main
    thread happens to be, possibly inside the saving task, which would then skip its final save.
    """

    def interrupt(signum: int) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    installed = []
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, interrupt, signum)
            except (NotImplementedError, RuntimeError, ValueError):  # e.g. no Unix signals
                continue
            installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def _failing_point(runner: Any, error: BaseException) -> tuple[bool, Any]:
    notes = "\n".join(getattr(error, "__notes__", []))
    for point, _ in runner.tracebacks:
        if f"point {point!r} failed" in notes:
            return True, point
    return False, None


def _report_failure(runner: Any, error: BaseException) -> None:
    found, point = _failing_point(runner, error)
    if found:
        head = f"adaptive-runner: the evaluation of point {point!r} failed:"
    else:
        head = f"adaptive-runner: the run failed ({type(error).__name__}):"
    text = "".join(traceback.format_exception(error))
    print(f"{head}\n{text.rstrip()}", file=sys.stderr, flush=True)


def _write_outputs(learner: Any, targets: dict[str, Path]) -> list[str]:
    """Write --output and --plot; returns the problems (the run's data is kept either way)."""
    if not targets:
        return []
    from adaptive_runner.cli import outputs

    problems = []
    writers = {"output": outputs.write_data, "plot": outputs.write_plot}
    for option, path in targets.items():
        try:
            writers[option](learner, path)
        except Exception as e:
            problems.append(f"--{option} {str(path)!r}: {type(e).__name__}: {e}")
    return problems


def _release(executor: Any, spec: str, owned: bool) -> None:
    """Let go of an executor made for this run."""
    if spec.startswith("dask://"):
        executor.close()  # this run's connection; the scheduler and its workers stay up
    elif owned:
        executor.shutdown(wait=False)


def _status_stream(args: argparse.Namespace) -> Any:
    return sys.stderr if args.json else sys.stdout


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def main_run(args: argparse.Namespace) -> int:
    """Run the ``run`` command; returns the exit status (UsageError propagates: exit 2)."""
    from adaptive_runner.runner.async_runner import AsyncRunner
    from adaptive_runner.runner.checkpoint import CheckpointMismatchError
    from adaptive_runner.runner.filelock import CheckpointInUseError
    from adaptive_runner.runner.summary import format_summary, run_summary

    # 1. everything that can be checked without side effects
    goal = _goal_keywords(args)
    _check_numbers(args)
    executors.check_executor_spec(args.executor)
    _check_distinct(args)
    save = _check_file("--save", args.save, args.resume) if args.save else None
    checkpoint = (
        _check_file("--checkpoint", args.checkpoint, args.resume) if args.checkpoint else None
    )
    function = specs.load_function(args.function)
    learner = specs.build_learner(args, function)
    targets = _check_outputs(args, learner)
    if checkpoint is not None and checkpoint.exists():
        _check_checkpoint(checkpoint, learner)
    if save is not None and save.exists():
        _load_saved(save, learner)

    # 2. the executor (a dask scheduler is contacted here), then the runner, which opens (and
    # replays) the checkpoint
    executor, owned = executors.make_executor(args.executor, args.ntasks)
    if args.executor.startswith("dask://"):
        # remote workers cannot import a job file from this machine: send its code along
        import cloudpickle

        module = sys.modules.get(getattr(function, "__module__", "") or "")
        if module is not None and getattr(module, "__file__", None):
            cloudpickle.register_pickle_by_value(module)
    try:
        runner = AsyncRunner(
            learner,
            executor=executor,
            ntasks=args.ntasks,
            shutdown_executor=owned,
            retries=args.retries,
            checkpoint=checkpoint,
            timeout=args.timeout,
            **goal,
        )
    except (CheckpointMismatchError, CheckpointInUseError, TypeError, ValueError) as e:
        _release(executor, args.executor, owned)
        raise UsageError(str(e).splitlines()[0]) from None
    resumed_points = int(learner.npoints)

    # 3. run
    if save is not None:
        runner.start_periodic_saving({"fname": str(save)}, interval=args.save_interval)
    stream = _status_stream(args)
    if resumed_points and not args.quiet:
        print(
            f"adaptive-runner: resuming with {resumed_points} points from earlier runs",
            file=stream,
            flush=True,
        )
    if not args.quiet:
        from adaptive_runner.display.terminal import live_info_terminal

        interval = args.status_interval
        if interval is None:
            interval = TERMINAL_STATUS_INTERVAL if _is_terminal(stream) else LOG_STATUS_INTERVAL
        live_info_terminal(runner, update_interval=interval, file=stream)

    from adaptive_runner.runner.interrupt import RunInterrupted

    exit_code = EXIT_OK
    summary_shown = False
    summary = None
    try:
        with _signals_interrupt(runner.ioloop):
            runner.block_until_done()
    except KeyboardInterrupt as e:  # Ctrl-C or SIGTERM, after the run stopped cleanly
        exit_code = EXIT_INTERRUPTED
        if isinstance(e, RunInterrupted):  # the runner printed its summary already
            summary_shown, summary = True, e.summary
    except Exception as e:
        exit_code = EXIT_FAILED
        _report_failure(runner, e)

    if args.executor.startswith("dask://"):
        _release(executor, args.executor, owned=False)  # the runner let go of its pool already

    # 4. the results, however the run ended
    problems = _write_outputs(learner, targets)
    for problem in problems:
        print(f"adaptive-runner: writing {problem}", file=sys.stderr, flush=True)
    if problems and exit_code == EXIT_OK:
        exit_code = EXIT_FAILED
    if summary is None:
        summary = run_summary(
            runner, status="interrupted" if exit_code == EXIT_INTERRUPTED else None
        )
    summary = {
        **summary,
        "function": args.function,
        "goal": str(runner.goal),
        "resumed_points": resumed_points,
        "output": str(targets["output"]) if "output" in targets else None,
        "plot": str(targets["plot"]) if "plot" in targets else None,
        "exit_code": exit_code,
    }
    if args.json:
        print(json.dumps(summary, default=str), flush=True)
    else:
        lines = [] if summary_shown else [format_summary(summary)]
        lines.append(f"  goal: {summary['goal']}")
        for option in ("output", "plot"):
            if summary[option] is not None:
                written = not any(p.startswith(f"--{option} ") for p in problems)
                lines.append(f"  {option}: {summary[option]}{'' if written else ' (failed)'}")
        lines.append(f"  exit code: {exit_code}")
        print("\n".join(lines), file=sys.stderr, flush=True)
    return exit_code
