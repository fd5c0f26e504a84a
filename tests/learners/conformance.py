"""The learner conformance suite: behaviour every learner of adaptive_runner must have.

Modelled on scikit-learn's ``check_estimator``. A :class:`LearnerCase` describes one learner
configuration: a factory for a fresh learner and a deterministic way to evaluate a point. Each
``check_*`` function below takes a case and asserts one part of the learner protocol (ask/tell
invariants, pending points, tell-order independence, pickling, save/load, DataFrames, ``new``,
``tell_many``, ``copy_from``, determinism). ``learner_cases.CASES`` is the registry and
``test_conformance.py`` runs every check on every case, so a new learner gets the whole suite by
appending one case.

The checks only use the public protocol plus ``point_key`` (the key a point has in ``data`` and
in ``pending_points``).
"""

from __future__ import annotations

import math
import os
import pickle
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from adaptive_runner.learners.base import BaseLearner

# ---- the case description ------------------------------------------------------------------------


class DeliberatePicklingError(pickle.PicklingError):
    """Raised by :class:`Unpicklable`; a real pickling failure, no mocks involved."""


class Unpicklable:
    """A value that refuses to be pickled, to make a save fail for real."""

    def __init__(self, value: Any = None) -> None:
        self.value = value

    def __reduce__(self) -> Any:
        raise DeliberatePicklingError("this object deliberately refuses to be pickled")


def no_settings(learner: BaseLearner) -> Mapping[str, Any]:
    return {}


@dataclass(frozen=True)
class LearnerCase:
    """One learner configuration the conformance checks run on.

    Parameters
    ----------
    id
        The pytest id, e.g. ``"SequenceLearner-dicts"``.
    make
        Builds a fresh, empty learner (called many times; must give equal learners).
    evaluate
        ``point -> value`` to tell; deterministic. ``None`` means ``learner.function(point)``.
    finite
        The learner runs out of points by itself (its loss then is 0). Finite cases need at least
        12 points; for infinite ones runs stop after ``max_points``.
    max_points
        Cap on the number of points a check evaluates.
    settings
        ``learner -> {name: observable value}`` for every constructor setting; compared after
        pickling and ``new()`` (so a dropped setting is caught). Functions are compared by
        evaluating them, so return what they compute rather than the function itself.
    function_defaults
        The defaulted arguments of the learned function, ``{name: default}``: ``to_dataframe``
        must add a ``function.<name>`` column for each.
    poison
        ``value -> value`` giving a result the learner accepts but that cannot be pickled
        (default: wrap it in :class:`Unpicklable`); used to make ``save`` fail for real.
    skip
        ``{check name: reason}`` for checks that do not apply to this learner.
    told
        ``learner -> {point key: value}`` of every told point (default: ``learner.data``). A
        learner whose ``data`` summarises the points (the AverageLearner1D keeps the mean per
        x there, as python-adaptive does) says here where its told points are.
    count
        ``learner -> number of told points`` (default: ``learner.npoints``).
    """

    id: str
    make: Callable[[], BaseLearner]
    evaluate: Callable[[Any], Any] | None = None
    finite: bool = True
    max_points: int = 40
    settings: Callable[[BaseLearner], Mapping[str, Any]] = no_settings
    function_defaults: Mapping[str, Any] = field(default_factory=dict)
    poison: Callable[[Any], Any] = Unpicklable
    skip: Mapping[str, str] = field(default_factory=dict)
    told: Callable[[BaseLearner], Mapping[Hashable, Any]] = lambda learner: learner.data
    count: Callable[[BaseLearner], int] = lambda learner: learner.npoints

    def value(self, learner: BaseLearner, point: Any) -> Any:
        """The value to tell for ``point``."""
        if self.evaluate is None:
            return learner.function(point)
        return self.evaluate(point)

    def __str__(self) -> str:
        return self.id


# ---- comparing learners --------------------------------------------------------------------------


