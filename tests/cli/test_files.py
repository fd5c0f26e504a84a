"""`adaptive-runner run --output FILE --plot FILE` as a real subprocess, for every data format and
both picture formats: the files exist, hold the run's points, and are valid."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_helpers import cli, job, json_summary

pd = pytest.importorskip("pandas")
#: before pandas 3 read_csv needs asking for exact (round-trip) float parsing
CSV_OPTIONS = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}


def peak(x):
    return x + 0.01**2 / (0.01**2 + x**2)


def read_table(path):
    """The ``x`` and ``y`` columns of a data file written by --output, by its format."""
    if path.suffix == ".csv":
        frame = pd.read_csv(path, **CSV_OPTIONS)
        return frame["x"].to_numpy(), frame["y"].to_numpy()
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        return frame["x"].to_numpy(), frame["y"].to_numpy()
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as arrays:
            assert str(arrays["learner"]) == "Learner1D"
            return arrays["x"], arrays["y"]
    data = json.loads(path.read_text())
    assert data["learner"] == "Learner1D"
    assert data["columns"] == ["x", "y"]
    rows = np.array(data["rows"], dtype=float)
    return rows[:, 0], rows[:, 1]


@pytest.mark.parametrize(
    ("data_suffix", "plot_suffix"),
    [(".csv", ".png"), (".parquet", ".html"), (".npz", ".png"), (".json", ".html")],
)
def test_output_and_plot_files_of_a_run(tmp_path, data_suffix, plot_suffix):
    output = tmp_path / f"result{data_suffix}"
    picture = tmp_path / f"picture{plot_suffix}"
    result = cli(
        "run", job("peak"), "--bounds", "-1", "1", "--npoints-goal", "30",
        "--executor", "sequential", "--output", output, "--plot", picture, "--json",
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json_summary(result)
    assert summary["output"] == str(output)
    assert summary["plot"] == str(picture)
    x, y = read_table(output)
    assert len(x) == summary["npoints"] == 30
    np.testing.assert_array_equal(y, [peak(v) for v in x])  # the exact values, in every format
    content = picture.read_bytes()
    if plot_suffix == ".png":
        assert content.startswith(b"\x89PNG\r\n\x1a\n")
        import matplotlib.image

        image = matplotlib.image.imread(picture)
        assert image.shape[0] > 100
        assert image.shape[1] > 100
        assert image.std() > 0  # not a blank picture
    else:
        text = content.decode()
        assert "<html" in text.lower()
        assert "Bokeh" in text
        assert "Learner1D: 30 points" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([output.name, picture.name])
