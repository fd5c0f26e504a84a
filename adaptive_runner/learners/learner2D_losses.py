"""Loss functions of the Learner2D, and the helpers for writing your own.

A loss function ``loss_per_triangle(ip)`` receives an interpolator shaped like scipy's
``LinearNDInterpolator``: ``ip.tri.points`` (the points, in coordinates scaled to a unit square
centred on 0), ``ip.tri.simplices`` (one row of three point indices per triangle),
``ip.tri.neighbors`` and ``ip.values`` (one row per point), and returns one loss per triangle.
Such a loss is recomputed over all triangles whenever the learner asks (O(N) per ask).

The built-in losses below also carry a *local* form (the ``local_loss`` attribute): the learner
then computes the loss of one triangle from its vertices, their gradients (estimated from the
triangles around them) and the value scale only, and updates just the triangles near a change
(O(1) per point). The global and the local form compute the same quantities; the local form
scales values by the spread of the data rounded up to a power of 2**(1/1024) (see
:mod:`adaptive_runner.learners.learner2D`), the global form by the exact spread.

Deviation. The gradient at a vertex is estimated as the area-weighted mean of the gradients of
the triangles around it (a local estimate; python-adaptive solves a global one). For a triangle,
each vertex's value and gradient predict the values at its other two vertices; the deviation is
the sum of the six prediction errors, in units of the value spread (for vector values: the
largest component plus half the sum of the others, so every component draws points but one
that varies strongly dominates). It is small where the function is locally linear and grows
with curvature and jumps, also along the edges of the domain.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "areas",
    "default_loss",
    "deviations",
    "minimize_triangle_surface_loss",
    "resolution_loss_function",
    "thresholded_loss_function",
    "triangle_loss",
    "uniform_loss",
]

#: weight of the area term of the default loss
AREA_WEIGHT = 0.3


# ---- global helpers (on an interpolator) ---------------------------------------------------------
def _values(ip: Any) -> np.ndarray:
    """``ip.values`` as a (npoints, vdim) float array."""
    values = np.asarray(ip.values, dtype=float)
    return values.reshape(len(values), -1)


def _value_scale(values: np.ndarray) -> float:
    finite = values[np.all(np.isfinite(values), axis=1)]
    if len(finite) == 0:
        return 1.0
    spread = float(np.max(np.ptp(finite, axis=0)))
    return spread if spread > 0 else 1.0


def areas(ip: Any) -> np.ndarray:
    """The area of every triangle of ``ip.tri`` (in the coordinates of ``ip.tri.points``)."""
    corners = np.asarray(ip.tri.points, dtype=float)[np.asarray(ip.tri.simplices)]
    u = corners[:, 1] - corners[:, 0]
    v = corners[:, 2] - corners[:, 0]
    return 0.5 * np.abs(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0])


def _opposite_vertices(ip: Any) -> np.ndarray:
    """(ntriangles, 3): the vertex of the neighbour across the edge opposite each vertex, -1
    where there is no neighbour."""
    simplices = np.asarray(ip.tri.simplices)
    neighbors = np.asarray(ip.tri.neighbors)
    totals = simplices.sum(axis=1)
    opposite = np.full(simplices.shape, -1, dtype=np.int64)
    for k in range(3):
        across = neighbors[:, k]
        has = across >= 0
        # the neighbour shares the edge without vertex k: its third vertex is what remains
        opposite[has, k] = totals[across[has]] - (totals[has] - simplices[has, k])
    return opposite


def deviations(ip: Any) -> np.ndarray:
    """How far the values deviate from the linear estimates of the gradients at the vertices.

    The gradient at a vertex is the area-weighted mean of the gradients of the triangles around
    it. For every triangle, each vertex's value and gradient predict the values at the other two
    vertices; the deviation is the sum of the six absolute prediction errors, with values divided
    by their spread (the largest peak-to-peak of the components).

    Returns
    -------
    numpy.ndarray
        Shape ``(vdim, ntriangles)``: one row per component of the values.
    """
    points = np.asarray(ip.tri.points, dtype=float)
    simplices = np.asarray(ip.tri.simplices)
    values = _values(ip)
    values = values / _value_scale(values)
    p0, p1, p2 = (points[simplices[:, k]] for k in range(3))
    v0, v1, v2 = (values[simplices[:, k]] for k in range(3))
    d1, d2 = p1 - p0, p2 - p0
    det = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
    area = 0.5 * np.abs(det)
    safe = np.where(det == 0, np.inf, det)[:, None]
    gx = ((v1 - v0) * d2[:, 1:2] - (v2 - v0) * d1[:, 1:2]) / safe
    gy = ((v2 - v0) * d1[:, 0:1] - (v1 - v0) * d2[:, 0:1]) / safe
    weight = np.where(np.all(np.isfinite(gx) & np.isfinite(gy), axis=1), area, 0.0)
    npoints, vdim = values.shape
    sum_x, sum_y = np.zeros((npoints, vdim)), np.zeros((npoints, vdim))
    total = np.zeros(npoints)
    for k in range(3):
        np.add.at(sum_x, simplices[:, k], np.nan_to_num(gx) * weight[:, None])
        np.add.at(sum_y, simplices[:, k], np.nan_to_num(gy) * weight[:, None])
        np.add.at(total, simplices[:, k], weight)
    total = np.where(total > 0, total, np.nan)[:, None]
    grad_x, grad_y = np.nan_to_num(sum_x / total), np.nan_to_num(sum_y / total)
    result = np.zeros_like(v0)
    for i in range(3):
        vi, pi = values[simplices[:, i]], points[simplices[:, i]]
        gxi, gyi = grad_x[simplices[:, i]], grad_y[simplices[:, i]]
        for j in range(3):
            if i == j:
                continue
            vj, pj = values[simplices[:, j]], points[simplices[:, j]]
            predicted = vi + gxi * (pj[:, 0:1] - pi[:, 0:1]) + gyi * (pj[:, 1:2] - pi[:, 1:2])
            result = result + np.abs(vj - predicted)
    return result.T


#: vector values: a triangle's deviation is its largest component's plus this times the others'
VECTOR_SUM_WEIGHT = 0.5


def _component_deviation(per_component: np.ndarray) -> np.ndarray:
    """(vdim, ntriangles) -> (ntriangles,): the largest component plus ``VECTOR_SUM_WEIGHT``
    times the rest (just the component for scalars)."""
    largest = np.max(per_component, axis=0)
    return largest + VECTOR_SUM_WEIGHT * (np.sum(per_component, axis=0) - largest)


def _combine(deviation: np.ndarray, area: np.ndarray) -> np.ndarray:
    return deviation * np.sqrt(area) + AREA_WEIGHT * area


# ---- local forms (one triangle) ------------------------------------------------------------------
# Signature: local(area, deviation, points, values, y_scale, opposite) -> loss, where ``points``
# are the three vertices (scaled coordinates), ``values`` their unscaled values (floats or
# arrays), ``deviation`` the scaled deviation (0 when not needed) and ``opposite`` a list of
# (point, value) of the far vertices of the neighbours. ``needs_deviation`` and
# ``needs_neighbours`` tell the learner what to compute.


def _local_default(area, deviation, points, values, y_scale, opposite):
    return deviation * math.sqrt(area) + AREA_WEIGHT * area


def _local_uniform(area, deviation, points, values, y_scale, opposite):
    return math.sqrt(area)


def _embedded(points: Sequence, values: Sequence, y_scale: float) -> np.ndarray:
    return np.array(
        [
            (*p, *np.atleast_1d(np.asarray(v, dtype=float) / y_scale))
            for p, v in zip(points, values, strict=True)
        ]
    )


def _simplex_volume(vertices: np.ndarray) -> float:
    """Volume of a simplex given by its vertices (rows) in any embedding dimension."""
    edges = vertices[1:] - vertices[0]
    gram = edges @ edges.T
    return math.sqrt(max(float(np.linalg.det(gram)), 0.0)) / math.factorial(len(edges))


def _local_surface(area, deviation, points, values, y_scale, opposite):
    return _simplex_volume(_embedded(points, values, y_scale))


def _local_triangle(area, deviation, points, values, y_scale, opposite):
    if not opposite:
        return 0.0
    corners = _embedded(points, values, y_scale)
    volumes = [
        _simplex_volume(np.vstack([corners, _embedded([q], [qv], y_scale)])) for q, qv in opposite
    ]
    return sum(volumes) / len(volumes)


def _local(function: Callable, deviation: bool, neighbours: bool = False) -> Callable:
    function.needs_deviation = deviation
    function.needs_neighbours = neighbours
    return function


# ---- the loss functions --------------------------------------------------------------------------
def default_loss(ip: Any) -> np.ndarray:
    """``deviation * sqrt(area) + 0.3 * area`` per triangle (scaled coordinates and values).

    The deviation (see :func:`deviations`; for vector values the largest component plus half
    the others) draws points to curved regions
    and jumps; the area term keeps filling the rest of the domain.
    """
    deviation = _component_deviation(deviations(ip))
    return _combine(deviation, areas(ip))


default_loss.local_loss = _local(_local_default, deviation=True)


def uniform_loss(ip: Any) -> np.ndarray:
    """``sqrt(area)`` per triangle: samples the domain uniformly.

    Examples
    --------
    >>> learner = Learner2D(f, bounds=[(-1, 1), (-1, 1)], loss_per_triangle=uniform_loss)
    """
    return np.sqrt(areas(ip))


uniform_loss.local_loss = _local(_local_uniform, deviation=False)


def minimize_triangle_surface_loss(ip: Any) -> np.ndarray:
    """The area of each triangle lifted into (x, y, value) space (values divided by their
    spread; vector values add one axis per component): the 2D analogue of the Learner1D's
    default loss."""
    points = np.asarray(ip.tri.points, dtype=float)
    values = _values(ip)
    values = values / _value_scale(values)
    lifted = np.hstack([points, values])[np.asarray(ip.tri.simplices)]
    u = lifted[:, 1] - lifted[:, 0]
    v = lifted[:, 2] - lifted[:, 0]
    uu, vv, uv = (u * u).sum(axis=1), (v * v).sum(axis=1), (u * v).sum(axis=1)
    return 0.5 * np.sqrt(np.maximum(uu * vv - uv * uv, 0.0))


minimize_triangle_surface_loss.local_loss = _local(_local_surface, deviation=False)


def triangle_loss(ip: Any) -> np.ndarray:
    """The mean volume of the tetrahedra each triangle makes, in (x, y, value) space, with the
    far vertex of each neighbouring triangle (values divided by their spread). Like the
    LearnerND's ``triangle_loss``: large where the surface bends."""
    points = np.asarray(ip.tri.points, dtype=float)
    values = _values(ip)
    values = values / _value_scale(values)
    lifted = np.hstack([points, values])
    simplices = np.asarray(ip.tri.simplices)
    opposite = _opposite_vertices(ip)
    base = lifted[simplices]
    total = np.zeros(len(simplices))
    count = np.zeros(len(simplices))
    for k in range(3):
        q = opposite[:, k]
        has = q >= 0
        edges = np.concatenate(
            [base[has, 1:] - base[has, :1], lifted[q[has]][:, None] - base[has, :1]], axis=1
        )
        gram = np.einsum("nij,nkj->nik", edges, edges)
        total[has] += np.sqrt(np.maximum(np.linalg.det(gram), 0.0)) / 6.0
        count[has] += 1
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


