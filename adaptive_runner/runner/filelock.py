"""One writer per checkpoint: an advisory lock on ``<checkpoint>.lock`` held while a run is open.

Two runs appending to one checkpoint would interleave their evaluations and each resume the
other's points, so the second is refused at construction. The lock is ``flock`` on a file beside
the checkpoint: the kernel releases it when the process ends, even by SIGKILL, so a killed run
never leaves a stale lock behind, and the lock file itself (holding the owner's pid and host, for
the error message) is left in place, never deleted (deleting it would let two runs lock two
different files). Where ``fcntl`` does not exist (Windows) there is no lock.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

__all__ = ["CheckpointInUseError", "FileLock"]


class CheckpointInUseError(RuntimeError):
    """Another run, in this process or another, has the checkpoint open."""


class FileLock:
    """An exclusive, non-blocking lock on ``path`` (created if missing); see the module."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self._fd: int | None = None
        try:
            import fcntl
        except ImportError:  # no advisory locks on this platform
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise CheckpointInUseError(
                f"{what} is in use by another run (lock {str(path)!r} held by {owner}); wait "
                "for that run to end, or give this run another file"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Let another run open the checkpoint (closing the file drops the lock)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)
