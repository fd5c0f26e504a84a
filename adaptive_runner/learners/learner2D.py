"""Learner2D: adaptive sampling of f: R^2 -> R or R^N on a rectangle.

Mesh. Coordinates are scaled to the unit square. One incremental Delaunay triangulation (the
*combined* mesh) holds the four corners (from the start, valueless until told), the evaluated
points and the pending ones; a pending point carries the value interpolated linearly in the
triangle it was asked in, so points asked together spread out: the triangles around a pending
point are smaller and nearly flat, so their losses are a fraction of the loss of the triangle it
split. Asking takes the triangle of largest loss and splits it at its circumcenter when that lies
well inside it, otherwise at the midpoint of its longest edge (on the boundary, that keeps the
edges of the domain sampled). A second, *real* mesh of the evaluated points alone is built only
when ``loss(real=True)`` is asked while points are pending, and then kept up to date lazily.

Losses. A triangle's loss depends on its vertices' values and gradients and on the value
scale (see :mod:`adaptive_runner.learners.learner2D_losses`); a vertex's gradient is the
area-weighted mean of the planes of the triangles around it. A change (a point inserted, a
pending value replaced by the real one) marks the planes and vertex gradients it touches; they,
and the losses of the triangles around the marked vertices (about 20), are recomputed at the
next ``ask`` or ``loss``: O(1) per point. A user's ``loss_per_triangle`` written for
python-adaptive is instead called on the whole mesh (O(N) per ask), as python-adaptive does.

Two implementations. For float values and the default loss, when the optional extension
``_speedups`` was built (:mod:`adaptive_runner.learners.speedups`), the whole mesh lives in C
arrays (``_speedups.Mesh2D``: triangulation, planes, gradients, losses, loss heap), with bitwise
the same results as the Python :class:`_Mesh` below, which serves every other case (vector
values, other losses, no compiler). Python objects per triangle (tuples, sets, dict entries)
scatter over the heap, so at 10,000 points each update misses the cache hundreds of times; the
arrays keep the cost per point nearly flat in N. A learner that receives a vector value
rebuilds its mesh as a :class:`_Mesh` (the state is a function of the data, see below).

Order independence. The state is a function of the told data: the Delaunay triangulation of
points in general position is unique; planes and losses are computed with a triangle's vertices
in a canonical (coordinate) order and gradients are exact sums (``math.fsum``), so they are
bitwise the same whatever order the points came in. Points on a grid are not in general position
(four cocircular points have two Delaunay triangulations, and the triangulation's in-circle test
has a tolerance), so the triangulation sees every point moved by a tiny deterministic amount
(about 1e-8 of the domain, a function of the point's coordinates; boundary points move along
their edge, corners stay): that picks one of the equivalent triangulations, the same one for any
order. Losses and interpolation use the exact coordinates. The value scale is the spread of the
finite values rounded up to a power of 2**(1/1024), as in the Learner1D.
"""

from __future__ import annotations

import contextlib
import functools
import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from adaptive_runner.learners import plotting, speedups
from adaptive_runner.learners.base import (
    BaseLearner,
    check_ask_n,
    checked_value,
    describe_dataframe,
    function_from_dataframe,
    quantized_scale,
    require_holoviews,
    require_pandas,
)
from adaptive_runner.learners.learner2D_losses import (
    AREA_WEIGHT,
    VECTOR_SUM_WEIGHT,
    _local_default,
    default_loss,
)
from adaptive_runner.learners.loss_queue import new_loss_queue
from adaptive_runner.learners.triangulation import Triangulation

__all__ = ["Learner2D"]

#: how far (in unit-square coordinates) the triangulation moves points to break ties
PERTURBATION = 1e-8
#: the circumcenter is used when all its barycentric coordinates are at least this
CIRCUMCENTER_MARGIN = 0.1
_CORNERS = ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))
_INF = math.inf


def _perturbed(point: tuple[float, float]) -> tuple[float, float]:
    """``point`` moved by a tiny amount that depends only on its coordinates."""
    x, y = point
    on_x = x in (0.0, 1.0)
    on_y = y in (0.0, 1.0)
    if on_x and on_y:
        return point
    h = hash(point) & 0xFFFFFFFF
    dx = 0.0 if on_x else PERTURBATION * (0.5 + (h & 0x7FFF) / 65534.0)
    dy = 0.0 if on_y else PERTURBATION * (0.5 + ((h >> 15) & 0x7FFF) / 65534.0)
    if h & 0x40000000:
        dx = -dx
    if h & 0x80000000:
        dy = -dy
    px, py = x + dx, y + dy
    if not 0.0 < px < 1.0:
        px = x - dx
    if not 0.0 < py < 1.0:
        py = y - dy
    return (px, py)


