"""BalancingLearner specifics (the shared protocol is covered by the conformance suite)."""

from __future__ import annotations

import functools
import math
import pickle
from collections.abc import Hashable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adaptive_runner import AverageLearner, Learner1D, SequenceLearner, SequentialExecutor
from adaptive_runner.learners.balancing_learner import BalancingLearner
from adaptive_runner.learners.base import BaseLearner, check_ask_n
from adaptive_runner.runner.blocking import BlockingRunner

# ---- a learner whose improvements, loss and supply of points the test controls -------------------


class Scripted(BaseLearner):
    """Proposes the integers 0, 1, 2, ... (at most ``capacity``), each with loss improvement
    ``improvement``; its loss is ``loss_value``. Counts the asks it answers."""

    def __init__(
        self,
        improvement: float = 1.0,
        loss_value: float = 1.0,
        capacity: float = math.inf,
        function: Any = None,
    ) -> None:
        self.improvement = improvement
        self.loss_value = loss_value
        self.capacity = capacity
        self.function = function or float
        self.data: dict[int, Any] = {}
        self.pending_points: set[int] = set()
        self.asks = 0

    def _free(self, n: int) -> list[int]:
        points, x = [], 0
        while len(points) < n and x < self.capacity:
            if x not in self.data and x not in self.pending_points:
                points.append(x)
            x += 1
        return points

    def ask(self, n: int, tell_pending: bool = True) -> tuple[list, list[float]]:
        n = check_ask_n(n)
        self.asks += 1
        points = self._free(n)
        if tell_pending:
            self.pending_points.update(points)
        return points, [self.improvement] * len(points)

    def tell(self, x: int, y: Any) -> None:
        self.data[x] = y
        self.pending_points.discard(x)

    def tell_pending(self, x: int) -> None:
        if x not in self.data:
            self.pending_points.add(x)

    def loss(self, real: bool = True) -> float:
        return self.loss_value

    def remove_unfinished(self) -> None:
        self.pending_points.clear()

    def _get_data(self) -> dict[int, Any]:
        return dict(self.data)

    def _set_data(self, data: dict[int, Any]) -> None:
        for x, y in data.items():
            self.tell(x, y)

    def _settings(self) -> dict[str, Any]:
        return {
            "improvement": self.improvement,
            "loss_value": self.loss_value,
            "capacity": self.capacity,
            "function": self.function,
        }


def scripted(*improvements: float, **kwargs: Any) -> BalancingLearner:
    return BalancingLearner([Scripted(improvement=i) for i in improvements], **kwargs)


def children_of(points: list[tuple[int, Any]]) -> list[int]:
    return [i for i, _ in points]


def tell_points(learner: BalancingLearner, points: list) -> None:
    for point in points:
        learner.tell(point, learner.function(point))


def run_points(learner: BalancingLearner, npoints: int) -> list:
    told = []
    for _ in range(npoints):
        (point,), _ = learner.ask(1)
        learner.tell(point, learner.function(point))
        told.append(point)
    return told


def peak(x: float, offset: float = 0.0, a: float = 0.05) -> float:
    return x + a**2 / (a**2 + (x - offset) ** 2)


def peaks(count: int, **kwargs: Any) -> BalancingLearner:
    return BalancingLearner(
        [Learner1D(functools.partial(peak, offset=i / count), (-1, 1)) for i in range(count)],
        **kwargs,
    )


# ---- points, data and the function -----------------------------------------------------------


def test_points_are_index_point_tuples_and_function_dispatches():
    learner = BalancingLearner(
        [Learner1D(lambda x: x, (0, 1)), Learner1D(lambda x: 10 * x, (0, 1))]
    )
    points, improvements = learner.ask(4)
    assert sorted(points) == [(0, 0.0), (0, 1.0), (1, 0.0), (1, 1.0)]
    assert improvements == [math.inf] * 4
    assert learner.function((1, 0.5)) == 5.0
    tell_points(learner, points)
    assert learner.data == {(0, 0.0): 0.0, (0, 1.0): 1.0, (1, 0.0): 0.0, (1, 1.0): 10.0}
    assert learner.npoints == 4


