"""Notebook display: live plots, the live status panel and the extension loader.

No browser: real holoviews DynamicMaps rendered by the real bokeh plotting code (as a notebook
does, minus the comm), real ipywidgets, and real AsyncRunners on an asyncio event loop.
"""

from __future__ import annotations

import asyncio
import math
import sys
from collections.abc import Callable

import numpy as np
import pytest

hv = pytest.importorskip("holoviews")
widgets = pytest.importorskip("ipywidgets")
pytest.importorskip("bokeh")

import adaptive_runner as adaptive  # noqa: E402
from adaptive_runner.display import notebook  # noqa: E402

TIMEOUT = 4.0


async def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Let the event loop run until ``condition()`` holds; fail after TIMEOUT seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while not condition():
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        await asyncio.sleep(0.002)


async def finish(runner: adaptive.AsyncRunner) -> None:
    """Wait for the run to end, whatever its outcome."""
    await asyncio.wait_for(asyncio.wait([runner.task]), TIMEOUT)


class Gate:
    """An ``async`` function whose evaluations wait until the test lets them through."""

    def __init__(self, function: Callable) -> None:
        self.function = function
        self.passes = asyncio.Semaphore(0)

    def let_through(self, n: int) -> None:
        for _ in range(n):
            self.passes.release()

    async def __call__(self, x):
        await self.passes.acquire()
        return self.function(x)


def render(dmap):
    """Draw the DynamicMap with bokeh, as a notebook does: the plot follows the stream."""
    return hv.renderer("bokeh").get_plot(dmap)


def record_frames(dmap, plot, learner, snapshot: Callable) -> list:
    """After every refresh of the drawn plot: (the frame shown, ``snapshot(learner)``)."""
    frames = []
    # the plot refreshes at precedence 1.1 (holoviews' attach_streams): record right after it
    dmap.streams[0].add_subscriber(
        lambda **_: frames.append((plot.current_frame, snapshot(learner))), precedence=1.2
    )
    return frames


def newest(frame) -> set:
    """The highlighted points of a frame, as a set of (x, y) rows."""
    (layer,) = [layer for layer in frame if layer.label == "newest points"]
    return {tuple(row) for row in layer.array()}


def main_layer(frame):
    return next(layer for layer in frame if layer.label != "newest points")


# ---- live_plot -------------------------------------------------------------------------------


def test_live_plot_follows_the_run_and_shows_the_final_state():
    async def main():
        gate = Gate(lambda x: x**2)
        learner = adaptive.Learner1D(gate, bounds=(-1, 1))
        runner = adaptive.AsyncRunner(learner, npoints_goal=25)
        dmap = runner.live_plot(update_interval=0.005, name="follows")
        task = adaptive.active_plotting_tasks["follows"]
        plot = render(dmap)
        frames = record_frames(dmap, plot, learner, lambda learner: learner.npoints)
        for shown in (4, 12):
            gate.let_through(shown - learner.npoints)
            await wait_until(
                lambda shown=shown: any(len(main_layer(f)) == shown for f, _ in frames),
                f"a frame shows {shown} points",
            )
            assert runner.status() == "running"
        gate.let_through(100)
        await finish(runner)
        return learner, runner, plot, task

    learner, runner, plot, task = asyncio.run(main())
    assert runner.status() == "finished"
    assert task.done()
    assert not task.cancelled()
    assert "follows" not in adaptive.active_plotting_tasks
    final = main_layer(plot.current_frame)
    assert len(final) == learner.npoints == 25
    assert newest(plot.current_frame) == set()  # the final frame highlights nothing
    # the bokeh model drawn in the page holds the final data too
    (source,) = [
        subplot.handles["source"]
        for key, subplot in plot.subplots.items()
        if key[0] == "Scatter" and "Newest" not in key[1]
    ]
    assert sorted(source.data["x"]) == sorted(learner.data)


def snapshot_told(learner):
    return dict(learner.data)


