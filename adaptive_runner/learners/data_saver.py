"""DataSaver: learn one number picked from a function's rich result, and keep the whole result."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import Any

from adaptive_runner.learners.base import BaseLearner, require_pandas

__all__ = ["DataSaver", "make_datasaver"]


class DataSaver(BaseLearner):
    """Wrap ``learner`` so that its function may return a rich object (e.g. a dict).

    ``arg_picker(result)`` picks the value the wrapped learner learns; the whole results are kept
    in ``extra_data``, keyed like the wrapped learner's ``data`` (``learner.point_key(point)``).
    Every other attribute is the wrapped learner's.

    Parameters
    ----------
    learner
        Any learner.
    arg_picker
        Maps a function result to the value ``learner`` is told, e.g.
        ``operator.itemgetter("energy")``.

    Examples
    --------
    >>> from operator import itemgetter
    >>> from adaptive_runner import SequenceLearner
    >>> saver = DataSaver(SequenceLearner(lambda x: {"y": x, "cost": 1}, [1, 2]), itemgetter("y"))
    """

    def __init__(self, learner: BaseLearner, arg_picker: Callable[[Any], Any]) -> None:
        if not isinstance(learner, BaseLearner):
            raise TypeError(f"learner must be a learner, got learner={learner!r}")
        if not callable(arg_picker):
            raise TypeError(f"arg_picker must be callable, got arg_picker={arg_picker!r}")
        self.learner = learner
        self.arg_picker = arg_picker
        self.extra_data: dict[Hashable, Any] = {}

    def __getattr__(self, name: str) -> Any:
        # only called for attributes DataSaver itself lacks; guard against recursion while
        # the object is half-built (unpickling, copy)
        if name == "learner" or "learner" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self.learner, name)

    @property
    def function(self) -> Callable:
        # delegated, not copied: load_dataframe may rebind the wrapped learner's function
        return self.learner.function

    @property
    def data(self) -> Any:
        return self.learner.data

    @property
    def pending_points(self) -> Any:
        return self.learner.pending_points

    @property
    def npoints(self) -> int:
        return self.learner.npoints

    def point_key(self, point: Any) -> Hashable:
        return self.learner.point_key(point)

    def ask(self, n: int, tell_pending: bool = True) -> tuple[list, list[float]]:
        return self.learner.ask(n, tell_pending=tell_pending)

    def tell(self, x: Any, result: Any) -> None:
        y = self.arg_picker(result)
        self.learner.tell(x, y)  # first: if it refuses the point, extra_data stays consistent
        self.extra_data[self.learner.point_key(x)] = result

    def tell_many(self, xs: Any, results: Any) -> None:
        xs, results = list(xs), list(results)
        if len(xs) != len(results):
            raise ValueError(f"tell_many: got {len(xs)} points but {len(results)} values")
        ys = [self.arg_picker(r) for r in results]
        self.learner.tell_many(xs, ys)
        for x, r in zip(xs, results, strict=True):
            self.extra_data[self.learner.point_key(x)] = r

    def tell_pending(self, x: Any) -> None:
        self.learner.tell_pending(x)

    def loss(self, real: bool = True) -> float:
        return self.learner.loss(real=real)

    def remove_unfinished(self) -> None:
        self.learner.remove_unfinished()

    def new(self) -> DataSaver:
        return DataSaver(self.learner.new(), self.arg_picker)

    def _get_data(self) -> tuple[Any, dict]:
        return self.learner._get_data(), dict(self.extra_data)

    def _set_data(self, data: tuple[Any, dict]) -> None:
        learner_data, extra_data = data
        self.learner._set_data(learner_data)
        self.extra_data.update(extra_data)

    def _settings(self) -> dict[str, Any]:
        return {"learner": self.learner.new(), "arg_picker": self.arg_picker}

    def to_numpy(self):
        return self.learner.to_numpy()

    def to_dataframe(
        self,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        extra_data_name: str = "extra_data",
        **kwargs: Any,
    ):
        """The wrapped learner's DataFrame plus an ``extra_data_name`` column of whole results.

        ``kwargs`` go to the wrapped learner's ``to_dataframe``.
        """
        require_pandas()
        df = self.learner.to_dataframe(
            with_default_function_args=with_default_function_args,
            function_prefix=function_prefix,
            **kwargs,
        )
        keys = _row_keys(df)
        df[extra_data_name] = [self.extra_data.get(k) for k in keys]
        return df

    def load_dataframe(
        self,
        df: Any,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        extra_data_name: str = "extra_data",
        input_names: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> None:
        """Load the wrapped learner's data and ``extra_data`` from ``df``.

        ``input_names`` names the columns that identify a point when ``df.attrs`` lost them
        (e.g. after a round trip through CSV); ``kwargs`` go to the wrapped learner.
        """
        require_pandas()
        if extra_data_name not in df.columns:
            raise ValueError(f"the dataframe has no column extra_data_name={extra_data_name!r}")
        self.learner.load_dataframe(
            df,
            with_default_function_args=with_default_function_args,
            function_prefix=function_prefix,
            **kwargs,
        )
        for key, extra in zip(_row_keys(df, input_names), df[extra_data_name], strict=True):
            if key in self.learner.data:
                self.extra_data[key] = extra

    def plot(self, *args: Any, **kwargs: Any) -> Any:
        """The wrapped learner's plot (of the values ``arg_picker`` picked), with the same
        arguments."""
        return self.learner.plot(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<DataSaver of {self.learner!r}>"


def _row_keys(df: Any, input_names: tuple[str, ...] = ()) -> list:
    inputs = list(input_names) or list(df.attrs.get("inputs", []))
    if not inputs:
        raise ValueError(
            "cannot tell which columns identify a point: the dataframe has no attrs['inputs']; "
            "pass input_names=(...)"
        )
    if len(inputs) == 1:
        return [_plain(v) for v in df[inputs[0]]]
    return [tuple(_plain(v) for v in row) for row in zip(*(df[c] for c in inputs), strict=True)]


def _plain(value: Any) -> Any:
    # NumPy scalars from a DataFrame hash like Python numbers, but ints must stay ints
    return value.item() if hasattr(value, "item") and getattr(value, "ndim", 1) == 0 else value


def _make(learner_type: type, arg_picker: Callable, *args: Any, **kwargs: Any) -> DataSaver:
    return DataSaver(learner_type(*args, **kwargs), arg_picker)


def make_datasaver(
    learner_type: type, arg_picker: Callable[[Any], Any]
) -> Callable[..., DataSaver]:
    """A constructor that builds ``DataSaver(learner_type(*args, **kwargs), arg_picker)``.

    Positional and keyword arguments both reach ``learner_type``.

    Examples
    --------
    >>> from operator import itemgetter
    >>> from adaptive_runner import SequenceLearner
    >>> SequenceSaver = make_datasaver(SequenceLearner, itemgetter("y"))
    >>> saver = SequenceSaver(lambda x: {"y": x}, [1, 2, 3])
    """
    if not isinstance(learner_type, type) or not issubclass(learner_type, BaseLearner):
        raise TypeError(f"learner_type must be a learner class, got learner_type={learner_type!r}")
    if not callable(arg_picker):
        raise TypeError(f"arg_picker must be callable, got arg_picker={arg_picker!r}")
    return functools.partial(_make, learner_type, arg_picker)