def test_data_and_pending_points_use_the_childrens_keys():
    learner = BalancingLearner(
        [SequenceLearner(str, [{"a": 1}, {"b": 2}]), SequenceLearner(str, [[3], [4]])]
    )
    points, _ = learner.ask(3)
    assert learner.pending_points == {learner.point_key(p) for p in points}
    assert learner.point_key((1, (0, [3]))) == (1, 0)
    learner.tell(points[0], "x")
    assert learner.data == {learner.point_key(points[0]): "x"}
    assert learner.point_key(points[0]) not in learner.pending_points


def test_loss_is_the_largest_loss_of_the_children():
    learner = BalancingLearner([Scripted(loss_value=v) for v in (0.5, 3.0, 1.0)])
    assert learner.loss() == 3.0
    assert learner.loss(real=False) == 3.0
    learner.learners[1].loss_value = 0.1
    learner.tell((1, 0), 0.0)  # the change goes through the balancing learner
    assert learner.loss() == 1.0


def test_loss_counts_pending_points_with_real_false():
    learner = BalancingLearner([Learner1D(lambda x: x**2, (-1, 1)) for _ in range(2)])
    tell_points(learner, learner.ask(6)[0])
    learner.ask(4)
    assert learner.loss(real=False) < learner.loss()
    assert learner.loss() == max(child.loss() for child in learner.learners)
    assert learner.loss(real=False) == max(child.loss(real=False) for child in learner.learners)


def test_remove_unfinished_forwards_to_every_child():
    learner = peaks(3)
    run_points(learner, 12)
    asked, _ = learner.ask(5)
    assert len(learner.pending_points) == 5
    learner.remove_unfinished()
    assert learner.pending_points == set()
    assert all(not child.pending_points for child in learner.learners)
    assert learner.ask(5)[0] == asked


def test_tell_rejects_points_that_are_not_index_point_tuples():
    learner = peaks(2)
    with pytest.raises(ValueError, match="learner_index, point"):
        learner.tell(0.5, 1.0)
    with pytest.raises(ValueError, match="range"):
        learner.tell((2, 0.5), 1.0)
    with pytest.raises(ValueError, match="range"):
        learner.tell((True, 0.5), 1.0)
    assert learner.npoints == 0


# ---- strategies ------------------------------------------------------------------------------


def test_loss_improvements_picks_the_child_with_the_largest_improvement():
    learner = scripted(1.0, 5.0, 3.0)
    points, improvements = learner.ask(1)
    assert children_of(points) == [1]
    assert improvements == [5.0]
    # the best child may give several points at once
    points, improvements = learner.ask(3)
    assert children_of(points) == [1, 1, 1]
    assert improvements == [5.0, 5.0, 5.0]


def test_ties_go_to_the_child_with_fewer_points():
    learner = scripted(2.0, 2.0, 2.0)
    tell_points(learner, [(0, 0), (0, 1), (1, 0)])
    assert children_of(learner.ask(1)[0]) == [2]
    # pending points count too: child 2 now has one, like child 1 (then the lower index wins)
    assert children_of(learner.ask(1)[0]) == [1]
    # counts (told + pending) are now 2, 2, 1; within one ask the picks count as well
    assert children_of(learner.ask(3)[0]) == [2, 0, 1]


def test_loss_strategy_picks_the_child_with_the_largest_loss():
    learner = BalancingLearner(
        [Scripted(improvement=9.0, loss_value=0.5), Scripted(improvement=0.1, loss_value=2.0)],
        strategy="loss",
    )
    assert children_of(learner.ask(2)[0]) == [1, 1]


def test_npoints_strategy_picks_the_child_with_the_fewest_points():
    learner = scripted(9.0, 1.0, 1.0, strategy="npoints")
    tell_points(learner, [(0, 0), (0, 1), (2, 0)])
    assert children_of(learner.ask(4)[0]) == [1, 1, 2, 0]


