"""DataSaver and make_datasaver specifics (the shared protocol is in the conformance suite)."""

from __future__ import annotations

import functools
import pickle
from operator import itemgetter

import numpy as np
import pytest

from adaptive_runner import BaseLearner, DataSaver, SequenceLearner, make_datasaver


def rich(x, factor=1):
    return {"y": x * factor, "cost": 10 + x, "trace": np.arange(x + 1)}


def make_saver(sequence=(1, 2, 3, 4), function=rich, arg_picker=itemgetter("y")):
    return DataSaver(SequenceLearner(function, sequence), arg_picker)


def finish(learner):
    points, _ = learner.ask(10_000)
    for point in points:
        learner.tell(point, learner.function(point))
    return points


# ---- what is kept --------------------------------------------------------------------------------


def test_extra_data_keeps_whole_results_keyed_by_point_key():
    saver = make_saver()
    points = finish(saver)
    assert set(saver.extra_data) == {saver.point_key(p) for p in points} == {0, 1, 2, 3}
    for point in points:
        whole = saver.extra_data[saver.point_key(point)]
        assert whole["cost"] == 10 + point[1]
        np.testing.assert_array_equal(whole["trace"], np.arange(point[1] + 1))


def test_arg_picker_value_is_what_the_wrapped_learner_learns():
    saver = make_saver(arg_picker=lambda result: result["y"] - result["cost"])
    finish(saver)
    assert dict(saver.data) == {0: -10, 1: -10, 2: -10, 3: -10}
    assert dict(saver.learner.data) == dict(saver.data)
    assert saver.learner.result() == [-10, -10, -10, -10]


def test_unhashable_points_key_extra_data_by_index():
    sequence = [{"a": 1}, {"a": 2}]
    saver = DataSaver(SequenceLearner(lambda d: {"y": d["a"], "d": d}, sequence), itemgetter("y"))
    finish(saver)
    assert saver.extra_data == {0: {"y": 1, "d": {"a": 1}}, 1: {"y": 2, "d": {"a": 2}}}
    assert saver.point_key((1, {"a": 2})) == 1


def test_tell_many_keeps_whole_results_too():
    saver = make_saver()
    points, _ = saver.ask(3)
    saver.tell_many(points, [rich(x) for _, x in points])
    assert sorted(saver.extra_data) == [0, 1, 2]
    assert saver.extra_data[2]["cost"] == 13
    assert not saver.pending_points


def test_a_failing_arg_picker_changes_nothing():
    saver = make_saver()
    (point,), _ = saver.ask(1)
    with pytest.raises(KeyError, match="y"):
        saver.tell(point, {"no y here": 1})
    assert saver.extra_data == {}
    assert saver.npoints == 0
    assert saver.point_key(point) in saver.pending_points


def test_a_bad_point_changes_nothing():
    saver = make_saver()
    with pytest.raises(ValueError, match="index"):
        saver.tell((99, 1), rich(1))
    assert saver.extra_data == {}
    assert saver.npoints == 0


# ---- delegation ----------------------------------------------------------------------------------


def test_attributes_are_delegated_to_the_wrapped_learner():
    saver = make_saver(sequence=[5, 6])
    assert saver.sequence == [5, 6]
    assert not saver.done()
    (first,), _ = saver.ask(1)
    assert saver.pending_points == saver.learner.pending_points == {0}
    saver.tell(first, saver.function(first))
    finish(saver)
    assert saver.done()
    assert saver.result() == [5, 6]
    assert saver.npoints == saver.learner.npoints == 2
    assert saver.loss() == saver.learner.loss() == 0
    assert isinstance(saver, BaseLearner)
    with pytest.raises(AttributeError, match="no_such_attribute"):
        _ = saver.no_such_attribute


def test_function_is_the_wrapped_learners_function():
    saver = make_saver(sequence=[3])
    result = saver.function((0, 3))
    assert result["y"] == 3
    assert result["cost"] == saver.learner.function((0, 3))["cost"] == 13


def test_remove_unfinished_is_delegated():
    saver = make_saver()
    saver.ask(2)
    saver.remove_unfinished()
    assert not saver.learner.pending_points
    assert saver.ask(2)[0] == [(0, 1), (1, 2)]


# ---- make_datasaver ------------------------------------------------------------------------------


def test_make_datasaver_passes_positional_and_keyword_arguments():
    picker = itemgetter("y")
    sequence_saver = make_datasaver(SequenceLearner, picker)
    for saver in (
        sequence_saver(rich, [1, 2]),
        sequence_saver(rich, sequence=[1, 2]),
        sequence_saver(function=rich, sequence=[1, 2]),
    ):
        assert isinstance(saver, DataSaver)
        assert isinstance(saver.learner, SequenceLearner)
        assert saver.learner.sequence == [1, 2]
        assert saver.arg_picker is picker
        finish(saver)
        assert saver.result() == [1, 2]
        assert saver.extra_data[1]["cost"] == 12


def test_make_datasaver_reports_the_wrapped_learners_argument_errors():
    sequence_saver = make_datasaver(SequenceLearner, itemgetter("y"))
    with pytest.raises(TypeError, match="sequence"):
        sequence_saver(rich, 3)
    with pytest.raises(TypeError):
        sequence_saver(rich)


