"""The one error type of the command line: bad usage, reported as one line and exit status 2."""

from __future__ import annotations

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "UsageError"]

#: the goal was reached (or the learner finished)
EXIT_OK = 0
#: the run failed: the failing point and its traceback are printed
EXIT_FAILED = 1
#: bad usage: one clear line on stderr, nothing run, nothing overwritten
EXIT_USAGE = 2
#: interrupted by Ctrl-C (SIGINT) or SIGTERM, after saving
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad usage of the command line: the message is printed as one line, and the exit status
    is 2. Raised before anything runs or any file is written."""