def test_cycle_strategy_goes_round_and_continues_where_it_stopped():
    learner = scripted(9.0, 1.0, 1.0, strategy="cycle")
    assert children_of(learner.ask(4)[0]) == [0, 1, 2, 0]
    assert children_of(learner.ask(1, tell_pending=False)[0]) == [1]
    assert children_of(learner.ask(2)[0]) == [1, 2]
    assert children_of(learner.ask(1)[0]) == [0]


def test_cycle_strategy_skips_children_without_points():
    learner = BalancingLearner(
        [Scripted(capacity=1), Scripted(capacity=0), Scripted(capacity=3)], strategy="cycle"
    )
    points, _ = learner.ask(10)
    assert points == [(0, 0), (2, 0), (2, 1), (2, 2)]
    assert learner.ask(1) == ([], [])


def test_strategy_can_change_while_running():
    learner = scripted(1.0, 5.0)
    assert learner.strategy == "loss_improvements"
    assert children_of(learner.ask(2)[0]) == [1, 1]
    learner.strategy = "npoints"
    assert children_of(learner.ask(2)[0]) == [0, 0]
    learner.strategy = "cycle"
    assert children_of(learner.ask(3)[0]) == [0, 1, 0]
    learner.strategy = "loss_improvements"
    assert children_of(learner.ask(1)[0]) == [1]


def test_bad_strategy_is_refused_by_name():
    with pytest.raises(ValueError, match="'fastest'"):
        scripted(1.0, strategy="fastest")
    learner = scripted(1.0)
    with pytest.raises(ValueError, match="strategy='random'"):
        learner.strategy = "random"
    assert learner.strategy == "loss_improvements"


@pytest.mark.parametrize("strategy", ["loss_improvements", "loss", "npoints", "cycle"])
def test_ask_without_tell_pending_returns_what_ask_would(strategy):
    learner = peaks(4, strategy=strategy)
    run_points(learner, 17)
    learner.ask(3)
    peeked = learner.ask(7, tell_pending=False)
    assert learner.ask(7, tell_pending=False) == peeked
    assert learner.ask(7) == peeked


def reference_choice(learner: BalancingLearner) -> tuple[list, list]:
    """The next point by asking every child (what the heap must agree with)."""
    best = None
    for i, child in enumerate(learner.learners):
        points, improvements = child.ask(1, tell_pending=False)
        if not points:
            continue
        count = child.npoints + len(child.pending_points)
        improvement = float(improvements[0])
        if math.isnan(improvement):
            improvement = -math.inf
        key = {
            "loss_improvements": (-improvement, count, i),
            "loss": (-child.loss(real=False), count, i),
            "npoints": (count, i),
        }[learner.strategy]
        if best is None or key < best[0]:
            best = (key, [(i, points[0])], [improvements[0]])
    return ([], []) if best is None else (best[1], best[2])


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["ask", "tell", "tell_pending", "remove_unfinished", "strategy"]),
        st.integers(0, 1000),
    ),
    max_size=80,
)


@settings(max_examples=40, derandomize=True, deadline=None)
@given(operations=OPERATIONS)
def test_the_choice_matches_asking_every_child(operations):
    strategies = ["loss_improvements", "loss", "npoints"]
    learner = BalancingLearner(
        [Learner1D(functools.partial(peak, offset=k / 4), (-1, 1)) for k in range(4)]
        + [Learner1D(lambda x: 0.0, (0, 1e-300))]  # runs out of points after a few
    )
    pending: list = []
    for operation, number in operations:
        if operation == "ask":
            pending += learner.ask(1 + number % 4)[0]
        elif operation == "tell" and pending:
            point = pending.pop(number % len(pending))
            learner.tell(point, learner.function(point))
        elif operation == "tell_pending":
            points, _ = learner.ask(1, tell_pending=False)
            for point in points:
                learner.tell_pending(point)
                pending.append(point)
        elif operation == "remove_unfinished":
            learner.remove_unfinished()
            pending.clear()
        elif operation == "strategy":
            learner.strategy = strategies[number % len(strategies)]
        assert learner.ask(1, tell_pending=False) == reference_choice(learner)
        assert learner.loss() == max(child.loss() for child in learner.learners)


