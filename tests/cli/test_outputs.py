"""``--output`` and ``--plot`` files: the checks before a run, the data files read back with
the usual readers (pandas, pyarrow, json, numpy), the pictures, and atomic writes."""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import warnings
from operator import itemgetter
from pathlib import Path

import numpy as np
import pytest

from adaptive_runner.cli import outputs
from adaptive_runner.cli.errors import UsageError
from adaptive_runner.cli.outputs import (
    DATA_SUFFIXES,
    PLOT_SUFFIXES,
    check_data_path,
    check_plot_path,
    write_data,
    write_plot,
)
from adaptive_runner.learners import (
    AverageLearner,
    AverageLearner1D,
    BalancingLearner,
    DataSaver,
    IntegratorLearner,
    Learner1D,
    Learner2D,
    LearnerND,
    SequenceLearner,
)

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

#: before pandas 3 read_csv needs asking for exact (round-trip) float parsing
CSV_OPTIONS = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}


# ---- learners ------------------------------------------------------------------------------------
def run(learner, npoints: int):
    """Ask and tell one point at a time, ``npoints`` times (deterministic)."""
    for _ in range(npoints):
        points, _ = learner.ask(1)
        if not points:
            break
        for point in points:
            learner.tell(point, learner.function(point))
    return learner


def wave(x):
    return math.sin(5 * x) + 0.1 * x


def saddle(point):
    x, y = point
    return x * y + 0.25 * x


def noise(seed):
    return float(np.random.default_rng(seed).normal())


def noisy_line(point):
    seed, x = point
    return x + float(np.random.default_rng(seed).normal(scale=0.1))


def square(element):
    return element**2


def with_extra(x):
    return {"y": wave(x), "note": f"at {x:.3f}"}


def make_learner(kind: str):
    if kind == "1d":
        return run(Learner1D(wave, (-1.0, 1.0)), 25)
    if kind == "1d-vector":
        return run(Learner1D(lambda x: [wave(x), x * x, -x], (-1.0, 1.0)), 15)
    if kind == "2d":
        return run(Learner2D(saddle, [(-1.0, 1.0), (-1.0, 2.0)]), 20)
    if kind == "2d-vector":
        return run(Learner2D(lambda p: [saddle(p), p[0]], [(-1.0, 1.0), (-1.0, 1.0)]), 12)
    if kind == "nd":
        return run(LearnerND(saddle, [(-1.0, 1.0), (0.0, 1.0)]), 20)
    if kind == "nd-3d":
        return run(LearnerND(lambda p: p[0] * p[1] - p[2], [(-1.0, 1.0)] * 3), 15)
    if kind == "average":
        return run(AverageLearner(noise, atol=0.01), 20)
    if kind == "average1d":
        return run(AverageLearner1D(noisy_line, (-1.0, 1.0), min_samples=2), 40)
    if kind == "integrator":
        return run(IntegratorLearner(math.exp, (0.0, 1.0), tol=1e-6), 20)
    if kind == "sequence":
        return run(SequenceLearner(square, [0.5 * i for i in range(12)]), 7)
    if kind == "sequence-objects":
        sequence = [[i, i + 0.5] for i in range(5)]
        return run(SequenceLearner(lambda p: {"sum": p[0] + p[1]}, sequence), 5)
    if kind == "datasaver":
        return run(DataSaver(Learner1D(with_extra, (-1.0, 1.0)), itemgetter("y")), 10)
    if kind == "balancing":
        children = [Learner1D(wave, (-1.0, 1.0)), Learner1D(square, (0.0, 2.0))]
        return run(BalancingLearner(children), 16)
    raise ValueError(kind)


DATA_KINDS = [
    "1d",
    "1d-vector",
    "2d",
    "2d-vector",
    "nd",
    "nd-3d",
    "average",
    "average1d",
    "integrator",
    "sequence",
    "sequence-objects",
    "datasaver",
    "balancing",
]
#: the learner kinds the command line runs, and what their plot draws
PLOT_KINDS = ["1d", "1d-vector", "2d", "2d-vector", "nd", "average", "average1d"]
PLOT_KINDS += ["integrator", "sequence", "datasaver", "balancing"]


@pytest.fixture(scope="module")
def learners():
    cache = {}

    def get(kind):
        if kind not in cache:
            cache[kind] = make_learner(kind)
        return cache[kind]

    return get


