"""SequenceLearner specifics (the shared protocol is covered by the conformance suite)."""

from __future__ import annotations

import functools
import math
import pickle

import numpy as np
import pytest

from adaptive_runner import SequenceLearner

pd = pytest.importorskip("pandas")


def double(x):
    return 2 * x


def scaled(x, scale=1, shift=0):
    return x * scale + shift


def finish(learner, order=None):
    """Ask for every point and tell them (in ``order`` of the asked list, if given)."""
    points, _ = learner.ask(len(learner.sequence))
    if order is not None:
        points = [points[i] for i in order]
    for point in points:
        learner.tell(point, learner.function(point))
    return points


# ---- points and elements -------------------------------------------------------------------------


def test_points_are_index_element_tuples_in_sequence_order():
    sequence = ["a", "b", "c", "d"]
    learner = SequenceLearner(str.upper, sequence)
    points, improvements = learner.ask(3)
    assert points == [(0, "a"), (1, "b"), (2, "c")]
    assert all(type(point) is tuple for point in points)
    assert improvements == [pytest.approx(0.25)] * 3
    assert learner.function((1, "b")) == "B"


@pytest.mark.parametrize(
    "sequence",
    [
        [{"a": 1}, {"a": 2}, {"a": 1}],
        [[1, 2], [3], []],
        [np.arange(3), np.arange(3) + 1.5, np.zeros(2)],
        [{1, 2}, {"nested": [{"deep": np.ones(2)}]}, None],
    ],
    ids=["dicts", "lists", "arrays", "mixed"],
)
def test_unhashable_elements_are_evaluated_once_each(sequence):
    calls = []

    def record(element):
        calls.append(element)
        return len(calls)

    learner = SequenceLearner(record, sequence)
    points = finish(learner)
    assert [index for index, _ in points] == list(range(len(sequence)))
    assert all(element is sequence[index] for index, element in points)
    assert len(calls) == len(sequence)
    assert learner.result() == list(range(1, len(sequence) + 1))


def test_duplicate_elements_are_separate_points():
    learner = SequenceLearner(double, [5, 5, 5])
    points, _ = learner.ask(5)
    assert points == [(0, 5), (1, 5), (2, 5)]
    for point in points:
        learner.tell(point, learner.function(point))
    assert learner.npoints == 3
    assert learner.result() == [10, 10, 10]


def test_sequence_is_copied_and_any_iterable_is_accepted():
    source = [1, 2, 3]
    learner = SequenceLearner(double, source)
    source.append(4)
    assert learner.sequence == [1, 2, 3]
    assert SequenceLearner(double, (i for i in range(4))).sequence == [0, 1, 2, 3]
    from_array = SequenceLearner(double, np.array([1.5, 2.5]))
    finish(from_array)
    assert from_array.result() == [3.0, 5.0]


def test_non_callable_function_and_non_iterable_sequence_are_rejected():
    with pytest.raises(TypeError, match="function"):
        SequenceLearner(42, [1, 2])
    with pytest.raises(TypeError, match="sequence"):
        SequenceLearner(double, 3)


def test_numpy_integer_indices_are_accepted():
    learner = SequenceLearner(double, [1, 2, 3])
    learner.tell((np.int64(2), 3), 6)
    assert learner.data == {2: 6}
    assert type(next(iter(learner.data))) is int


# ---- done, result, loss --------------------------------------------------------------------------


def test_done_only_when_every_element_is_told():
    learner = SequenceLearner(double, [1, 2, 3])
    assert not learner.done()
    points, _ = learner.ask(3)
    assert not learner.done(), "pending points are not done"
    for point in points[:2]:
        learner.tell(point, learner.function(point))
    assert not learner.done()
    learner.tell(points[2], learner.function(points[2]))
    assert learner.done()


def test_done_is_false_again_after_remove_unfinished_without_results():
    learner = SequenceLearner(double, [1, 2])
    learner.ask(2)
    learner.remove_unfinished()
    assert not learner.done()
    assert learner.ask(5)[0] == [(0, 1), (1, 2)]


def test_result_is_in_sequence_order_whatever_the_tell_order():
    learner = SequenceLearner(double, [3, 1, 2, 7])
    finish(learner, order=[3, 1, 0, 2])
    assert learner.result() == [6, 2, 4, 14]