# ---- no child starves ------------------------------------------------------------------------


def test_first_points_go_round_all_children():
    learner = peaks(5)
    first = run_points(learner, 10)
    assert children_of(first[:5]) == [0, 1, 2, 3, 4]
    assert [child.npoints for child in learner.learners] == [2] * 5
    assert all(child.bounds[0] in child.data for child in learner.learners)


def test_first_batch_goes_round_all_children():
    learner = peaks(4)
    points, _ = learner.ask(8)
    assert sorted(children_of(points)) == [0, 0, 1, 1, 2, 2, 3, 3]


def test_an_exhausted_child_is_skipped_not_stuck():
    learner = BalancingLearner([Scripted(improvement=10.0, capacity=2), Scripted(improvement=1.0)])
    points, _ = learner.ask(6)
    assert children_of(points) == [0, 0, 1, 1, 1, 1]
    tell_points(learner, points[:2])
    assert children_of(learner.ask(3)[0]) == [1, 1, 1]
    # SequenceLearner children of different lengths run out one after the other
    sequences = BalancingLearner([SequenceLearner(abs, range(n)) for n in (1, 4, 2)])
    points, _ = sequences.ask(100)
    assert sorted(children_of(points)) == [0, 1, 1, 1, 1, 2, 2]
    assert sequences.ask(1) == ([], [])


def test_a_minus_infinity_child_is_skipped_not_stuck():
    learner = BalancingLearner(
        [
            Scripted(improvement=-math.inf),
            Scripted(improvement=0.5, capacity=2),
            Scripted(improvement=math.nan),
        ]
    )
    points, improvements = learner.ask(2)
    assert children_of(points) == [1, 1]
    # once nothing better is left, the -inf and NaN children share the points (fewer first)
    points, improvements = learner.ask(4)
    assert children_of(points) == [0, 2, 0, 2]
    assert improvements[0] == -math.inf


def test_an_asked_point_touches_only_the_child_that_changed():
    learner = BalancingLearner([Scripted(improvement=float(i % 7)) for i in range(200)])
    run_points(learner, 50)
    before = [child.asks for child in learner.learners]
    run_points(learner, 20)
    touched = [i for i, child in enumerate(learner.learners) if child.asks != before[i]]
    asks = sum(child.asks - before[i] for i, child in enumerate(learner.learners))
    # each point: the picked child is asked for it and for its next proposal (the first ask
    # also refreshes the child told last before)
    assert len(touched) <= 21
    assert asks <= 2 * 20 + 1


# ---- construction ----------------------------------------------------------------------------


def test_bad_learner_lists_are_refused_at_construction():
    with pytest.raises(ValueError, match="at least one"):
        BalancingLearner([])
    with pytest.raises(TypeError, match=r"learners\[1\] is not a learner"):
        BalancingLearner([Scripted(), "not a learner"])
    with pytest.raises(TypeError, match="same type"):
        BalancingLearner([Scripted(), AverageLearner(float, atol=0.1)])
    child = Scripted()
    with pytest.raises(ValueError, match="same object"):
        BalancingLearner([child, child])
    with pytest.raises(TypeError, match="list of learners"):
        BalancingLearner(42)


def test_cdims_are_checked_and_normalized():
    children = [Scripted() for _ in range(4)]
    with pytest.raises(ValueError, match="4 learners"):
        BalancingLearner(children, cdims=[{"a": 1}])
    with pytest.raises(ValueError, match="keys"):
        BalancingLearner(children[:2], cdims=[{"a": 1}, {"b": 2}])
    as_pairs = BalancingLearner(children, cdims=(["A", "B"], [(1, 0), (1, 1), (2, 0), (2, 1)]))
    as_dicts = BalancingLearner(
        [Scripted() for _ in range(4)],
        cdims=[{"A": 1, "B": 0}, {"A": 1, "B": 1}, {"A": 2, "B": 0}, {"A": 2, "B": 1}],
    )
    assert as_pairs.cdims == as_dicts.cdims


