"""``adaptive-runner info FILE``: describe() on checkpoints of real runs and on saved files."""

from __future__ import annotations

import gzip
import json
import math
import sqlite3

import pytest

from adaptive_runner import (
    AverageLearner,
    AverageLearner1D,
    BalancingLearner,
    BlockingRunner,
    DataSaver,
    IntegratorLearner,
    Learner1D,
    Learner2D,
    LearnerND,
    SequenceLearner,
    SequentialExecutor,
    persistence,
)
from adaptive_runner.cli.errors import UsageError
from adaptive_runner.cli.info import describe, format_description, main_info
from adaptive_runner.learners.base import SAVED_FORMAT

# ---- functions (module level: the learners pickle) -----------------------------------------------


def peak(x):
    return x + math.exp(-((x - 0.3) ** 2) / 0.01)


def peak_failing_at_half(x):
    if x == 0.5:  # Learner1D asks 0.5 early: a failure at one point, deterministically
        raise ValueError("no value at x=0.5")
    return peak(x)


def ring(xy):
    x, y = xy
    return math.exp(-((x * x + y * y - 0.5) ** 2) / 0.01)


def sphere(xyz):
    return sum(c * c for c in xyz)


def noisy(seed):
    return (seed * 7919) % 101 / 100


def noisy_1d(seed_x):
    seed, x = seed_x
    return x + ((seed * 7919) % 101 - 50) / 500


def cube(x):
    return x**3


def fails_on_three(x):
    if x == 3:
        raise RuntimeError("three is not allowed")
    return x * x


def rich(x):
    return {"y": peak(x), "cost": 1}


def pick_y(result):
    return result["y"]


def as_floats(bounds):
    """Bounds as the description shows them: lists of floats."""
    if isinstance(bounds, tuple | list):
        return [as_floats(b) for b in bounds]
    return float(bounds)


def run_with_checkpoint(learner, path, **kwargs):
    kwargs.setdefault("executor", SequentialExecutor())
    return BlockingRunner(learner, checkpoint=path, **kwargs)


def checkpoint_cases():
    return {
        "1d": (lambda: Learner1D(peak, (-1, 1)), {"npoints_goal": 40}),
        "2d": (lambda: Learner2D(ring, [(-1, 1), (-1, 1)]), {"npoints_goal": 40}),
        "nd": (lambda: LearnerND(sphere, [(-1, 1), (-1, 1), (-1, 1)]), {"npoints_goal": 30}),
        "average1d": (lambda: AverageLearner1D(noisy_1d, (0, 1)), {"npoints_goal": 60}),
        "sequence": (lambda: SequenceLearner(cube, range(12)), {}),
        "balancing": (
            lambda: BalancingLearner([Learner1D(peak, (-1, 1)), Learner1D(cube, (0, 2))]),
            {"npoints_goal": 30},
        ),
    }


# ---- checkpoints ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(checkpoint_cases()))
def test_checkpoint_matches_the_run(tmp_path, kind):
    make, goal = checkpoint_cases()[kind]
    learner = make()
    path = tmp_path / "run.sqlite"
    run_with_checkpoint(learner, path, **goal)
    d = describe(str(path))
    assert d["kind"] == "checkpoint"
    assert d["learner_type"] == f"{type(learner).__module__}.{type(learner).__qualname__}"
    assert d["npoints"] == learner.npoints
    assert d["loss"] == learner.loss()
    assert d["evaluations"] == d["successes"] == d["distinct_points"]
    assert d["failures"] == d["failing_points"] == d["retried_points"] == 0
    if hasattr(learner, "bounds"):
        assert d["bounds"] == as_floats(learner.bounds)
    json.dumps(d)  # JSON-ready
    text = format_description(d)
    assert f"points: {learner.npoints}" in text


def test_checkpoint_with_a_failure_and_retries(tmp_path):
    learner = Learner1D(peak_failing_at_half, (0, 1))
    path = tmp_path / "run.sqlite"
    runner = run_with_checkpoint(
        learner, path, npoints_goal=25, retries=2, raise_if_retries_exceeded=False
    )
    assert runner.failed == [0.5]
    d = describe(str(path))
    assert d["npoints"] == learner.npoints == 25
    assert d["loss"] == learner.loss()
    assert d["bounds"] == [0.0, 1.0]
    assert d["failures"] == 3  # the first attempt and two retries
    assert d["successes"] == 25
    assert d["evaluations"] == 28
    assert d["distinct_points"] == 26
    assert d["retried_points"] == 1
    assert d["failing_points"] == 1
    assert d["failing"] == [
        {"point": "0.5", "failures": 3, "error": "ValueError: no value at x=0.5"}
    ]
    text = format_description(d)
    assert "points whose latest evaluation failed: 1" in text
    assert "0.5 (3 failures): ValueError: no value at x=0.5" in text


