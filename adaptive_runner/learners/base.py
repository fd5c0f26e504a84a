"""The learner protocol: the abstract :class:`BaseLearner` and helpers shared by learners.

A learner is a pure state machine. ``ask`` proposes points, ``tell`` records results. It owns no
threads, reads no clock and prints nothing, so the same sequence of calls always gives the same
state; that is what lets ``replay_log`` reproduce a run and lets a checkpoint be replayed.
"""

from __future__ import annotations

import abc
import functools
import inspect
import math
import numbers
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

import cloudpickle
import numpy as np

from adaptive_runner import persistence

__all__ = ["SAVED_FORMAT", "BaseLearner", "fingerprint", "hashable_key", "unwrap_saved"]


def hashable_key(point: Any) -> Hashable:
    """A hashable stand-in for ``point``; equal points give equal keys.

    Points that are already hashable are returned unchanged, so the common case costs one
    ``hash`` call. Lists, dicts, sets and arrays are frozen recursively.
    """
    try:
        hash(point)
    except TypeError:
        return _freeze(point)
    return point


def _freeze(obj: Any) -> Hashable:
    if isinstance(obj, np.ndarray):
        return ("ndarray", obj.shape, obj.dtype.str, obj.tobytes())
    if isinstance(obj, dict):
        return ("dict", frozenset((hashable_key(k), _freeze(v)) for k, v in obj.items()))
    if isinstance(obj, list | tuple):
        return (type(obj).__name__, tuple(_freeze(v) for v in obj))
    if isinstance(obj, set | frozenset):
        return ("set", frozenset(_freeze(v) for v in obj))
    try:
        hash(obj)
    except TypeError:
        return ("pickled", cloudpickle.dumps(obj))
    return obj


def check_ask_n(n: Any) -> int:
    """Validate the ``n`` argument of ``ask``: a non-negative integer."""
    if type(n) is int and n >= 0:
        return n
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"ask(n): n must be a non-negative integer, got n={n!r}")
    return int(n)


#: value scales are the spread of the values rounded up to a power of
#: 2 ** (1 / SCALE_STEPS_PER_OCTAVE): independent of the order the values came in, within 0.07% of
#: the spread, and changing (so that every loss is recomputed) only when the spread grows by that
SCALE_STEPS_PER_OCTAVE = 1024


def quantized_scale(spread: float) -> float:
    """``spread`` rounded up to a power of ``2 ** (1 / SCALE_STEPS_PER_OCTAVE)``; 1 when it is
    zero, negative or not finite."""
    if not spread > 0 or not math.isfinite(spread):
        return 1.0
    step = math.ceil(math.log2(spread) * SCALE_STEPS_PER_OCTAVE - 1e-9)
    return 2.0 ** (step / SCALE_STEPS_PER_OCTAVE)


def checked_value(y: Any, vdim: int | None) -> tuple[Any, int]:
    """``y`` as a float or a 1-D float array, with its length; ``ValueError`` naming ``y`` when
    it is neither or its length is not ``vdim`` (None while the length is not known yet)."""
    if type(y) is float or (isinstance(y, numbers.Real) and not isinstance(y, bool)):
        if vdim is not None and vdim != 1:
            raise ValueError(f"expected a vector of length {vdim}, got y={y!r}")
        return float(y), 1
    array = np.asarray(y, dtype=float)
    if array.ndim != 1 or (vdim is not None and array.shape != (vdim,)):
        raise ValueError(
            f"function values must be numbers or vectors of one length, got y={y!r}"
            + (f" (expected length {vdim})" if vdim else "")
        )
    return array, len(array)