def test_from_product_makes_one_learner_per_combination():
    def line(x, a, b):
        return a * x + b

    learner = BalancingLearner.from_product(
        line, Learner1D, {"bounds": (0, 2)}, {"a": [1, 2], "b": [0, 5, 6]}
    )
    combinations = [{"a": a, "b": b} for a in (1, 2) for b in (0, 5, 6)]
    assert learner.cdims == combinations
    assert [child.function.keywords for child in learner.learners] == combinations
    assert all(child.bounds == (0.0, 2.0) for child in learner.learners)
    assert learner.function((4, 1.0)) == 2 * 1.0 + 5


def test_new_keeps_strategy_cdims_and_children_settings():
    learner = peaks(3, strategy="cycle", cdims=[{"k": i} for i in range(3)])
    run_points(learner, 9)
    fresh = learner.new()
    assert fresh.npoints == 0
    assert fresh.strategy == "cycle"
    assert fresh.cdims == learner.cdims
    assert [c.bounds for c in fresh.learners] == [c.bounds for c in learner.learners]
    assert fresh.function((2, 0.3)) == learner.function((2, 0.3))
    copy = pickle.loads(pickle.dumps(learner))
    assert copy.data == learner.data
    assert copy.strategy == "cycle"


# ---- saving and DataFrames -------------------------------------------------------------------


def test_save_and_load_with_a_filename_function(tmp_path):
    learner = BalancingLearner.from_product(
        peak, Learner1D, {"bounds": (-1, 1)}, {"offset": [0.0, 0.5], "a": [0.1]}
    )
    run_points(learner, 15)

    def fname(child):
        return tmp_path / f"offset_{child.function.keywords['offset']}.pickle"

    learner.save(fname)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "offset_0.0.pickle",
        "offset_0.5.pickle",
    ]
    loaded = learner.new()
    loaded.load(fname)
    assert loaded.data == learner.data
    assert loaded.loss() == learner.loss()
    assert loaded.ask(3, tell_pending=False) == learner.ask(3, tell_pending=False)


def test_save_and_load_with_a_list_of_filenames(tmp_path):
    learner = peaks(3)
    run_points(learner, 10)
    names = [str(tmp_path / f"{i}.pickle") for i in range(3)]
    learner.save(names, compress=False)
    loaded = learner.new()
    loaded.load(names, compress=False)
    assert loaded.data == learner.data
    with pytest.raises(ValueError, match="2 filenames but there are 3"):
        learner.save(names[:2])
    with pytest.raises(TypeError, match="fname"):
        learner.save(3)


def test_save_and_load_with_one_filename(tmp_path):
    learner = peaks(3)
    run_points(learner, 10)
    learner.save(tmp_path / "all.pickle")
    loaded = learner.new()
    loaded.load(tmp_path / "all.pickle")
    assert loaded.data == learner.data
    assert [p.name for p in tmp_path.iterdir()] == ["all.pickle"]


def test_dataframe_round_trip_with_the_learner_index_column():
    pd = pytest.importorskip("pandas")
    learner = BalancingLearner.from_product(
        peak, Learner1D, {"bounds": (-1, 1)}, {"offset": [0.0, 0.5, -0.5]}
    )
    run_points(learner, 20)
    df = learner.to_dataframe()
    assert list(df.columns[:3]) == ["learner_index", "x", "y"]
    assert len(df) == learner.npoints
    assert sorted(set(df["learner_index"])) == [0, 1, 2]
    assert list(df["function.offset"]) == [learner.cdims[i]["offset"] for i in df["learner_index"]]
    loaded = learner.new()
    loaded.load_dataframe(df)
    assert loaded.data == learner.data

    renamed = learner.to_dataframe(index_name="which", with_default_function_args=False)
    assert "which" in renamed.columns
    assert not any(str(c).startswith("function.") for c in renamed.columns)
    other = learner.new()
    other.load_dataframe(renamed, index_name="which", with_default_function_args=False)
    assert other.data == learner.data
    with pytest.raises(ValueError, match="learner_index"):
        learner.new().load_dataframe(renamed)
    assert isinstance(df, pd.DataFrame)