def _split_point(pa, pb, pc) -> tuple[float, float]:
    """Where to split the triangle (pa, pb, pc): its circumcenter when that lies well inside,
    else the midpoint of its longest edge."""
    bx, by = pb[0] - pa[0], pb[1] - pa[1]
    cx, cy = pc[0] - pa[0], pc[1] - pa[1]
    det = bx * cy - by * cx
    b2, c2 = bx * bx + by * by, cx * cx + cy * cy
    if det != 0.0:
        ux = (cy * b2 - by * c2) / (2.0 * det)
        uy = (bx * c2 - cx * b2) / (2.0 * det)
        lb = (ux * cy - uy * cx) / det
        lc = (bx * uy - by * ux) / det
        if (
            lb >= CIRCUMCENTER_MARGIN
            and lc >= CIRCUMCENTER_MARGIN
            and 1.0 - lb - lc >= (CIRCUMCENTER_MARGIN)
        ):
            return (pa[0] + ux, pa[1] + uy)
    a2 = (pc[0] - pb[0]) ** 2 + (pc[1] - pb[1]) ** 2
    if a2 >= b2 and a2 >= c2:
        p, q = pb, pc
    elif b2 >= c2:
        p, q = pa, pb
    else:
        p, q = pa, pc
    return ((p[0] + q[0]) * 0.5, (p[1] + q[1]) * 0.5)


def _is_finite(value: Any) -> bool:
    if type(value) is float:
        return math.isfinite(value)
    return bool(np.all(np.isfinite(value)))