def test_checkpoint_of_a_sequence_with_a_failing_element(tmp_path):
    learner = SequenceLearner(fails_on_three, range(6))
    path = tmp_path / "run.sqlite"
    run_with_checkpoint(learner, path, raise_if_retries_exceeded=False)
    d = describe(str(path))
    assert d["fingerprint"]["sequence_length"] == 6
    assert d["npoints"] == learner.npoints == 5
    assert d["loss"] == learner.loss()
    assert d["failing_points"] == 1
    assert d["failing"][0]["error"] == "RuntimeError: three is not allowed"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: AverageLearner(noisy, atol=0.01), "atol"),
        (lambda: IntegratorLearner(cube, (0, 1), tol=1e-8), "tol"),
        (lambda: DataSaver(Learner1D(rich, (0, 1)), pick_y), "arg_picker"),
    ],
    ids=["average", "integrator", "datasaver"],
)
def test_checkpoint_loss_unknown_when_its_settings_are_not_recorded(tmp_path, make, reason):
    learner = make()
    path = tmp_path / "run.sqlite"
    run_with_checkpoint(learner, path, npoints_goal=20)
    d = describe(str(path))
    assert d["npoints"] == learner.npoints
    assert d["loss"] is None
    assert reason in d["loss_unknown"]
    assert "loss: unknown (" in format_description(d)


def test_checkpoint_of_an_unknown_learner_type(tmp_path):
    path = tmp_path / "run.sqlite"
    run_with_checkpoint(Learner1D(peak, (0, 1)), path, npoints_goal=5)
    db = sqlite3.connect(path)
    db.execute(
        "UPDATE run SET value = ? WHERE key = 'fingerprint'", (json.dumps({"type": "x.Custom"}),)
    )
    db.commit()
    db.close()
    d = describe(str(path))
    assert d["learner_type"] == "x.Custom"
    assert d["npoints"] == 5
    assert d["loss"] is None
    assert "x.Custom is not one of adaptive_runner's learners" in d["loss_unknown"]


def test_sqlite_file_that_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(UsageError, match="not a saved learner or checkpoint"):
        describe(str(path))


# ---- saved learner files -------------------------------------------------------------------------


def saved_cases():
    return {
        "1d": (lambda: Learner1D(peak, (-1, 1)), 30),
        "2d": (lambda: Learner2D(ring, [(-1, 1), (-1, 1)]), 30),
        "nd": (lambda: LearnerND(sphere, [(-1, 1), (-1, 1), (-1, 1)]), 25),
        "average": (lambda: AverageLearner(noisy, atol=0.01), 20),
        "average1d": (lambda: AverageLearner1D(noisy_1d, (0, 1)), 40),
        "integrator": (lambda: IntegratorLearner(cube, (0, 1), tol=1e-8), 30),
        "sequence": (lambda: SequenceLearner(cube, range(12)), 7),
        "datasaver": (lambda: DataSaver(Learner1D(rich, (0, 1)), pick_y), 15),
    }


def fill(learner, npoints):
    while learner.npoints < npoints:
        points, _ = learner.ask(1)
        if not points:
            break
        learner.tell(points[0], learner.function(points[0]))


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
@pytest.mark.parametrize("kind", list(saved_cases()))
def test_saved_file_matches_the_learner(tmp_path, kind, compress):
    make, npoints = saved_cases()[kind]
    learner = make()
    fill(learner, npoints)
    fname = tmp_path / "learner.pickle"
    learner.save(fname, compress=compress)
    d = describe(str(fname))
    assert d["kind"] == "saved learner"
    assert d["compressed"] is compress
    assert d["format"] == SAVED_FORMAT
    assert d["learner_type"] == f"{type(learner).__module__}.{type(learner).__qualname__}"
    assert d["npoints"] == learner.npoints
    assert d["loss"] == learner.loss() or (math.isinf(learner.loss()) and d["loss"] == "inf")
    if hasattr(learner, "bounds"):
        assert d["bounds"] == as_floats(learner.bounds)
    json.dumps(d)
    # and the file still loads into a learner of the same type
    loaded = make()
    loaded.load(fname, compress=compress)
    assert loaded.npoints == learner.npoints
    assert loaded.loss() == learner.loss()


def test_saved_file_reports_the_recomputed_loss_without_a_recorded_one(tmp_path):
    learner = Learner2D(ring, [(-1, 1), (-1, 1)])
    fill(learner, 20)
    fname = tmp_path / "learner.pickle"
    learner.save(fname)
    envelope = persistence.load(fname)
    envelope["loss"] = None
    persistence.save(fname, envelope)
    d = describe(str(fname))
    assert d["loss"] == learner.loss()
    assert "recomputed" in d["loss_note"]


