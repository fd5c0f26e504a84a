"""BalancingLearner: run many learners as one, giving each point to the child that needs it most.

Choosing a child. Each child has a cached *proposal*, its ``ask(1, tell_pending=False)``, and
a priority key derived from it (per strategy, below). The keys sit in a binary heap with lazy
deletion: every change of a child (a tell, a pending point, an ask) bumps that child's version
and marks it stale; before the next choice only the stale children are asked again and pushed
with their new version, and heap entries whose version is old are dropped when they reach the
top. So a point costs O(log L) heap work plus one ask of the one child that changed, whatever
the number L of children; the heap is compacted when old entries outnumber the live ones.

Keys (smallest first; the last two entries break ties: fewer points, told plus pending, first,
then the lower index):

- ``"loss_improvements"``: ``(-improvement of the proposal, points, index)``. Infinite
  improvements (children still sampling their boundary) go first, so the first points go round
  all children; a child whose improvement is -inf (or NaN) goes last, never blocks the others,
  and still gets points when nothing better is left.
- ``"loss"``: ``(-loss(real=False), points, index)``.
- ``"npoints"``: ``(points, index)``.
- ``"cycle"``: round robin over the children that have points left, from where the last ask
  stopped (a sorted set of those children, O(log L) to find the next one).

A child with nothing to propose (exhausted, or everything pending) has no entry until it
changes. ``ask(n)`` picks greedily: a child picked k times in one call competes with its
(k + 1)-th point, read from one ``ask(m, tell_pending=False)`` of that child (m grows by
doubling); each picked child is then asked once for its k points. (With ``"loss"`` the
(k + 1)-th point keeps the child's loss as of the call, so a batch goes to the child of largest
loss, fewer points breaking ties, as in python-adaptive.) ``ask(n, tell_pending=False)`` runs
the same choice and only skips registering, so it returns exactly what ``ask(n)`` would.

The losses of the children are cached the same way (one heap for real losses, one counting
pending points), so ``loss()`` is O(1) amortized and a loss goal stays cheap with many children.
The caches see only what goes through the BalancingLearner: drive the children through it.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
import numbers
import os
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

from sortedcontainers import SortedSet

from adaptive_runner import persistence
from adaptive_runner.learners.base import (
    BaseLearner,
    check_ask_n,
    require_holoviews,
    require_pandas,
    saved_envelope,
    unwrap_saved,
)

__all__ = ["BalancingLearner"]

STRATEGIES = ("loss_improvements", "loss", "npoints", "cycle")

#: the key dimension of ``plot`` when the learners have no ``cdims``
DEFAULT_PLOT_DIMENSION = "i_learner"


class _Dispatch:
    """Call the function of child ``learner_index`` for a point ``(learner_index, point)``.

    A class rather than a closure so that it pickles with the standard library when the
    children's functions do (process pools need that). ``__wrapped__`` lets the runner see
    that the children's functions are coroutine functions.
    """

    def __init__(self, functions: list[Callable]) -> None:
        self.functions = functions
        self.__wrapped__ = functions[0]

    def __call__(self, point: tuple[int, Any]) -> Any:
        index, x = point
        return self.functions[index](x)

    def __repr__(self) -> str:
        return f"<the functions of {len(self.functions)} learners, called as f((index, point))>"


def _improvement_priority(improvement: Any) -> float:
    value = float(improvement)
    return -math.inf if math.isnan(value) else value


def _loss_value(loss: Any) -> float:
    # an undefined loss counts as not converged
    value = float(loss)
    return math.inf if math.isnan(value) else value


def _normalize_cdims(cdims: Any, nlearners: int) -> list[dict[str, Any]] | None:
    """``cdims`` as one dict per learner (see :class:`BalancingLearner`), validated."""
    if cdims is None:
        return None
    if (
        isinstance(cdims, tuple)
        and len(cdims) == 2
        and not isinstance(cdims[0], Mapping)
        and not isinstance(cdims[0], str)
    ):
        keys, values = list(cdims[0]), cdims[1]
        try:
            rows = [dict(zip(keys, combination, strict=True)) for combination in values]
        except (TypeError, ValueError):
            raise ValueError(
                f"cdims as (keys, values) needs one value per key in each combination, "
                f"got keys={keys!r}"
            ) from None
    else:
        try:
            rows = [dict(row) for row in cdims]
        except (TypeError, ValueError):
            raise ValueError(
                "cdims must be a sequence of dicts (one per learner) or a tuple "
                f"(keys, iterable of values), got cdims={cdims!r}"
            ) from None
    if len(rows) != nlearners:
        raise ValueError(
            f"cdims has {len(rows)} entries but there are {nlearners} learners: give one "
            "combination of values per learner"
        )
    if rows and any(row.keys() != rows[0].keys() for row in rows):
        raise ValueError(f"every entry of cdims must have the keys {list(rows[0])}")
    return rows


class BalancingLearner(BaseLearner):
    """Learn several functions at once, giving each point to the learner that needs it most.

    Points are ``(learner_index, point)`` tuples; ``function((i, x))`` calls
    ``learners[i].function(x)``. ``data`` maps ``(i, key)`` to the value, where ``key`` is the
    child's own key of the point (its key in ``learners[i].data``). The loss is the largest
    loss of the children. See the module docstring for how a child is chosen.

    Parameters
    ----------
    learners
        The child learners, at least one, all of the same type (their losses must be
        comparable for the loss-based strategies).
    cdims
        The parameters that label the learners, used by :meth:`plot`: one dict per learner,
        e.g. ``[{"A": True, "B": 0}, {"A": True, "B": 1}]``, or ``(keys, values)``, e.g.
        ``(["A", "B"], itertools.product([True, False], [0, 1]))``.
    strategy
        ``"loss_improvements"`` (the child whose next point improves its loss most),
        ``"loss"`` (the child with the largest loss), ``"npoints"`` (the child with the fewest
        points) or ``"cycle"`` (the children in turn). Can be changed while running.

    Examples
    --------
    >>> from adaptive_runner import Learner1D
    >>> learners = [Learner1D(lambda x, a=a: a * x**2, bounds=(-1, 1)) for a in (1, 2)]
    >>> learner = BalancingLearner(learners)
    >>> points, _ = learner.ask(2)
    >>> points
    [(0, -1.0), (1, -1.0)]
    """

    def __init__(
        self,
        learners: Iterable[BaseLearner],
        *,
        cdims: Any = None,
        strategy: str = "loss_improvements",
    ) -> None:
        try:
            learners = list(learners)
        except TypeError:
            raise TypeError(
                f"learners must be a list of learners, got learners={learners!r}"
            ) from None
        if not learners:
            raise ValueError("learners must hold at least one learner, got an empty list")
        for i, learner in enumerate(learners):
            if not isinstance(learner, BaseLearner):
                raise TypeError(f"learners[{i}] is not a learner: {learner!r}")
        types = list(dict.fromkeys(type(learner) for learner in learners))
        if len(types) > 1:
            names = [t.__qualname__ for t in types]
            raise TypeError(
                f"all learners must be of the same type (their losses are compared), got {names}"
            )
        seen: dict[int, int] = {}
        for i, learner in enumerate(learners):
            if id(learner) in seen:
                raise ValueError(
                    f"learners[{i}] is the same object as learners[{seen[id(learner)]}]; "
                    "give each position its own learner"
                )
            seen[id(learner)] = i
        self.learners: list[BaseLearner] = learners
        self.cdims = _normalize_cdims(cdims, len(learners))
        self.function = _Dispatch([learner.function for learner in learners])

        size = len(learners)
        self._versions = [0] * size  # bumped whenever a child changes
        self._stale: set[int] = set(range(size))  # children whose proposal is out of date
        self._proposals: list[tuple[Any, Any] | None] = [None] * size
        self._counts = [0] * size  # told + pending points, as of the last proposal
        self._available: SortedSet = SortedSet()  # children that have a proposal
        self._heap: list[tuple] = []  # (*key, index, version), see the module docstring
        self._cycle_next = 0
        self._loss_stale: set[int] = set(range(size))
        self._loss_heaps: dict[bool, list[tuple[float, int, int]]] = {True: [], False: []}
        self._npoints_stale: set[int] = set(range(size))
        self._npoints = [0] * size
        self._npoints_total = 0
        self._strategy = ""
        self.strategy = strategy

    # ---- construction ----------------------------------------------------------------------------
    @classmethod
    def from_product(
        cls,
        f: Callable,
        learner_type: Callable[..., BaseLearner],
        learner_kwargs: Mapping[str, Any],
        combos: Mapping[str, Sequence[Any]],
    ) -> BalancingLearner:
        """One learner per combination of the values in ``combos``, balanced.

        Each learner is ``learner_type(functools.partial(f, **combination), **learner_kwargs)``;
        the order is that of ``itertools.product`` over ``combos`` (the first key varies
        slowest, like ``adaptive_runner.utils.named_product``) and ``cdims`` is set to the
        combinations, so :meth:`plot` gets one slider per key.

        Examples
        --------
        >>> from adaptive_runner import Learner1D
        >>> def f(x, a, b):
        ...     return a * x + b
        >>> learner = BalancingLearner.from_product(
        ...     f, Learner1D, dict(bounds=(0, 1)), {"a": [1, 2], "b": [0, 5]}
        ... )
        >>> len(learner.learners)
        4
        """
        if not callable(f):
            raise TypeError(f"f must be callable, got f={f!r}")
        if not isinstance(combos, Mapping):
            raise TypeError(f"combos must map argument names to values, got combos={combos!r}")
        if not isinstance(learner_kwargs, Mapping):
            raise TypeError(f"learner_kwargs must be a dict, got learner_kwargs={learner_kwargs!r}")
        names = list(combos)
        rows = [
            dict(zip(names, values, strict=True))
            for values in itertools.product(*(combos[name] for name in names))
        ]
        learners = [learner_type(functools.partial(f, **row), **learner_kwargs) for row in rows]
        return cls(learners, cdims=rows)

    # ---- strategy ----------------------------------------------------------------------------
    @property
    def strategy(self) -> str:
        """How the next child is chosen: one of ``"loss_improvements"``, ``"loss"``,
        ``"npoints"``, ``"cycle"``; may be set at any time."""
        return self._strategy

    @strategy.setter
    def strategy(self, strategy: str) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(
                f"strategy must be one of {', '.join(map(repr, STRATEGIES))}, "
                f"got strategy={strategy!r}"
            )
        self._strategy = strategy
        self._heap = []
        if strategy != "cycle":
            for i in self._available:
                if i not in self._stale:
                    self._heap.append((*self._key(i), self._versions[i]))
            heapq.heapify(self._heap)

    def _key(self, i: int) -> tuple:
        """Child ``i``'s priority for its proposal (smaller goes first)."""
        if self._strategy == "loss_improvements":
            return (-_improvement_priority(self._proposals[i][1]), self._counts[i], i)
        if self._strategy == "loss":
            loss = _loss_value(self.learners[i].loss(real=False))
            return (-loss, self._counts[i], i)
        return (self._counts[i], i)

    def _next_key(self, i: int, k: int, remaining: int, blocks: dict) -> tuple | None:
        """Child ``i``'s priority for its (k + 1)-th point of this ask, None if it has none."""
        block = self._block(i, k, remaining, blocks)
        if block is None:
            return None
        count = self._counts[i] + k
        if self._strategy == "loss_improvements":
            return (-_improvement_priority(block[1][k]), count, i)
        if self._strategy == "loss":
            return (-_loss_value(self.learners[i].loss(real=False)), count, i)
        return (count, i)

    def _block(self, i: int, k: int, remaining: int, blocks: dict) -> tuple | None:
        """The next points of child ``i`` asked at once (without registering them), as
        ``(points, improvements, number asked)``, if it has more than ``k``; else None."""
        block = blocks.get(i)
        if block is None or (len(block[0]) == block[2] and len(block[0]) <= k):
            asked = max(k + 1, min(2 * (k + 1), k + remaining))
            points, improvements = self.learners[i].ask(asked, tell_pending=False)
            block = blocks[i] = (list(points), list(improvements), asked)
        return block if k < len(block[0]) else None

    # ---- bookkeeping -----------------------------------------------------------------------------
    def _changed(self, i: int) -> None:
        self._versions[i] += 1
        self._stale.add(i)
        self._loss_stale.add(i)
        self._npoints_stale.add(i)

    def _changed_all(self) -> None:
        for i in range(len(self.learners)):
            self._changed(i)

    def _refresh(self) -> None:
        """Ask the children that changed for their next point and queue them again."""
        stale = self._stale
        if not stale:
            return
        heap, versions, learners = self._heap, self._versions, self.learners
        queue = self._strategy != "cycle"
        for i in stale:
            learner = learners[i]
            points, improvements = learner.ask(1, tell_pending=False)
            if not points:
                self._proposals[i] = None
                self._available.discard(i)
                continue
            self._proposals[i] = (points[0], improvements[0])
            self._counts[i] = learner.npoints + len(learner.pending_points)
            self._available.add(i)
            if queue:
                heapq.heappush(heap, (*self._key(i), versions[i]))
        stale.clear()
        if len(heap) > 2 * len(learners) + 64:
            heap[:] = [entry for entry in heap if entry[-1] == versions[entry[-2]]]
            heapq.heapify(heap)

    # ---- choosing ------------------------------------------------------------------------------
    def _select(self, n: int) -> tuple[list[int], dict[int, int], dict, list[tuple]]:
        """Which child gives each of ``n`` points: the child per point in order, the number
        per child, the blocks read, and the valid heap entries popped."""
        heap, versions = self._heap, self._versions
        picks: list[int] = []
        taken: dict[int, int] = {}
        blocks: dict[int, tuple] = {}
        popped: list[tuple] = []
        again: list[tuple] = []  # keys of children already picked in this call
        while len(picks) < n:
            while heap and heap[0][-1] != versions[heap[0][-2]]:
                heapq.heappop(heap)
            if heap and (not again or heap[0][:-1] < again[0]):
                entry = heapq.heappop(heap)
                popped.append(entry)
                i = entry[-2]
            elif again:
                i = heapq.heappop(again)[-1]
            else:
                break
            picks.append(i)
            k = taken[i] = taken.get(i, 0) + 1
            if len(picks) < n:
                key = self._next_key(i, k, n - len(picks), blocks)
                if key is not None:
                    heapq.heappush(again, key)
        return picks, taken, blocks, popped

    def _select_cycle(self, n: int) -> tuple[list[int], dict[int, int], dict, int]:
        """Like :meth:`_select` for the ``"cycle"`` strategy; also returns where the next
        cycle starts."""
        available = self._available
        picks: list[int] = []
        taken: dict[int, int] = {}
        blocks: dict[int, tuple] = {}
        spent: set[int] = set()  # children with no more points in this call
        position = self._cycle_next
        while len(picks) < n and len(spent) < len(available):
            after = itertools.chain(
                available.irange(minimum=position), available.irange(maximum=position - 1)
            )
            i = next(j for j in after if j not in spent)
            k = taken.get(i, 0)
            if k and self._block(i, k, n - len(picks), blocks) is None:
                spent.add(i)
                continue
            picks.append(i)
            taken[i] = k + 1
            position = i + 1
        return picks, taken, blocks, position % len(self.learners)

    # ---- protocol --------------------------------------------------------------------------------
    def _split(self, point: Any) -> tuple[int, Any]:
        try:
            index, x = point
        except (TypeError, ValueError):
            raise ValueError(
                f"BalancingLearner points are (learner_index, point) tuples, got {point!r}"
            ) from None
        valid = type(index) is int or (
            isinstance(index, numbers.Integral) and not isinstance(index, bool)
        )
        if not valid or not 0 <= index < len(self.learners):
            raise ValueError(
                f"learner_index {index!r} of point {point!r} is not in "
                f"range(0, {len(self.learners)})"
            )
        return int(index), x

    def point_key(self, point: Any) -> Hashable:
        index, x = self._split(point)
        return index, self.learners[index].point_key(x)

    def ask(self, n: int, tell_pending: bool = True) -> tuple[list, list]:
        """The ``n`` best points ``(learner_index, point)`` over all children and the loss
        improvements the children expect from them; one child may give several. Fewer than
        ``n`` only when every child has run out of points."""
        n = check_ask_n(n)
        if n == 0:
            return [], []
        self._refresh()
        if self._strategy == "cycle":
            picks, taken, blocks, position = self._select_cycle(n)
            popped: list[tuple] = []
        else:
            picks, taken, blocks, popped = self._select(n)
        chosen: dict[int, Iterable] = {}
        for i, k in taken.items():
            if tell_pending:
                self._changed(i)
                points, improvements = self.learners[i].ask(k, tell_pending=True)
            elif k == 1:
                points, improvements = [self._proposals[i][0]], [self._proposals[i][1]]
            elif blocks[i][2] == k:
                points, improvements = blocks[i][0], blocks[i][1]
            else:
                points, improvements = self.learners[i].ask(k, tell_pending=False)
            chosen[i] = iter(zip(points, improvements, strict=True))
        points_out, improvements_out = [], []
        for i in picks:
            item = next(chosen[i], None)
            if item is not None:
                points_out.append((i, item[0]))
                improvements_out.append(item[1])
        if tell_pending:
            if self._strategy == "cycle":
                self._cycle_next = position
        else:
            for entry in popped:  # nothing changed: the children keep their places
                heapq.heappush(self._heap, entry)
        return points_out, improvements_out

    def tell(self, x: tuple[int, Any], y: Any) -> None:
        index, point = self._split(x)
        self._changed(index)  # first: a tell that fails half-way still invalidates the caches
        self.learners[index].tell(point, y)

    def tell_many(self, xs: Iterable, ys: Iterable) -> None:
        """Tell many results at once: one ``tell_many`` per child."""
        xs, ys = list(xs), list(ys)
        if len(xs) != len(ys):
            raise ValueError(f"tell_many: got {len(xs)} points but {len(ys)} values")
        per_child: dict[int, tuple[list, list]] = {}
        for x, y in zip(xs, ys, strict=True):
            index, point = self._split(x)
            child_xs, child_ys = per_child.setdefault(index, ([], []))
            child_xs.append(point)
            child_ys.append(y)
        for index, (child_xs, child_ys) in per_child.items():
            self._changed(index)
            self.learners[index].tell_many(child_xs, child_ys)

    def tell_pending(self, x: tuple[int, Any]) -> None:
        index, point = self._split(x)
        self._changed(index)
        self.learners[index].tell_pending(point)

    def remove_unfinished(self) -> None:
        """Forget the pending points of every child."""
        for i, learner in enumerate(self.learners):
            had_pending = len(learner.pending_points) > 0
            learner.remove_unfinished()
            if had_pending:
                self._changed(i)

    def loss(self, real: bool = True) -> float:
        """The largest loss of the children (``real=False``: counting pending points)."""
        if self._loss_stale:
            versions, heaps = self._versions, self._loss_heaps
            for i in self._loss_stale:
                learner = self.learners[i]
                for kind in (True, False):
                    entry = (-_loss_value(learner.loss(real=kind)), i, versions[i])
                    heapq.heappush(heaps[kind], entry)
            self._loss_stale.clear()
            for heap in heaps.values():
                if len(heap) > 2 * len(self.learners) + 64:
                    heap[:] = [entry for entry in heap if entry[2] == versions[entry[1]]]
                    heapq.heapify(heap)
        heap = self._loss_heaps[bool(real)]
        while heap[0][2] != self._versions[heap[0][1]]:
            heapq.heappop(heap)
        return -heap[0][0]

    # ---- views -----------------------------------------------------------------------------------
    @property
    def npoints(self) -> int:
        """The number of points told, over all children."""
        if self._npoints_stale:
            for i in self._npoints_stale:
                count = self.learners[i].npoints
                self._npoints_total += count - self._npoints[i]
                self._npoints[i] = count
            self._npoints_stale.clear()
        return self._npoints_total

    @property
    def nsamples(self) -> int:
        """The number of samples over all children (children that count samples, such as the
        AverageLearner1D, only)."""
        return sum(learner.nsamples for learner in self.learners)

    @property
    def data(self) -> dict[tuple[int, Hashable], Any]:
        """``{(learner_index, key): value}``: every child's ``data``, keyed by child index and
        the child's key (a new dict on each access)."""
        return {
            (i, key): value
            for i, learner in enumerate(self.learners)
            for key, value in learner.data.items()
        }

    @property
    def pending_points(self) -> set[tuple[int, Hashable]]:
        """``{(learner_index, key)}`` of the children's pending points."""
        return {
            (i, key) for i, learner in enumerate(self.learners) for key in learner.pending_points
        }

    # ---- data ------------------------------------------------------------------------------------
    def _get_data(self) -> list[Any]:
        return [learner._get_data() for learner in self.learners]

    def _set_data(self, data: list[Any]) -> None:
        data = list(data)
        if len(data) != len(self.learners):
            raise ValueError(
                f"the data holds {len(data)} learners' data but there are {len(self.learners)} "
                "learners"
            )
        self._changed_all()
        for learner, child_data in zip(self.learners, data, strict=True):
            learner._set_data(child_data)

    def _settings(self) -> dict[str, Any]:
        return {
            "learners": [learner.new() for learner in self.learners],
            "cdims": self.cdims,
            "strategy": self.strategy,
        }

    def _rebind_functions(self) -> None:
        # in place: a runner that already holds self.function sees the children's new functions
        self.function.functions[:] = [learner.function for learner in self.learners]
        self.function.__wrapped__ = self.function.functions[0]

    def _filenames(self, fname: Any) -> list[Any]:
        if callable(fname):
            return [fname(learner) for learner in self.learners]
        try:
            names = list(fname)
        except TypeError:
            raise TypeError(
                "fname must be a callable learner -> filename, a list of filenames (one per "
                f"learner) or one filename, got fname={fname!r}"
            ) from None
        if len(names) != len(self.learners):
            raise ValueError(
                f"fname lists {len(names)} filenames but there are {len(self.learners)} learners"
            )
        return names

    def save(self, fname: Any, compress: bool = True) -> None:
        """Save every child's data, each to its own file.

        Parameters
        ----------
        fname
            A callable ``learner -> filename`` or a list of filenames, one per learner.
            **+** A single filename (``str`` or path) saves all children in that one file.
        compress
            Compress with gzip (load with the same setting).

        Examples
        --------
        >>> def fname(child):  # children made by from_product: functools.partial functions
        ...     return f"data/a={child.function.keywords['a']}.pickle"
        >>> learner.save(fname)  # doctest: +SKIP
        >>> learner.load(fname)  # doctest: +SKIP
        """
        if isinstance(fname, str | os.PathLike):
            persistence.save(fname, saved_envelope(self), compress=compress)
            return
        for learner, name in zip(self.learners, self._filenames(fname), strict=True):
            learner.save(name, compress=compress)

    def load(self, fname: Any, compress: bool = True) -> None:
        """Load every child's data from the files written by :meth:`save` (same ``fname``)."""
        if isinstance(fname, str | os.PathLike):
            self._set_data(unwrap_saved(persistence.load(fname, compress=compress), self, fname))
            return
        for i, name in enumerate(self._filenames(fname)):
            self._changed(i)
            self.learners[i].load(name, compress=compress)

    def to_dataframe(self, index_name: str = "learner_index", **kwargs: Any):
        """The children's DataFrames, concatenated, with a column ``index_name`` of the child
        index first.

        ``kwargs`` go to every child's ``to_dataframe`` (e.g. ``with_default_function_args``).
        """
        pd = require_pandas()
        frames = []
        for i, learner in enumerate(self.learners):
            df = learner.to_dataframe(**kwargs)
            if index_name in df.columns:
                raise ValueError(
                    f"the children's DataFrames already have a column index_name={index_name!r}; "
                    "pass another index_name"
                )
            df.insert(0, index_name, pd.Series([i] * len(df), index=df.index, dtype="int64"))
            frames.append(df)
        attrs = dict(frames[0].attrs)
        nonempty = [df for df in frames if len(df)] or frames[:1]
        result = pd.concat(nonempty, ignore_index=True)
        result.attrs = attrs
        if "inputs" in attrs:
            result.attrs["inputs"] = [index_name, *attrs["inputs"]]
        return result

    def load_dataframe(self, df: Any, index_name: str = "learner_index", **kwargs: Any) -> None:
        """Tell each child its rows of ``df`` (made by :meth:`to_dataframe`).

        ``kwargs`` go to every child's ``load_dataframe``.
        """
        require_pandas()
        if index_name not in df.columns:
            raise ValueError(
                f"the dataframe has no column index_name={index_name!r}: {list(df.columns)}"
            )
        attrs = dict(df.attrs)
        if "inputs" in attrs:
            attrs["inputs"] = [c for c in attrs["inputs"] if c != index_name]
        for raw_index, rows in df.groupby(index_name, sort=True):
            index = int(raw_index[0] if isinstance(raw_index, tuple) else raw_index)
            if not 0 <= index < len(self.learners):
                raise ValueError(f"{index_name}={index} is not in range(0, {len(self.learners)})")
            child_df = rows.drop(columns=[index_name]).reset_index(drop=True)
            child_df.attrs = dict(attrs)
            self._changed(index)
            self.learners[index].load_dataframe(child_df, **kwargs)
        self._rebind_functions()

    def plot(
        self,
        cdims: Any = None,
        plotter: Callable[[BaseLearner], Any] | None = None,
        dynamic: bool = True,
    ):
        """The children's plots on sliders, one slider per ``cdims`` key (needs holoviews).

        Parameters
        ----------
        cdims
            Labels of the learners, in any form the constructor takes: one dict per learner
            (``[{"a": 1, "b": 0}, ...]``) or ``(names, values)`` with one tuple of values per
            learner (``(["a", "b"], [(1, 0), ...])``). Default: the constructor's ``cdims``,
            else one slider over the learner index (``i_learner``).
        plotter
            ``learner -> holoviews object``; default ``learner.plot()``.
        dynamic
            A ``holoviews.DynamicMap`` (drawn as the sliders move) if True, else a
            ``holoviews.HoloMap`` with every plot made now (exportable to HTML), keyed by the
            tuples of ``cdims`` values (the values themselves for a single name).

        Examples
        --------
        >>> learner.plot(cdims=(["a"], [(0.1,), (0.2,)]), dynamic=False)  # doctest: +SKIP
        """
        hv = require_holoviews("BalancingLearner.plot")
        rows = _normalize_cdims(cdims, len(self.learners)) if cdims is not None else self.cdims
        if rows is None:
            rows = [{DEFAULT_PLOT_DIMENSION: i} for i in range(len(self.learners))]
        names = list(rows[0])
        by_values = {
            tuple(row[name] for name in names): learner
            for row, learner in zip(rows, self.learners, strict=True)
        }
        plotter = plotter or (lambda learner: learner.plot())
        if not dynamic:
            return hv.HoloMap(
                {values: plotter(learner) for values, learner in by_values.items()}, kdims=names
            )

        def plot_one(*values: Any) -> Any:
            learner = by_values.get(values)
            if learner is not None:
                return plotter(learner)
            # The sliders offer every combination of the values, also ones no learner has. A
            # DynamicMap's frames must all be of one type, so draw an empty learner of the kind.
            try:
                return plotter(self.learners[0].new())
            except Exception:
                return hv.Overlay()

        dimensions = [
            hv.Dimension(name, values=list(dict.fromkeys(row[name] for row in rows)))
            for name in names
        ]
        return hv.DynamicMap(plot_one, kdims=dimensions)

    def __repr__(self) -> str:
        kind = type(self.learners[0]).__name__
        return (
            f"<BalancingLearner of {len(self.learners)} {kind}s, strategy={self.strategy!r}, "
            f"npoints={self.npoints}>"
        )
