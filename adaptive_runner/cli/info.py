"""``adaptive-runner info FILE``: what a checkpoint or a saved learner file holds.

A checkpoint (the SQLite run log of ``checkpoint=``) records the learner's type and fingerprint
(bounds, sequence length) and every evaluation; a saved learner file (``learner.save``) holds
the learner's data in an envelope that names its type (files saved before envelopes hold the
bare data, whose learner type is unknown). In both cases the loss is recomputed by rebuilding
an empty learner of the recorded type with a placeholder function and telling it the data.
"""

from __future__ import annotations

import datetime
import gzip
import json
import math
import pickle
import sqlite3
import zlib
from pathlib import Path
from typing import Any

from adaptive_runner import persistence
from adaptive_runner.cli.errors import EXIT_OK, UsageError
from adaptive_runner.cli.rebuild import CannotRebuild, bounds_in, rebuild
from adaptive_runner.learners.base import (
    SAVED_FORMAT,
    hashable_key,
    is_saved_envelope,
    type_name,
)

__all__ = ["describe", "format_description", "main_info"]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_GZIP_MAGIC = b"\x1f\x8b"
#: failing points listed in full (the count is always complete)
_MAX_LISTED_FAILURES = 5
_RECOMPUTED = "recomputed with the default loss function and settings"