def test_make_datasaver_constructor_pickles():
    sequence_saver = make_datasaver(SequenceLearner, itemgetter("y"))
    copy = pickle.loads(pickle.dumps(sequence_saver))
    saver = copy(rich, [4])
    finish(saver)
    assert saver.result() == [4]


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ((dict, itemgetter("y")), "learner_type"),
        ((SequenceLearner(rich, [1]), itemgetter("y")), "learner_type"),
        ((lambda: None, itemgetter("y")), "learner_type"),
        ((SequenceLearner, "y"), "arg_picker"),
        ((SequenceLearner, None), "arg_picker"),
    ],
    ids=["not-a-learner-class", "an-instance", "a-function", "str-picker", "none-picker"],
)
def test_make_datasaver_rejects_bad_arguments_naming_the_parameter(arguments, parameter):
    with pytest.raises(TypeError, match=parameter):
        make_datasaver(*arguments)


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        (("not a learner", itemgetter("y")), "learner"),
        ((SequenceLearner, itemgetter("y")), "learner"),
        ((SequenceLearner(rich, [1]), "y"), "arg_picker"),
        ((SequenceLearner(rich, [1]), 0), "arg_picker"),
    ],
    ids=["str-learner", "learner-class", "str-picker", "int-picker"],
)
def test_datasaver_rejects_bad_arguments_naming_the_parameter(arguments, parameter):
    with pytest.raises(TypeError, match=f"{parameter}="):
        DataSaver(*arguments)


# ---- new, copies, pickling -----------------------------------------------------------------------


def test_new_keeps_arg_picker_and_starts_empty():
    picker = itemgetter("y")
    saver = make_saver(arg_picker=picker)
    finish(saver)
    fresh = saver.new()
    assert isinstance(fresh, DataSaver)
    assert fresh.arg_picker is picker
    assert fresh.learner is not saver.learner
    assert fresh.extra_data == {}
    assert fresh.npoints == 0
    assert fresh.learner.sequence == saver.learner.sequence
    finish(fresh)
    assert dict(fresh.data) == dict(saver.data)
    assert sorted(saver.extra_data) == [0, 1, 2, 3], "the original is untouched"


def test_pickle_keeps_arg_picker_and_extra_data():
    saver = make_saver(arg_picker=lambda result: -result["y"])
    finish(saver)
    copy = pickle.loads(pickle.dumps(saver))
    assert dict(copy.data) == {0: -1, 1: -2, 2: -3, 3: -4}
    assert copy.extra_data[3]["cost"] == 14
    np.testing.assert_array_equal(copy.extra_data[3]["trace"], np.arange(5))
    assert copy.arg_picker({"y": 7}) == -7


def test_copy_from_takes_extra_data():
    source = make_saver()
    finish(source)
    target = make_saver()
    target.copy_from(source)
    assert dict(target.data) == dict(source.data)
    assert target.extra_data.keys() == source.extra_data.keys()
    assert target.extra_data[0]["cost"] == 11


# ---- DataFrames ----------------------------------------------------------------------------------


def test_to_dataframe_has_an_extra_data_column_aligned_with_the_rows():
    pytest.importorskip("pandas")
    saver = make_saver(sequence=[3, 1, 2])
    points, _ = saver.ask(3)
    for point in reversed(points):
        saver.tell(point, saver.function(point))
    df = saver.to_dataframe()
    assert "extra_data" in df.columns
    for index, element, y, extra in zip(df["i"], df["x"], df["y"], df["extra_data"], strict=True):
        assert extra["y"] == y == element
        assert extra["cost"] == 10 + element
        assert extra is saver.extra_data[index]
    assert df["function.factor"].tolist() == [1, 1, 1]

    named = saver.to_dataframe(extra_data_name="whole", with_default_function_args=False)
    assert "whole" in named.columns
    assert "extra_data" not in named.columns
    assert not any(c.startswith("function.") for c in named.columns)


def test_load_dataframe_restores_extra_data():
    pytest.importorskip("pandas")
    saver = make_saver()
    finish(saver)
    df = saver.to_dataframe(extra_data_name="whole")
    loaded = make_saver()
    loaded.load_dataframe(df, extra_data_name="whole")
    assert dict(loaded.data) == dict(saver.data)
    assert loaded.extra_data.keys() == saver.extra_data.keys()
    assert all(loaded.extra_data[k]["cost"] == saver.extra_data[k]["cost"] for k in range(4))
    with pytest.raises(ValueError, match="extra_data_name='extra_data'"):
        make_saver().load_dataframe(df)


def test_load_dataframe_needs_input_names_when_attrs_are_lost():
    pd = pytest.importorskip("pandas")
    saver = make_saver()
    finish(saver)
    df = pd.DataFrame(saver.to_dataframe().to_dict("list"))  # a copy without attrs
    assert not df.attrs
    with pytest.raises(ValueError, match="input_names"):
        make_saver().load_dataframe(df)
    loaded = make_saver()
    loaded.load_dataframe(df, input_names=("i",))
    assert sorted(loaded.extra_data) == [0, 1, 2, 3]


def test_function_bound_from_the_dataframe_is_the_one_evaluated():
    # the runner evaluates ``saver.function``: after load_dataframe binds the frame's function
    # arguments, it must compute what the wrapped learner's function computes
    pytest.importorskip("pandas")
    source = make_saver(function=functools.partial(rich, factor=3))
    finish(source)
    df = source.to_dataframe()
    assert df["function.factor"].tolist() == [3, 3, 3, 3]

    loaded = make_saver()
    loaded.load_dataframe(df)
    assert loaded.learner.function((0, 5))["y"] == 15
    assert loaded.function((0, 5))["y"] == 15