def test_result_raises_until_done():
    learner = SequenceLearner(double, [1, 2, 3])
    points, _ = learner.ask(2)
    for point in points:
        learner.tell(point, learner.function(point))
    with pytest.raises(ValueError, match="1 of 3 elements are not evaluated"):
        learner.result()
    assert learner.data == {0: 2, 1: 4}


def test_loss_is_the_fraction_left_and_real_false_counts_pending():
    learner = SequenceLearner(double, [1, 2, 3, 4])
    assert learner.loss() == 1.0
    assert learner.loss(real=False) == 1.0
    (first, _), _ = learner.ask(2)
    assert learner.loss() == 1.0
    assert learner.loss(real=False) == pytest.approx(0.5)
    learner.tell(first, 2)
    assert learner.loss() == pytest.approx(0.75)
    assert learner.loss(real=False) == pytest.approx(0.5)
    learner.tell_pending((2, 3))
    assert learner.loss(real=False) == pytest.approx(0.25)
    learner.remove_unfinished()
    assert learner.loss(real=False) == pytest.approx(0.75)
    finish(learner)
    assert learner.loss() == 0.0
    assert learner.loss(real=False) == 0.0


def test_tell_pending_of_a_told_point_keeps_it_done():
    learner = SequenceLearner(double, [1, 2])
    learner.tell((0, 1), 2)
    learner.tell_pending((0, 1))
    assert 0 not in learner.pending_points
    assert learner.ask(2)[0] == [(1, 2)]


def test_empty_sequence():
    learner = SequenceLearner(double, [])
    assert learner.ask(3) == ([], [])
    assert learner.done()
    assert learner.loss() == 0.0
    assert learner.loss(real=False) == 0.0
    assert learner.result() == []
    assert learner.npoints == 0
    df = learner.to_dataframe()
    assert len(df) == 0
    assert {"i", "x", "y"} <= set(df.columns)
    copy = pickle.loads(pickle.dumps(learner))
    assert copy.done()


# ---- bad points ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "point",
    [(3, "d"), (-1, "c"), ("0", "a"), (1.0, "b"), 7, None, ()],
    ids=["too-large", "negative", "str-index", "float-index", "not-a-tuple", "none", "empty"],
)
def test_bad_points_raise_value_error_and_change_nothing(point):
    learner = SequenceLearner(str.upper, ["a", "b", "c"])
    learner.tell((0, "a"), "A")
    learner.ask(1)
    with pytest.raises(ValueError, match=r"SequenceLearner|index"):
        learner.tell(point, "X")
    with pytest.raises(ValueError, match=r"SequenceLearner|index"):
        learner.tell_pending(point)
    assert dict(learner.data) == {0: "A"}
    assert learner.pending_points == {1}


# ---- numpy and DataFrames ------------------------------------------------------------------------


def test_to_numpy_has_index_and_value_columns():
    learner = SequenceLearner(double, [1.5, 2.5, 3.5])
    finish(learner, order=[2, 0, 1])
    np.testing.assert_array_equal(learner.to_numpy(), [[0, 3.0], [1, 5.0], [2, 7.0]])


def test_to_dataframe_has_one_row_per_told_point():
    learner = SequenceLearner(double, [1, 2, 3])
    learner.tell((2, 3), 6)
    learner.tell((0, 1), 2)
    df = learner.to_dataframe(with_default_function_args=False)
    assert list(df.columns) == ["i", "x", "y"]
    assert df["i"].tolist() == [0, 2]
    assert df["x"].tolist() == [1, 3]
    assert df["y"].tolist() == [2, 6]


def test_to_dataframe_custom_column_names_round_trip():
    learner = SequenceLearner(double, [1, 2, 3])
    finish(learner)
    names = {"index_name": "idx", "x_name": "element", "y_name": "value"}
    df = learner.to_dataframe(**names)
    assert {"idx", "element", "value"} <= set(df.columns)
    loaded = learner.new()
    loaded.load_dataframe(df, **names)
    assert loaded.data == learner.data
    with pytest.raises(ValueError, match="'i'"):
        learner.new().load_dataframe(df)


