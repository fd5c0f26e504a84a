"""Turn the command line's strings into things: the function, durations, times and the learner
(the executor: :mod:`adaptive_runner.cli.executors`). Every helper raises :class:`UsageError`
naming the option and the bad value, so a mistake is reported in one line before anything runs
or any file is written.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import os
import re
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from adaptive_runner.cli.errors import UsageError

__all__ = [
    "BOUNDS_PER_LEARNER",
    "LEARNER_KINDS",
    "build_learner",
    "load_function",
    "loss_names",
    "parse_duration",
    "parse_end_time",
]

LEARNER_KINDS = ("1d", "2d", "nd", "average", "average1d", "integrator", "sequence")

#: how many ``--bounds LOW HIGH`` each learner takes: (fewest, most); None = no upper limit
BOUNDS_PER_LEARNER: dict[str, tuple[int, int | None]] = {
    "1d": (1, 1),
    "average1d": (1, 1),
    "integrator": (1, 1),
    "2d": (2, 2),
    "nd": (2, None),
    "average": (0, 0),
    "sequence": (0, 0),
}

# --- the function ----------------------------------------------------------------------------


def _add_import_path(folder: Path) -> None:
    """Make modules in ``folder`` importable here and in worker processes started later."""
    folder_text = str(folder)
    if folder_text not in sys.path:
        sys.path.insert(0, folder_text)
    # worker processes (loky, process pools) import the function's module by name when they
    # unpickle it; they inherit the environment, not this process's sys.path
    current = os.environ.get("PYTHONPATH", "")
    parts = current.split(os.pathsep) if current else []
    if folder_text not in parts:
        os.environ["PYTHONPATH"] = os.pathsep.join([folder_text, *parts])


def _import_file(path_text: str, spec: str) -> Any:
    path = Path(path_text)
    if not path.is_file():
        raise UsageError(f"FUNCTION {spec!r}: no such file {path_text!r}")
    path = path.resolve()
    name = path.stem
    if not name.isidentifier():
        raise UsageError(
            f"FUNCTION {spec!r}: the file name {path.name!r} is not a valid module name "
            "(use letters, digits and underscores)"
        )
    existing = sys.modules.get(name)
    if existing is not None:
        existing_file = getattr(existing, "__file__", None)
        if existing_file is not None and Path(existing_file).resolve() == path:
            return existing
        raise UsageError(
            f"FUNCTION {spec!r}: the module name {name!r} is already taken by "
            f"{existing_file or 'a built-in module'}; rename the file"
        )
    _add_import_path(path.parent)
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise UsageError(f"FUNCTION {spec!r}: {path_text!r} cannot be imported as a module")
    module = importlib.util.module_from_spec(module_spec)
    # registered under its plain name, so that pickled references to its functions resolve
    # in the workers, which import it from the same folder (PYTHONPATH)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException as e:
        del sys.modules[name]
        if isinstance(e, KeyboardInterrupt | SystemExit):
            raise
        raise UsageError(
            f"FUNCTION {spec!r}: importing {path_text!r} raised {type(e).__name__}: {e}"
        ) from e
    return module


def _import_module(name: str, spec: str) -> Any:
    if not all(part.isidentifier() for part in name.split(".")):
        raise UsageError(f"FUNCTION {spec!r}: {name!r} is not a module name or a .py file")
    # like `python -m`, modules in the current folder are found (and by the workers too)
    _add_import_path(Path.cwd())
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name is not None and (name == e.name or name.startswith(e.name + ".")):
            raise UsageError(f"FUNCTION {spec!r}: no module named {e.name!r}") from e
        raise UsageError(f"FUNCTION {spec!r}: importing {name!r} raised {e}") from e
    except Exception as e:
        raise UsageError(
            f"FUNCTION {spec!r}: importing {name!r} raised {type(e).__name__}: {e}"
        ) from e


def load_function(spec: str) -> Callable:
    """The callable named by ``"pkg.module:function"`` or ``"path/to/file.py:function"``.

    A dotted attribute after the colon (``"module:Class.method"``) is allowed. The module's
    folder is put on ``sys.path`` and on ``PYTHONPATH`` so worker processes find it too.
    """
    module_part, colon, attribute = spec.rpartition(":")
    if not colon or not module_part or not attribute:
        raise UsageError(f"FUNCTION {spec!r} must be MODULE:FUNCTION or path/to/file.py:FUNCTION")
    if module_part.endswith(".py") or os.sep in module_part or "/" in module_part:
        module = _import_file(module_part, spec)
    else:
        module = _import_module(module_part, spec)
    value: Any = module
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise UsageError(
                f"FUNCTION {spec!r}: {module_part!r} has no attribute {attribute!r}"
            ) from None
    if not callable(value):
        raise UsageError(
            f"FUNCTION {spec!r}: {attribute!r} is a {type(value).__name__}, not a function"
        )
    return value


# --- durations and times ---------------------------------------------------------------------

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_DURATION = re.compile(
    rf"(?:{_NUMBER}d)?(?:{_NUMBER}h)?(?:{_NUMBER}m)?(?:{_NUMBER}s)?", re.IGNORECASE
)
_UNIT_SECONDS = (86400, 3600, 60, 1)


def parse_duration(text: str, option: str = "--duration-goal") -> float:
    """Seconds from ``"90"``, ``"1.5"``, ``"45s"``, ``"2m30s"``, ``"1h30m"``, ``"1d"``, ...

    Raises UsageError for anything else, and for durations that are not positive.
    """
    stripped = text.strip()
    seconds: float | None = None
    try:
        seconds = float(stripped)
    except ValueError:
        match = _DURATION.fullmatch(stripped)
        if match is not None and any(match.groups()):
            seconds = sum(
                float(amount) * unit
                for amount, unit in zip(match.groups(), _UNIT_SECONDS, strict=True)
                if amount is not None
            )
    if seconds is None:
        raise UsageError(
            f"{option} {text!r} is not a duration: give seconds (90, 1.5) or units "
            "d, h, m, s (1h30m, 2m30s, 45s, 1d)"
        )
    if not (math.isfinite(seconds) and seconds > 0):
        raise UsageError(f"{option} {text!r} must be a positive, finite duration")
    return seconds


def parse_end_time(text: str, option: str = "--end-time") -> datetime:
    """An aware datetime from ISO 8601 (``2030-01-31T18:00``, ``...+01:00``, ``...Z``).

    A time without a zone is local time. A time in the past raises UsageError.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not an ISO 8601 date and time (e.g. 2030-01-31T18:00:00)"
        ) from None
    moment = moment.astimezone()  # a naive time is taken as local time
    if moment <= datetime.now(moment.tzinfo):
        raise UsageError(
            f"{option} {text!r} is in the past (now: "
            f"{datetime.now().astimezone().isoformat(timespec='seconds')})"
        )
    return moment


