"""Helpers the learners' ``plot`` methods share.

Nothing here imports holoviews: the plot methods import it lazily (``require_holoviews``) and pass
the module in. Two rules keep the plots usable in a live plot (a holoviews ``DynamicMap``, which
needs every frame to have one type):

* a learner returns the same kind of element with or without data (empty elements, not errors);
* many line segments go into one path with NaN rows between them, which bokeh draws as gaps.
  (A holoviews path made of thousands of separate little arrays takes minutes to draw.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

#: the empty margin around a 1D domain, as a fraction of its width, so that points on the bounds
#: are drawn whole
MARGIN = 0.05


def padded_range(low: float, high: float, margin: float = MARGIN) -> tuple[float, float]:
    """``(low, high)`` widened by ``margin`` times its width on each side."""
    pad = margin * (high - low)
    return (low - pad, high + pad)


def pixel_centers(low: float, high: float, n: int) -> np.ndarray:
    """The centres of ``n`` equal pixels covering ``[low, high]``: an image of values sampled
    there covers exactly the bounds, each value drawn where it was taken."""
    return low + (np.arange(n) + 0.5) * ((high - low) / n)


def styled(element: Any, **options: Any) -> Any:
    """``element`` with these holoviews options when a plotting extension is loaded (options are
    checked against the loaded backend, so without one the element stays unstyled)."""
    try:
        return element.opts(**options)
    except ValueError:
        return element


def per_component(hv: Any, vdim: int, make: Callable[[int | None], Any]) -> Any:
    """``make(None)`` for a scalar function; for a vector function a ``HoloMap`` over the
    ``component`` dimension of ``make(k)`` for each component ``k``."""
    if vdim == 1:
        return make(None)
    return hv.HoloMap({k: make(k) for k in range(vdim)}, kdims=["component"])


def image(
    hv: Any,
    values: np.ndarray | None,
    bounds: tuple,
    kdims: tuple[str, str] = ("x", "y"),
    vdim: str = "z",
) -> Any:
    """A holoviews ``Image`` of ``values`` (row 0 at the top) over ``bounds`` (left, bottom,
    right, top), viridis with a colour bar, in a square frame; an empty image of the same
    bounds when ``values`` is None or has no finite number."""
    dimension: Any = vdim
    if values is None or not np.isfinite(values).any():
        values = np.full((2, 2), np.nan)
        # an explicit range: without one, drawing an all-NaN image warns "All-NaN slice"
        dimension = hv.Dimension(vdim, range=(0.0, 1.0))
    element = hv.Image(values, bounds=bounds, kdims=list(kdims), vdims=[dimension])
    # a square frame: by default the colour bar takes its room from the frame's width
    return styled(element, cmap="viridis", colorbar=True, aspect="square")


def segments_path(
    hv: Any,
    lines: Iterable[np.ndarray] | np.ndarray,
    kind: str = "EdgePaths",
    kdims: tuple[str, str] = ("x", "y"),
    **options: Any,
) -> Any:
    """One holoviews path element (``hv.EdgePaths`` or another ``kind`` of path) drawing every
    line (an array of points, one row each; or one 3-D array of lines of the same length),
    styled with ``options``."""
    if isinstance(lines, np.ndarray):
        gaps = np.full((len(lines), 1, lines.shape[-1]), np.nan)
        points = np.concatenate([lines, gaps], axis=1).reshape(-1, lines.shape[-1])[:-1]
    else:
        pieces: list[np.ndarray] = []
        for line in lines:
            pieces += [line, np.full((1, line.shape[1]), np.nan)]
        points = np.concatenate(pieces[:-1]) if pieces else np.empty((0, 2))
    return styled(getattr(hv, kind)([points], kdims=list(kdims)), **options)


def triangle_edges(corners: np.ndarray) -> np.ndarray:
    """The edges of triangles given by their corners (shape ``(triangles, 3, 2)``), each edge
    once (an edge drawn twice looks darker under transparency): shape ``(edges, 2, 2)``."""
    corners = np.asarray(corners, dtype=float).reshape(-1, 3, 2)
    edges = corners[:, [[0, 1], [1, 2], [2, 0]]].reshape(-1, 2, 2)
    # the same edge seen from both its triangles: put its two ends in one order
    swap = (edges[:, 0, 0] > edges[:, 1, 0]) | (
        (edges[:, 0, 0] == edges[:, 1, 0]) & (edges[:, 0, 1] > edges[:, 1, 1])
    )
    edges[swap] = edges[swap][:, ::-1]
    return np.unique(edges.reshape(-1, 4), axis=0).reshape(-1, 2, 2)


def isolines(
    points: np.ndarray, values: np.ndarray, triangles: np.ndarray, level: float
) -> list[np.ndarray]:
    """Where the linear interpolant on a triangulation equals ``level``, as polylines (arrays of
    points, one row each; a closed loop ends on its first point).

    Marching triangles: a vertex is *below* when its value is less than ``level``; an edge whose
    two ends differ crosses the level once, at the linearly interpolated point. A triangle has no
    or two crossing edges, joined by a segment; segments that share a crossing edge are chained.
    """
    below = np.asarray(values, dtype=float) < level
    crossing: dict[tuple[int, int], np.ndarray] = {}
    neighbours: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for a, b, c in np.asarray(triangles, dtype=int).tolist():
        cut = []
        for edge in ((min(a, b), max(a, b)), (min(b, c), max(b, c)), (min(a, c), max(a, c))):
            start, end = edge
            if below[start] == below[end]:
                continue
            if edge not in crossing:
                t = (level - values[start]) / (values[end] - values[start])
                crossing[edge] = points[start] + t * (points[end] - points[start])
            cut.append(edge)
        if len(cut) == 2:
            neighbours.setdefault(cut[0], []).append(cut[1])
            neighbours.setdefault(cut[1], []).append(cut[0])
    lines = []
    visited: set[tuple[int, int]] = set()
    # open lines start at an edge on the boundary of the triangulation (one neighbour), then
    # what is left are closed loops
    starts = [e for e, n in neighbours.items() if len(n) == 1]
    starts += [e for e, n in neighbours.items() if len(n) != 1]
    for start in starts:
        if start in visited:
            continue
        chain, edge, previous = [start], start, None
        visited.add(start)
        while True:
            following = [e for e in neighbours[edge] if e != previous]
            if not following:
                break
            previous, edge = edge, following[0]
            chain.append(edge)
            if edge in visited:  # back at the start of a loop
                break
            visited.add(edge)
        lines.append(np.array([crossing[e] for e in chain], dtype=float))
    return lines