def snapshot_samples(learner):
    return {x: (len(told), learner.data[x]) for x, told in learner.samples.items()}


def new_rows_1d(before, after):
    return {(x, y) for x, y in after.items() if x not in before}


def new_rows_2d(before, after):
    return {point for point in after if point not in before}


def new_rows_average(before, after):
    return {(x, mean) for x, (n, mean) in after.items() if before.get(x, (0,))[0] != n}


def noisy(seed_x):
    seed, x = seed_x
    return x + np.random.default_rng(seed).normal(scale=0.1)


def square_1d(x):
    return x**2


def square_2d(xy):
    return float(np.sum(np.square(xy)))


@pytest.mark.parametrize(
    ("make_learner", "function", "corners", "snapshot", "new_rows"),
    [
        (lambda f: adaptive.Learner1D(f, (-1, 1)), square_1d, [], snapshot_told, new_rows_1d),
        (
            lambda f: adaptive.Learner2D(f, [(-1, 1), (-1, 1)]),
            square_2d,
            [],
            snapshot_told,
            new_rows_2d,
        ),
        (
            lambda f: adaptive.LearnerND(f, [(-1, 1), (-1, 1)]),
            square_2d,
            [(-1, -1), (-1, 1), (1, -1), (1, 1)],  # an image from the first frame on
            snapshot_told,
            new_rows_2d,
        ),
        (
            lambda f: adaptive.AverageLearner1D(f, (-1, 1), min_samples=3),
            noisy,
            [],
            snapshot_samples,
            new_rows_average,
        ),
    ],
    ids=["Learner1D", "Learner2D", "LearnerND", "AverageLearner1D"],
)
def test_live_plot_highlights_the_points_told_since_the_previous_frame(
    make_learner, function, corners, snapshot, new_rows
):
    async def main():
        gate = Gate(function)
        learner = make_learner(gate)
        for corner in corners:
            learner.tell(corner, function(corner))
        before_plot = snapshot(learner)
        runner = adaptive.AsyncRunner(learner, ntasks=2)
        dmap = runner.live_plot(update_interval=0.005)
        plot = render(dmap)
        first = plot.current_frame
        frames = record_frames(
            dmap, plot, learner, lambda learner: (snapshot(learner), runner._done_event.is_set())
        )
        for batch in (3, 1, 5):
            target = len(frames)
            gate.let_through(batch)
            await wait_until(lambda target=target: len(frames) > target + 2, "more frames")
        runner.cancel()
        await finish(runner)
        return before_plot, first, frames

    before_plot, first, frames = asyncio.run(main())
    assert newest(first) == set()  # nothing was told between making and drawing the plot
    previous = before_plot
    highlighted = set()
    assert frames[-1][1][1]  # the last frame came after the run ended
    for frame, (told, ended) in frames:
        if ended:  # the final state: nothing highlighted
            assert newest(frame) == set()
            continue
        assert newest(frame) == new_rows(previous, told)
        highlighted |= newest(frame)
        previous = told
    # every point told after the plot was made, up to the last frame of the running run, was
    # highlighted (an AverageLearner1D's means move)
    assert {row[0] for row in highlighted} == {row[0] for row in new_rows(before_plot, previous)}
    assert len(highlighted) >= 3  # the test saw points arrive


@pytest.mark.parametrize("normalize", [True, False])
def test_normalize_rescales_the_axes_at_every_refresh(normalize):
    async def main():
        learner = adaptive.Learner1D(lambda x: 100 * x**2, (-1, 1))
        learner.tell(0.0, 0.0)
        learner.tell(0.1, 1.0)
        runner = adaptive.AsyncRunner(
            learner, npoints_goal=12, executor=adaptive.SequentialExecutor()
        )
        dmap = adaptive.live_plot(runner, update_interval=0.005, normalize=normalize)
        plot = render(dmap)
        first_top = plot.handles["y_range"].end
        await finish(runner)
        return first_top, plot.handles["y_range"].end, max(learner.data.values())

    first_top, final_top, highest = asyncio.run(main())
    assert first_top < 2
    assert highest == 100
    if normalize:
        assert final_top >= highest
    else:
        assert final_top == first_top


