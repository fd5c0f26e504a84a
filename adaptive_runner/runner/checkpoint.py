"""A crash-safe run log: every finished evaluation goes to an SQLite database as it arrives.

``AsyncRunner(..., checkpoint="run.sqlite")`` (and ``BlockingRunner``) open the database in WAL
mode and append one row per finished evaluation: the point, the value, the duration, whether it
failed (with the traceback text) and the attempt number. Rows are committed in batches at most
``checkpoint_interval`` seconds apart (0 commits every row at once), so a killed process loses at
most the last batch, and the database itself is never left corrupt (SQLite's journal).

Starting a run with an existing checkpoint first tells the learner every successful evaluation it
holds, in the order they were recorded, and then goes on. Failed evaluations are recorded but
never told; a point whose latest row is a failure keeps its failure count in the resumed run
(see :meth:`RunLog.unresolved_failures`). One run at a time may have a checkpoint open (an
advisory lock on ``<checkpoint>.lock``, see :mod:`adaptive_runner.runner.filelock`).

Storage format. Points and values are pickled one by one (``pickle``, or ``cloudpickle`` for
what plain pickle cannot handle; both read back with ``pickle.loads``), so anything a learner
uses as a point or a function returns as a value can be stored: floats, tuples,
SequenceLearner's ``(index, element)`` points, numpy arrays, DataSaver's dicts. Neither the
learner nor its function is ever pickled, so a checkpoint stays readable when the code changes
(as long as the classes of the points and values themselves still import). The ``run`` table holds
the learner's type and a fingerprint (its type, bounds, sequence length, and the same for the
learners it wraps) as JSON; a checkpoint written by a different kind of learner is refused.

Tables::

    run(key TEXT PRIMARY KEY, value TEXT)      -- format, learner_type, fingerprint, created
    evaluations(seq INTEGER PRIMARY KEY, point BLOB, value BLOB, duration REAL,
                failed INTEGER, traceback TEXT, attempt INTEGER, finished_at REAL)
"""

from __future__ import annotations

import json
import numbers
import os
import pickle
import sqlite3
import time
import warnings
from pathlib import Path
from typing import Any

import cloudpickle

# fingerprint lives with the learners (saved files record it too); re-exported from here
from adaptive_runner.learners.base import fingerprint
from adaptive_runner.runner.filelock import FileLock

__all__ = [
    "CheckpointMismatchError",
    "RunLog",
    "check_checkpoint",
    "check_checkpoint_interval",
    "fingerprint",
    "open_run_log",
    "read_checkpoint",
]

_FORMAT = "adaptive_runner.checkpoint/1"


def _dumps(obj: Any) -> bytes:
    """Pickle one point or value; cloudpickle for what plain pickle cannot (lambdas, ...)."""
    try:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return cloudpickle.dumps(obj)


class CheckpointMismatchError(ValueError):
    """The checkpoint was written by a run of a different (incompatible) learner."""