def _json_number(value: Any) -> Any:
    """Floats as JSON allows them: inf and nan as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    return moment.isoformat(timespec="seconds")


# ---- checkpoints -------------------------------------------------------------------------------
def _read_checkpoint_tables(path: Path) -> tuple[dict[str, str], list[tuple]]:
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as e:
        raise UsageError(f"{str(path)!r}: cannot open the SQLite database: {e}") from None
    try:
        tables = {
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if not {"run", "evaluations"} <= tables:
            raise UsageError(
                f"{str(path)!r} is not a saved learner or checkpoint (an SQLite database "
                "without the run and evaluations tables of a checkpoint)"
            )
        run = dict(connection.execute("SELECT key, value FROM run").fetchall())
        rows = connection.execute(
            "SELECT seq, point, value, failed, traceback, attempt, finished_at "
            "FROM evaluations ORDER BY seq"
        ).fetchall()
    except sqlite3.Error as e:
        raise UsageError(f"{str(path)!r}: cannot read the checkpoint: {e}") from None
    finally:
        connection.close()
    return run, rows


def _last_line(traceback_text: str | None) -> str:
    lines = [line for line in (traceback_text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def _describe_checkpoint(path: Path) -> dict[str, Any]:
    run, rows = _read_checkpoint_tables(path)
    try:
        fp = json.loads(run.get("fingerprint", "null"))
    except json.JSONDecodeError:
        fp = None
    fp = fp if isinstance(fp, dict) else {}
    result: dict[str, Any] = {
        "file": str(path),
        "kind": "checkpoint",
        "format": run.get("format"),
        "learner_type": fp.get("type") or run.get("learner_type"),
        "fingerprint": fp,
        "bounds": bounds_in(fp),
    }
    created = run.get("created")
    try:
        result["created"] = _iso(float(created)) if created is not None else None
    except ValueError:
        result["created"] = None

    learner = None
    loss_unknown_reason = None
    try:
        learner = rebuild(fp, None)
    except CannotRebuild as e:
        loss_unknown_reason = str(e)
    key_of = learner.point_key if learner is not None else hashable_key

    successes = failures = 0
    latest: dict[Any, tuple[Any, bool, int, str | None]] = {}  # key -> point, failed, attempt, tb
    attempts: dict[Any, int] = {}
    unreadable = 0
    times = []
    for _seq, point_blob, value_blob, failed, traceback_text, attempt, finished_at in rows:
        times.append(finished_at)
        try:
            point = pickle.loads(point_blob)
        except Exception:
            unreadable += 1
            continue
        try:
            key = key_of(point)
        except Exception:
            key = hashable_key(point)
        attempts[key] = attempts.get(key, 0) + 1
        latest[key] = (point, bool(failed), int(attempt), traceback_text)
        if failed:
            failures += 1
            continue
        successes += 1
        if learner is not None:
            try:
                learner.tell(point, pickle.loads(value_blob))
            except Exception as e:
                loss_unknown_reason = (
                    f"telling the recorded point {_short(point)} to a rebuilt "
                    f"{type(learner).__name__} failed: {type(e).__name__}: {e}"
                )
                learner = None
    unresolved = [
        {
            "point": _short(point),
            "failures": attempt,
            "error": _last_line(traceback_text),
        }
        for point, failed, attempt, traceback_text in latest.values()
        if failed
    ]
    result.update(
        evaluations=len(rows),
        successes=successes,
        failures=failures,
        distinct_points=len(latest),
        retried_points=sum(1 for count in attempts.values() if count > 1),
        failing_points=len(unresolved),
        failing=unresolved[:_MAX_LISTED_FAILURES],
        unreadable_rows=unreadable,
        first_evaluation=_iso(min(times)) if times else None,
        last_evaluation=_iso(max(times)) if times else None,
        span_seconds=(max(times) - min(times)) if times else None,
    )
    if learner is not None:
        result["npoints"] = learner.npoints
        _add_loss(result, learner, note=_RECOMPUTED)
    else:
        result["npoints"] = len({k for k, v in latest.items() if not v[1]})
        result["loss"] = None
        result["loss_unknown"] = loss_unknown_reason
    return result


def _add_loss(result: dict[str, Any], learner: Any, note: str) -> None:
    try:
        result["loss"] = _json_number(float(learner.loss()))
        result["loss_note"] = note
    except Exception as e:
        result["loss"] = None
        result["loss_unknown"] = f"{type(learner).__name__}.loss() failed: {type(e).__name__}: {e}"


# ---- saved learner files -----------------------------------------------------------------------
def _load_saved(path: Path, head: bytes) -> Any:
    compressed = head.startswith(_GZIP_MAGIC)
    try:
        return persistence.load(path, compress=compressed)
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        gzip.BadGzipFile,
        zlib.error,
        IndexError,
        TypeError,
    ):
        raise UsageError(f"{str(path)!r} is not a saved learner or checkpoint") from None
    except (ImportError, AttributeError) as e:
        raise UsageError(
            f"{str(path)!r} looks like a saved learner, but unpickling it needs code that "
            f"cannot be imported here: {type(e).__name__}: {e}"
        ) from None


def _describe_saved(path: Path, head: bytes) -> dict[str, Any]:
    saved = _load_saved(path, head)
    result: dict[str, Any] = {
        "file": str(path),
        "kind": "saved learner",
        "compressed": head.startswith(_GZIP_MAGIC),
    }
    if not is_saved_envelope(saved):
        result.update(
            format=None,
            learner_type=None,
            learner_type_unknown=(
                "saved before saved files recorded their learner type; load it into the "
                "learner that saved it"
            ),
            data_type=type_name(saved),
            data_length=len(saved) if hasattr(saved, "__len__") else None,
        )
        return result
    fp = saved.get("fingerprint") if isinstance(saved.get("fingerprint"), dict) else {}
    options = saved.get("options") if isinstance(saved.get("options"), dict) else {}
    result.update(
        format=saved.get("format", SAVED_FORMAT),
        learner_type=saved.get("learner_type"),
        fingerprint=fp,
        bounds=bounds_in(fp),
        options=options,
        callables=saved.get("callables") or {},
        npoints=saved.get("npoints"),
    )
    recorded_loss = saved.get("loss")
    try:
        learner = rebuild(fp, options)
        learner._set_data(saved["data"])
    except CannotRebuild as e:
        learner, reason = None, str(e)
    except Exception as e:
        learner = None
        reason = f"loading the data into a rebuilt learner failed: {type(e).__name__}: {e}"
    if recorded_loss is not None:
        result["loss"] = _json_number(float(recorded_loss))
        result["loss_note"] = "recorded when saved"
    if learner is not None:
        result["npoints"] = learner.npoints
        if recorded_loss is None:
            _add_loss(result, learner, note=_RECOMPUTED)
    elif recorded_loss is None:
        result["loss"] = None
        result["loss_unknown"] = reason
    return result


# ---- the command -------------------------------------------------------------------------------
def describe(path: str) -> dict[str, Any]:
    """What the checkpoint or saved learner file at ``path`` holds, as JSON-ready data.

    Raises
    ------
    UsageError
        When there is no such file, or it is neither a checkpoint nor a saved learner.
    """
    file = Path(path)
    if not file.exists():
        raise UsageError(f"no such file: {str(path)!r}")
    if file.is_dir():
        raise UsageError(f"{str(path)!r} is a directory, not a saved learner or checkpoint")
    try:
        with file.open("rb") as f:
            head = f.read(len(_SQLITE_MAGIC))
    except OSError as e:
        raise UsageError(f"cannot read {str(path)!r}: {e.strerror or e}") from None
    if not head:
        raise UsageError(f"{str(path)!r} is empty: not a saved learner or checkpoint")
    if head == _SQLITE_MAGIC:
        return _describe_checkpoint(file)
    return _describe_saved(file, head)


def _format_loss(d: dict[str, Any]) -> str:
    if d.get("loss") is None:
        return f"unknown ({d.get('loss_unknown') or 'not recorded'})"
    loss = d["loss"]
    text = f"{loss:.6g}" if isinstance(loss, float | int) else str(loss)
    return f"{text} ({d['loss_note']})" if d.get("loss_note") else text


def format_description(d: dict[str, Any]) -> str:
    """``describe``'s result as readable lines."""
    lines = [f"{d['file']}: {d['kind']}"]
    if d.get("learner_type"):
        lines.append(f"  learner type: {d['learner_type']}")
    elif d.get("learner_type_unknown"):
        lines.append(f"  learner type: unknown ({d['learner_type_unknown']})")
    if d.get("learner_type_unknown"):
        length = d.get("data_length")
        lines.append(
            f"  data: a {d['data_type']}" + (f" of length {length}" if length is not None else "")
        )
        return "\n".join(lines)
    fp = d.get("fingerprint") or {}
    if d.get("bounds") is not None:
        lines.append(f"  bounds: {d['bounds']}")
    if "sequence_length" in fp:
        lines.append(f"  sequence length: {fp['sequence_length']}")
    if "learners" in fp:
        lines.append(f"  child learners: {len(fp['learners'])}")
    if "learner" in fp:
        lines.append(f"  wrapped learner: {fp['learner'].get('type')}")
    if d.get("options"):
        lines.append(
            "  settings: " + ", ".join(f"{k}={v!r}" for k, v in sorted(d["options"].items()))
        )
    if d.get("callables"):
        lines.append(
            "  functions: " + ", ".join(f"{k}={v}" for k, v in sorted(d["callables"].items()))
        )
    lines.append(f"  points: {d.get('npoints')}")
    lines.append(f"  loss: {_format_loss(d)}")
    if d["kind"] == "checkpoint":
        lines.append(
            f"  evaluations: {d['evaluations']} ({d['successes']} succeeded, "
            f"{d['failures']} failed; {d['distinct_points']} distinct points, "
            f"{d['retried_points']} evaluated more than once)"
        )
        if d.get("unreadable_rows"):
            lines.append(f"  rows whose point cannot be unpickled here: {d['unreadable_rows']}")
        lines.append(f"  points whose latest evaluation failed: {d['failing_points']}")
        for failure in d.get("failing", []):
            lines.append(
                f"    {failure['point']} ({failure['failures']} failures): {failure['error']}"
            )
        if d["failing_points"] > len(d.get("failing", [])):
            lines.append(f"    ... and {d['failing_points'] - len(d['failing'])} more")
        if d.get("first_evaluation"):
            lines.append(
                f"  evaluations from {d['first_evaluation']} to {d['last_evaluation']} "
                f"({d['span_seconds']:.1f} s)"
            )
        if d.get("created"):
            lines.append(f"  checkpoint created: {d['created']}")
    return "\n".join(lines)


def main_info(path: str, as_json: bool) -> int:
    """The ``info`` command: print what ``path`` holds (as JSON with ``as_json``); returns 0.

    Raises UsageError (exit status 2 in the CLI) for a missing or unrecognized file.
    """
    description = describe(path)
    if as_json:
        print(json.dumps(description, indent=2, sort_keys=True, default=str))
    else:
        print(format_description(description))
    return EXIT_OK