class _Mesh:
    """A triangulation of the unit square with a value per vertex and a loss per triangle.

    ``values[i]`` is the unscaled value of vertex ``i`` (None while unknown); ``index`` maps a
    point's key (its unscaled coordinates) to its vertex. Each triangle with known finite values
    has a plane (its gradient), each vertex a gradient (the area-weighted mean of the planes
    around it), each triangle a loss from its vertices' values and gradients. A change marks the
    planes and vertex gradients it affects (``dirty_planes``, ``dirty_vertices``); they and the
    losses of the triangles around the marked vertices are recomputed at the next
    :meth:`flush`. Losses are kept in a :class:`~adaptive_runner.learners.loss_queue.LossQueue`.
    """

    def __init__(self, learner: Learner2D) -> None:
        self.learner = learner
        self.tri = Triangulation(_CORNERS)
        self.points: list[tuple[float, float]] = list(_CORNERS)
        self.values: list[Any] = [None] * 4
        self.index: dict[tuple[float, float], int] = dict(
            zip(learner._corners, range(4), strict=True)
        )
        self.nonfinite: set[int] = set()
        # triangle -> (gx * area, gy * area, area) for scalar values (plus an order key for
        # vectors), or None
        self.planes: dict[tuple, tuple | None] = {}
        self.gradients: list[Any] = [None] * 4  # vertex -> (gx, gy) or None
        self.queue = new_loss_queue()  # the loss entries of the triangles
        self.dirty_planes: set[tuple] = set()
        self.dirty_vertices: set[int] = set()
        self.all_dirty = True
        self.unsplittable: set[tuple] = set()

    # ---- changes -------------------------------------------------------------------------------
    def set_value(self, i: int, value: Any) -> None:
        self.values[i] = value
        if value is None or _is_finite(value):
            self.nonfinite.discard(i)
        else:
            self.nonfinite.add(i)
        if self.all_dirty:
            return
        star = self.tri.vertex_to_simplices[i]
        self.dirty_planes.update(star)
        update = self.dirty_vertices.update
        for t in star:
            update(t)

    # ---- adjacency -----------------------------------------------------------------------------
    def far_vertex(self, t: tuple, vertex: int) -> int | None:
        """The vertex of the neighbour of ``t`` across the edge opposite ``vertex``."""
        other = self.tri.neighbour_across(t, vertex)
        if other is None:
            return None
        return other[0] + other[1] + other[2] - (t[0] + t[1] + t[2]) + vertex

    def insert(self, key: tuple, point: tuple, value: Any, hint: tuple | None = None) -> int:
        """Add the vertex ``point`` (scaled coordinates) for ``key``; ValueError when the
        triangulation cannot take it (a near duplicate). ``hint``: a triangle containing
        ``point`` or near the one that does (the perturbation may move a point on an edge into
        the neighbour; the triangulation walks there from the hint)."""
        deleted, added = self.tri.add_point(_perturbed(point), hint)
        i = len(self.points)
        self.points.append(point)
        self.values.append(value)
        self.gradients.append(None)
        self.index[key] = i
        if value is not None and not _is_finite(value):
            self.nonfinite.add(i)
        queue, planes = self.queue, self.planes
        for t in deleted:
            queue.discard(t)
            planes.pop(t, None)
        self.dirty_planes -= deleted
        if self.unsplittable:
            self.unsplittable -= deleted
        update = self.dirty_vertices.update
        for t in added:
            update(t)
        self.dirty_planes |= added
        return i

    def mark_unsplittable(self, t: tuple) -> None:
        self.unsplittable.add(t)
        self.queue.discard(t)

    # ---- planes and gradients ------------------------------------------------------------------
    def _plane(self, t: tuple) -> tuple | None:
        """(gx * area, gy * area, area) of the plane through the vertices of ``t`` (unscaled
        values), for vector values followed by the vertices in coordinate order (the order in
        which planes are summed); None when a value is unknown or not finite."""
        values, nonfinite = self.values, self.nonfinite
        a, b, c = t
        va, vb, vc = values[a], values[b], values[c]
        if va is None or vb is None or vc is None:
            return None
        if nonfinite and (a in nonfinite or b in nonfinite or c in nonfinite):
            return None
        points = self.points
        pa, pb, pc = points[a], points[b], points[c]
        if pb < pa:
            pa, pb, va, vb = pb, pa, vb, va
        if pc < pb:
            pb, pc, vb, vc = pc, pb, vc, vb
            if pb < pa:
                pa, pb, va, vb = pb, pa, vb, va
        d1x, d1y = pb[0] - pa[0], pb[1] - pa[1]
        d2x, d2y = pc[0] - pa[0], pc[1] - pa[1]
        det = d1x * d2y - d1y * d2x
        if det == 0.0:
            return None
        # gradient = (numerator / det); times the area |det| / 2
        half = 0.5 if det > 0 else -0.5
        wx = ((vb - va) * d2y - (vc - va) * d1y) * half
        wy = ((vc - va) * d1x - (vb - va) * d2x) * half
        if type(wx) is float:
            return (wx, wy, half * det)
        return (wx, wy, half * det, (pa, pb, pc))

    def _gradient(self, v: int) -> Any:
        """The area-weighted mean of the planes around vertex ``v`` (summed exactly, or in a
        canonical order for vectors, so it does not depend on the order of the triangles)."""
        get = self.planes.get
        around = [p for p in map(get, self.tri.vertex_to_simplices[v]) if p is not None]
        if not around:
            return None
        if type(around[0][0]) is float:
            fsum = math.fsum
            total = fsum([p[2] for p in around])
            return (fsum([p[0] for p in around]) / total, fsum([p[1] for p in around]) / total)
        around.sort(key=lambda p: p[3])
        total = math.fsum(p[2] for p in around)
        return (sum(p[0] for p in around) / total, sum(p[1] for p in around) / total)

    # ---- losses --------------------------------------------------------------------------------
    def _entry(self, t: tuple) -> tuple:
        a, b, c = t
        points, values = self.points, self.values
        pa, pb, pc = points[a], points[b], points[c]
        # canonical vertex order, so the arithmetic is the same whatever the vertex indices
        if pb < pa:
            a, b, pa, pb = b, a, pb, pa
        if pc < pb:
            b, c, pb, pc = c, b, pc, pb
            if pb < pa:
                a, b, pa, pb = b, a, pb, pa
        det = (pb[0] - pa[0]) * (pc[1] - pa[1]) - (pb[1] - pa[1]) * (pc[0] - pa[0])
        area = 0.5 * abs(det)
        sx, sy = pa[0] + pb[0] + pc[0], pa[1] + pb[1] + pc[1]
        va, vb, vc = values[a], values[b], values[c]
        if va is None or vb is None or vc is None:
            return (-_INF, -area, sx, sy, _INF, t)
        learner = self.learner
        local = learner._local_loss
        nonfinite = self.nonfinite
        y_scale = learner._y_scale
        gradients = self.gradients
        ga, gb, gc = gradients[a], gradients[b], gradients[c]
        if (
            local is _local_default
            and type(va) is float
            and ga is not None
            and gb is not None
            and gc is not None
            and not (nonfinite and (a in nonfinite or b in nonfinite or c in nonfinite))
        ):
            # the common case of the branch below, inlined (the same arithmetic)
            abx, aby = pb[0] - pa[0], pb[1] - pa[1]
            acx, acy = pc[0] - pa[0], pc[1] - pa[1]
            bcx, bcy = pc[0] - pb[0], pc[1] - pb[1]
            dab, dac, dbc = vb - va, vc - va, vc - vb
            ga0, ga1 = ga
            gb0, gb1 = gb
            gc0, gc1 = gc
            deviation = (
                abs(dab - ga0 * abx - ga1 * aby)
                + abs(dac - ga0 * acx - ga1 * acy)
                + abs(dab - gb0 * abx - gb1 * aby)
                + abs(dbc - gb0 * bcx - gb1 * bcy)
                + abs(dac - gc0 * acx - gc1 * acy)
                + abs(dbc - gc0 * bcx - gc1 * bcy)
            ) / y_scale
            loss = deviation * math.sqrt(area) + AREA_WEIGHT * area
            return (-loss, sx, sy, loss, t)
        corners = (pa, pb, pc)
        if nonfinite and (a in nonfinite or b in nonfinite or c in nonfinite):
            loss = local(area, 0.0, corners, (va, vb, vc), y_scale, [])
        else:
            deviation = 0.0
            if local.needs_deviation:
                abx, aby = pb[0] - pa[0], pb[1] - pa[1]
                acx, acy = pc[0] - pa[0], pc[1] - pa[1]
                bcx, bcy = pc[0] - pb[0], pc[1] - pb[1]
                dab, dac, dbc = vb - va, vc - va, vc - vb
                # each vertex's value and gradient predict the other two values
                errors = []
                if ga is not None:
                    errors += (dab - ga[0] * abx - ga[1] * aby, dac - ga[0] * acx - ga[1] * acy)
                if gb is not None:
                    errors += (dab - gb[0] * abx - gb[1] * aby, dbc - gb[0] * bcx - gb[1] * bcy)
                if gc is not None:
                    errors += (dac - gc[0] * acx - gc[1] * acy, dbc - gc[0] * bcx - gc[1] * bcy)
                if errors:  # the sum of the errors (largest component for vectors)
                    if type(va) is float:
                        deviation = sum(map(abs, errors)) / y_scale
                    else:
                        sums = np.sum(np.abs(errors), axis=0)
                        largest = float(np.max(sums))
                        deviation = (
                            largest + VECTOR_SUM_WEIGHT * (float(np.sum(sums)) - largest)
                        ) / y_scale
            opposite = []
            if local.needs_neighbours:
                for vertex in t:
                    q = self.far_vertex(t, vertex)
                    if q is not None and values[q] is not None and q not in nonfinite:
                        opposite.append((points[q], values[q]))
            loss = local(area, deviation, corners, (va, vb, vc), y_scale, opposite)
        if not loss < _INF:
            if math.isnan(loss):  # sample it like a flat region
                return (-(AREA_WEIGHT * area), sx, sy, AREA_WEIGHT * area, t)
            return (-_INF, -area, sx, sy, _INF, t)
        return (-loss, sx, sy, loss, t)

    def flush(self) -> None:
        """Recompute the planes, gradients and losses that changed."""
        if self.learner._global_loss is not None:
            if self.all_dirty or self.dirty_planes or self.dirty_vertices:
                self._flush_global()
            return
        unsplittable = self.unsplittable
        simplices = self.tri.simplices
        entry = self._entry
        if self.all_dirty:
            plane = self._plane
            self.planes = {t: plane(t) for t in simplices}
            gradient = self._gradient
            self.gradients = [gradient(v) for v in range(len(self.points))]
            self.queue.reset({t: entry(t) for t in simplices if t not in unsplittable})
            self.all_dirty = False
        elif self.dirty_vertices:
            planes, plane = self.planes, self._plane
            for t in self.dirty_planes:
                if t in simplices:
                    planes[t] = plane(t)
            gradients, gradient = self.gradients, self._gradient
            star = self.tri.vertex_to_simplices
            get, fsum = planes.get, math.fsum
            changed = set()
            for v in self.dirty_vertices:
                around = star[v]
                changed |= around
                # _gradient, inlined for scalar values
                found = [p for p in map(get, around) if p is not None]
                if found and type(found[0][0]) is float:
                    total = fsum([p[2] for p in found])
                    gradients[v] = (
                        fsum([p[0] for p in found]) / total,
                        fsum([p[1] for p in found]) / total,
                    )
                else:
                    gradients[v] = gradient(v)
            queue = self.queue
            for t in changed:
                if unsplittable and t in unsplittable:
                    continue
                queue.set(t, entry(t))
        self.dirty_planes.clear()
        self.dirty_vertices.clear()

    def _flush_global(self) -> None:
        """Losses from a python-adaptive style ``loss_per_triangle(ip)`` over the whole mesh."""
        from scipy.interpolate import LinearNDInterpolator
        from scipy.spatial import Delaunay

        triangles = [t for t in self.tri.simplices if t not in self.unsplittable]
        # the points in coordinate order, so the interpolator is the same for any told order
        order = sorted(range(len(self.points)), key=self.points.__getitem__)
        points = np.asarray([self.points[i] for i in order], dtype=float)
        vdim = self.learner.vdim
        table = np.full((len(points), vdim), np.nan)
        known = [k for k, i in enumerate(order) if self.values[i] is not None]
        if known:
            table[known] = np.asarray([self.values[order[k]] for k in known], dtype=float).reshape(
                len(known), vdim
            )
        position = np.empty(len(order), dtype=int)
        position[order] = np.arange(len(order))
        losses = np.full(len(triangles), np.nan)
        corner_values = [self.values[i] for i in range(4)]
        if all(v is not None for v in corner_values) and triangles:
            ip = LinearNDInterpolator(Delaunay(points - 0.5), table)
            per_triangle = np.asarray(self.learner._global_loss(ip), dtype=float).ravel()
            centroids = points[position[np.asarray(triangles)]].mean(axis=1) - 0.5
            found = ip.tri.find_simplex(centroids)
            losses = np.where(found >= 0, per_triangle[np.maximum(found, 0)], np.nan)
        entries = {}
        values = self.values
        for t, user_loss in zip(triangles, losses.tolist(), strict=True):
            pa, pb, pc = sorted(self.points[v] for v in t)
            det = (pb[0] - pa[0]) * (pc[1] - pa[1]) - (pb[1] - pa[1]) * (pc[0] - pa[0])
            area = 0.5 * abs(det)
            sx, sy = pa[0] + pb[0] + pc[0], pa[1] + pb[1] + pc[1]
            if any(values[v] is None for v in t) or user_loss == _INF:
                entry = (-_INF, -area, sx, sy, _INF, t)
            else:
                loss = AREA_WEIGHT * area if math.isnan(user_loss) else user_loss
                entry = (-loss, sx, sy, loss, t)
            entries[t] = entry
        self.queue.reset(entries)
        self.all_dirty = False
        self.dirty_planes.clear()
        self.dirty_vertices.clear()

    def top(self) -> tuple | None:
        """The entry of the triangle of largest loss (after :meth:`flush`), or None."""
        return self.queue.top()

    def max_loss(self, y_scale: float) -> float:
        """The largest triangle loss (``y_scale``: the learner's, which this mesh reads
        itself; the argument keeps the interface of the C mesh)."""
        self.flush()
        e = self.top()
        return 0.0 if e is None else e[-2]

    def next_split(self, y_scale: float) -> tuple | None:
        """``(triangle, loss, point)``: the triangle of largest loss and where to split it."""
        self.flush()
        entry = self.top()
        if entry is None:
            return None
        t = entry[-1]
        points = self.points
        return t, entry[-2], _split_point(points[t[0]], points[t[1]], points[t[2]])

    def interpolate(self, t: tuple, point: tuple[float, float]) -> Any:
        """The linear interpolation at ``point`` in triangle ``t`` (None if a vertex has no
        value yet; the mean of the three values if ``t`` is flat in unperturbed
        coordinates)."""
        values = self.values
        va, vb, vc = values[t[0]], values[t[1]], values[t[2]]
        if va is None or vb is None or vc is None:
            return None
        points = self.points
        pa, pb, pc = points[t[0]], points[t[1]], points[t[2]]
        d1x, d1y = pb[0] - pa[0], pb[1] - pa[1]
        d2x, d2y = pc[0] - pa[0], pc[1] - pa[1]
        det = d1x * d2y - d1y * d2x
        if det == 0.0:
            return (va + vb + vc) / 3.0
        px, py = point[0] - pa[0], point[1] - pa[1]
        lb = (px * d2y - py * d2x) / det
        lc = (d1x * py - d1y * px) / det
        return va + lb * (vb - va) + lc * (vc - va)

    def locate(self, point: tuple[float, float]) -> tuple | None:
        """A triangle containing ``point`` (scaled coordinates), or None."""
        return self.tri.locate_point(_perturbed(point))

    def triangle_points(self) -> list[tuple]:
        """The corners (scaled points) of every triangle."""
        points = self.points
        return [(points[a], points[b], points[c]) for a, b, c in self.tri.simplices]

    def state(self, y_scale: float) -> dict[str, Any]:
        """Everything the mesh holds, in the form of the C mesh's ``state`` (for the tests)."""
        self.flush()
        tri = self.tri
        triangles = sorted(tri.simplices)
        return {
            "triangles": [(t, tri._spheres[t]) for t in triangles],
            "vertices": list(tri.vertices),
            "points": list(self.points),
            "values": list(self.values),
            "planes": [(t, self.planes.get(t)) for t in triangles],
            "gradients": list(self.gradients),
            "entries": sorted((t, e) for t, e in self.queue.items()),
            "top": self.top(),
            "neighbours": [(t, tuple(tri.neighbour_across(t, v) for v in t)) for t in triangles],
        }


