"""Results as files and pictures: ``--output`` (a data file) and ``--plot`` (a picture).

Both paths are checked before a run starts (:func:`check_data_path`, :func:`check_plot_path`),
so that a typo never costs a night of computing, and written at the end
(:func:`write_data`, :func:`write_plot`) with whatever data the learner has then.

Every write is atomic: the file is written under a temporary name in the same folder and then
moved over the target with ``os.replace``, so a crash leaves either the old file or the new one,
never half of one.

The data files hold one table: one row per point (per sample for an ``AverageLearner``, per
index for a ``SequenceLearner``), with these columns:

=================== ==========================================================================
learner             columns
=================== ==========================================================================
Learner1D           ``x``, ``y`` (a vector value: ``y_0``, ``y_1``, ...)
Learner2D           ``x``, ``y``, ``z`` (``z_0``, ``z_1``, ...)
LearnerND           ``x0``, ``x1``, ..., ``value`` (``value_0``, ``value_1``, ...)
AverageLearner      ``seed``, ``y``
AverageLearner1D    ``x``, ``y`` (the mean), ``nsamples``, ``std`` (ddof=1; NaN below 2 samples)
IntegratorLearner   ``x``, ``y``
SequenceLearner     ``index``, ``point``, ``value``
DataSaver           the wrapped learner's columns and ``extra_data`` (the whole results)
BalancingLearner    ``learner_index`` and the children's columns
=================== ==========================================================================

A ``point`` or ``value`` column of numbers stays numbers; of equal-length lists of numbers it
becomes one column per component (``value_0``, ...); of strings, strings; anything else is
written as JSON text (in ``.json`` files, as the JSON value itself).

Formats (chosen by the file's extension, in any case):

* ``.csv``: a header line with the column names, then the rows; floats in Python's shortest
  round-trip form (``nan``, ``inf``, ``-inf`` for the special values), so ``float()`` or
  ``pandas.read_csv`` (before pandas 3 with ``float_precision="round_trip"``) reads back the exact
  numbers.
* ``.parquet``: one column per name (float64, int64 or string); the learner's class name is in
  the schema metadata under ``adaptive_runner.learner``. Needs pyarrow.
* ``.json``: one object ``{"format": "adaptive-runner-data", "version": 1, "learner": NAME,
  "columns": [...], "rows": [[...], ...]}``. Valid JSON: NaN and infinities are written as the
  strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` (``float()`` reads them back).
* ``.npz``: one array per column, plus ``learner`` (the class name) and ``columns`` (the names,
  in order); it loads with ``numpy.load(path)`` (no pickle needed).

An empty learner writes a valid file with the column names and no rows.

Pictures are the learner's holoviews ``plot()``: ``.png`` drawn with matplotlib, ``.html`` with
bokeh (a page that loads bokeh's JavaScript from its CDN when opened).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import numbers
import os
import stat
import tempfile
import warnings
from collections.abc import Callable, Iterator
from importlib import import_module
from pathlib import Path
from typing import Any

import numpy as np

from adaptive_runner.cli.errors import UsageError
from adaptive_runner.cli.tables import learner_table, unwrap

__all__ = [
    "DATA_SUFFIXES",
    "PLOT_SUFFIXES",
    "check_data_path",
    "check_plot_path",
    "learner_table",
    "write_data",
    "write_plot",
]

DATA_SUFFIXES = (".csv", ".parquet", ".json", ".npz")
PLOT_SUFFIXES = (".png", ".html")

#: how to get the optional packages the outputs need
INSTALL_HINT = "pip install 'adaptive-runner[cli]'"

#: the packages each suffix needs beyond numpy and the standard library
_PACKAGES = {
    ".parquet": ("pyarrow",),
    ".png": ("holoviews", "matplotlib"),
    ".html": ("holoviews", "bokeh"),
}
#: the holoviews backend that draws each picture format
_BACKENDS = {".png": "matplotlib", ".html": "bokeh"}
#: the resolution of PNG pictures
PNG_DPI = 120

JSON_FORMAT = "adaptive-runner-data"
JSON_VERSION = 1


# ---- checks before the run -----------------------------------------------------------------------
def check_data_path(path: str) -> Path:
    """The ``--output`` path, checked before the run: a known suffix (:data:`DATA_SUFFIXES`,
    any case), an existing writable folder, not a folder itself, and the packages its format
    needs installed. Raises :class:`~adaptive_runner.cli.errors.UsageError` otherwise."""
    target = _check_target("--output", path, DATA_SUFFIXES)
    _check_packages("--output", path, _PACKAGES.get(target.suffix.lower(), ()))
    return target


def check_plot_path(path: str, learner: Any) -> Path:
    """The ``--plot`` path, checked before the run like :func:`check_data_path` (suffixes
    :data:`PLOT_SUFFIXES`; holoviews with matplotlib for ``.png``, with bokeh for ``.html``), and
    that ``learner`` is of a kind that can be drawn (not a ``LearnerND`` of more than two
    dimensions). Raises :class:`~adaptive_runner.cli.errors.UsageError` otherwise."""
    target = _check_target("--plot", path, PLOT_SUFFIXES)
    _check_packages("--plot", path, _PACKAGES[target.suffix.lower()])
    problem = _undrawable(learner)
    if problem:
        raise UsageError(f"--plot {path!r}: {problem}; leave out --plot (--output keeps the data)")
    return target


def _check_target(option: str, path: str, suffixes: tuple[str, ...]) -> Path:
    valid = ", ".join(suffixes)
    if not path:
        raise UsageError(f"{option}: the file name is empty; give a file ending in {valid}")
    target = Path(path).expanduser()
    suffix = target.suffix.lower()
    if suffix not in suffixes:
        shown = f"unknown extension {target.suffix!r}" if target.suffix else "no extension"
        raise UsageError(f"{option} {path!r}: {shown}; use a file ending in {valid}")
    if target.is_dir():
        raise UsageError(f"{option} {path!r} is a folder; give a file name ending in {valid}")
    folder = target.parent
    if not folder.exists():
        raise UsageError(f"{option} {path!r}: the folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise UsageError(f"{option} {path!r}: {str(folder)!r} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path!r}: the folder {str(folder)!r} is not writable")
    # os.access cannot see everything (e.g. network file systems that map root to nobody):
    # create and remove a temporary file, as the final write will
    try:
        descriptor, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".check", dir=folder)
    except OSError as error:
        raise UsageError(
            f"{option} {path!r}: cannot write in the folder {str(folder)!r} ({error.strerror})"
        ) from None
    os.close(descriptor)
    os.unlink(probe)
    return target


def _check_packages(option: str, path: str, packages: tuple[str, ...]) -> None:
    missing = []
    for name in packages:
        try:
            import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        suffix = Path(path).suffix.lower()
        raise UsageError(
            f"{option} {path!r}: {suffix} files need {' and '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed: {INSTALL_HINT}"
        )


def _undrawable(learner: Any) -> str | None:
    """Why ``learner`` cannot be drawn, or None when it can (as far as is known before a run:
    a SequenceLearner's results are only known after)."""
    learner = unwrap(learner)
    kind = type(learner).__name__
    if kind == "BalancingLearner":
        return _undrawable(learner.learners[0]) if learner.learners else None
    if kind == "LearnerND" and learner.ndim != 2:
        return f"a LearnerND of {learner.ndim} dimensions cannot be drawn, only one of 2 dimensions"
    if type(learner).plot is _base_plot():
        return f"a {kind} has no picture"
    return None


def _base_plot() -> Callable:
    from adaptive_runner.learners.base import BaseLearner

    return BaseLearner.plot


# ---- data files ----------------------------------------------------------------------------------
def write_data(learner: Any, path: Path) -> None:
    """Write the learner's data to ``path`` in the format its suffix names (see this module's
    docstring), atomically, replacing an existing file."""
    path = Path(path)
    suffix = path.suffix.lower()
    writers = {".csv": _write_csv, ".parquet": _write_parquet, ".json": _write_json}
    writers[".npz"] = _write_npz
    if suffix not in writers:
        raise ValueError(f"write_data: unknown suffix {path.suffix!r}; use one of {DATA_SUFFIXES}")
    name, columns = learner_table(learner)
    with _atomic_path(path) as temporary:
        writers[suffix](temporary, name, columns)


def _write_csv(path: Path, name: str, columns: dict[str, np.ndarray]) -> None:
    cells = [[_csv_cell(v) for v in column.tolist()] for column in columns.values()]
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(list(columns))
        writer.writerows(zip(*cells, strict=True))


def _csv_cell(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)  # shortest round-trip form; nan, inf, -inf
    if isinstance(value, int | str):
        return str(value)
    return _json_text(value)


def _write_parquet(path: Path, name: str, columns: dict[str, np.ndarray]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {}
    for column_name, column in columns.items():
        if column.dtype.kind == "O":
            arrays[column_name] = pa.array([_json_text(v) for v in column], type=pa.string())
        elif column.dtype.kind == "U":
            arrays[column_name] = pa.array(column.tolist(), type=pa.string())
        else:
            arrays[column_name] = pa.array(column)
    table = pa.table(arrays) if arrays else pa.table({})
    table = table.replace_schema_metadata({"adaptive_runner.learner": name})
    pq.write_table(table, path)


def _write_json(path: Path, name: str, columns: dict[str, np.ndarray]) -> None:
    values = [[_json_value(v) for v in column.tolist()] for column in columns.values()]
    document = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "learner": name,
        "columns": list(columns),
        "rows": [list(row) for row in zip(*values, strict=True)],
    }
    with open(path, "w", encoding="utf-8") as file:
        json.dump(document, file, allow_nan=False)
        file.write("\n")


def _write_npz(path: Path, name: str, columns: dict[str, np.ndarray]) -> None:
    arrays = {}
    for column_name, column in columns.items():
        if column.dtype.kind == "O":  # no pickles: JSON text
            arrays[column_name] = np.array([_json_text(v) for v in column], dtype=str)
        else:
            arrays[column_name] = column
    with open(path, "wb") as file:
        np.savez_compressed(
            file, learner=np.array(name), columns=np.array(list(columns), dtype=str), **arrays
        )


def _json_value(value: Any) -> Any:
    """``value`` as plain JSON data: non-finite floats as the strings NaN, Infinity, -Infinity;
    arrays and tuples as lists; other objects as their ``repr``."""
    if isinstance(value, np.generic):  # numpy scalars, np.bool_ included
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number):
            return number
        return "NaN" if math.isnan(number) else ("Infinity" if number > 0 else "-Infinity")
    if isinstance(value, np.ndarray):
        return [_json_value(v) for v in value.tolist()] if value.ndim else _json_value(value.item())
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return repr(value)