def canonical(obj: Any) -> Hashable:
    """A hashable, comparable form of ``obj``: dicts, sequences, arrays and NaN compare by value."""
    if isinstance(obj, np.ndarray):
        return ("ndarray", obj.shape, tuple(canonical(v) for v in obj.ravel().tolist()))
    if isinstance(obj, np.generic):
        return canonical(obj.item())
    if isinstance(obj, float) and math.isnan(obj):
        return ("nan",)
    if isinstance(obj, Mapping):
        return ("mapping", frozenset((canonical(k), canonical(v)) for k, v in obj.items()))
    if isinstance(obj, list | tuple):
        return (type(obj).__name__, tuple(canonical(v) for v in obj))
    if isinstance(obj, set | frozenset):
        return ("set", frozenset(canonical(v) for v in obj))
    if callable(obj) and not isinstance(obj, type):
        return ("callable", getattr(obj, "__qualname__", type(obj).__qualname__))
    try:
        hash(obj)
    except TypeError:
        return ("repr", repr(obj))
    return obj


def snapshot(learner: BaseLearner) -> Hashable:
    """The told state of ``learner``: its data (and a DataSaver's whole results)."""
    return canonical(
        {"data": learner.data, "extra_data": getattr(learner, "extra_data", None)},
    )


def keys_of(learner: BaseLearner, points: Sequence) -> list:
    return [learner.point_key(p) for p in points]


def pending_keys(learner: BaseLearner) -> set:
    return set(learner.pending_points)


def peek(learner: BaseLearner, n: int = 3) -> tuple[Hashable, list[float]]:
    """The next ``ask(n)`` without registering pending points."""
    points, improvements = learner.ask(n, tell_pending=False)
    return canonical(list(points)), [float(i) for i in improvements]


def assert_same_loss(a: BaseLearner, b: BaseLearner) -> None:
    for real in (True, False):
        assert a.loss(real=real) == pytest.approx(b.loss(real=real), rel=1e-12, abs=1e-15)


def assert_same_learner(a: BaseLearner, b: BaseLearner) -> None:
    """Same told data, same loss, same next points (and improvements)."""
    assert type(a) is type(b)
    assert snapshot(a) == snapshot(b)
    assert a.npoints == b.npoints
    assert_same_loss(a, b)
    points_a, improvements_a = peek(a)
    points_b, improvements_b = peek(b)
    assert points_a == points_b
    assert improvements_a == pytest.approx(improvements_b, rel=1e-12)


def assert_same_settings(case: LearnerCase, a: BaseLearner, b: BaseLearner) -> None:
    """Same constructor settings, and the learned functions compute the same values."""
    assert canonical(case.settings(a)) == canonical(case.settings(b))
    if case.evaluate is None:
        probe, _ = case.make().ask(3, tell_pending=False)
        for point in probe:
            assert canonical(a.function(point)) == canonical(b.function(point))


# ---- driving learners ----------------------------------------------------------------------------


def run(
    case: LearnerCase, learner: BaseLearner, max_points: int | None = None, batch: int = 1
) -> list[tuple[Any, Any]]:
    """Ask and tell until the learner has no more points or ``max_points`` were told."""
    cap = case.max_points if max_points is None else max_points
    told: list[tuple[Any, Any]] = []
    while len(told) < cap:
        points, _ = learner.ask(min(batch, cap - len(told)))
        if not points:
            break
        for x in points:
            y = case.value(learner, x)
            learner.tell(x, y)
            told.append((x, y))
    return told


def collect_pairs(case: LearnerCase, max_points: int | None = None) -> list[tuple[Any, Any]]:
    """The (point, value) pairs of a run of a fresh learner."""
    return run(case, case.make(), max_points)


def tell_all(learner: BaseLearner, pairs: Sequence[tuple[Any, Any]]) -> None:
    for x, y in pairs:
        learner.tell(x, y)


# ---- the checks ----------------------------------------------------------------------------------


