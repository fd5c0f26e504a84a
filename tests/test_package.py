"""The package surface: public names, lazy optional imports, utils, the demo job."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import adaptive_runner as adaptive
from adaptive_runner import demo, utils


@pytest.mark.parametrize(
    "name",
    [
        "AsyncRunner",
        "AverageLearner",
        "AverageLearner1D",
        "BalancingLearner",
        "BaseLearner",
        "BlockingRunner",
        "DataSaver",
        "DivergentIntegralError",
        "IntegratorLearner",
        "Learner1D",
        "Learner2D",
        "LearnerND",
        "Runner",
        "SequenceLearner",
        "SequentialExecutor",
        "auto_goal",
        "make_datasaver",
        "replay_log",
        "simple",
        "stop_after",
    ],
)
def test_public_names_are_importable_from_the_top_level(name):
    assert name in adaptive.__all__
    assert getattr(adaptive, name) is not None


def test_compatible_module_paths():
    assert adaptive.Runner is adaptive.AsyncRunner
    assert adaptive.runner.SequentialExecutor is utils.SequentialExecutor
    assert adaptive.runner.simple is adaptive.simple
    assert adaptive.runner.replay_log is adaptive.replay_log
    # python-adaptive's learner module paths
    from adaptive_runner.learner import average_learner, average_learner1D, integrator_learner
    from adaptive_runner.learner.learner1D import Learner1D, curvature_loss_function

    assert Learner1D is adaptive.Learner1D
    assert callable(curvature_loss_function())
    assert average_learner.AverageLearner is adaptive.AverageLearner
    assert average_learner1D.AverageLearner1D is adaptive.AverageLearner1D
    assert integrator_learner.DivergentIntegralError is adaptive.DivergentIntegralError
    assert adaptive.learner.IntegratorLearner is adaptive.IntegratorLearner
    from adaptive_runner.learner.learner2D import Learner2D, thresholded_loss_function
    from adaptive_runner.learner.learnerND import LearnerND
    from adaptive_runner.learner.learnerND import curvature_loss_function as nd_curv

    assert Learner2D is adaptive.Learner2D
    assert LearnerND is adaptive.LearnerND
    assert callable(thresholded_loss_function(lower_threshold=0))
    assert nd_curv().nth_neighbors == 1
    assert adaptive.learner.learner2D.default_loss is not adaptive.learner.learnerND.default_loss


def test_import_is_lazy_about_optional_dependencies():
    code = (
        "import sys, adaptive_runner; "
        "heavy = {'pandas', 'holoviews', 'ipywidgets', 'distributed', 'dask', 'bokeh', "
        "'ipyparallel', 'mpi4py', 'loky', 'scipy'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_named_product():
    assert utils.named_product(a=[1, 2], b="xy") == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
    ]
    assert utils.named_product() == [{}]


def test_cache_latest_keeps_the_latest_value():
    class Thing:
        def __init__(self):
            self.calls = 0

        @utils.cache_latest
        def value(self, k=1):
            self.calls += 1
            return self.calls * k

    thing = Thing()
    assert thing.value() == 1
    assert thing.value(k=10) == 20
    assert thing._cache == {"value": 20}
    assert Thing.value.__name__ == "value"


def test_restore_gives_the_learner_its_data_back():
    learner = adaptive.SequenceLearner(abs, range(5))
    learner.tell((0, 0), 0)
    with adaptive.utils.restore(learner):
        learner.tell_many([(1, 1), (2, 2)], [1, 2])
        assert learner.npoints == 3
    assert dict(learner.data) == {0: 0}
    assert learner.ask(1)[0] == [(1, 1)]


def test_utils_save_and_load_round_trip(tmp_path):
    data = {"a": [1, 2, 3], "f": lambda x: x + 1}
    utils.save(tmp_path / "data.pickle", data)
    loaded = utils.load(tmp_path / "data.pickle")
    assert loaded["a"] == [1, 2, 3]
    assert loaded["f"](1) == 2


def test_the_readme_demo_job_runs_and_saves(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "adaptive_runner",  # what the README's `adaptive-runner demo` runs
            "demo",
            "--n-omega",
            "4",
            "--loss-goal",
            "0.1",
            "--output",
            "out",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "evaluated 20 settings" in out.stdout
    lines = out.stdout.splitlines()
    assert any(line.startswith("finished") and "points: 20" in line for line in lines)
    learner = adaptive.SequenceLearner(abs, demo.settings(4))
    learner.load(tmp_path / "out" / "learner.pickle")
    assert learner.npoints == 20
    # stage 2: the Learner1D scan reached its loss goal, with the peak found near omega = 1
    curve = adaptive.Learner1D(demo.resonance_curve, bounds=demo.OMEGA_RANGE)
    curve.load(tmp_path / "out" / "resonance.pickle")
    assert curve.loss() <= 0.1
    assert f"resonance curve: {curve.npoints} points" in out.stdout
    omega, amplitude = max(curve.data.items(), key=lambda item: item[1])
    assert abs(omega - 1.0) < 0.02
    assert amplitude == pytest.approx(1 / (2 * 0.05), rel=0.05)  # 1 / (2 zeta) at resonance
    # the curve as a table and a picture
    table = (tmp_path / "out" / "resonance.csv").read_text().splitlines()
    assert table[0] == "x,y"
    assert {float(row.split(",")[0]): float(row.split(",")[1]) for row in table[1:]} == curve.data
    assert (tmp_path / "out" / "resonance.png").read_bytes().startswith(b"\x89PNG")
    assert f"picture: {Path('out') / 'resonance.png'}" in out.stdout
