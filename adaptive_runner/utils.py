"""Utilities of the public API: executors, saving, parameter grids, caching and dask helpers."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from adaptive_runner.persistence import load, save
from adaptive_runner.runner.executors import SequentialExecutor

__all__ = [
    "SequentialExecutor",
    "cache_latest",
    "daskify",
    "load",
    "named_product",
    "restore",
    "save",
]


def named_product(**items: Any) -> list[dict[str, Any]]:
    """Every combination of the given values, as dicts.

    Examples
    --------
    >>> named_product(a=[1, 2], b=["x"])
    [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'x'}]
    """
    names = list(items)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*items.values())]


def cache_latest(method: Callable) -> Callable:
    """Cache a method's latest return value in ``self._cache[method.__name__]``.

    Useful for values a display reads between updates (e.g. a loss that is costly to compute).
    """

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not hasattr(self, "_cache"):
            self._cache = {}
        self._cache[method.__name__] = value = method(self, *args, **kwargs)
        return value

    return wrapper


@contextlib.contextmanager
def restore(*learners: Any) -> Iterator[None]:
    """Give the learners their current data back when the block ends.

    Examples
    --------
    >>> with restore(learner):            # doctest: +SKIP
    ...     learner.tell_many(xs, ys)      # temporary
    """
    saved = [(learner, learner._get_data()) for learner in learners]
    try:
        yield
    finally:
        for learner, data in saved:
            fresh = learner.new()
            fresh._set_data(data)
            learner.__dict__.update(fresh.__dict__)


def daskify(client: Any, cache: bool = False) -> Callable[[Callable], Callable]:
    """Turn a function into an ``async def`` one evaluated on a ``dask.distributed`` client.

    With ``cache=True`` results are remembered per argument, so repeated points are free.
    """

    def decorator(function: Callable) -> Callable:
        results: dict = {}
        # a synchronous client's futures cannot be awaited on another event loop (awaiting one
        # blocks, then fails); its executor's concurrent futures can, through asyncio.wrap_future
        executor = None if getattr(client, "asynchronous", False) else client.get_executor()

        @functools.wraps(function)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = (args, tuple(sorted(kwargs.items())))
            if cache and key in results:
                return results[key]
            if executor is None:
                value = await client.submit(function, *args, **kwargs)
            else:
                value = await asyncio.wrap_future(executor.submit(function, *args, **kwargs))
            if cache:
                results[key] = value
            return value

        return wrapper

    return decorator
