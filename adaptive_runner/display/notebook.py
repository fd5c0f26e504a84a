"""Notebook display: the extension loader, live plots and a live status panel.

Everything here only *reads* the runner and its learner. holoviews, bokeh and ipywidgets are
imported inside the functions, so ``import adaptive_runner`` does not need them. The update
tasks are owned by the run (like periodic saving): each refreshes once more after the run ends
and then finishes, and a failing refresh never takes the run down.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import math
import numbers
import traceback
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from adaptive_runner.display.terminal import _status
from adaptive_runner.learners import (
    AverageLearner1D,
    DataSaver,
    Learner1D,
    Learner2D,
    LearnerND,
)
from adaptive_runner.runner.async_runner import AsyncRunner
from adaptive_runner.runner.summary import format_seconds

__all__ = ["active_plotting_tasks", "live_info", "live_plot", "notebook_extension"]

_INSTALL_HINT = "pip install 'adaptive-runner[notebook]'"

#: The update task of every named live plot; a new plot with the same name replaces the old one.
active_plotting_tasks: dict[Any, asyncio.Task] = {}

_extension_loaded = False


def _require(owner: str, *modules: str) -> list[Any]:
    """Import ``modules`` for ``owner``, or raise one ImportError naming all missing ones."""
    imported, missing = [], []
    for name in modules:
        try:
            imported.append(__import__(name))
        except ImportError:
            missing.append(name)
    if missing:
        raise ImportError(f"{owner} needs {', '.join(missing)}: {_INSTALL_HINT}")
    return imported


def notebook_extension(*, _inline_js: bool = True) -> None:
    """Load holoviews' bokeh plotting and check for ipywidgets, once per session.

    Call it at the top of a notebook, before :func:`live_plot` and :func:`live_info`; later
    calls do nothing. (An ``AsyncRunner`` created in a notebook runs on the kernel's own event
    loop, so no further setup is needed.)

    Parameters
    ----------
    _inline_js
        Embed bokeh's JavaScript in the notebook (True) or load it from a CDN.

    Raises
    ------
    ImportError
        When holoviews, bokeh or ipywidgets is not installed; the message names the missing
        packages.
    """
    global _extension_loaded  # noqa: PLW0603 (loading is a once-per-process event)
    if _extension_loaded:
        return
    (hv,) = _require("notebook_extension", "holoviews", "bokeh", "ipywidgets")[:1]
    hv.extension("bokeh", logo=False, inline=_inline_js)
    _extension_loaded = True


# ---- argument checks -------------------------------------------------------------------------


def _check_runner(runner: Any, owner: str) -> None:
    if not isinstance(runner, AsyncRunner):
        raise TypeError(
            f"{owner} needs an AsyncRunner (a run on an asyncio task), got runner={runner!r}"
        )


def _check_update_interval(update_interval: Any) -> float:
    if isinstance(update_interval, bool) or not isinstance(update_interval, numbers.Real):
        raise TypeError(
            f"update_interval must be a number of seconds, got update_interval={update_interval!r}"
        )
    if not (math.isfinite(update_interval) and update_interval > 0):
        raise ValueError(
            "update_interval must be a positive, finite number of seconds, "
            f"got update_interval={update_interval!r}"
        )
    return float(update_interval)


# ---- live plot ---------------------------------------------------------------------------------


class _NewPoints:
    """Which points were told since the previous frame of a live plot, as marker rows.

    A frame is identified by its number: however often holoviews evaluates one frame, it shows
    the same markers. The first frame shows the points told since the plot was made.
    """

    def __init__(self, learner: Any, ndim: int) -> None:
        self.learner = learner
        self.ndim = ndim
        self._frame: int | None = None
        self._rows = self._no_rows()
        self._state = self._snapshot()

    def _no_rows(self) -> np.ndarray:
        return np.empty((0, 2))

    def rows(self, frame: int) -> np.ndarray:
        """``(x, y)`` rows of the points told between the previous frame and ``frame``."""
        if frame != self._frame:
            self._frame = frame
            self._rows, self._state = self._told_since(self._state)
        return self._rows

    # Learner1D, Learner2D and LearnerND keep ``data`` in a dict, in the order told: the new
    # points are the last ones, read in time proportional to their number.
    def _snapshot(self) -> Any:
        return self.learner.data, len(self.learner.data)

    def _told_since(self, state: Any) -> tuple[np.ndarray, Any]:
        data, before = state
        now = self._snapshot()
        if now[0] is not data or now[1] < before:  # the data were replaced: nothing is "new"
            return self._no_rows(), now
        new = list(itertools.islice(reversed(data.items()), now[1] - before))
        if self.ndim == 2:
            rows = [point for point, _ in new]
        else:  # one marker per component of a vector output
            rows = [(x, y) for x, value in new for y in np.ravel(value)]
        return np.array(rows, dtype=float).reshape(-1, 2), now


class _NewSamples(_NewPoints):
    """For an AverageLearner1D: the x that got samples since the previous frame, at their mean."""

    def _snapshot(self) -> Any:
        samples = self.learner.samples
        return self.learner.nsamples, {x: len(told) for x, told in samples.items()}

    def _told_since(self, state: Any) -> tuple[np.ndarray, Any]:
        nsamples, counts = state
        if self.learner.nsamples == nsamples:
            return self._no_rows(), state
        now = self._snapshot()
        means = self.learner.data
        changed = [x for x, n in now[1].items() if counts.get(x) != n and x in means]
        rows = np.array([(x, means[x]) for x in changed], dtype=float)
        return rows.reshape(-1, 2), now


def _new_points_tracker(learner: Any) -> _NewPoints | None:
    """A tracker for learners whose data are points in 1D or 2D, else None."""
    while isinstance(learner, DataSaver):
        learner = learner.learner
    if isinstance(learner, AverageLearner1D):
        return _NewSamples(learner, ndim=1)
    if isinstance(learner, Learner1D):
        return _NewPoints(learner, ndim=1)
    if isinstance(learner, Learner2D) or (isinstance(learner, LearnerND) and learner.ndim == 2):
        return _NewPoints(learner, ndim=2)
    return None


def _with_markers(hv: Any, plot: Any, rows: np.ndarray, ndim: int) -> Any:
    """``plot`` with the new points on top, as red markers."""
    element = hv.Scatter if ndim == 1 else hv.Points
    markers = element(rows, label="newest points")
    if "bokeh" in hv.Store.renderers:
        markers = markers.opts(
            color="red", size=7, line_color="white", line_width=1, backend="bokeh"
        )
    if isinstance(plot, hv.Layout | hv.NdLayout):
        return plot.clone(
            {key: _with_markers(hv, item, rows, ndim) for key, item in plot.data.items()}
        )
    return plot * markers


def _ensure_plotting_backend(hv: Any) -> None:
    # styling and normalisation options need a loaded backend; in a notebook,
    # notebook_extension() loaded bokeh already
    if not hv.Store.renderers:
        import holoviews.plotting.bokeh  # noqa: F401


def live_plot(
    runner: Any,
    *,
    plotter: Callable[[Any], Any] | None = None,
    update_interval: float = 2,
    name: Any = None,
    normalize: bool = True,
) -> Any:
    """A holoviews ``DynamicMap`` of the runner's learner that refreshes while the run goes on.

    Every ``update_interval`` seconds the plot is redrawn; after the run ends it shows the final
    state once more and its update task ends. When the learner's data are points in 1D or 2D
    (``Learner1D``, ``AverageLearner1D``, ``Learner2D``, ``LearnerND`` in 2D) and no ``plotter``
    is given, the points told since the previous refresh are drawn on top as red markers (not
    in the final frame, which shows the learner alone).

    A holoviews DynamicMap keeps the kind of object of its first frame. A vector-valued
    ``Learner2D`` or ``LearnerND`` plots as one image while it has no value (its output size is
    not known yet) and as a map over components afterwards, so make its live plot once the
    first values are in, or pass a ``plotter`` that returns one kind of object (for example
    ``plotter=lambda learner: learner.plot().layout()`` once values exist).

    Parameters
    ----------
    runner
        An :class:`AsyncRunner`.
    plotter
        ``plotter(learner)`` returns the holoviews object to show; default ``learner.plot()``.
    update_interval
        Seconds between refreshes.
    name
        Plots with the same (not None) name replace each other: making a new one stops the old
        one's updates (see ``active_plotting_tasks``).
    normalize
        Rescale the axes to the data at every refresh (holoviews ``framewise``); with False the
        axes keep the ranges of the first frame.

    Returns
    -------
    holoviews.DynamicMap
        Display it as the last expression of a notebook cell.

    Examples
    --------
    >>> runner = adaptive.Runner(learner, loss_goal=0.01)      # doctest: +SKIP
    >>> runner.live_plot(update_interval=0.5)                 # doctest: +SKIP
    """
    _check_runner(runner, "live_plot")
    interval = _check_update_interval(update_interval)
    if plotter is not None and not callable(plotter):
        raise TypeError(f"plotter must be callable (learner -> plot), got plotter={plotter!r}")
    (hv,) = _require("live_plot", "holoviews")
    _ensure_plotting_backend(hv)
    learner = runner.learner
    new_points = _new_points_tracker(learner) if plotter is None else None

    def frame(counter: int) -> Any:
        plot = learner.plot() if plotter is None else plotter(learner)
        if isinstance(plot, hv.DynamicMap):
            raise TypeError(
                "live_plot cannot refresh a holoviews DynamicMap; pass a plotter that returns "
                "a static plot, e.g. plotter=lambda learner: learner.plot(dynamic=False)"
            )
        if new_points is not None:
            rows = new_points.rows(counter)
            if runner._done_event.is_set():  # the final state: no point is "newest" any more
                rows = rows[:0]
            plot = _with_markers(hv, plot, rows, new_points.ndim)
        if isinstance(plot, hv.HoloMap):
            plot = plot.layout()  # a DynamicMap cannot hold a HoloMap: its frames side by side
        if normalize:
            plot = plot.map(lambda element: element.opts(framewise=True), hv.Element)
        return plot

    refresh = hv.streams.Counter()  # each event() is a new frame number
    dmap = hv.DynamicMap(frame, streams=[refresh])

    async def keep_refreshing() -> None:
        failing = False
        while True:
            done = await runner._wait_done(interval)
            try:
                refresh.event()
                failing = False
            except Exception as e:  # a display must never take the run down
                if not failing:
                    warnings.warn(
                        f"live_plot could not refresh: {e!r}", RuntimeWarning, stacklevel=1
                    )
                failing = True
            if done:
                return

    if name is not None and name in active_plotting_tasks:
        active_plotting_tasks.pop(name).cancel()
    task = runner._start_helper(keep_refreshing())
    if name is not None:
        active_plotting_tasks[name] = task

        def forget(finished: asyncio.Task) -> None:
            if active_plotting_tasks.get(name) is finished:
                del active_plotting_tasks[name]

        task.add_done_callback(forget)
    return dmap


# ---- live info -------------------------------------------------------------------------------

_STATUS_COLOURS = {
    "running": "#1f77b4",
    "finished": "#2ca02c",
    "failed": "#d62728",
    "cancelled": "#7f7f7f",
}
_RETRYING_COLOUR = "#ff7f0e"  # running, but some points failed


def _status_html(runner: Any) -> str:
    status = _status(runner)
    colour = _STATUS_COLOURS.get(status, "black")
    if status == "running" and (runner.to_retry or runner.failed):
        colour = _RETRYING_COLOUR
    return f'<b style="color: {colour}">{html.escape(status)}</b>'


def _loss_text(learner: Any) -> str:
    try:
        loss = learner.loss()
    except Exception as e:  # a display must never take the run down
        return f"unavailable ({type(e).__name__})"
    return f"{loss:.4g}" if isinstance(loss, float) and math.isfinite(loss) else str(loss)


def _table_html(runner: Any) -> str:
    failures = f"{len(runner.failed)} failed, {len(runner.to_retry)} retrying"
    rows = [
        ("elapsed time", format_seconds(runner.elapsed_time())),
        ("overhead", f"{runner.overhead():.1f}%"),
        ("points", str(runner.learner.npoints)),
        ("latest loss", _loss_text(runner.learner)),
        ("failures", failures),
        ("goal", repr(runner.goal)),
    ]
    cells = "".join(
        f'<tr><td style="text-align: left; padding-right: 1em">{label}</td>'
        f'<td style="text-align: left">{html.escape(value)}</td></tr>'
        for label, value in rows
    )
    return f"<table>{cells}</table>"


def _exception_only(error: BaseException) -> str:
    described = traceback.TracebackException.from_exception(error)
    described.__notes__ = None  # the runner adds notes after recording the traceback
    return "".join(described.format_exception_only())


def _failure_html(runner: Any) -> str:
    """The run's error: the failing point and its traceback when a point failed it."""
    error = runner.error
    if error is None:
        return ""
    # the evaluation's own traceback (recorded when the point failed) ends like the error
    ending = _exception_only(error)
    notes = " ".join(getattr(error, "__notes__", ()))
    matches = [(point, text) for point, text in runner.tracebacks if text.endswith(ending)]
    named = [(point, text) for point, text in matches if repr(point) in notes]
    if named or matches:
        point, text = (named or matches)[0]
        heading = f"The function failed at point {point!r}:"
        text += "".join(f"{note}\n" for note in getattr(error, "__notes__", ()))
    else:
        heading = f"The run failed: {type(error).__name__}"
        text = "".join(traceback.format_exception(error))
    return (
        f'<b style="color: {_STATUS_COLOURS["failed"]}">{html.escape(heading)}</b>'
        f'<pre style="white-space: pre-wrap; font-size: smaller">{html.escape(text)}</pre>'
    )


