"""``--executor``: the name on the command line, checked before the run, and the executor itself.

``loky`` (the default: the reusable pool), ``process``, ``thread``, ``sequential`` or
``dask://HOST:PORT`` (a client of a running scheduler). The pools started here make their worker
processes ignore Ctrl-C, so that a Ctrl-C sent to the whole job stops the run cleanly in the
main process (see :func:`ignore_interrupts`).
"""

from __future__ import annotations

from typing import Any

from adaptive_runner.cli.errors import UsageError

__all__ = ["check_executor_spec", "ignore_interrupts", "make_executor"]

_EXECUTORS = ("loky", "process", "thread", "sequential", "dask://HOST:PORT")


def _dask_client(spec: str) -> Any:
    address = spec[len("dask://") :]
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"--executor {spec!r}: expected dask://HOST:PORT")
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(
            f"--executor {spec!r} needs dask.distributed: "
            "pip install 'adaptive-runner[distributed]'"
        ) from None
    try:
        return Client(f"tcp://{host}:{port}", timeout=5)
    except Exception as e:  # OSError, TimeoutError, ...: one line either way
        first_line = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise UsageError(
            f"--executor {spec!r}: cannot reach the dask scheduler at {host}:{port} ({first_line})"
        ) from None


def ignore_interrupts(also_sigterm: bool) -> None:
    """Worker process initializer: leave Ctrl-C (and SIGTERM) to the main process.

    A terminal sends Ctrl-C to every process of the job, and a batch system may send SIGTERM to
    all of them; the main process then stops the run cleanly, while a worker that died or
    raised KeyboardInterrupt first would make the run fail instead. (loky stops its workers
    with SIGKILL, so they may ignore SIGTERM; a standard process pool uses SIGTERM.)
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if also_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def make_executor(spec: str, ntasks: int | None) -> tuple[Any, bool]:
    """The executor named by ``spec`` and whether the run owns it (shuts it down at the end).

    ``loky`` (the reusable pool, sized to ``ntasks`` when given), ``process``, ``thread``,
    ``sequential`` or ``dask://HOST:PORT`` (a client of a running scheduler).
    """
    if spec == "loky":
        import loky

        return loky.get_reusable_executor(
            max_workers=ntasks, initializer=ignore_interrupts, initargs=(True,)
        ), False
    if spec == "process":
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(
            max_workers=ntasks, initializer=ignore_interrupts, initargs=(False,)
        )
        return pool, True
    if spec == "thread":
        from concurrent.futures import ThreadPoolExecutor

        return ThreadPoolExecutor(max_workers=ntasks), True
    if spec == "sequential":
        from adaptive_runner.runner.executors import SequentialExecutor

        return SequentialExecutor(), False
    if spec.startswith("dask://"):
        return _dask_client(spec), True
    raise UsageError(f"--executor {spec!r} is not one of {', '.join(_EXECUTORS)}")


def check_executor_spec(spec: str) -> None:
    """Check the name of ``--executor`` without starting anything."""
    if spec in ("loky", "process", "thread", "sequential"):
        return
    if spec.startswith("dask://"):
        host, _, port = spec[len("dask://") :].rpartition(":")
        if host and port.isdigit():
            return
        raise UsageError(f"--executor {spec!r}: expected dask://HOST:PORT")
    raise UsageError(f"--executor {spec!r} is not one of {', '.join(_EXECUTORS)}")