def check_ask_tell_round_trip(case: LearnerCase, batch: int) -> None:
    """Asking and telling grows ``npoints`` and ``data`` one point per tell; finite learners run
    out of points with their loss decreasing to 0."""
    learner = case.make()
    assert case.count(learner) == 0
    assert len(case.told(learner)) == 0
    previous_loss = learner.loss()
    told = 0
    exhausted = False
    while told < case.max_points:
        points, improvements = learner.ask(batch)
        assert len(points) == len(improvements)
        if not points:
            exhausted = True
            break
        # tell each batch back to front: results rarely arrive in the order asked
        for x in reversed(points):
            learner.tell(x, case.value(learner, x))
            told += 1
            key = learner.point_key(x)
            assert case.count(learner) == told
            assert len(case.told(learner)) == told
            assert key in case.told(learner)
            assert key not in pending_keys(learner)
        loss = learner.loss()
        if case.finite:
            assert loss <= previous_loss
        previous_loss = loss
    if case.finite:
        assert exhausted, f"a finite learner still had points after {case.max_points}"
        assert not pending_keys(learner)
        assert learner.loss() == 0
        assert learner.loss(real=False) == 0
        assert learner.ask(3) == ([], [])
    else:
        # the last batch may overshoot max_points by less than one batch
        assert case.max_points <= told < case.max_points + batch


def check_ask_returns_distinct_new_points(case: LearnerCase) -> None:
    """``ask(n)`` gives n distinct points that are neither told nor pending, and registers them."""
    learner = case.make()
    run(case, learner, max_points=2)
    told_keys = set(case.told(learner))
    seen = set(pending_keys(learner))
    for _ in range(2):
        points, improvements = learner.ask(3)
        assert len(points) == 3
        assert len(improvements) == 3
        keys = keys_of(learner, points)
        assert len(set(keys)) == 3, f"ask returned the same point twice: {points}"
        assert not set(keys) & told_keys, "ask returned a point that was already told"
        assert not set(keys) & seen, "ask returned a point that was already pending"
        assert set(keys) <= pending_keys(learner)
        seen |= set(keys)

    if case.finite:
        # fewer than n points only when the learner is exhausted
        rest, rest_improvements = learner.ask(10_000)
        assert len(rest) < 10_000
        assert len(rest) == len(rest_improvements)
        assert not set(keys_of(learner, rest)) & seen
        assert learner.ask(1) == ([], [])


def check_ask_zero_and_negative(case: LearnerCase) -> None:
    """``ask(0)`` returns two empty lists and changes nothing; ``ask(-1)`` names ``n``."""
    learner = case.make()
    run(case, learner, max_points=2)
    before = (snapshot(learner), pending_keys(learner), peek(learner))
    points, improvements = learner.ask(0)
    assert points == []
    assert improvements == []
    assert (snapshot(learner), pending_keys(learner), peek(learner)) == before
    with pytest.raises(ValueError, match=r"\bn\b"):
        learner.ask(-1)
    assert (snapshot(learner), pending_keys(learner), peek(learner)) == before


def check_ask_without_tell_pending(case: LearnerCase) -> None:
    """``ask(n, tell_pending=False)`` registers nothing: asking again returns the same points."""
    learner = case.make()
    run(case, learner, max_points=2)
    pending_before = pending_keys(learner)
    loss_before = learner.loss(real=False)
    first = learner.ask(3, tell_pending=False)
    second = learner.ask(3, tell_pending=False)
    assert canonical(list(first[0])) == canonical(list(second[0]))
    assert list(first[1]) == pytest.approx(list(second[1]))
    assert pending_keys(learner) == pending_before
    assert learner.loss(real=False) == pytest.approx(loss_before)
    # the points are then handed out for real
    registered, _ = learner.ask(3)
    assert canonical(list(registered)) == canonical(list(first[0]))


def check_tell_pending_then_tell(case: LearnerCase) -> None:
    """A point told pending and then told ends up in ``data`` and no longer pending, exactly as
    if it had been told directly."""
    learner = case.make()
    pairs = run(case, learner, max_points=2)
    (x,), _ = learner.ask(1, tell_pending=False)
    key = learner.point_key(x)
    learner.tell_pending(x)
    assert key in pending_keys(learner)
    assert key not in case.told(learner)
    assert key not in keys_of(learner, learner.ask(3, tell_pending=False)[0])
    y = case.value(learner, x)
    learner.tell(x, y)
    assert key not in pending_keys(learner)
    assert key in case.told(learner)
    assert case.count(learner) == len(pairs) + 1

    direct = case.make()
    tell_all(direct, [*pairs, (x, y)])
    assert_same_learner(learner, direct)