def _json_text(value: Any) -> str:
    return json.dumps(_json_value(value), allow_nan=False)


# ---- pictures ------------------------------------------------------------------------------------
def write_plot(learner: Any, path: Path) -> None:
    """Draw the learner (its holoviews ``plot()``) into ``path``: ``.png`` with the matplotlib
    backend, ``.html`` with bokeh (the page loads bokeh's JavaScript from its CDN). Atomic,
    replacing an existing file.

    Raises ``ValueError`` when the learner's data cannot be drawn (e.g. a SequenceLearner whose
    results are not numbers, or a LearnerND of more than 2 dimensions).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _BACKENDS:
        raise ValueError(f"write_plot: unknown suffix {path.suffix!r}; use one of {PLOT_SUFFIXES}")
    problem = _undrawable(learner)
    if problem:
        raise ValueError(f"write_plot: {problem}")
    backend = _BACKENDS[suffix]
    picture = _render(learner, backend)
    with _atomic_path(path) as temporary:
        temporary.write_bytes(picture)


def _render(learner: Any, backend: str) -> bytes:
    import holoviews as hv
    import param

    renderer = hv.renderer(backend)  # loads the backend's plotting extension
    element = _drawing(learner, hv, backend, param)
    if backend == "matplotlib":
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            # an image with no data yet is all NaN: matplotlib's colour scaling then warns,
            # though the empty picture is the right one
            warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
            renderer.instance(dpi=PNG_DPI).save(element, buffer, fmt="png")
        return buffer.getvalue()
    text = io.StringIO()
    title = f"{type(learner).__name__}: {learner.npoints} points"
    hv.save(element, text, fmt="html", backend=backend, title=title)
    return text.getvalue().encode("utf-8")


def _drawing(learner: Any, hv: Any, backend: str, param: Any) -> Any:
    """The learner's plot made with ``backend`` as the current holoviews backend (so the style
    options the plot sets go to it), as one static picture: a ``HoloMap`` (one frame per
    component of a vector, or per child of a BalancingLearner) becomes a layout of all frames."""
    previous = hv.Store.current_backend
    hv.Store.set_current_backend(backend)
    try:
        # the learners style their elements with bokeh's option names (line_width, ...):
        # holoviews logs a warning for each that another backend lacks and leaves it out
        with param.parameterized.logging_level("ERROR"):
            if type(unwrap(learner)).__name__ == "BalancingLearner":
                drawing = unwrap(learner).plot(dynamic=False)
            else:
                drawing = learner.plot()
        if backend == "matplotlib":  # small markers, so a dense region shows its points
            drawing = drawing.opts(hv.opts.Scatter(s=6), hv.opts.Curve(linewidth=1))
        if isinstance(drawing, hv.HoloMap) and not isinstance(drawing, hv.DynamicMap):
            drawing = drawing.layout()
            if backend == "matplotlib":  # room between a colour bar and the next panel
                drawing = drawing.opts(hspace=0.6)
    except NotImplementedError as error:
        raise ValueError(f"write_plot: {error}") from None
    finally:
        hv.Store.set_current_backend(previous)
    return drawing


# ---- atomic writes -------------------------------------------------------------------------------
@contextlib.contextmanager
def _atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path in ``path``'s folder to write; on success it is flushed to disk and
    moved over ``path`` (keeping an existing file's permissions, else the umask's); on failure it
    is removed and ``path`` is left as it was."""
    descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(descriptor)
    temporary = Path(name)
    try:
        yield temporary
        with open(temporary, "rb+") as file:
            os.fsync(file.fileno())
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(temporary, mode)
        os.replace(temporary, path)
        _sync_folder(path.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entry of the replaced file to disk (where the system allows it)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _umask() -> int:
    """The process's umask, read without changing it where Linux shows it."""
    with (
        contextlib.suppress(OSError, ValueError),
        open("/proc/self/status", encoding="ascii") as status,
    ):
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022
