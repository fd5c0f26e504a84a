"""Every notebook in ``notebooks/`` runs top to bottom on a real ipykernel and shows what it says.

Each notebook is executed by nbclient with this interpreter as its ``python3`` kernel. Cells that
the checks below rely on carry a tag in their metadata (``"tags": ["dataframe"]``), so the
checks find them however the notebook is rearranged. After the last cell, the test runs one more
cell in the same kernel that reads back every ``live_info`` panel the notebook displayed: a
panel still saying ``running`` means a run in the notebook never ended.
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from collections.abc import Callable
from typing import Any

import nbformat
import pytest
from jupyter_environment import (
    FINAL_STATUSES,
    KERNEL_NAME,
    cell_text,
    notebook_paths,
    strip_tags,
    write_kernelspec,
)
from nbclient import NotebookClient

#: seconds a single cell may take; the slowest cell takes a few seconds on 2 cores
CELL_TIMEOUT = 120

# Appended to each notebook in memory (never saved). ``Out`` holds every value a cell returned,
# so it has the live_info panels the notebook displayed.
PROBE_CELL = """\
import json as _json
import sys as _sys

_panels = [
    value
    for value in Out.values()
    if "adaptive-runner-live-info" in getattr(value, "_dom_classes", ())
]
_statuses = [
    child.value
    for panel in _panels
    for child in panel.children
    if "adaptive-runner-status" in getattr(child, "_dom_classes", ())
]
print(_json.dumps({"executable": _sys.executable, "live_info": _statuses}))
"""


def _number(pattern: str, text: str) -> float:
    match = re.search(pattern, text, flags=re.MULTILINE)
    assert match, f"no match for {pattern!r} in:\n{text}"
    return float(match.group(1))


# ---- what each tagged cell must show ---------------------------------------------------------


def _live_info_cell(cell: Any) -> None:
    mimes = {mime for output in cell["outputs"] for mime in output.get("data", {})}
    assert "application/vnd.jupyter.widget-view+json" in mimes, mimes
    assert "VBox" in cell_text(cell)


def _learner1d_result(cell: Any) -> None:
    text = cell_text(cell)
    assert text.startswith("finished: "), text
    npoints = _number(r"^finished: (\d+) points", text)
    loss = _number(r"loss ([\d.]+)", text)
    near_peak = _number(r"points within 0\.05 of the peak: (\d+)", text)
    assert loss <= 0.01
    # 5 % of the domain holds the peak; adaptive sampling puts far more than 5 % of points there
    assert near_peak / npoints > 0.2, text


def _shows_a_plot(cell: Any) -> None:
    mimes = {mime for output in cell["outputs"] for mime in output.get("data", {})}
    assert "application/vnd.holoviews_exec.v0+json" in mimes, mimes


def _live_plot_cell(cell: Any) -> None:
    _shows_a_plot(cell)
    assert ":DynamicMap" in cell_text(cell)


def _learner2d_plot(cell: Any) -> None:
    assert _number(r"^(\d+) points", cell_text(cell)) > 100
    _shows_a_plot(cell)


def _async_sequence(cell: Any) -> None:
    text = cell_text(cell)
    # 200 calls of 50 ms, 40 at a time: about 0.25 s; one at a time would be 10 s
    assert _number(r"200 calls in ([\d.]+) s", text) < 3, text
    assert "[0, 3, 6, 9, 12, 15, 18, 21]" in text


def _failed(cell: Any) -> None:
    text = cell_text(cell)
    assert "failed: [(13, 13)]" in text
    assert "to_retry: []" in text
    assert "(13, 13) -> ValueError: 13 is unlucky" in text
    assert "ConnectionError" not in text  # points that succeeded on a retry keep no traceback


def _strict(cell: Any) -> None:
    text = cell_text(cell)
    assert text.startswith("failed ValueError('13 is unlucky')"), text
    assert "(13, 13)" in text.splitlines()[1]  # the error's note names the point


def _save_load(cell: Any) -> None:
    text = cell_text(cell)
    assert _number(r"restored points: (\d+)", text) > 0
    assert "equal data: True" in text


def _dataframe(cell: Any) -> None:
    text = cell_text(cell)
    assert _number(r"^(\d+) rows", text) > 100
    html = "".join(o.get("data", {}).get("text/html", "") for o in cell["outputs"])
    assert "<table" in html
    assert "function.offset" in html  # the function's default arguments are columns


def _near_shell(cell: Any) -> None:
    # uniform sampling would put 23 % of the points within 0.2 of the shell
    assert _number(r"^(\d+)% of the points", cell_text(cell)) > 40


def _convex(cell: Any) -> None:
    assert "every point inside the triangle: True" in cell_text(cell)


def _average(cell: Any) -> None:
    text = cell_text(cell)
    mean = _number(r"mean ([\d.]+)", text)
    error = _number(r"± ([\d.]+)", text)
    exact = _number(r"exact ([\d.]+)", text)
    assert error <= 0.005
    assert abs(mean - exact) < 4 * 0.005, text
    _shows_a_plot(cell)


def _average1d(cell: Any) -> None:
    text = cell_text(cell)
    # the noisy step tanh(10 x) is steep near 0: that is where the samples go
    assert abs(_number(r"at x = (-?[\d.]+)", text)) < 0.3, text
    assert _number(r"(\d+) samples in all", text) > _number(r"^(\d+) values of x", text)


def _integral(cell: Any) -> None:
    text = cell_text(cell)
    assert text.startswith("done: True"), text
    assert _number(r"difference ([\d.e+-]+)", text) < 1e-9


def _divergent(cell: Any) -> None:
    assert cell_text(cell).startswith("DivergentIntegralError: the integral")


def _balance(cell: Any) -> None:
    rows = re.findall(r"width (\S+)\s+(\d+) points, loss ([\d.]+)", cell_text(cell))
    assert len(rows) == 4, cell_text(cell)
    points = {float(width): int(n) for width, n, _ in rows}
    assert all(float(loss) <= 0.02 for _, _, loss in rows)
    assert points[0.01] > points[1.0]  # the narrowest peak needed the most points


def _balance_df(cell: Any) -> None:
    text = cell_text(cell)
    nrows = _number(r"^\((\d+), \d+\)", text)
    per_learner = [int(n) for n in re.findall(r"^\d\s+(\d+)$", text, flags=re.MULTILINE)]
    assert len(per_learner) == 4
    assert sum(per_learner) == nrows


def _npoints(cell: Any) -> None:
    assert cell_text(cell).strip() == "[60, 60, 60, 60]"


def _sequence(cell: Any) -> None:
    text = cell_text(cell)
    assert text.startswith("done: True")
    periods = json.loads(text.splitlines()[-1])
    assert len(periods) == 9
    assert math.isclose(periods[3], 2 * math.pi * math.sqrt(1 / 9.81), rel_tol=0.01)


def _sequence_df(cell: Any) -> None:
    text = cell_text(cell)
    assert "{'length': 2.0, 'angle': 60}" in text
    assert len([line for line in text.splitlines() if re.match(r"^\d+\s", line)]) == 9


def _extra_data(cell: Any) -> None:
    text = cell_text(cell)
    assert math.isclose(_number(r"at frequency ([\d.]+)", text), 1.0, abs_tol=0.01)
    assert "kept there: {'amplitude': " in text
    assert "'phase': " in text


CHECKS: dict[str, dict[str, Callable[[Any], None]]] = {
    "tutorial": {
        "live-info": _live_info_cell,
        "live-plot": _live_plot_cell,
        "learner1d-result": _learner1d_result,
        "learner2d-plot": _learner2d_plot,
        "async": _async_sequence,
        "failed": _failed,
        "strict": _strict,
        "save-load": _save_load,
        "dataframe": _dataframe,
    },
    "learnerND": {"near-shell": _near_shell, "convex": _convex},
    "average_learners": {"average": _average, "average1d": _average1d},
    "integrator": {"integral": _integral, "divergent": _divergent},
    "balancing": {"balance": _balance, "balance-df": _balance_df, "npoints": _npoints},
    "sequence_datasaver": {
        "sequence": _sequence,
        "sequence-df": _sequence_df,
        "extra-data": _extra_data,
    },
}

#: the live_info panels each notebook shows, in order, with the status they end with
LIVE_INFO_STATUSES = {"tutorial": ["finished", "failed"]}


# ---- the tests ------------------------------------------------------------------------------


def test_every_notebook_with_checks_exists():
    names = {path.stem for path in notebook_paths()}
    assert set(CHECKS) <= names, f"checks for missing notebooks: {set(CHECKS) - names}"


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda path: path.name)
def test_notebook_is_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == KERNEL_NAME
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a cell has outputs:\n{cell.source}"
            assert cell.execution_count is None, f"{path.name}: executed cell:\n{cell.source}"


@pytest.fixture(scope="module")
def jupyter_data_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("jupyter-data")
    write_kernelspec(data_dir)
    return data_dir


@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", notebook_paths(), ids=lambda path: path.name)
def test_notebook_runs_and_shows_its_results(path, jupyter_data_dir, tmp_path, monkeypatch):
    # JUPYTER_PATH is searched first, so our python3 kernelspec is the one nbclient starts
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter_data_dir))
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(PROBE_CELL))
    client = NotebookClient(
        notebook,
        kernel_name=KERNEL_NAME,
        timeout=CELL_TIMEOUT,
        # the kernel works in a scratch folder: nothing a notebook writes lands in the project
        resources={"metadata": {"path": str(tmp_path)}},
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the traceback, if a cell fails
    print(f"{path.name} ran in {time.perf_counter() - start:.1f} s")

    *cells, probe_cell = notebook.cells
    probe = json.loads(cell_text(probe_cell))
    assert probe["executable"] == sys.executable  # the kernel is this environment's Python

    for cell in cells:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error"
            if output["output_type"] == "stream" and output["name"] == "stderr":
                # a warning or traceback from the package (a live display that failed) is a bug
                assert "adaptive_runner" not in output["text"], output["text"]
                assert "Traceback" not in output["text"], output["text"]

    statuses = [strip_tags(value) for value in probe["live_info"]]
    assert all(status in FINAL_STATUSES for status in statuses), statuses
    if path.stem in LIVE_INFO_STATUSES:
        assert statuses == LIVE_INFO_STATUSES[path.stem]

    tagged = {tag: cell for cell in cells for tag in cell.get("metadata", {}).get("tags", [])}
    for tag, check in CHECKS.get(path.stem, {}).items():
        assert tag in tagged, f"{path.name} has no cell tagged {tag!r}"
        check(tagged[tag])