def live_info(runner: Any, *, update_interval: float = 0.5) -> Any:
    """An ipywidgets panel showing how the run is going, updated while it runs.

    The panel shows the status (running in blue, orange when points failed, finished in green,
    failed in red, cancelled in grey), the elapsed time, the overhead, the number of points,
    the latest loss, the failures, a progress bar when the goal has a known end, and a button
    that cancels the run. When the run fails, the panel shows the failing point and its
    traceback. The update task refreshes once more after the run ends and then finishes.

    Parameters
    ----------
    runner
        An :class:`AsyncRunner`.
    update_interval
        Seconds between refreshes.

    Returns
    -------
    ipywidgets.VBox
        Display it as the last expression of a notebook cell. Its CSS class is
        ``adaptive-runner-live-info``; the status has ``adaptive-runner-status`` and the cancel
        button ``adaptive-runner-cancel``. Its ``update_task`` attribute is the asyncio task
        that refreshes it.
    """
    _check_runner(runner, "live_info")
    interval = _check_update_interval(update_interval)
    (widgets,) = _require("live_info", "ipywidgets")

    status = widgets.HTML().add_class("adaptive-runner-status")
    table = widgets.HTML()
    progress = widgets.FloatProgress(min=0.0, max=1.0, description="progress")
    failure = widgets.HTML().add_class("adaptive-runner-error")
    cancel = widgets.Button(description="Cancel", button_style="danger", tooltip="cancel the run")
    cancel.add_class("adaptive-runner-cancel")
    cancel.on_click(lambda _button: runner.cancel())
    panel = widgets.VBox([status, table, progress, failure, cancel])
    panel.add_class("adaptive-runner-live-info")

    def show(widget: Any, visible: bool) -> None:
        widget.layout.display = None if visible else "none"

    def refresh() -> None:
        status.value = _status_html(runner)
        table.value = _table_html(runner)
        try:
            fraction = runner.goal.progress(runner.learner)
        except Exception:  # a user's goal.progress that fails: no bar
            fraction = None
        if fraction is not None:
            progress.value = float(fraction)
            progress.bar_style = {"finished": "success", "failed": "danger"}.get(
                _status(runner), ""
            )
        show(progress, fraction is not None)
        failure.value = _failure_html(runner)
        show(failure, bool(failure.value))
        show(cancel, _status(runner) == "running")

    async def keep_refreshing() -> None:
        while True:
            done = await runner._wait_done(interval)
            try:
                refresh()
            except Exception as e:  # a display must never take the run down
                failure.value = html.escape(f"live_info could not refresh: {e!r}")
                show(failure, True)
            if done:
                return

    refresh()
    panel.update_task = runner._start_helper(keep_refreshing())
    return panel