def check_checkpoint(checkpoint: Any) -> Path | None:
    """Validate the ``checkpoint`` argument: None, or a path in an existing, writable directory."""
    if checkpoint is None:
        return None
    if not isinstance(checkpoint, str | os.PathLike):
        raise ValueError(
            f"checkpoint must be a file name (str or os.PathLike) or None, got "
            f"checkpoint={checkpoint!r}"
        )
    path = Path(os.fsdecode(os.fspath(checkpoint)))
    if not path.name:
        raise ValueError(f"checkpoint must name a file, got checkpoint={checkpoint!r}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ValueError(f"checkpoint={checkpoint!r}: the directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(
            f"checkpoint={checkpoint!r}: the directory {str(parent)!r} is not writable"
        )
    if path.is_dir():
        raise ValueError(f"checkpoint={checkpoint!r} is a directory, not a file")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise ValueError(f"checkpoint={checkpoint!r}: the file is not readable and writable")
    return path


def check_checkpoint_interval(interval: Any) -> float:
    if (
        isinstance(interval, bool)
        or not isinstance(interval, numbers.Real)
        or not interval >= 0
        or interval == float("inf")
    ):
        raise ValueError(
            "checkpoint_interval must be a non-negative number of seconds, got "
            f"checkpoint_interval={interval!r}"
        )
    return float(interval)


def _connect(path: Path) -> sqlite3.Connection:
    # the run's event loop may live in another thread than the constructor (BlockingRunner
    # inside Jupyter); the connection is only ever used by one thread at a time
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    return connection


def read_checkpoint(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Every recorded evaluation of a checkpoint, in order, as dicts (for inspection).

    Safe to call while a run writes to it (it sees the committed rows).
    """
    if not Path(path).is_file():  # sqlite3.connect would create an empty database
        raise FileNotFoundError(f"no checkpoint at {str(path)!r}")
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(
            "SELECT seq, point, value, duration, failed, traceback, attempt, finished_at "
            "FROM evaluations ORDER BY seq"
        ).fetchall()
    finally:
        connection.close()
    return [
        {
            "seq": seq,
            "point": pickle.loads(point),
            "value": None if value is None else pickle.loads(value),
            "duration": duration,
            "failed": bool(failed),
            "traceback": tb,
            "attempt": attempt,
            "finished_at": finished_at,
        }
        for seq, point, value, duration, failed, tb, attempt, finished_at in rows
    ]


class RunLog:
    """The open checkpoint of one run; see the module docstring."""

    def __init__(self, path: Path, learner: Any, interval: float) -> None:
        self.path = path
        self.interval = interval
        self._batch: list[tuple] = []
        self._last_commit = time.monotonic()
        self._closed = False
        #: rows in the database, committed (by earlier runs and this one)
        self.committed = 0
        #: point key -> (point, failures, traceback) of points whose latest row is a failure
        self.unresolved_failures: dict[Any, tuple[Any, int, str]] = {}
        self._lock = FileLock(path.with_name(path.name + ".lock"), f"checkpoint={str(path)!r}")
        try:
            self._connection = _connect(path)
        except sqlite3.DatabaseError as e:
            self._lock.release()
            raise CheckpointMismatchError(
                f"checkpoint={str(path)!r} cannot be opened as an SQLite database: {e}"
            ) from e
        try:
            self._open_run(learner)
        except sqlite3.DatabaseError as e:
            self._connection.close()
            self._lock.release()
            raise CheckpointMismatchError(
                f"checkpoint={str(path)!r} is not an adaptive_runner checkpoint: {e}"
            ) from e
        except BaseException:
            self._connection.close()
            self._lock.release()
            raise

    def _open_run(self, learner: Any) -> None:
        db = self._connection
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("CREATE TABLE IF NOT EXISTS run (key TEXT PRIMARY KEY, value TEXT)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS evaluations (seq INTEGER PRIMARY KEY, "
                "point BLOB NOT NULL, value BLOB, duration REAL, failed INTEGER NOT NULL, "
                "traceback TEXT, attempt INTEGER NOT NULL, finished_at REAL NOT NULL)"
            )
            stored = dict(db.execute("SELECT key, value FROM run").fetchall())
            mine = json.dumps(fingerprint(learner), sort_keys=True)
            if not stored:
                db.executemany(
                    "INSERT INTO run (key, value) VALUES (?, ?)",
                    [
                        ("format", _FORMAT),
                        ("learner_type", type(learner).__qualname__),
                        ("fingerprint", mine),
                        ("created", str(time.time())),
                    ],
                )
            elif stored.get("format") != _FORMAT:
                raise CheckpointMismatchError(
                    f"checkpoint={str(self.path)!r} is not an adaptive_runner checkpoint "
                    f"(format {stored.get('format')!r}, expected {_FORMAT!r})"
                )
            elif stored.get("fingerprint") != mine:
                raise CheckpointMismatchError(
                    f"checkpoint={str(self.path)!r} was written by a run of a different learner "
                    f"and cannot be resumed into this one.\n  checkpoint: "
                    f"{stored.get('fingerprint')}\n  this learner: {mine}\n"
                    "Use a new checkpoint file, or a learner of the same type and bounds."
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def recorded(self) -> list[tuple[Any, Any]]:
        """``(point, value)`` of every successful evaluation, in the order they were recorded."""
        rows = self._connection.execute(
            "SELECT point, value FROM evaluations WHERE failed = 0 ORDER BY seq"
        )
        return [(pickle.loads(point), pickle.loads(value)) for point, value in rows]

    def replay(self, learner: Any, log: list | None = None, point_key: Any = None) -> int:
        """Tell ``learner`` every recorded successful evaluation, in order; returns how many.

        Also fills :attr:`unresolved_failures` (keyed by ``point_key(point)``): the points whose
        latest row is a failure, with their number of failures so far and last traceback.
        """
        n = 0
        failures: dict[Any, tuple[Any, int, str]] = {}
        rows = self._connection.execute(
            "SELECT point, value, failed, traceback, attempt FROM evaluations ORDER BY seq"
        )
        for point_blob, value_blob, failed, traceback_text, attempt in rows:
            point = pickle.loads(point_blob)
            key = point if point_key is None else point_key(point)
            self.committed += 1
            if failed:
                failures[key] = (point, int(attempt), traceback_text or "")
                continue
            failures.pop(key, None)
            value = pickle.loads(value_blob)
            learner.tell(point, value)
            if log is not None:
                log.append(("tell", point, value))
            n += 1
        self.unresolved_failures = failures
        return n

    def record(self, point: Any, value: Any, duration: float, attempt: int) -> None:
        """Append a successful evaluation (committed within ``interval`` seconds)."""
        self._batch.append(
            (
                _dumps(point),
                _dumps(value),
                float(duration),
                0,
                None,
                int(attempt),
                time.time(),
            )
        )
        self._maybe_commit()

    def record_failure(self, point: Any, traceback_text: str, attempt: int) -> None:
        """Append a failed evaluation; it is never told on resume."""
        self._batch.append(
            (_dumps(point), None, None, 1, traceback_text, int(attempt), time.time())
        )
        self._maybe_commit()

    def _maybe_commit(self) -> None:
        if time.monotonic() - self._last_commit >= self.interval:
            try:
                self.flush()
            except sqlite3.Error as e:  # e.g. disk full: keep the rows, try again later
                _warn_retry(self.path, e)

    def flush(self) -> None:
        """Commit the recorded evaluations not committed yet (one transaction)."""
        self._last_commit = time.monotonic()
        if not self._batch or self._closed:
            return
        batch, self._batch = self._batch, []
        db = self._connection
        written = False
        try:
            db.execute("BEGIN")
            db.executemany(
                "INSERT INTO evaluations (point, value, duration, failed, traceback, attempt, "
                "finished_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                batch,
            )
            db.execute("COMMIT")
            written = True
        except BaseException:
            # a failed statement, or a forced second Ctrl-C: keep the rows for the next attempt
            # (unless the COMMIT went through just before the interrupt landed)
            if not written:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                self._batch[:0] = batch
            raise
        finally:
            if written:
                self.committed += len(batch)

    def close(self) -> None:
        """Flush and close the database."""
        if self._closed:
            return
        try:
            self.flush()
        finally:
            self._closed = True
            self._connection.close()
            self._lock.release()

    async def keep_flushing(self, runner: Any) -> None:
        """A runner helper task: commit at least every ``interval`` seconds while results
        arrive, and flush and close the database once the run has ended (however it ended)."""
        try:
            while not await runner._wait_done(max(self.interval, 0.05)):
                if self._batch:
                    try:
                        self.flush()
                    except sqlite3.Error as e:
                        _warn_retry(self.path, e)
        finally:
            # the run is over (or this task was cancelled): whatever arrived is committed
            self.close()


def _warn_retry(path: Path, error: BaseException) -> None:
    warnings.warn(
        f"checkpoint: committing to {str(path)!r} failed, will retry: {error!r}",
        RuntimeWarning,
        stacklevel=2,
    )


def open_run_log(
    checkpoint: Path | None,
    interval: float,
    learner: Any,
    log: list | None,
    point_key: Any = None,
) -> RunLog | None:
    """Open (or create) the checkpoint and replay its successful evaluations into ``learner``."""
    if checkpoint is None:
        return None
    run_log = RunLog(checkpoint, learner, interval)
    try:
        run_log.replay(learner, log, point_key)
    except BaseException as e:
        run_log.close()
        e.add_note(
            f"adaptive_runner: replaying checkpoint={str(checkpoint)!r} into the learner failed"
        )
        raise
    return run_log