def test_dataframe_load_rebinds_the_dispatched_functions():
    pytest.importorskip("pandas")

    def scaled(x, scale=1):
        return scale * x

    source = BalancingLearner([Learner1D(functools.partial(scaled, scale=3), (0, 1))])
    run_points(source, 4)
    target = BalancingLearner([Learner1D(scaled, (0, 1))])
    function = target.function
    target.load_dataframe(source.to_dataframe())
    assert function((0, 2.0)) == 6.0


# ---- plotting --------------------------------------------------------------------------------


def test_plot_is_a_holoviews_map_over_the_cdims():
    hv = pytest.importorskip("holoviews")
    learner = BalancingLearner.from_product(
        peak, Learner1D, {"bounds": (-1, 1)}, {"offset": [0.0, 0.5], "a": [0.1, 0.2]}
    )
    run_points(learner, 20)
    holomap = learner.plot(dynamic=False)
    assert isinstance(holomap, hv.HoloMap)
    assert [d.name for d in holomap.kdims] == ["offset", "a"]
    assert len(holomap) == 4
    assert isinstance(holomap[(0.5, 0.2)].Scatter.I, hv.Scatter)

    dynamic = learner.plot()
    assert isinstance(dynamic, hv.DynamicMap)
    assert [d.name for d in dynamic.kdims] == ["offset", "a"]
    assert isinstance(dynamic[0.0, 0.1].Scatter.I, hv.Scatter)


def test_plot_without_cdims_and_with_a_plotter():
    hv = pytest.importorskip("holoviews")
    learner = peaks(3)
    run_points(learner, 9)
    holomap = learner.plot(dynamic=False, plotter=lambda child: child.plot(scatter_or_line="line"))
    assert [d.name for d in holomap.kdims] == ["i_learner"]
    assert isinstance(holomap[1].Curve.I, hv.Curve)
    labelled = learner.plot(cdims=[{"k": "x"}, {"k": "y"}, {"k": "z"}], dynamic=False)
    assert list(labelled.keys()) == ["x", "y", "z"]


# ---- running ---------------------------------------------------------------------------------


def test_blocking_runner_reaches_a_loss_goal():
    learner = peaks(4)
    runner = BlockingRunner(learner, loss_goal=0.05, executor=SequentialExecutor())
    assert learner.loss() <= 0.05
    assert all(child.loss() <= 0.05 for child in learner.learners)
    assert runner.learner is learner
    assert not learner.pending_points


def test_blocking_runner_npoints_goal_applies_to_every_child():
    learner = peaks(3)
    BlockingRunner(learner, npoints_goal=20, executor=SequentialExecutor())
    assert all(child.npoints >= 20 for child in learner.learners)


def test_tell_many_groups_points_per_child():
    learner = peaks(3)
    points = run_points(peaks(3), 12)
    values = [learner.function(p) for p in points]
    learner.tell_many(points, values)
    looped = peaks(3)
    for point, value in zip(points, values, strict=True):
        looped.tell(point, value)
    assert learner.data == looped.data
    assert learner.ask(4, tell_pending=False) == looped.ask(4, tell_pending=False)
    with pytest.raises(ValueError, match="3 points but 2 values"):
        learner.tell_many(points[:3], values[:2])


def test_repr_names_the_children():
    learner = peaks(2)
    assert "2 Learner1Ds" in repr(learner)
    assert isinstance(learner.point_key((0, 0.5)), Hashable)