def default_function_args(function: Callable) -> dict[str, Any]:
    """The parameters of ``function`` that have default values (seeing through partials)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return {}
    return {
        name: p.default
        for name, p in signature.parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def function_args_from_dataframe(df: Any, function_prefix: str) -> dict[str, Any]:
    """The ``function_prefix``-prefixed columns of ``df`` as keyword arguments (first row)."""
    kwargs = {}
    for column in df.columns:
        if isinstance(column, str) and column.startswith(function_prefix) and len(df):
            value = df[column].iloc[0]
            # NumPy scalars from the frame become plain Python values
            kwargs[column[len(function_prefix) :]] = (
                value.item() if isinstance(value, np.generic) else value
            )
    return kwargs


def bind_function_args(function: Callable, kwargs: dict[str, Any]) -> Callable:
    """``function`` with ``kwargs`` bound when they differ from its defaults."""
    defaults = default_function_args(function)
    unknown = sorted(set(kwargs) - set(defaults))
    if unknown:
        raise ValueError(
            f"the dataframe holds function arguments {unknown} that the learner's function "
            f"does not take as keyword arguments with defaults (it takes {sorted(defaults)})"
        )
    changed = {k: v for k, v in kwargs.items() if not _same(defaults[k], v)}
    return functools.partial(function, **changed) if changed else function


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(np.all(a == b)) if np.shape(a) == np.shape(b) else False
    except Exception:
        return False


def require_pandas():
    """Import pandas or explain how to get it."""
    try:
        import pandas
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "pandas is needed for to_dataframe/load_dataframe; install it with "
            "`pip install 'adaptive-runner[notebook]'` or `pip install pandas`"
        ) from e
    return pandas


#: settings that decide which points a learner can hold; tolerances and loss functions do not
STRUCTURAL_SETTINGS = ("bounds", "sequence", "learners", "learner")


def _describe_setting(value: Any) -> Any:
    """A JSON-able description of a setting (learners by their fingerprint)."""
    if callable(getattr(value, "ask", None)) and callable(getattr(value, "tell", None)):
        return fingerprint(value)
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Real):  # bounds (0, 1) and (0.0, 1.0) are the same
        return float(value)
    if isinstance(value, np.ndarray):
        return _describe_setting(value.tolist())
    if isinstance(value, list | tuple):
        return [_describe_setting(v) for v in value]
    return type(value).__qualname__


def type_name(obj_or_type: Any) -> str:
    """``"module.QualName"`` of an object's type (or of a type)."""
    cls = obj_or_type if isinstance(obj_or_type, type) else type(obj_or_type)
    return f"{cls.__module__}.{cls.__qualname__}"


def _learner_settings(learner: Any) -> dict[str, Any]:
    settings_of = getattr(learner, "_settings", None)
    if callable(settings_of):
        try:
            settings = settings_of()
        except Exception:  # a custom learner without settings: its type is all there is
            return {}
        if isinstance(settings, dict):
            return settings
    return {}


def fingerprint(learner: Any) -> dict[str, Any]:
    """A learner's type and the settings that decide its points (bounds, sequence length, and
    the same for the learners it wraps), as JSON-able data.

    Checkpoints record it to refuse resuming into a different kind of learner, and saved files
    record it so that they say what they hold.
    """
    result: dict[str, Any] = {"type": type_name(learner)}
    settings = _learner_settings(learner)
    for name in STRUCTURAL_SETTINGS:
        if name not in settings:
            continue
        if name == "sequence":
            result["sequence_length"] = len(settings[name])
        elif name == "learners":  # BalancingLearner's settings hold fresh copies: use the originals
            result[name] = [fingerprint(child) for child in learner.learners]
        elif name == "learner":
            result[name] = fingerprint(learner.learner)
        else:
            result[name] = _describe_setting(settings[name])
    return result


#: the format tag of the files ``BaseLearner.save`` writes (a dict, see :func:`saved_envelope`)
SAVED_FORMAT = "adaptive_runner.saved_learner/1"