def check_tell_order_independence(
    case: LearnerCase, pairs: Sequence[tuple[Any, Any]], order: Sequence[int]
) -> None:
    """Telling the same data in another order gives the same learner."""
    assert sorted(order) == list(range(len(pairs)))
    in_order = case.make()
    tell_all(in_order, pairs)
    shuffled = case.make()
    tell_all(shuffled, [pairs[i] for i in order])
    assert_same_learner(shuffled, in_order)


def check_remove_unfinished(case: LearnerCase) -> None:
    """``remove_unfinished`` drops exactly the pending points; they can be asked again."""
    learner = case.make()
    run(case, learner, max_points=3)
    told_before = snapshot(learner)
    loss_before = learner.loss()
    asked, _ = learner.ask(4)
    assert len(pending_keys(learner)) == 4
    learner.remove_unfinished()
    assert not pending_keys(learner)
    assert snapshot(learner) == told_before
    assert learner.loss() == pytest.approx(loss_before)
    assert learner.loss(real=False) == pytest.approx(learner.loss())
    again, _ = learner.ask(4)
    assert set(keys_of(learner, again)) == set(keys_of(learner, asked))


def check_pickle_round_trip(case: LearnerCase, module: ModuleType) -> None:
    """A pickled learner (``pickle`` or ``cloudpickle``) keeps its data, loss, next points and
    every constructor setting, and runs on exactly like the original."""
    empty = case.make()
    empty_copy = module.loads(module.dumps(empty))
    assert empty_copy.npoints == 0
    assert_same_learner(empty_copy, empty)

    learner = case.make()
    run(case, learner, max_points=5)
    copy = module.loads(module.dumps(learner))
    assert copy is not learner
    assert_same_learner(copy, learner)
    assert_same_settings(case, copy, learner)
    assert canonical(run(case, copy)) == canonical(run(case, learner))
    assert_same_learner(copy, learner)

    # told data survives pickling even while points are pending
    busy = case.make()
    run(case, busy, max_points=3)
    busy.ask(2)
    busy_copy = module.loads(module.dumps(busy))
    assert snapshot(busy_copy) == snapshot(busy)


def check_save_load_round_trip(case: LearnerCase, tmp_path: os.PathLike, compress: bool) -> None:
    """``save`` then ``load`` into a fresh learner gives the same learner."""
    fname = os.path.join(tmp_path, "learner.pickle")
    learner = case.make()
    run(case, learner, max_points=5)
    learner.save(fname, compress=compress)
    loaded = case.make()
    loaded.load(fname, compress=compress)
    assert_same_learner(loaded, learner)


def check_save_is_atomic(case: LearnerCase, tmp_path: os.PathLike) -> None:
    """Saving over a file leaves no temporary files; a failed save leaves the old file intact."""
    fname = os.path.join(tmp_path, "learner.pickle")
    learner = case.make()
    run(case, learner, max_points=3)
    learner.save(fname)
    run(case, learner, max_points=2)
    learner.save(fname)
    assert os.listdir(tmp_path) == ["learner.pickle"]
    good = case.make()
    good.load(fname)
    assert_same_learner(good, learner)

    (x,), _ = learner.ask(1)
    learner.tell(x, case.poison(case.value(learner, x)))
    with pytest.raises(pickle.PicklingError):
        learner.save(fname)
    assert os.listdir(tmp_path) == ["learner.pickle"]
    reloaded = case.make()
    reloaded.load(fname)
    assert_same_learner(reloaded, good)


def check_dataframe_round_trip(case: LearnerCase) -> None:
    """A fresh learner loading ``to_dataframe()`` has the same data (and loss, next points)."""
    pytest.importorskip("pandas")
    empty = case.make()
    empty_loaded = case.make()
    empty_loaded.load_dataframe(empty.to_dataframe())
    assert empty_loaded.npoints == 0

    learner = case.make()
    run(case, learner, max_points=6)
    df = learner.to_dataframe()
    loaded = case.make()
    loaded.load_dataframe(df)
    assert_same_learner(loaded, learner)
    assert_same_settings(case, loaded, learner)

    plain = case.make()
    plain.load_dataframe(learner.to_dataframe(with_default_function_args=False))
    assert snapshot(plain) == snapshot(learner)