def test_a_new_plot_with_the_same_name_replaces_the_old_one():
    async def main():
        gate = Gate(lambda x: x)
        runner = adaptive.AsyncRunner(adaptive.Learner1D(gate, (0, 1)))
        adaptive.live_plot(runner, update_interval=0.01, name="same")
        first = adaptive.active_plotting_tasks["same"]
        runner.live_plot(update_interval=0.01, name="same")
        second = adaptive.active_plotting_tasks["same"]
        await wait_until(first.done, "the first plot's task ends")
        assert not second.done()
        runner.cancel()
        await finish(runner)
        return first, second

    first, second = asyncio.run(main())
    assert first.cancelled()
    assert second.done()
    assert not second.cancelled()
    assert "same" not in adaptive.active_plotting_tasks


def test_plotter_replaces_learner_plot_and_other_learners_get_no_markers():
    async def main():
        learner = adaptive.Learner1D(lambda x: x, (0, 1))
        runner = adaptive.AsyncRunner(
            learner, npoints_goal=5, executor=adaptive.SequentialExecutor()
        )
        dmap = runner.live_plot(plotter=lambda learner: hv.Curve(sorted(learner.data.items())))
        await finish(runner)
        averaged = adaptive.AverageLearner(lambda seed: seed % 3, atol=0.5)
        other = adaptive.AsyncRunner(
            averaged, npoints_goal=10, executor=adaptive.SequentialExecutor()
        )
        plain = other.live_plot()
        await finish(other)
        return dmap[()], plain[()]

    curve, average_plot = asyncio.run(main())
    assert isinstance(curve, hv.Curve)
    assert len(curve) == 5
    # the AverageLearner's own plot (a histogram and its mean), with no marker layer added
    layers = list(average_plot) if isinstance(average_plot, hv.Overlay) else [average_plot]
    assert not any(layer.label == "newest points" for layer in layers)
    (histogram,) = [layer for layer in layers if isinstance(layer, hv.Histogram)]
    assert histogram.dimension_values(1).sum() == 10


def test_a_dynamic_learner_plot_asks_for_a_plotter():
    async def main():
        learners = [adaptive.Learner1D(lambda x: x, (0, 1)) for _ in range(2)]
        learner = adaptive.BalancingLearner(learners)
        runner = adaptive.AsyncRunner(
            learner, npoints_goal=6, executor=adaptive.SequentialExecutor()
        )
        await finish(runner)
        plain = runner.live_plot()
        static = runner.live_plot(plotter=lambda learner: learner.plot(dynamic=False))
        return plain, static

    plain, static = asyncio.run(main())
    with pytest.raises(TypeError, match=r"plotter=lambda learner: learner\.plot\(dynamic=False\)"):
        plain[()]
    assert isinstance(static[()], hv.NdLayout)  # the HoloMap's frames side by side


def test_live_plot_of_a_run_that_has_ended_shows_it_and_stops():
    async def main():
        learner = adaptive.Learner1D(lambda x: x, (0, 1))
        runner = adaptive.AsyncRunner(
            learner, npoints_goal=7, executor=adaptive.SequentialExecutor()
        )
        await finish(runner)
        dmap = runner.live_plot(update_interval=100, name="ended")
        task = adaptive.active_plotting_tasks["ended"]
        await asyncio.wait_for(task, TIMEOUT)
        return dmap

    assert len(main_layer(asyncio.run(main())[()])) == 7


# ---- argument checks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("update_interval", "error"),
    [
        (0, ValueError),
        (-1, ValueError),
        (math.nan, ValueError),
        (True, TypeError),
        ("1", TypeError),
    ],
)
def test_bad_update_interval_is_refused_at_once(update_interval, error):
    async def main():
        runner = adaptive.AsyncRunner(
            adaptive.Learner1D(lambda x: x, (0, 1)),
            npoints_goal=3,
            executor=adaptive.SequentialExecutor(),
        )
        for make in (runner.live_plot, runner.live_info):
            with pytest.raises(error, match=rf"update_interval.*{update_interval!r}"):
                make(update_interval=update_interval)
        await finish(runner)

    asyncio.run(main())