# --- the learner -----------------------------------------------------------------------------


def _losses(kind: str) -> dict[str, Callable | None]:
    """The ``--loss`` names of a learner kind; None means the learner's default."""
    if kind in ("1d", "average1d"):
        from adaptive_runner.learners import learner1D_losses as losses

        names = {
            "default": None,
            "uniform": losses.uniform_loss,
            "abs_min_log": losses.abs_min_log_loss,
            "triangle": losses.triangle_loss,
            "curvature": losses.curvature_loss_function(),
        }
        if kind == "average1d":
            # AverageLearner1D with triangle_loss stalls after a few points (reported to the
            # lead); not offered until that is fixed
            del names["triangle"]
        return names
    if kind == "2d":
        from adaptive_runner.learners import learner2D_losses as losses

        return {
            "default": None,
            "uniform": losses.uniform_loss,
            "minimize_triangle_surface": losses.minimize_triangle_surface_loss,
            "triangle": losses.triangle_loss,
        }
    if kind == "nd":
        from adaptive_runner.learners import learnerND_losses as losses

        return {
            "default": None,
            "uniform": losses.uniform_loss,
            "std": losses.std_loss,
            "triangle": losses.triangle_loss,
            "curvature": losses.curvature_loss_function(),
        }
    return {"default": None}  # average, integrator, sequence: no choice of loss