def test_saved_settings_and_loss_functions_are_described(tmp_path):
    learner = AverageLearner(noisy, atol=0.01)
    fill(learner, 10)
    fname = tmp_path / "average.pickle"
    learner.save(fname)
    d = describe(str(fname))
    assert d["options"] == {"atol": 0.01, "rtol": None, "min_npoints": 2}
    text = format_description(d)
    assert "settings: atol=0.01, min_npoints=2, rtol=None" in text
    one_d = Learner1D(peak, (0, 1))
    one_d.save(tmp_path / "1d.pickle")
    d = describe(str(tmp_path / "1d.pickle"))
    assert d["callables"]["loss_per_interval"].endswith("default_loss")


def test_balancing_learner_files(tmp_path):
    learner = BalancingLearner([Learner1D(peak, (-1, 1)), Learner1D(cube, (0, 2))])
    fill(learner, 30)
    names = [tmp_path / "a.pickle", tmp_path / "b.pickle"]
    learner.save(names)
    first, second = describe(str(names[0])), describe(str(names[1]))
    assert first["learner_type"].endswith("Learner1D")
    assert second["bounds"] == [0.0, 2.0]
    assert first["npoints"] + second["npoints"] == learner.npoints
    assert first["loss"] == learner.learners[0].loss()
    # one file for all children: described as the BalancingLearner, and it loads back
    learner.save(tmp_path / "all.pickle")
    d = describe(str(tmp_path / "all.pickle"))
    assert d["learner_type"].endswith("BalancingLearner")
    assert d["npoints"] == learner.npoints
    again = BalancingLearner([Learner1D(peak, (-1, 1)), Learner1D(cube, (0, 2))])
    again.load(tmp_path / "all.pickle")
    assert [child.data for child in again.learners] == [child.data for child in learner.learners]
    with pytest.raises(ValueError, match="BalancingLearner"):
        Learner1D(peak, (-1, 1)).load(tmp_path / "all.pickle")


def test_file_saved_before_envelopes(tmp_path):
    learner = Learner1D(peak, (0, 1))
    fill(learner, 12)
    fname = tmp_path / "old.pickle"
    persistence.save(fname, learner._get_data())  # what save wrote before
    d = describe(str(fname))
    assert d["learner_type"] is None
    assert "saved before" in d["learner_type_unknown"]
    assert d["data_type"] == "builtins.dict"
    assert d["data_length"] == 12
    text = format_description(d)
    assert "learner type: unknown (saved before" in text
    assert "data: a builtins.dict of length 12" in text
    loaded = Learner1D(peak, (0, 1))
    loaded.load(fname)  # old files still load
    assert loaded.data == learner.data


def test_loading_a_file_of_another_learner_type_names_both(tmp_path):
    learner = Learner2D(ring, [(-1, 1), (-1, 1)])
    fill(learner, 10)
    fname = tmp_path / "two_d.pickle"
    learner.save(fname)
    target = Learner1D(peak, (0, 1))
    with pytest.raises(ValueError, match=r"two_d\.pickle") as info:
        target.load(fname)
    message = str(info.value)
    assert "adaptive_runner.learners.learner2D.Learner2D" in message
    assert "adaptive_runner.learners.learner1D.Learner1D" in message
    assert target.npoints == 0


def test_a_subclass_loads_its_base_class_file(tmp_path):
    class MyLearner1D(Learner1D):
        pass

    learner = Learner1D(peak, (0, 1))
    fill(learner, 8)
    learner.save(tmp_path / "base.pickle")
    mine = MyLearner1D(peak, (0, 1))
    mine.load(tmp_path / "base.pickle")
    assert mine.data == learner.data


# ---- files that are neither ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"hello, this is text\n", "not a saved learner or checkpoint"),
        (b"", "is empty"),
        (gzip.compress(b"not a pickle at all"), "not a saved learner or checkpoint"),
        (b"\x1f\x8b\x08broken gzip", "not a saved learner or checkpoint"),
        (bytes(range(256)), "not a saved learner or checkpoint"),
    ],
    ids=["text", "empty", "gzip-not-pickle", "broken-gzip", "binary"],
)
def test_not_a_saved_learner(tmp_path, content, match):
    fname = tmp_path / "file.dat"
    fname.write_bytes(content)
    with pytest.raises(UsageError, match=match):
        describe(str(fname))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        describe(str(tmp_path / "missing.pickle"))
    with pytest.raises(UsageError, match="is a directory"):
        describe(str(tmp_path))


def test_main_info_prints_text_or_json(tmp_path, capsys):
    learner = Learner1D(peak, (0, 1))
    fill(learner, 9)
    fname = tmp_path / "learner.pickle"
    learner.save(fname)
    assert main_info(str(fname), as_json=False) == 0
    out = capsys.readouterr().out
    assert "learner type: adaptive_runner.learners.learner1D.Learner1D" in out
    assert "points: 9" in out
    assert main_info(str(fname), as_json=True) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["npoints"] == 9
    assert d["loss"] == learner.loss()
    with pytest.raises(UsageError):
        main_info(str(tmp_path / "missing"), as_json=False)