def test_bad_plotter_and_runner_are_refused_at_once():
    learner = adaptive.Learner1D(lambda x: x, (0, 1))

    async def main():
        runner = adaptive.AsyncRunner(
            learner, npoints_goal=3, executor=adaptive.SequentialExecutor()
        )
        with pytest.raises(TypeError, match=r"plotter.*'not callable'"):
            adaptive.live_plot(runner, plotter="not callable")
        await finish(runner)

    asyncio.run(main())
    for display in (adaptive.live_plot, adaptive.live_info):
        with pytest.raises(TypeError, match="runner=<Learner1D"):
            display(learner)


# ---- notebook_extension ------------------------------------------------------------------------


def test_notebook_extension_loads_bokeh_once(monkeypatch):
    calls = []
    real_extension = hv.extension

    def counting_extension(*args, **kwargs):
        calls.append((args, kwargs))
        return real_extension(*args, **kwargs)

    monkeypatch.setattr(notebook, "_extension_loaded", False)
    monkeypatch.setattr(hv, "extension", counting_extension)
    adaptive.notebook_extension()
    adaptive.notebook_extension()
    assert len(calls) == 1
    assert calls[0][0] == ("bokeh",)
    assert "bokeh" in hv.Store.renderers


@pytest.mark.parametrize("missing", ["holoviews", "bokeh", "ipywidgets"])
def test_notebook_extension_names_a_missing_package(monkeypatch, missing):
    monkeypatch.setattr(notebook, "_extension_loaded", False)
    monkeypatch.setitem(sys.modules, missing, None)  # makes `import missing` fail
    with pytest.raises(ImportError, match=rf"{missing}.*pip install 'adaptive-runner\[notebook\]'"):
        adaptive.notebook_extension()


def test_live_displays_name_a_missing_package(monkeypatch):
    learner = adaptive.Learner1D(lambda x: x, (0, 1))

    async def main():
        runner = adaptive.AsyncRunner(
            learner, npoints_goal=3, executor=adaptive.SequentialExecutor()
        )
        monkeypatch.setitem(sys.modules, "holoviews", None)
        monkeypatch.setitem(sys.modules, "ipywidgets", None)
        with pytest.raises(ImportError, match="holoviews"):
            runner.live_plot()
        with pytest.raises(ImportError, match="ipywidgets"):
            runner.live_info()
        await finish(runner)

    asyncio.run(main())


def test_the_displays_are_exported_at_the_top_level():
    for name in ("notebook_extension", "live_plot", "live_info", "active_plotting_tasks"):
        assert name in adaptive.__all__
    assert adaptive.active_plotting_tasks is notebook.active_plotting_tasks
    assert adaptive.live_plot is notebook.live_plot


# ---- live_info -------------------------------------------------------------------------------


def parts(panel) -> dict:
    """The panel's widgets by role (found through their public CSS classes and types)."""
    children = panel.children
    return {
        "status": next(c for c in children if "adaptive-runner-status" in c._dom_classes),
        "cancel": next(c for c in children if "adaptive-runner-cancel" in c._dom_classes),
        "error": next(c for c in children if "adaptive-runner-error" in c._dom_classes),
        "progress": next(c for c in children if isinstance(c, widgets.FloatProgress)),
        "table": children[1],
    }


def shown(widget) -> bool:
    return widget.layout.display != "none"