def loss_names(kind: str) -> list[str]:
    """The valid ``--loss`` names for ``--learner kind``."""
    return list(_losses(kind))


def _loss(kind: str, name: str | None) -> Callable | None:
    if name is None:
        return None
    losses = _losses(kind)
    if name not in losses:
        raise UsageError(
            f"--loss {name!r} is not a loss of --learner {kind}; valid: {', '.join(losses)}"
        )
    return losses[name]


def _bounds(kind: str, given: list[list[str]] | None) -> list[tuple[float, float]]:
    given = given or []
    fewest, most = BOUNDS_PER_LEARNER[kind]
    if not fewest <= len(given) <= (most if most is not None else len(given)):
        if most == 0:
            wanted = "no --bounds"
        elif fewest == most:
            wanted = f"exactly {fewest} --bounds LOW HIGH"
        else:
            wanted = f"{fewest} or more --bounds LOW HIGH (one per dimension)"
        raise UsageError(f"--learner {kind} takes {wanted}, got {len(given)}")
    bounds = []
    for low_text, high_text in given:
        try:
            low, high = float(low_text), float(high_text)
        except ValueError:
            raise UsageError(
                f"--bounds {low_text} {high_text}: LOW and HIGH must be numbers"
            ) from None
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise UsageError(
                f"--bounds {low_text} {high_text}: need finite numbers with LOW < HIGH"
            )
        bounds.append((low, high))
    return bounds


def _positive(option: str, value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise UsageError(f"{option} {value!r} must be a positive number")
    return value


def _sequence_points(path_text: str) -> list:
    path = Path(path_text)
    try:
        text = path.read_text()
    except OSError as e:
        raise UsageError(f"--points {path_text!r}: cannot read the file ({e.strerror})") from None
    try:
        points = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"--points {path_text!r} is not valid JSON ({e})") from None
    if not isinstance(points, list) or not points:
        raise UsageError(f"--points {path_text!r} must hold a non-empty JSON list of points")
    return points


#: learner options and the kinds they apply to
_OPTION_KINDS = {
    "tol": ("--tol", ("integrator",)),
    "atol": ("--atol", ("average",)),
    "rtol": ("--rtol", ("average",)),
    "points": ("--points", ("sequence",)),
}


def build_learner(args: Any, function: Callable) -> Any:
    """The learner ``args`` ask for (``args.learner``, ``args.bounds``, ``args.loss``, ...)."""
    from adaptive_runner import learners

    kind = args.learner
    if kind not in LEARNER_KINDS:
        raise UsageError(f"--learner {kind!r} is not one of {', '.join(LEARNER_KINDS)}")
    for attribute, (option, kinds) in _OPTION_KINDS.items():
        if getattr(args, attribute, None) is not None and kind not in kinds:
            raise UsageError(
                f"{option} applies to --learner {' or '.join(kinds)}, not --learner {kind}"
            )
    bounds = _bounds(kind, args.bounds)
    loss = _loss(kind, args.loss)
    try:
        if kind == "1d":
            return learners.Learner1D(function, bounds[0], loss_per_interval=loss)
        if kind == "average1d":
            return learners.AverageLearner1D(function, bounds[0], loss_per_interval=loss)
        if kind == "2d":
            return learners.Learner2D(function, bounds, loss_per_triangle=loss)
        if kind == "nd":
            return learners.LearnerND(function, bounds, loss_per_simplex=loss)
        if kind == "integrator":
            if args.tol is None:
                raise UsageError("--learner integrator needs --tol (the error to reach)")
            return learners.IntegratorLearner(function, bounds[0], tol=_positive("--tol", args.tol))
        if kind == "average":
            if args.atol is None and args.rtol is None:
                raise UsageError("--learner average needs --atol or --rtol (or both)")
            return learners.AverageLearner(
                function, atol=_positive("--atol", args.atol), rtol=_positive("--rtol", args.rtol)
            )
        if args.points is None:
            raise UsageError("--learner sequence needs --points FILE.json (a JSON list)")
        return learners.SequenceLearner(function, _sequence_points(args.points))
    except (TypeError, ValueError) as e:
        raise UsageError(f"--learner {kind}: {str(e).splitlines()[0]}") from e