def _options(learner: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The learner's plain settings (numbers, strings, None) and the names of its callable
    settings other than the function (loss functions, pickers)."""
    options: dict[str, Any] = {}
    callables: dict[str, str] = {}
    for name, value in _learner_settings(learner).items():
        if name in STRUCTURAL_SETTINGS or name in ("function", "func"):
            continue
        if value is None or isinstance(value, bool | str):
            options[name] = value
        elif isinstance(value, numbers.Integral):
            options[name] = int(value)
        elif isinstance(value, numbers.Real):
            options[name] = float(value)
        elif callable(value):
            module = getattr(value, "__module__", None) or "?"
            qualname = getattr(value, "__qualname__", None) or type(value).__qualname__
            callables[name] = f"{module}.{qualname}"
    return options, callables


def saved_envelope(learner: BaseLearner) -> dict[str, Any]:
    """What ``BaseLearner.save`` writes: the learner's data with a description of the learner.

    Keys: ``format`` (:data:`SAVED_FORMAT`), ``learner_type`` (``"module.QualName"``),
    ``fingerprint`` (see :func:`fingerprint`), ``options`` (plain settings such as ``tol`` or
    ``atol``), ``callables`` (names of loss functions and the like), ``npoints``, ``loss`` (the
    learner's loss when saved, None if it could not be computed) and ``data`` (``_get_data()``).
    """
    options, callables = _options(learner)
    try:
        loss: float | None = float(learner.loss())
    except Exception:  # saving must not fail because a loss cannot be computed
        loss = None
    return {
        "format": SAVED_FORMAT,
        "learner_type": type_name(learner),
        "fingerprint": fingerprint(learner),
        "options": options,
        "callables": callables,
        "npoints": int(learner.npoints),
        "loss": loss,
        "data": learner._get_data(),
    }


def is_saved_envelope(obj: Any) -> bool:
    """Whether ``obj`` is a :func:`saved_envelope` (and not a bare data object)."""
    return isinstance(obj, dict) and obj.get("format") == SAVED_FORMAT and "data" in obj


def unwrap_saved(saved: Any, learner: Any, fname: Any) -> Any:
    """The data in ``saved`` (an envelope, or the bare data of files saved before envelopes).

    Raises ``ValueError`` naming the file and both types when the envelope was written by a
    learner of another type than ``learner`` (or than one of its base classes).
    """
    if not is_saved_envelope(saved):
        return saved
    saved_type = saved.get("learner_type")
    accepted = {type_name(cls) for cls in type(learner).__mro__}
    if saved_type not in accepted:
        raise ValueError(
            f"{str(fname)!r} holds data saved by a learner of type {saved_type}, which "
            f"cannot be loaded into a learner of type {type_name(learner)}; load it into a "
            f"{str(saved_type).rsplit('.', 1)[-1]}"
        )
    return saved["data"]


def _restore_learner(cls: type, settings_blob: bytes, data: Any) -> BaseLearner:
    learner = cls(**cloudpickle.loads(settings_blob))
    learner._set_data(data)
    return learner


class BaseLearner(abc.ABC):
    """The protocol every learner follows.

    Subclasses implement ``ask``, ``tell``, ``tell_pending``, ``loss``, ``remove_unfinished``,
    ``_get_data``/``_set_data`` (the learner's told data, used by saving, pickling and
    ``copy_from``) and ``_settings`` (the constructor arguments, used by ``new`` and pickling).

    Attributes
    ----------
    function
        The function being learned; the runner evaluates ``learner.function(point)``.
    data
        What was told, keyed by point (or by the learner's own key, see ``point_key``).
    pending_points
        Points asked (with ``tell_pending=True``) and not told yet.
    """

    function: Callable
    data: Any
    pending_points: Any

    # ---- the abstract core -------------------------------------------------------------------
    @abc.abstractmethod
    def ask(self, n: int, tell_pending: bool = True) -> tuple[list, list[float]]:
        """Return the ``n`` most useful points and the loss improvement each is expected to bring.

        With ``tell_pending`` the points are registered as pending, so the next ``ask`` does not
        return them again. Fewer than ``n`` points are returned only when the learner has no more.
        """

    @abc.abstractmethod
    def tell(self, x: Any, y: Any) -> None:
        """Record that ``function(x) == y``."""

    @abc.abstractmethod
    def tell_pending(self, x: Any) -> None:
        """Register ``x`` as being evaluated."""

    @abc.abstractmethod
    def loss(self, real: bool = True) -> float:
        """The learner's current loss; ``real=False`` counts pending points as if they were done."""

    @abc.abstractmethod
    def remove_unfinished(self) -> None:
        """Forget all pending points."""

    @abc.abstractmethod
    def _get_data(self) -> Any:
        """The told data in a picklable form that ``_set_data`` accepts."""

    @abc.abstractmethod
    def _set_data(self, data: Any) -> None:
        """Tell the learner ``data`` as returned by ``_get_data``."""

    @abc.abstractmethod
    def _settings(self) -> dict[str, Any]:
        """The keyword arguments that construct an empty learner with the same settings."""

    # ---- shared behaviour ----------------------------------------------------------------------
    @property
    def npoints(self) -> int:
        """Number of points told."""
        return len(self.data)

    def tell_many(self, xs: Iterable, ys: Iterable) -> None:
        """Tell many results at once (learners override this with a faster bulk update)."""
        xs, ys = list(xs), list(ys)
        if len(xs) != len(ys):
            raise ValueError(f"tell_many: got {len(xs)} points but {len(ys)} values")
        for x, y in zip(xs, ys, strict=True):
            self.tell(x, y)

    def point_key(self, point: Any) -> Hashable:
        """A hashable key identifying ``point`` (the key it has in ``data``)."""
        return hashable_key(point)

    def new(self) -> BaseLearner:
        """A fresh, empty learner with the same function and every same setting."""
        return type(self)(**self._settings())

    def copy_from(self, other: BaseLearner) -> None:
        """Tell this learner all the data of ``other``."""
        self._set_data(other._get_data())

    def save(self, fname: Any, compress: bool = True) -> None:
        """Save the learner's data to ``fname`` (atomic: a crash never leaves a broken file).

        The file also says what it holds (the learner's type, bounds, number of points and
        loss, see :func:`saved_envelope`), which ``adaptive-runner info FILE`` shows.
        """
        persistence.save(fname, saved_envelope(self), compress=compress)

    def load(self, fname: Any, compress: bool = True) -> None:
        """Tell the learner the data saved in ``fname`` by :meth:`save`.

        Files saved before saved files described their learner (bare data) load too.

        Raises
        ------
        ValueError
            When the file was saved by a learner of another type.
        """
        saved = persistence.load(fname, compress=compress)
        self._set_data(unwrap_saved(saved, self, fname))

    def __reduce__(self):
        # The settings (including the function) go through cloudpickle, so a learner of a lambda
        # or a closure pickles with the standard pickle module too.
        return (
            _restore_learner,
            (type(self), cloudpickle.dumps(self._settings()), self._get_data()),
        )

    def to_numpy(self) -> np.ndarray:
        """The data as a NumPy array, one row per point."""
        raise NotImplementedError(f"{type(self).__name__} has no to_numpy")

    def to_dataframe(self, *args: Any, **kwargs: Any) -> Any:
        """The data as a pandas DataFrame (pandas is imported lazily)."""
        raise NotImplementedError(f"{type(self).__name__} has no to_dataframe")

    def load_dataframe(self, df: Any, *args: Any, **kwargs: Any) -> None:
        """Tell the learner the data of a DataFrame made by :meth:`to_dataframe`."""
        raise NotImplementedError(f"{type(self).__name__} has no load_dataframe")

    def plot(self, *args: Any, **kwargs: Any) -> Any:
        """A holoviews plot of the learner (holoviews is imported lazily)."""
        raise NotImplementedError(f"{type(self).__name__} has no plot")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} npoints={self.npoints}>"


def add_function_columns(
    df: Any, function: Callable, with_default_function_args: bool, function_prefix: str
) -> None:
    """Add one column per defaulted argument of ``function`` to ``df`` (in place)."""
    if not with_default_function_args:
        return
    for name, value in default_function_args(function).items():
        df[function_prefix + name] = [value] * len(df)


def describe_dataframe(
    df: Any,
    inputs: list[str],
    output: str,
    function: Callable,
    with_default_function_args: bool,
    function_prefix: str,
) -> Any:
    """Record the input and output columns in ``df.attrs`` and add a column per defaulted
    argument of ``function``; returns ``df``."""
    df.attrs["inputs"] = list(inputs)
    df.attrs["output"] = output
    add_function_columns(df, function, with_default_function_args, function_prefix)
    return df


def function_from_dataframe(
    function: Callable, df: Any, with_default_function_args: bool, function_prefix: str
) -> Callable:
    """``function`` with the argument values recorded in ``df``'s ``function_prefix`` columns
    bound (``function`` itself when ``with_default_function_args`` is false)."""
    if not with_default_function_args:
        return function
    return bind_function_args(function, function_args_from_dataframe(df, function_prefix))


def require_holoviews(owner: str):
    """Import holoviews for ``owner`` (e.g. ``"Learner1D.plot"``) or explain how to get it."""
    try:
        import holoviews
    except ImportError:
        raise ImportError(
            f"{owner} needs holoviews: pip install 'adaptive-runner[notebook]'"
        ) from None
    return holoviews


def as_sequence(values: Any) -> Sequence:
    """``values`` as a list (accepts any iterable, including NumPy arrays)."""
    return list(values)