def test_to_dataframe_full_sequence_has_every_element():
    sequence = [{"a": 1}, {"a": 2}, {"a": 3}]
    learner = SequenceLearner(lambda d: d["a"] * 10, sequence)
    learner.tell((1, sequence[1]), 20)
    df = learner.to_dataframe(full_sequence=True, with_default_function_args=False)
    assert df["i"].tolist() == [0, 1, 2]
    assert df["x"].tolist() == sequence
    assert df["y"].iloc[1] == 20
    assert math.isnan(df["y"].iloc[0])
    assert math.isnan(df["y"].iloc[2])

    loaded = learner.new()
    loaded.load_dataframe(df, full_sequence=True)
    assert dict(loaded.data) == {1: 20}
    assert loaded.ask(3)[0] == [(0, sequence[0]), (2, sequence[2])]


@pytest.mark.parametrize(
    ("results", "expected_nan"),
    [({0: None, 1: 1.0, 2: 2.0}, False), ({0: math.nan, 1: 1.0, 2: 2.0}, True)],
    ids=["None", "NaN"],
)
def test_dataframe_round_trip_keeps_none_and_nan_results(results, expected_nan):
    # a function may legitimately return None (side effects only) or NaN (a failed fit): those
    # are results, and a round trip through a (non-full-sequence) DataFrame must keep them
    learner = SequenceLearner(lambda i: results[i], [0, 1, 2])
    finish(learner)
    loaded = learner.new()
    loaded.load_dataframe(learner.to_dataframe())
    assert sorted(loaded.data) == [0, 1, 2]
    assert loaded.done()
    first = loaded.data[0]
    if expected_nan:
        assert math.isnan(first)
    else:
        # pandas stores None as NaN in a column of floats; either is the same "no value"
        assert first is None or math.isnan(first)


def test_load_dataframe_rejects_a_frame_from_another_sequence():
    learner = SequenceLearner(double, [1, 2, 3])
    finish(learner)
    df = learner.to_dataframe()

    other = SequenceLearner(double, [1, 20, 3])
    with pytest.raises(ValueError, match="does not match"):
        other.load_dataframe(df)

    shorter = SequenceLearner(double, [1, 2])
    with pytest.raises(ValueError, match="does not match"):
        shorter.load_dataframe(df)


def test_load_dataframe_compares_unhashable_elements_by_value():
    sequence = [np.arange(3), {"k": [1, 2]}]
    learner = SequenceLearner(lambda e: 1, sequence)
    finish(learner)
    df = learner.to_dataframe()
    same = SequenceLearner(lambda e: 1, [np.arange(3), {"k": [1, 2]}])
    same.load_dataframe(df)
    assert same.done()
    different = SequenceLearner(lambda e: 1, [np.arange(3) + 1, {"k": [1, 2]}])
    with pytest.raises(ValueError, match="does not match"):
        different.load_dataframe(df)


def test_function_default_columns_and_binding_from_the_dataframe():
    source = SequenceLearner(functools.partial(scaled, scale=3), [1, 2, 3])
    finish(source)
    df = source.to_dataframe()
    assert df["function.scale"].tolist() == [3, 3, 3]
    assert df["function.shift"].tolist() == [0, 0, 0]
    assert source.result() == [3, 6, 9]

    # a learner of the plain function takes the arguments the frame was made with
    loaded = SequenceLearner(scaled, [1, 2, 3])
    loaded.load_dataframe(df)
    assert loaded.data == source.data
    assert loaded.function((0, 5)) == 15
    assert loaded.new().function((0, 5)) == 15
    assert pickle.loads(pickle.dumps(loaded)).function((0, 5)) == 15

    # unless asked not to
    unbound = SequenceLearner(scaled, [1, 2, 3])
    unbound.load_dataframe(df, with_default_function_args=False)
    assert unbound.data == source.data
    assert unbound.function((0, 5)) == 5


def test_function_default_columns_with_a_custom_prefix_and_tuple_default():
    def f(x, shape=(2, 3)):
        return x

    learner = SequenceLearner(f, [1, 2])
    finish(learner)
    df = learner.to_dataframe(function_prefix="arg:")
    assert df["arg:shape"].tolist() == [(2, 3), (2, 3)]
    loaded = learner.new()
    loaded.load_dataframe(df, function_prefix="arg:")
    assert loaded.data == learner.data
    assert loaded.function((0, 7)) == 7


def test_load_dataframe_rejects_arguments_the_function_does_not_take():
    source = SequenceLearner(scaled, [1, 2])
    finish(source)
    df = source.to_dataframe()
    with pytest.raises(ValueError, match="scale"):
        SequenceLearner(double, [1, 2]).load_dataframe(df)
