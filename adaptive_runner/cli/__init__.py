"""The ``adaptive-runner`` command line: batch jobs without a notebook.

``adaptive-runner run MODULE:FUNCTION --bounds 0 1 --loss-goal 0.01 --save run.pickle`` runs a
learner to a goal with a status line and a summary; ``adaptive-runner info FILE`` says what a
saved learner or a checkpoint holds; ``adaptive-runner demo`` runs a built-in example.

Exit status: 0 the goal was reached, 1 the run failed (the failing point and its traceback are
printed), 2 bad usage (one line on stderr; nothing ran, no file was written), 130 interrupted by
Ctrl-C or SIGTERM (after the final save, the outputs and the summary).
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from adaptive_runner.cli.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
)
from adaptive_runner.cli.run import LOG_STATUS_INTERVAL, TERMINAL_STATUS_INTERVAL
from adaptive_runner.cli.specs import LEARNER_KINDS

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "UsageError",
    "build_parser",
    "main",
]

PROG = "adaptive-runner"

_RUN_EPILOG = """\
examples:
  adaptive-runner run jobs.py:f --bounds -1 1 --loss-goal 0.01 --output f.csv --plot f.png
  adaptive-runner run mypackage.model:energy --learner 2d --bounds 0 1 --bounds 0 2 \\
      --npoints-goal 2000 --save energy.pickle --checkpoint energy.sqlite --resume
  adaptive-runner run noise.py:sample --learner average --atol 0.01 --duration-goal 1h30m

exit status: 0 goal reached, 1 the run failed, 2 bad usage, 130 interrupted (after saving)
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is a UsageError: one line, exit status 2, from main()."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``adaptive-runner run``."""
    parser.add_argument(
        "function",
        metavar="FUNCTION",
        help="the function to learn: MODULE:FUNCTION (importable, or in the current folder) "
        "or path/to/file.py:FUNCTION",
    )
    learner = parser.add_argument_group("learner")
    learner.add_argument(
        "--learner",
        choices=LEARNER_KINDS,
        default="1d",
        help="1d: f(x); 2d: f((x, y)); nd: f(point); average: f(seed), averaged; "
        "average1d: f((seed, x)); integrator: the integral of f(x); sequence: f(element) "
        "for each element of --points (default: 1d)",
    )
    learner.add_argument(
        "--bounds",
        nargs=2,
        action="append",
        metavar=("LOW", "HIGH"),
        help="the domain, once per dimension: 1 for 1d, average1d and integrator; 2 for 2d; "
        "2 or more for nd; none for average and sequence",
    )
    learner.add_argument(
        "--loss",
        metavar="NAME",
        help="the learner's loss by name (1d: default, uniform, abs_min_log, triangle, "
        "curvature; average1d: the same but triangle; 2d: default, uniform, "
        "minimize_triangle_surface, triangle; nd: default, uniform, std, triangle, curvature)",
    )
    learner.add_argument("--tol", type=float, help="integrator: the error to reach (required)")
    learner.add_argument("--atol", type=float, help="average: absolute tolerance of the mean")
    learner.add_argument("--rtol", type=float, help="average: relative tolerance of the mean")
    learner.add_argument(
        "--points", metavar="FILE.json", help="sequence: a JSON list of the points (required)"
    )
    goal = parser.add_argument_group(
        "goal (exactly one; sequence and integrator may omit it and stop when done)"
    )
    goal.add_argument("--loss-goal", type=float, metavar="LOSS", help="stop at this loss")
    goal.add_argument("--npoints-goal", type=int, metavar="N", help="stop after N points")
    goal.add_argument(
        "--duration-goal",
        metavar="DURATION",
        help="stop after this long: seconds (90, 1.5) or 1h30m, 2m30s, 45s, 1d",
    )
    goal.add_argument(
        "--end-time",
        metavar="TIME",
        help="stop at this ISO 8601 time, e.g. 2030-01-31T18:00 (local time without a zone)",
    )
    running = parser.add_argument_group("evaluation")
    running.add_argument(
        "--executor",
        default="loky",
        metavar="EXECUTOR",
        help="loky (default: processes), process, thread, sequential or dask://HOST:PORT",
    )
    running.add_argument("--ntasks", type=int, help="evaluations at once (default: all cores)")
    running.add_argument(
        "--retries", type=int, default=0, help="retries of a failing point (default 0)"
    )
    running.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="an evaluation taking longer fails"
    )
    files = parser.add_argument_group("files")
    files.add_argument("--save", metavar="FILE", help="save the learner here, periodically")
    files.add_argument(
        "--save-interval",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="seconds between saves (default 60)",
    )
    files.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="a crash-safe log of every evaluation (SQLite), for --resume",
    )
    files.add_argument(
        "--resume",
        action="store_true",
        help="continue from --checkpoint and --save when they exist (a fresh start when they "
        "do not); without it, existing files are never overwritten",
    )
    files.add_argument(
        "--output",
        metavar="FILE",
        help="write the data at the end: .csv, .parquet, .json or .npz",
    )
    files.add_argument(
        "--plot", metavar="FILE", help="draw the learned function at the end: .png or .html"
    )
    display = parser.add_argument_group("display")
    display.add_argument(
        "--json",
        action="store_true",
        help="print the summary as one JSON object on stdout (status lines go to stderr)",
    )
    display.add_argument(
        "--status-interval",
        type=float,
        metavar="SECONDS",
        help=f"seconds between status lines (default {TERMINAL_STATUS_INTERVAL:g} on a "
        f"terminal, {LOG_STATUS_INTERVAL:g} otherwise)",
    )
    display.add_argument("--quiet", action="store_true", help="no status lines, only the summary")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``adaptive-runner`` and its subcommands ``run``, ``info`` and ``demo``."""
    from adaptive_runner import __version__

    parser = _Parser(
        prog=PROG,
        description="Adaptive sampling of expensive functions as batch jobs: run a learner to "
        "a goal, inspect saved results, or try the demo.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    run_parser = commands.add_parser(
        "run",
        help="run a learner on a function until a goal",
        description="Run a learner on FUNCTION until a goal, with a status line, periodic\n"
        "saving, a crash-safe checkpoint, and the data and a picture written at the end.",
        epilog=_RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_run_arguments(run_parser)
    info_parser = commands.add_parser(
        "info",
        help="what a saved learner or a checkpoint holds",
        description="Describe a file written by --save (a saved learner) or --checkpoint: "
        "learner type, bounds, points, loss, failures.",
    )
    info_parser.add_argument("file", metavar="FILE", help="a saved learner or a checkpoint")
    info_parser.add_argument("--json", action="store_true", help="print one JSON object")
    # the demo parses its own options (everything after `demo` is passed on)
    commands.add_parser(
        "demo",
        help="a self-contained example job (see `adaptive-runner demo --help`)",
        add_help=False,
    )
    return parser


def _dispatch(argv: list[str]) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "demo":
        from adaptive_runner import demo

        return demo.main(rest, prog=f"{PROG} demo")
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "info":
        from adaptive_runner.cli.info import main_info

        return main_info(args.file, args.json)
    from adaptive_runner.cli.run import main_run

    return main_run(args)


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    if argv is None:
        argv = sys.argv[1:]
    try:
        return _dispatch(list(argv))
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr, flush=True)
        return EXIT_USAGE
    except SystemExit as e:  # --help and --version (exit 0), the demo's own argparse errors
        if e.code is None:
            return EXIT_OK
        if isinstance(e.code, int):
            return e.code
        print(e.code, file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:  # Ctrl-C before or after the run (the run handles its own)
        print(f"{PROG}: interrupted", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