def check_dataframe_function_defaults(case: LearnerCase) -> None:
    """``with_default_function_args`` adds a ``function.<name>`` column per defaulted argument."""
    pytest.importorskip("pandas")
    learner = case.make()
    run(case, learner, max_points=4)

    df = learner.to_dataframe()
    function_columns = {c for c in df.columns if str(c).startswith("function.")}
    assert function_columns == {f"function.{name}" for name in case.function_defaults}
    for name, default in case.function_defaults.items():
        assert [canonical(v) for v in df[f"function.{name}"]] == [canonical(default)] * len(df)

    custom = learner.to_dataframe(function_prefix="f_")
    assert {f"f_{name}" for name in case.function_defaults} <= set(custom.columns)
    assert not any(str(c).startswith("function.") for c in custom.columns)

    without = learner.to_dataframe(with_default_function_args=False)
    assert not any(str(c).startswith("function.") for c in without.columns)
    assert len(without) == len(df)


def check_new_is_empty_and_equivalent(case: LearnerCase) -> None:
    """``new()`` is empty, keeps every setting, and runs exactly like a fresh learner."""
    learner = case.make()
    run(case, learner, max_points=4)
    learner.ask(2)
    told, pending = snapshot(learner), pending_keys(learner)

    fresh = learner.new()
    assert type(fresh) is type(learner)
    assert fresh.npoints == 0
    assert len(fresh.data) == 0
    assert not pending_keys(fresh)
    assert not getattr(fresh, "extra_data", None)
    assert_same_settings(case, fresh, learner)
    assert_same_learner(fresh, case.make())

    reference = case.make()
    assert canonical(run(case, fresh)) == canonical(run(case, reference))
    assert snapshot(fresh) == snapshot(reference)
    assert_same_loss(fresh, reference)
    # running the new learner did not touch the original
    assert snapshot(learner) == told
    assert pending_keys(learner) == pending


def check_tell_many_equals_tell_loop(case: LearnerCase) -> None:
    """``tell_many`` leaves the learner exactly as a loop of ``tell`` does, pending ones too."""
    pairs = collect_pairs(case, max_points=10)
    xs = [x for x, _ in pairs]
    ys = [y for _, y in pairs]

    bulk = case.make()
    bulk.tell_many(xs, ys)
    loop = case.make()
    tell_all(loop, pairs)
    assert_same_learner(bulk, loop)

    # points that were pending are no longer pending after tell_many
    busy = case.make()
    asked, _ = busy.ask(4)
    busy.tell_many(asked, [case.value(busy, x) for x in asked])
    assert not pending_keys(busy)
    assert set(keys_of(busy, asked)) <= set(case.told(busy))


def check_copy_from(case: LearnerCase) -> None:
    """``copy_from`` takes over another learner's data; the two stay independent afterwards."""
    source = case.make()
    run(case, source, max_points=5)
    source_state = snapshot(source)
    target = case.make()
    target.copy_from(source)
    assert_same_learner(target, source)

    run(case, target, max_points=2)
    assert case.count(target) == case.count(source) + 2
    assert snapshot(source) == source_state


def check_deterministic(case: LearnerCase) -> None:
    """Two learners given the same calls give identical asks all along."""
    a, b = case.make(), case.make()
    told = 0
    while told < case.max_points:
        points_a, improvements_a = a.ask(2)
        points_b, improvements_b = b.ask(2)
        assert canonical(list(points_a)) == canonical(list(points_b))
        assert list(improvements_a) == list(improvements_b)
        if not points_a:
            break
        for x in points_a:
            y = case.value(a, x)
            a.tell(x, y)
            b.tell(x, y)
            told += 1
        assert a.loss() == b.loss()
    assert snapshot(a) == snapshot(b)
