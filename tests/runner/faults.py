"""Injecting faults for real: killing a worker process from outside, and telling it is dead."""

from __future__ import annotations

import os
import signal
import threading
import time


def kill_when_started(pid_file):
    """Start a thread that SIGKILLs the process whose id appears in ``pid_file`` (written by the
    evaluation once it is under way); returns the thread."""

    def kill():
        deadline = time.monotonic() + 20
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(int(pid_file.read_text()), signal.SIGKILL)

    killer = threading.Thread(target=kill, daemon=True)
    killer.start()
    return killer


def is_alive(pid):
    """Whether process ``pid`` still runs (a zombie its parent has not reaped yet is dead)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