@functools.cache
def _corner_triangulation() -> Triangulation:
    return Triangulation(_CORNERS)


def _compiled_mesh(keys: list[tuple[float, float]]) -> Any:
    """The C mesh (``_speedups.Mesh2D``) of the unit square with the corner ``keys``: its
    first two triangles are those of the Python :class:`Triangulation`, so both meshes grow
    the same."""
    from adaptive_runner.learners.triangulation import _orient2, in_circumsphere_exact

    tri = _corner_triangulation()
    triangles = sorted(tri.simplices)
    return speedups.compiled.Mesh2D(
        keys,
        list(_CORNERS),
        triangles,
        [tri._spheres[t] for t in triangles],
        triangles.index(tri._last),
        tri._walk_counter,
        tri._duplicate_distance,
        AREA_WEIGHT,
        _orient2,
        in_circumsphere_exact,
        math.fsum,
        sum,
    )


class Learner2D(BaseLearner):
    """Learn a function of two variables, f: R^2 -> R or R^N, on a rectangle.

    Parameters
    ----------
    function
        ``function((x, y))`` returns a number or a vector (all of the same length).
    bounds
        ``[(x_min, x_max), (y_min, y_max)]``, finite, each with min < max.
    loss_per_triangle
        A loss function of :mod:`adaptive_runner.learners.learner2D_losses`, or any
        ``loss(ip) -> one loss per triangle`` written for python-adaptive (``ip`` is a scipy
        ``LinearNDInterpolator`` on scaled coordinates). :func:`default_loss` when None.

    Attributes
    ----------
    data
        ``{(x, y): value}`` of the evaluated points.
    pending_points
        The points asked and not told yet.

    Examples
    --------
    >>> learner = Learner2D(lambda xy: xy[0] * xy[1], bounds=[(-1, 1), (-1, 1)])
    >>> learner.ask(4)[0]
    [(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)]
    """

    def __init__(
        self,
        function: Callable,
        bounds: Iterable[tuple[float, float]],
        loss_per_triangle: Callable | None = None,
    ) -> None:
        if not callable(function):
            raise TypeError(f"function must be callable, got function={function!r}")
        try:
            (x0, x1), (y0, y1) = ((float(a), float(b)) for a, b in bounds)
        except (TypeError, ValueError):
            raise ValueError(
                f"bounds must be two pairs [(x_min, x_max), (y_min, y_max)], got bounds={bounds!r}"
            ) from None
        if not all(math.isfinite(v) for v in (x0, x1, y0, y1)) or not (x0 < x1 and y0 < y1):
            raise ValueError(
                f"bounds must be finite with min < max in each dimension, got bounds={bounds!r}"
            )
        if loss_per_triangle is not None and not callable(loss_per_triangle):
            raise TypeError(
                f"loss_per_triangle must be callable, got loss_per_triangle={loss_per_triangle!r}"
            )
        self.function = function
        self.bounds = ((x0, x1), (y0, y1))
        self.loss_per_triangle = loss_per_triangle or default_loss
        local = getattr(self.loss_per_triangle, "local_loss", None)
        self._local_loss = local
        self._global_loss = None if local is not None else self.loss_per_triangle
        self._width = (x1 - x0, y1 - y0)
        self._corners = [(x, y) for x in (x0, x1) for y in (y0, y1)]
        self.data: dict[tuple[float, float], Any] = {}
        self.pending_points: set[tuple[float, float]] = set()
        self._pending_values: dict[tuple[float, float], Any] = {}
        self._y_min: Any = None
        self._y_max: Any = None
        self._y_scale = 1.0
        self._vdim: int | None = None
        self._scalar_values = True  # False once a value is not a float (a vector)
        self._mesh = self._new_mesh()
        self._real: _Mesh | None = None  # the evaluated points alone, built on demand
        self._real_backlog: list[tuple[float, float]] = []

    # ---- public attributes ---------------------------------------------------------------------
    @property
    def vdim(self) -> int:
        """Length of the function's output (1 for scalars)."""
        return self._vdim or 1

    @property
    def xy_scale(self) -> np.ndarray:
        """The widths of the bounds: coordinates are divided by them before losses see them."""
        return np.array(self._width)

    @property
    def bounds_are_done(self) -> bool:
        """Whether the four corners are evaluated."""
        return all(corner in self.data for corner in self._corners)

    def inside_bounds(self, xy: Any) -> bool:
        """Whether the point ``xy`` lies in the bounds (edges included)."""
        (x0, x1), (y0, y1) = self.bounds
        x, y = xy
        return bool(x0 <= x <= x1 and y0 <= y <= y1)

    # ---- coordinates -------------------------------------------------------------------------
    def _scaled(self, key: tuple[float, float]) -> tuple[float, float]:
        (x0, _), (y0, _) = self.bounds
        return ((key[0] - x0) / self._width[0], (key[1] - y0) / self._width[1])

    def _unscaled(self, point: tuple[float, float]) -> tuple[float, float]:
        (x0, x1), (y0, y1) = self.bounds
        x = x1 if point[0] >= 1.0 else min(max(x0 + point[0] * self._width[0], x0), x1)
        y = y1 if point[1] >= 1.0 else min(max(y0 + point[1] * self._width[1], y0), y1)
        return (x, y)

    def _check_point(self, xy: Any) -> tuple[float, float]:
        try:
            x, y = xy
            key = (float(x), float(y))
        except (TypeError, ValueError):
            raise ValueError(
                f"Learner2D points are pairs of numbers (x, y), got point={xy!r}"
            ) from None
        if not self.inside_bounds(key):
            raise ValueError(f"the point {xy!r} lies outside the bounds {self.bounds}")
        return key

    def point_key(self, point: Any) -> tuple[float, float]:
        return tuple(float(v) for v in point)

    # ---- asking --------------------------------------------------------------------------------
    def ask(self, n: int, tell_pending: bool = True) -> tuple[list, list[float]]:
        """``n`` points to evaluate next and the loss improvement each is expected to bring.

        The four corners come first; then the triangle of largest loss (pending points count as
        splitting their triangle) is split, one point at a time.
        """
        n = check_ask_n(n)
        points: list[tuple[float, float]] = []
        improvements: list[float] = []
        inserted = False
        for corner in self._corners:
            if len(points) < n and corner not in self.data and corner not in self.pending_points:
                self.pending_points.add(corner)
                points.append(corner)
                improvements.append(_INF)
        mesh = self._mesh
        while len(points) < n:
            split = mesh.next_split(self._y_scale)
            if split is None:
                break
            t, loss, point = split
            key = self._unscaled(point)
            if key in mesh.index or key in self.data:
                mesh.mark_unsplittable(t)  # at floating-point resolution
                continue
            if not tell_pending and len(points) == n - 1:
                points.append(key)  # the last one need not enter the mesh
                improvements.append(float(loss))
                break
            scaled = self._scaled(key)
            value = mesh.interpolate(t, scaled)
            try:
                mesh.insert(key, scaled, value, t)
            except ValueError:
                mesh.mark_unsplittable(t)
                continue
            inserted = True
            self.pending_points.add(key)
            self._pending_values[key] = value
            points.append(key)
            improvements.append(float(loss))
        if not tell_pending:
            for key in points:
                self.pending_points.discard(key)
                self._pending_values.pop(key, None)
            if inserted:
                self._mesh = self._build_mesh(with_pending=True)
        return points, improvements

    # ---- telling -------------------------------------------------------------------------------
    def tell_pending(self, xy: Any) -> None:
        key = self._check_point(xy)
        if key in self.data or key in self.pending_points:
            return
        self.pending_points.add(key)
        mesh = self._mesh
        if key in mesh.index:  # a corner
            return
        point = self._scaled(key)
        t = mesh.locate(point)
        value = None if t is None else mesh.interpolate(t, point)
        self._pending_values[key] = value
        with contextlib.suppress(ValueError):  # a near duplicate stays pending outside the mesh
            mesh.insert(key, point, value, t)

    def tell(self, xy: Any, value: Any) -> None:
        key = self._check_point(xy)
        if key in self.data:
            return
        value = self._check_value(value)
        if type(value) is not float and self._scalar_values:
            self._scalar_values = False
            if not isinstance(self._mesh, _Mesh):  # the C mesh takes floats only
                self._mesh = self._build_mesh(with_pending=True)
                self._real, self._real_backlog = None, []
        self.data[key] = value
        self.pending_points.discard(key)
        self._pending_values.pop(key, None)
        finite = _is_finite(value)
        if finite and self._update_range(value):
            self._mesh.all_dirty = True
            if self._real is not None:
                self._real.all_dirty = True
        self._place(self._mesh, key, value)
        if self._real is not None:
            self._real_backlog.append(key)

    def _place(self, mesh: _Mesh, key: tuple[float, float], value: Any) -> None:
        i = mesh.index.get(key)
        if i is not None:
            mesh.set_value(i, value)
            return
        point = self._scaled(key)
        with contextlib.suppress(ValueError):  # a near duplicate: kept in data, not in the mesh
            mesh.insert(key, point, value)

    def tell_many(self, xs: Iterable, ys: Iterable) -> None:
        """Tell many points at once (in a spatial order, so locating them is cheap)."""
        xs, ys = list(xs), list(ys)
        if len(xs) != len(ys):
            raise ValueError(f"tell_many: got {len(xs)} points but {len(ys)} values")
        keys = [self._check_point(x) for x in xs]
        for key, y in sorted(zip(keys, ys, strict=True), key=lambda kv: self._walk_key(kv[0])):
            self.tell(key, y)

    def _walk_key(self, key: tuple[float, float]) -> tuple:
        x, y = self._scaled(key)
        row = int(y * 32)
        return (row, x if row % 2 == 0 else -x)

    def _check_value(self, y: Any) -> Any:
        value, self._vdim = checked_value(y, self._vdim)
        return value

    def _update_range(self, y: Any) -> bool:
        """Widen the finite value range with ``y``; True when the loss scale changes."""
        if self._y_min is None:
            self._y_min = self._y_max = y
        elif type(y) is float:
            if self._y_min <= y <= self._y_max:
                return False
            self._y_min, self._y_max = min(self._y_min, y), max(self._y_max, y)
        else:
            if np.all(self._y_min <= y) and np.all(y <= self._y_max):
                return False
            self._y_min, self._y_max = np.minimum(self._y_min, y), np.maximum(self._y_max, y)
        spread = float(np.max(np.asarray(self._y_max) - self._y_min))
        scale = quantized_scale(spread)
        if scale != self._y_scale:
            self._y_scale = scale
            return True
        return False

    def remove_unfinished(self) -> None:
        if not self.pending_points:
            return
        self.pending_points.clear()
        self._pending_values.clear()
        if self._real is not None:
            self._sync_real()
            self._mesh, self._real = self._real, None
            self._real_backlog = []
        else:
            self._mesh = self._build_mesh(with_pending=False)

    def _new_mesh(self) -> Any:
        """An empty mesh: the C one (:func:`_compiled_mesh`) when the speedups are built, the
        loss is the default one and the values are floats, else a :class:`_Mesh` (both have
        the same methods and give bitwise the same results)."""
        if (
            speedups.compiled is not None
            and self._local_loss is _local_default
            and self._scalar_values
        ):
            return _compiled_mesh(self._corners)
        return _Mesh(self)

    def _build_mesh(self, with_pending: bool) -> _Mesh:
        """A new mesh of the data (and pending points), independent of the insertion order."""
        mesh = self._new_mesh()
        items = list(self.data.items())
        if with_pending:
            items += [(k, self._pending_values.get(k)) for k in self.pending_points]
        for key, value in sorted(items, key=lambda kv: self._walk_key(kv[0])):
            self._place(mesh, key, value)
        return mesh

    def _sync_real(self) -> _Mesh:
        if self._real is None:
            self._real = self._build_mesh(with_pending=False)
        else:
            for key in self._real_backlog:
                self._place(self._real, key, self.data[key])
        self._real_backlog = []
        return self._real

    # ---- loss ----------------------------------------------------------------------------------
    def loss(self, real: bool = True) -> float:
        """The largest triangle loss; infinite until the four corners are evaluated."""
        if real:
            if not self.bounds_are_done:
                return _INF
            if self.pending_points:
                return self._sync_real().max_loss(self._y_scale)
        return self._mesh.max_loss(self._y_scale)

    # ---- data ----------------------------------------------------------------------------------
    def _get_data(self) -> dict[tuple[float, float], Any]:
        return dict(self.data)

    def _set_data(self, data: dict[tuple[float, float], Any]) -> None:
        if data:
            self.tell_many(list(data), list(data.values()))

    def _settings(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "bounds": self.bounds,
            "loss_per_triangle": self.loss_per_triangle,
        }

    def _table(self) -> tuple[np.ndarray, np.ndarray]:
        keys = sorted(self.data)
        points = np.array(keys, dtype=float).reshape(-1, 2)
        values = np.array([self.data[k] for k in keys], dtype=float).reshape(-1, self.vdim)
        return points, values

    def to_numpy(self) -> np.ndarray:
        """Rows ``(x, y, *value)`` sorted by point."""
        points, values = self._table()
        return np.hstack([points, values])

    def interpolator(self, *, scaled: bool = False):
        """A scipy ``LinearNDInterpolator`` over the evaluated points; ``scaled`` puts the
        bounds on the unit square centred on 0 (the coordinates losses see)."""
        from scipy.interpolate import LinearNDInterpolator

        points, values = self._table()
        if len(points) < 3:
            raise ValueError(f"interpolation needs at least 3 evaluated points, got {len(points)}")
        if scaled:
            (x0, x1), (y0, y1) = self.bounds
            points = (points - [(x0 + x1) / 2, (y0 + y1) / 2]) / self._width
        return LinearNDInterpolator(points, values)

    def ip(self):
        """The interpolator on scaled coordinates (``interpolator(scaled=True)``)."""
        return self.interpolator(scaled=True)

    def _grid_size(self) -> int:
        areas = [self._area(*corners) for corners in self._mesh.triangle_points()]
        smallest = min((a for a in areas if a > 0), default=1.0)
        return int(min(max(math.ceil(1 / math.sqrt(smallest)), 2), 1000))

    @staticmethod
    def _area(pa: tuple, pb: tuple, pc: tuple) -> float:
        return 0.5 * abs((pb[0] - pa[0]) * (pc[1] - pa[1]) - (pb[1] - pa[1]) * (pc[0] - pa[0]))

    def interpolated_on_grid(self, n: int | None = None):
        """``(xs, ys, values)``: the linear interpolation on an ``n`` x ``n`` grid of the bounds
        (``values[i, j]`` at ``(xs[i], ys[j])``; a last axis per component for vectors). With
        ``n=None`` the grid resolves the smallest triangle (at most 1000 x 1000)."""
        if n is None:
            n = self._grid_size()
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"n must be a positive integer, got n={n!r}")
        (x0, x1), (y0, y1) = self.bounds
        xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
        values = self.interpolator()(xs[:, None], ys[None, :])
        if self.vdim == 1:
            values = values[..., 0]
        return xs, ys, values

    def to_dataframe(
        self,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        x_name: str = "x",
        y_name: str = "y",
        z_name: str = "z",
    ):
        """The data as a DataFrame with columns ``x_name``, ``y_name`` and ``z_name`` (a vector
        value is one array in the ``z_name`` column, as in python-adaptive)."""
        pd = require_pandas()
        keys = sorted(self.data)
        df = pd.DataFrame(
            {
                x_name: [k[0] for k in keys],
                y_name: [k[1] for k in keys],
                z_name: [self.data[k] for k in keys],
            },
            columns=[x_name, y_name, z_name],
        )
        describe_dataframe(
            df, [x_name, y_name], z_name, self.function, with_default_function_args, function_prefix
        )
        return df

    def load_dataframe(
        self,
        df: Any,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        x_name: str = "x",
        y_name: str = "y",
        z_name: str = "z",
    ) -> None:
        """Tell the learner the data of a DataFrame made by :meth:`to_dataframe` (``z_name``
        holds numbers or arrays; ``z_name_0``, ``z_name_1``, ... columns are read too)."""
        require_pandas()
        if z_name in df.columns:
            values = list(df[z_name])
        else:
            columns = [c for c in df.columns if isinstance(c, str) and c.startswith(f"{z_name}_")]
            if not columns:
                raise ValueError(f"the dataframe has no column {z_name!r} or {z_name}_0, ...")
            columns.sort(key=lambda c: int(c.rsplit("_", 1)[1]))
            values = list(df[columns].to_numpy(dtype=float))
        self.function = function_from_dataframe(
            self.function, df, with_default_function_args, function_prefix
        )
        xs = df[x_name].to_numpy(dtype=float).tolist()
        points = list(zip(xs, df[y_name].to_numpy(dtype=float).tolist(), strict=True))
        self.tell_many(points, values)

    def plot(self, n: int | None = None, tri_alpha: float = 0):
        """The linear interpolation of the data as a holoviews ``Image`` of ``n`` x ``n`` pixels
        covering the bounds, each showing the value at its centre (``n=None``: pixels fine
        enough for the smallest triangle), viridis with a colour bar.

        With ``tri_alpha > 0`` the triangulation of the evaluated points is drawn on top with
        that opacity (an ``Overlay``). A vector function gives a ``HoloMap`` over its
        ``component``. A learner with fewer than 3 points gives an empty image of the bounds.
        Needs holoviews.
        """
        hv = require_holoviews("Learner2D.plot")
        if n is None:
            n = self._grid_size()
        elif isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"n must be a positive integer, got n={n!r}")
        (x0, x1), (y0, y1) = self.bounds
        bounds = (x0, y0, x1, y1)
        values = None
        if len(self.data) >= 3:
            xs, ys = plotting.pixel_centers(x0, x1, n), plotting.pixel_centers(y0, y1, n)
            try:
                # one row per y, one column per x, one layer per component
                values = self.interpolator()(xs[None, :], ys[:, None])
            except (ValueError, RuntimeError):  # e.g. scipy cannot triangulate collinear points
                values = None
        edges = None
        if tri_alpha:
            edges = plotting.segments_path(
                hv, plotting.triangle_edges(self._told_triangles()), alpha=tri_alpha, line_width=1
            )

        def image(component: int | None):
            # an image's rows run down from the top
            z = None if values is None else np.flipud(values[..., component or 0])
            element = plotting.image(hv, z, bounds)
            return element * edges if edges is not None else element

        return plotting.per_component(hv, self.vdim, image)

    def _told_triangles(self) -> np.ndarray:
        """The corners of the triangles of the evaluated points, unscaled: shape (n, 3, 2)."""
        if len(self.data) < 3:
            return np.empty((0, 3, 2))
        mesh = self._sync_real() if self.pending_points else self._mesh
        corners = np.asarray(mesh.triangle_points(), dtype=float).reshape(-1, 3, 2)
        (x0, x1), (y0, y1) = self.bounds
        low, high = np.array([x0, y0]), np.array([x1, y1])
        unscaled = np.clip(low + corners * np.asarray(self._width), low, high)
        # as _unscaled: the far bounds exactly, whatever the rounding of low + 1 * width
        return np.where(corners >= 1.0, high, unscaled)