# ---- what the files must hold, from the learners' data ------------------------------------------
def expected_table(learner) -> dict[str, list]:
    """The columns each kind's file must have, computed from the learner's ``data`` here."""
    kind = type(learner).__name__
    if kind in ("Learner1D", "IntegratorLearner"):
        rows = sorted(learner.data.items())
        return {"x": [x for x, _ in rows], **vector_columns("y", [y for _, y in rows])}
    if kind == "Learner2D":
        rows = sorted(learner.data.items())
        columns = {"x": [p[0] for p, _ in rows], "y": [p[1] for p, _ in rows]}
        return columns | vector_columns("z", [v for _, v in rows])
    if kind == "LearnerND":
        rows = sorted(learner.data.items())
        columns = {f"x{i}": [p[i] for p, _ in rows] for i in range(learner.ndim)}
        return columns | vector_columns("value", [v for _, v in rows])
    if kind == "AverageLearner":
        rows = sorted(learner.data.items())
        return {"seed": [s for s, _ in rows], "y": [y for _, y in rows]}
    if kind == "AverageLearner1D":
        xs = sorted(learner.data)
        samples = [list(learner.samples[x].values()) for x in xs]
        return {
            "x": xs,
            "y": [learner.data[x] for x in xs],
            "nsamples": [len(s) for s in samples],
            "std": [statistics.stdev(s) if len(s) > 1 else math.nan for s in samples],
        }
    if kind == "SequenceLearner":
        indices = sorted(learner.data)
        points = [learner.sequence[i] for i in indices]
        values = [learner.data[i] for i in indices]
        columns = {"index": indices} | vector_columns("point", points)
        return columns | vector_columns("value", values)
    if kind == "DataSaver":
        inner = expected_table(learner.learner)
        return inner | {"extra_data": [learner.extra_data[x] for x in inner["x"]]}
    if kind == "BalancingLearner":
        parts = [expected_table(child) for child in learner.learners]
        indices = [i for i, part in enumerate(parts) for _ in part["x"]]
        return {"learner_index": indices} | {
            name: [v for part in parts for v in part[name]] for name in parts[0]
        }
    raise ValueError(kind)


def vector_columns(name: str, values: list) -> dict[str, list]:
    vectors = values and all(isinstance(v, list | tuple | np.ndarray) for v in values)
    if vectors and all(not isinstance(c, dict) for v in values for c in v):
        return {f"{name}_{k}": [v[k] for v in values] for k in range(len(values[0]))}
    return {name: list(values)}