triangle_loss.local_loss = _local(_local_triangle, deviation=False, neighbours=True)


def resolution_loss_function(min_distance: float = 0, max_distance: float = 1) -> Callable:
    """The default loss, but 0 for triangles with area below ``min_distance**2`` and infinite
    above ``max_distance**2`` (in units where the domain has area 1), so no triangle is refined
    below or left above those sizes.

    Examples
    --------
    >>> loss = resolution_loss_function(min_distance=0.01, max_distance=1)
    >>> learner = Learner2D(f, bounds=[(-1, 1), (-1, 1)], loss_per_triangle=loss)
    """
    if not (0 <= min_distance <= max_distance):
        raise ValueError(
            "need 0 <= min_distance <= max_distance, got "
            f"min_distance={min_distance!r}, max_distance={max_distance!r}"
        )
    low, high = min_distance**2, max_distance**2

    def resolution_loss(ip: Any) -> np.ndarray:
        area = areas(ip)
        loss = default_loss(ip)
        loss[area < low] = 0.0
        loss[area > high] = np.inf
        return loss

    def local(area, deviation, points, values, y_scale, opposite):
        if area < low:
            return 0.0
        if area > high:
            return math.inf
        return deviation * math.sqrt(area) + AREA_WEIGHT * area

    resolution_loss.local_loss = _local(local, deviation=True)
    resolution_loss.min_distance = min_distance
    resolution_loss.max_distance = max_distance
    return resolution_loss