def test_live_info_follows_the_run_to_its_end():
    async def main():
        gate = Gate(lambda x: x)
        learner = adaptive.Learner1D(gate, (0, 1))
        runner = adaptive.AsyncRunner(learner, npoints_goal=10)
        panel = runner.live_info(update_interval=0.005)
        widget = parts(panel)
        seen = {"status": widget["status"].value, "progress": widget["progress"].value}
        gate.let_through(5)
        await wait_until(lambda: widget["progress"].value == 0.5, "the bar is half full")
        seen["table while running"] = widget["table"].value
        assert shown(widget["cancel"])
        gate.let_through(100)
        await finish(runner)
        return panel, widget, seen

    panel, widget, seen = asyncio.run(main())
    assert isinstance(panel, widgets.VBox)
    assert "adaptive-runner-live-info" in panel._dom_classes
    assert "running" in seen["status"]
    assert seen["progress"] == 0
    assert ">5<" in seen["table while running"]  # the number of points
    assert panel.update_task.done()
    assert "finished" in widget["status"].value
    assert "#2ca02c" in widget["status"].value  # green
    table = widget["table"].value
    for label in ("elapsed time", "overhead", "points", "latest loss", "failures"):
        assert label in table
    assert ">10<" in table
    assert widget["progress"].value == 1.0
    assert widget["progress"].bar_style == "success"
    assert shown(widget["progress"])
    assert not shown(widget["cancel"])
    assert not shown(widget["error"])


def test_the_cancel_button_cancels_the_run():
    async def main():
        gate = Gate(lambda x: x)  # never lets anything through: the run goes on until cancelled
        runner = adaptive.AsyncRunner(adaptive.Learner1D(gate, (0, 1)), loss_goal=0.01)
        panel = adaptive.live_info(runner, update_interval=0.005)
        widget = parts(panel)
        button = widget["cancel"]
        assert button.description == "Cancel"
        assert not shown(widget["progress"])  # a loss goal has no known end
        await wait_until(lambda: runner.pending_points, "evaluations are in flight")
        button.click()
        await finish(runner)
        return runner, panel, widget

    runner, panel, widget = asyncio.run(main())
    assert runner.status() == "cancelled"
    assert panel.update_task.done()
    assert "cancelled" in widget["status"].value
    assert "#7f7f7f" in widget["status"].value  # grey


def test_a_failing_run_shows_the_failing_point_and_its_traceback():
    async def fail_on_three(x):
        if x == 3:
            raise ValueError("three is <not> allowed")
        return x

    async def main():
        learner = adaptive.SequenceLearner(fail_on_three, range(6))
        runner = adaptive.AsyncRunner(learner, ntasks=1)
        panel = runner.live_info(update_interval=60)  # only the final refresh shows the error
        await finish(runner)
        return runner, panel

    runner, panel = asyncio.run(main())
    widget = parts(panel)
    assert runner.status() == "failed"
    assert panel.update_task.done()
    assert "failed" in widget["status"].value
    assert "#d62728" in widget["status"].value  # red
    assert shown(widget["error"])
    error = widget["error"].value
    assert "failed at point (3, 3)" in error
    assert "<pre" in error
    assert "Traceback (most recent call last)" in error
    assert "in fail_on_three" in error
    assert "ValueError: three is &lt;not&gt; allowed" in error  # escaped: shown as text


def test_a_run_with_retried_failures_shows_them_in_orange():
    async def main():
        gate = Gate(lambda x: x)
        attempts = {}

        async def flaky(x):
            attempts[x] = attempts.get(x, 0) + 1
            if attempts[x] == 1:
                raise RuntimeError("flaky")
            return await gate(x)

        runner = adaptive.AsyncRunner(
            adaptive.SequenceLearner(flaky, range(3)), ntasks=1, retries=1
        )
        panel = runner.live_info(update_interval=0.005)
        widget = parts(panel)
        await wait_until(lambda: "1 retrying" in widget["table"].value, "a retry is shown")
        assert "#ff7f0e" in widget["status"].value
        gate.let_through(10)
        await finish(runner)
        return runner, widget

    runner, widget = asyncio.run(main())
    assert runner.status() == "finished"
    assert "0 failed, 0 retrying" in widget["table"].value