def read_back(path: Path) -> tuple[str | None, dict[str, list]]:
    """(learner name if the format stores it, {column: values}) with the usual readers."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        df = pd.read_csv(path, **CSV_OPTIONS)
        return None, {c: df[c].tolist() for c in df.columns}
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        metadata = pq.read_schema(path).metadata or {}
        df = pd.read_parquet(path)
        name = metadata[b"adaptive_runner.learner"].decode()
        return name, {c: df[c].tolist() for c in df.columns}
    if suffix == ".json":
        with open(path, encoding="utf-8") as file:
            document = json.load(file, parse_constant=reject_constant)
        assert document["format"] == "adaptive-runner-data"
        assert document["version"] == 1
        assert all(len(row) == len(document["columns"]) for row in document["rows"])
        columns = {
            c: [row[k] for row in document["rows"]] for k, c in enumerate(document["columns"])
        }
        return document["learner"], columns
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            names = archive["columns"].tolist()
            assert sorted(archive.files) == sorted([*names, "learner", "columns"])
            return str(archive["learner"]), {c: archive[c].tolist() for c in names}
    raise ValueError(suffix)


def assert_same_number(name, got, want):
    if math.isnan(want):
        assert math.isnan(got), (name, got)
    elif name == "std":
        # np.std and statistics.stdev may round differently in the last bit
        assert got == pytest.approx(want, rel=1e-12, abs=0), (name, got, want)
    else:
        assert got == want, (name, got, want)  # exact: the files keep every bit


def reject_constant(token):
    raise AssertionError(f"the JSON file has the non-standard constant {token}")


def from_json_number(value):
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        return float(value)
    return value


def assert_same_column(name, read, expected, suffix):
    assert len(read) == len(expected), name
    for got, want in zip(read, expected, strict=True):
        if isinstance(want, str) or (suffix != ".json" and isinstance(want, dict | list)):
            # strings stay strings; other objects are JSON text outside .json files
            want_text = want if isinstance(want, str) else json.dumps(want)
            assert got == want_text, name
        elif isinstance(want, dict | list):
            assert got == want, name
        else:
            number = from_json_number(got) if suffix == ".json" else got
            assert_same_number(name, number, float(want))


# ---- data files ----------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", DATA_SUFFIXES)
@pytest.mark.parametrize("kind", DATA_KINDS)
def test_data_file_holds_the_learners_data(tmp_path, learners, kind, suffix):
    learner = learners(kind)
    path = check_data_path(str(tmp_path / f"result{suffix}"))
    write_data(learner, path)
    name, columns = read_back(path)
    expected = expected_table(learner)
    assert list(columns) == list(expected)
    assert len(expected[next(iter(expected))]) > 0
    for column, values in expected.items():
        assert_same_column(column, columns[column], values, suffix)
    if name is not None:
        assert name == type(learner).__name__
    assert os.listdir(tmp_path) == [path.name]  # no temporary file left behind


@pytest.mark.parametrize("suffix", DATA_SUFFIXES)
def test_integer_columns_stay_integers(tmp_path, learners, suffix):
    path = tmp_path / f"average{suffix}"
    write_data(learners("average"), path)
    _, columns = read_back(path)
    assert all(type(seed) is int for seed in columns["seed"])
    assert all(type(y) is float for y in columns["y"])


@pytest.mark.parametrize("suffix", DATA_SUFFIXES)
def test_nan_and_infinities_round_trip(tmp_path, suffix):
    learner = Learner1D(wave, (-1.0, 1.0))
    learner.tell_many([-1.0, 0.0, 0.5, 1.0], [math.nan, math.inf, -math.inf, 0.1])
    path = tmp_path / f"special{suffix}"
    write_data(learner, path)
    _, columns = read_back(path)  # the JSON reader rejects NaN/Infinity constants
    ys = [from_json_number(y) for y in columns["y"]]
    assert columns["x"] == [-1.0, 0.0, 0.5, 1.0]
    assert math.isnan(ys[0])
    assert ys[1:] == [math.inf, -math.inf, 0.1]


def test_json_layout(tmp_path, learners):
    path = tmp_path / "data.json"
    write_data(learners("sequence-objects"), path)
    document = json.loads(path.read_text())
    assert set(document) == {"format", "version", "learner", "columns", "rows"}
    assert document["learner"] == "SequenceLearner"
    assert document["columns"] == ["index", "point_0", "point_1", "value"]
    assert document["rows"][0] == [0, 0.0, 0.5, {"sum": 0.5}]


@pytest.mark.parametrize("suffix", DATA_SUFFIXES)
def test_strings_stay_strings(tmp_path, suffix):
    learner = run(SequenceLearner(lambda word: len(word) + 0.5, ["a", "bb", "ccc"]), 3)
    path = tmp_path / f"words{suffix}"
    write_data(learner, path)
    _, columns = read_back(path)
    assert columns["point"] == ["a", "bb", "ccc"]
    assert columns["value"] == [1.5, 2.5, 3.5]


EMPTY_COLUMNS = {
    "1d": (lambda: Learner1D(wave, (0.0, 1.0)), ["x", "y"]),
    "2d": (lambda: Learner2D(saddle, [(0.0, 1.0), (0.0, 1.0)]), ["x", "y", "z"]),
    "nd": (lambda: LearnerND(saddle, [(0.0, 1.0), (0.0, 1.0)]), ["x0", "x1", "value"]),
    "average": (lambda: AverageLearner(noise, atol=0.1), ["seed", "y"]),
    "average1d": (lambda: AverageLearner1D(noisy_line, (0.0, 1.0)), ["x", "y", "nsamples", "std"]),
    "integrator": (lambda: IntegratorLearner(math.exp, (0.0, 1.0), tol=1e-3), ["x", "y"]),
    "sequence": (lambda: SequenceLearner(square, [1, 2]), ["index", "point", "value"]),
}


@pytest.mark.parametrize("suffix", DATA_SUFFIXES)
@pytest.mark.parametrize("kind", list(EMPTY_COLUMNS))
def test_an_empty_learner_writes_a_valid_empty_file(tmp_path, kind, suffix):
    make, names = EMPTY_COLUMNS[kind]
    path = tmp_path / f"empty{suffix}"
    write_data(make(), path)
    _, columns = read_back(path)
    assert list(columns) == names
    assert all(values == [] for values in columns.values())


def test_suffix_is_case_insensitive(tmp_path, learners):
    path = check_data_path(str(tmp_path / "RESULT.CSV"))
    write_data(learners("1d"), path)
    assert pd.read_csv(path).columns.tolist() == ["x", "y"]


# ---- atomic writes -------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", DATA_SUFFIXES)
def test_an_existing_file_is_replaced(tmp_path, learners, suffix):
    path = tmp_path / f"data{suffix}"
    path.write_bytes(b"old contents " * 1000)
    path.chmod(0o640)
    write_data(learners("integrator"), path)
    _, columns = read_back(path)
    assert columns["x"] == sorted(learners("integrator").data)
    assert path.stat().st_mode & 0o777 == 0o640  # the file keeps its permissions
    assert os.listdir(tmp_path) == [path.name]


def test_a_new_file_gets_the_usual_permissions(tmp_path, learners):
    old = os.umask(0o027)
    try:
        write_data(learners("1d"), tmp_path / "data.csv")
    finally:
        os.umask(old)
    assert (tmp_path / "data.csv").stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("suffix", DATA_SUFFIXES)
def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path, learners, monkeypatch, suffix
):
    path = tmp_path / f"data{suffix}"
    path.write_text("earlier results")
    writer = f"_write_{suffix[1:]}"

    def crash(temporary, name, columns):
        Path(temporary).write_text("half a fi")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(outputs, writer, crash)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_data(learners("1d"), path)
    assert path.read_text() == "earlier results"
    assert os.listdir(tmp_path) == [path.name]


def test_a_failed_plot_leaves_the_old_file(tmp_path, learners):
    path = tmp_path / "picture.png"
    path.write_bytes(b"earlier picture")
    with pytest.raises(ValueError, match="3 dimensions"):
        write_plot(learners("nd-3d"), path)
    assert path.read_bytes() == b"earlier picture"
    assert os.listdir(tmp_path) == [path.name]


# ---- pictures ------------------------------------------------------------------------------------
def assert_png(path: Path):
    from matplotlib.image import imread

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(path)
    assert image.ndim == 3
    assert image.shape[0] > 100
    assert image.shape[1] > 100
    assert image.std() > 0  # not a blank picture


def assert_html(path: Path, learner):
    text = path.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html>")
    assert "Bokeh" in text
    assert '"roots"' in text  # bokeh's embedded document (its JSON)
    assert f"<title>{type(learner).__name__}: {learner.npoints} points</title>" in text


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("suffix", PLOT_SUFFIXES)
@pytest.mark.parametrize("kind", PLOT_KINDS)
def test_picture_of_each_learner(tmp_path, learners, kind, suffix):
    learner = learners(kind)
    path = check_plot_path(str(tmp_path / f"picture{suffix}"), learner)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_plot(learner, path)
    if suffix == ".png":
        assert_png(path)
    else:
        assert_html(path, learner)
    assert os.listdir(tmp_path) == [path.name]


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("suffix", PLOT_SUFFIXES)
@pytest.mark.parametrize("kind", list(EMPTY_COLUMNS))
def test_picture_of_an_empty_learner(tmp_path, kind, suffix):
    learner = EMPTY_COLUMNS[kind][0]()
    path = tmp_path / f"empty{suffix}"
    write_plot(learner, path)
    assert path.stat().st_size > 0
    if suffix == ".png":
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert_html(path, learner)


def test_png_does_not_pile_up_figures(tmp_path, learners):
    import matplotlib.pyplot as plt

    mine = plt.figure()
    try:
        for i, kind in enumerate(["1d", "2d-vector", "balancing"]):
            write_plot(learners(kind), tmp_path / f"picture{i}.png")
        assert plt.get_fignums() == [mine.number]  # and the caller's figure is still open
    finally:
        plt.close(mine)


@pytest.mark.parametrize("kind", ["average", "average1d", "integrator"])
def test_png_of_bokeh_styled_plots_logs_nothing(tmp_path, learners, capfd, caplog, kind):
    # these plots set bokeh-only options (line_width); with bokeh's extension loaded too,
    # holoviews would log a warning for each: nothing about them may reach the terminal
    import holoviews as hv

    hv.renderer("bokeh")
    write_plot(learners(kind), tmp_path / "picture.png")
    assert [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")] == []
    assert capfd.readouterr().err == ""


def test_sequence_results_that_are_not_numbers_have_no_picture(tmp_path, learners):
    with pytest.raises(ValueError, match="real numbers"):
        write_plot(learners("sequence-objects"), tmp_path / "picture.png")
    assert os.listdir(tmp_path) == []


# ---- the checks before a run ---------------------------------------------------------------------
def usage_error(call, *args) -> str:
    with pytest.raises(UsageError) as info:
        call(*args)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("name", ["result.txt", "result", "result.csv.gz", "result.png"])
def test_unknown_data_suffix(tmp_path, name):
    message = usage_error(check_data_path, str(tmp_path / name))
    assert message.startswith("--output ")
    assert name in message
    assert ".csv, .parquet, .json, .npz" in message


@pytest.mark.parametrize("name", ["picture.jpg", "picture.svg", "picture", "picture.csv"])
def test_unknown_plot_suffix(tmp_path, learners, name):
    message = usage_error(check_plot_path, str(tmp_path / name), learners("1d"))
    assert message.startswith("--plot ")
    assert name in message
    assert ".png, .html" in message


@pytest.mark.parametrize("check", ["data", "plot"])
def test_bad_places(tmp_path, learners, check):
    learner = learners("1d")
    suffix = ".csv" if check == "data" else ".png"

    def call(path):
        if check == "data":
            return usage_error(check_data_path, str(path))
        return usage_error(check_plot_path, str(path), learner)

    assert "does not exist" in call(tmp_path / "missing" / f"out{suffix}")
    folder = tmp_path / f"folder{suffix}"
    folder.mkdir()
    assert "is a folder" in call(folder)
    regular = tmp_path / "notes.txt"
    regular.write_text("a file, not a folder")
    assert "is not a folder" in call(regular / f"out{suffix}")
    assert sorted(os.listdir(tmp_path)) == [f"folder{suffix}", "notes.txt"]  # nothing written
    assert call("").endswith(
        f"give a file ending in {', '.join(DATA_SUFFIXES if check == 'data' else PLOT_SUFFIXES)}"
    )


def test_a_folder_that_os_access_calls_unwritable(tmp_path, monkeypatch):
    monkeypatch.setattr(outputs.os, "access", lambda path, mode: False)
    message = usage_error(check_data_path, str(tmp_path / "out.csv"))
    assert "is not writable" in message


def test_a_folder_where_creating_a_file_fails(tmp_path, monkeypatch):
    # e.g. a network file system that maps root to nobody: os.access says yes, writing says no
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(outputs.tempfile, "mkstemp", refuse)
    message = usage_error(check_data_path, str(tmp_path / "out.json"))
    assert "cannot write in the folder" in message
    assert "Permission denied" in message


def test_a_folder_nobody_can_write_in():
    # sysfs refuses new files to everyone, root included (a chmod-ed folder would not stop
    # root, who runs the tests in CI)
    message = usage_error(check_data_path, "/sys/out.npz")
    assert "--output '/sys/out.npz': cannot write in the folder '/sys'" in message
    message = usage_error(check_plot_path, "/sys/picture.png", Learner1D(wave, (0, 1)))
    assert "cannot write in the folder '/sys'" in message


def test_the_checks_leave_nothing_behind(tmp_path, learners):
    check_data_path(str(tmp_path / "out.parquet"))
    check_plot_path(str(tmp_path / "out.html"), learners("2d"))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "package"),
    [("out.parquet", "pyarrow"), ("out.png", "matplotlib"), ("out.html", "bokeh")],
)
def test_a_missing_package(tmp_path, learners, monkeypatch, name, package):
    monkeypatch.setitem(sys.modules, package, None)  # makes `import package` fail
    if name.endswith(".parquet"):
        message = usage_error(check_data_path, str(tmp_path / name))
    else:
        message = usage_error(check_plot_path, str(tmp_path / name), learners("1d"))
    assert f"need {package}, which is not installed" in message
    assert "pip install 'adaptive-runner[cli]'" in message


def test_holoviews_missing(tmp_path, learners, monkeypatch):
    monkeypatch.setitem(sys.modules, "holoviews", None)
    message = usage_error(check_plot_path, str(tmp_path / "out.png"), learners("1d"))
    assert "need holoviews, which is not installed" in message


@pytest.mark.parametrize("suffix", [".csv", ".json", ".npz"])
def test_formats_that_need_no_optional_package(tmp_path, monkeypatch, suffix):
    for package in ("pandas", "pyarrow", "holoviews"):
        monkeypatch.setitem(sys.modules, package, None)
    path = check_data_path(str(tmp_path / f"out{suffix}"))
    learner = Learner1D(wave, (0.0, 1.0))
    learner.tell_many([0.0, 1.0], [1.0, 2.0])
    write_data(learner, path)
    assert path.stat().st_size > 0


@pytest.mark.parametrize("wrap", ["plain", "datasaver", "balancing"])
def test_a_learner_nd_of_three_dimensions_cannot_be_drawn(tmp_path, wrap):
    learner = LearnerND(saddle, [(0.0, 1.0)] * 3)
    if wrap == "datasaver":
        learner = DataSaver(learner, itemgetter(0))
    elif wrap == "balancing":
        learner = BalancingLearner([learner, LearnerND(saddle, [(0.0, 1.0)] * 3)])
    message = usage_error(check_plot_path, str(tmp_path / "out.png"), learner)
    assert message.startswith("--plot ")
    assert "LearnerND of 3 dimensions cannot be drawn" in message
    assert os.listdir(tmp_path) == []