def thresholded_loss_function(
    lower_threshold: float | None = None,
    upper_threshold: float | None = None,
    priority_factor: float = 0.1,
) -> Callable:
    """The default loss, multiplied by ``priority_factor`` for triangles whose vertex values
    all lie below ``lower_threshold`` or all above ``upper_threshold`` (unscaled values; for
    vector values every component), so regions outside the band of interest are sampled less.
    """
    if not priority_factor >= 0:
        raise ValueError(f"priority_factor must be >= 0, got priority_factor={priority_factor!r}")

    def outside(values: np.ndarray) -> np.ndarray:
        """values: (..., 3, vdim) -> (...) whether all vertices are beyond a threshold."""
        result = np.zeros(values.shape[:-2], dtype=bool)
        if lower_threshold is not None:
            result |= np.all(values < lower_threshold, axis=(-2, -1))
        if upper_threshold is not None:
            result |= np.all(values > upper_threshold, axis=(-2, -1))
        return result

    def thresholded_loss(ip: Any) -> np.ndarray:
        loss = default_loss(ip)
        vertex_values = _values(ip)[np.asarray(ip.tri.simplices)]
        return np.where(outside(vertex_values), loss * priority_factor, loss)

    def local(area, deviation, points, values, y_scale, opposite):
        loss = deviation * math.sqrt(area) + AREA_WEIGHT * area
        table = np.array([np.atleast_1d(np.asarray(v, dtype=float)) for v in values])
        return loss * priority_factor if outside(table) else loss

    thresholded_loss.local_loss = _local(local, deviation=True)
    thresholded_loss.lower_threshold = lower_threshold
    thresholded_loss.upper_threshold = upper_threshold
    thresholded_loss.priority_factor = priority_factor
    return thresholded_loss
