"""An empty learner of the type and settings a file records, for ``adaptive-runner info`` to
compute a loss: a checkpoint records the type and fingerprint (bounds, sequence length), a saved
file's envelope also the plain options (tolerances). The function is a placeholder that is never
called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adaptive_runner.learners import (
    AverageLearner,
    AverageLearner1D,
    BalancingLearner,
    DataSaver,
    IntegratorLearner,
    Learner1D,
    Learner2D,
    LearnerND,
    SequenceLearner,
)
from adaptive_runner.learners.base import type_name

__all__ = ["CannotRebuild", "bounds_in", "rebuild"]


def _placeholder(*args: Any, **kwargs: Any) -> Any:
    """The function of rebuilt learners: ``info`` never evaluates anything."""
    raise RuntimeError("adaptive-runner info rebuilt this learner only to compute its loss")


class CannotRebuild(Exception):
    """The learner cannot be rebuilt from what the file records (the message says why)."""


def _bounds(fp: dict[str, Any]) -> Any:
    if "bounds" not in fp:
        raise CannotRebuild(f"the file records no bounds for {fp.get('type')}")
    return fp["bounds"]


def _needs(options: dict[str, Any] | None, names: tuple[str, ...], kind: str) -> dict[str, Any]:
    """The tolerances a learner's loss depends on; CannotRebuild when they are not recorded."""
    if options is None:
        raise CannotRebuild(
            f"the loss of {kind} depends on {', '.join(names)}, which a checkpoint does not record"
        )
    return {name: options[name] for name in names if name in options}


def _plain(options: dict[str, Any] | None, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: options[name] for name in names if options and name in options}


_AVERAGE1D_OPTIONS = (
    "delta",
    "alpha",
    "neighbor_sampling",
    "min_samples",
    "max_samples",
    "min_error",
)


def _identity(value: Any) -> Any:
    return value


def _data_saver(fp: dict[str, Any], options: dict[str, Any] | None) -> Any:
    if options is None:  # a checkpoint holds whole results; what the learner learns is unknown
        raise CannotRebuild(
            "the values a DataSaver's learner learns are picked from the results by its "
            "arg_picker, which a checkpoint does not record"
        )
    # a saved file holds the wrapped learner's own data: the picker is never called
    return DataSaver(rebuild(fp["learner"], {}), _identity)


#: learner type name -> build(fingerprint, options or None) -> empty learner
_BUILDERS: dict[str, Callable[[dict[str, Any], dict[str, Any] | None], Any]] = {
    type_name(Learner1D): lambda fp, o: Learner1D(_placeholder, _bounds(fp)),
    type_name(Learner2D): lambda fp, o: Learner2D(_placeholder, _bounds(fp)),
    type_name(LearnerND): lambda fp, o: LearnerND(_placeholder, _bounds(fp)),
    type_name(AverageLearner1D): lambda fp, o: AverageLearner1D(
        _placeholder, _bounds(fp), **_plain(o, _AVERAGE1D_OPTIONS)
    ),
    type_name(AverageLearner): lambda fp, o: AverageLearner(
        _placeholder, **_needs(o, ("atol", "rtol", "min_npoints"), "AverageLearner")
    ),
    type_name(IntegratorLearner): lambda fp, o: IntegratorLearner(
        _placeholder, _bounds(fp), **_needs(o, ("tol",), "IntegratorLearner")
    ),
    type_name(SequenceLearner): lambda fp, o: SequenceLearner(
        _placeholder, [None] * int(fp.get("sequence_length", 0))
    ),
    type_name(BalancingLearner): lambda fp, o: BalancingLearner(
        [rebuild(child, None) for child in fp.get("learners", [])]
    ),
    type_name(DataSaver): _data_saver,
}


def rebuild(fp: dict[str, Any], options: dict[str, Any] | None) -> Any:
    """An empty learner of the type and settings ``fp`` records (``options``: plain settings
    such as tolerances, from a saved file's envelope; None for a checkpoint)."""
    learner_type = fp.get("type")
    build = _BUILDERS.get(learner_type)
    if build is None:
        raise CannotRebuild(f"{learner_type} is not one of adaptive_runner's learners")
    try:
        return build(fp, options)
    except CannotRebuild:
        raise
    except Exception as e:
        raise CannotRebuild(f"building a {learner_type} failed: {type(e).__name__}: {e}") from e


def bounds_in(fp: dict[str, Any]) -> Any:
    """The bounds in a fingerprint, or those of the learner it wraps (a DataSaver's)."""
    if "bounds" in fp:
        return fp["bounds"]
    if isinstance(fp.get("learner"), dict):
        return bounds_in(fp["learner"])
    return None
