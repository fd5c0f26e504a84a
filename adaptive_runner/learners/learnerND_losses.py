"""Loss functions of the LearnerND, and the helpers for writing your own.

A loss function takes ``(simplex, values, value_scale)``: the vertices of one simplex (rows of
coordinates, each axis divided by the width of the bounds' bounding box), the function values
at those vertices multiplied by ``value_scale`` (1 / the spread of all values), and that
multiplier; it returns how much the simplex is worth refining. A loss declared with
``@uses_nth_neighbors(1)`` also receives ``neighbors`` and ``neighbor_values``: for each facet
of the simplex, the vertex of the simplex on the other side of it (``None`` on the boundary or
where that vertex is not evaluated yet), and its scaled value.

The built-in losses are plain functions with the same results as python-adaptive's:

* :func:`uniform_loss`: the volume of the simplex;
* :func:`default_loss`: the volume of the simplex in the graph of the function, i.e. of the
  points ``(x, f(x))`` in ``R^(d + m)``;
* :func:`std_loss`: ``volume + sqrt(volume) * |std of the values|``;
* :func:`triangle_loss`: the mean volume of the ``(d + 1)``-simplices the simplex makes with
  each neighbouring vertex, in the graph of the function (zero for a flat function);
* :func:`curvature_loss_function`: ``(triangle_loss + exploration * volume ** ((d + 2) / d))
  ** (1 / (d + 2))``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from adaptive_runner.learners.learner1D_losses import uses_nth_neighbors

__all__ = [
    "curvature_loss_function",
    "default_loss",
    "simplex_volume_in_embedding",
    "std_loss",
    "triangle_loss",
    "uniform_loss",
    "uses_nth_neighbors",
]


def _gram_volume(vectors: Sequence[Sequence[float]]) -> float:
    """The volume of the simplex spanned by ``k`` edge vectors from one vertex (any ambient
    dimension): sqrt(det(Gram)) / k!."""
    k = len(vectors)
    if k == 1:
        return math.sqrt(sum(x * x for x in vectors[0]))
    if k == 2:
        u, v = vectors
        uu = sum(x * x for x in u)
        vv = sum(x * x for x in v)
        uv = sum(x * y for x, y in zip(u, v, strict=True))
        return 0.5 * math.sqrt(max(uu * vv - uv * uv, 0.0))
    if k == 3:
        u, v, w = vectors
        a, b, c = (sum(x * y for x, y in zip(u, r, strict=True)) for r in (u, v, w))
        e, f = (sum(x * y for x, y in zip(v, r, strict=True)) for r in (v, w))
        i = sum(x * x for x in w)
        det = a * (e * i - f * f) - b * (b * i - f * c) + c * (b * f - e * c)
        return math.sqrt(max(det, 0.0)) / 6.0
    matrix = np.asarray(vectors, dtype=float)
    det = float(np.linalg.det(matrix @ matrix.T))
    return math.sqrt(max(det, 0.0)) / math.factorial(k)


def simplex_volume_in_embedding(vertices: Sequence[Sequence[float]]) -> float:
    """The volume of the simplex with these ``k + 1`` vertices, in any ambient dimension."""
    rows = [tuple(float(x) for x in np.ravel(v)) for v in vertices]
    origin = rows[0]
    return _gram_volume([[x - o for x, o in zip(row, origin, strict=True)] for row in rows[1:]])


def _with_values(simplex: Sequence[Sequence[float]], values: Sequence[Any]) -> list[tuple]:
    """The vertices of the simplex in the graph of the function: ``(*x, *f(x))``."""
    return [(*map(float, x), *np.ravel(y).tolist()) for x, y in zip(simplex, values, strict=True)]


@uses_nth_neighbors(0)
def uniform_loss(simplex: Sequence[Sequence[float]], values: Any, value_scale: float) -> float:
    """The volume of the simplex: samples the domain uniformly."""
    return simplex_volume_in_embedding(simplex)


@uses_nth_neighbors(0)
def default_loss(simplex: Sequence[Sequence[float]], values: Any, value_scale: float) -> float:
    """The volume of the simplex in the graph of the function, ``(x, f(x))``."""
    return simplex_volume_in_embedding(_with_values(simplex, values))


@uses_nth_neighbors(0)
def std_loss(simplex: Sequence[Sequence[float]], values: Any, value_scale: float) -> float:
    """``volume + sqrt(volume) * |std|``: the standard deviation of the values (per component,
    combined by the Euclidean norm) weighted by the size of the simplex."""
    volume = simplex_volume_in_embedding(simplex)
    table = np.asarray(values, dtype=float).reshape(len(simplex), -1)
    spread = float(np.linalg.norm(table.std(axis=0)))
    return volume + math.sqrt(volume) * spread


@uses_nth_neighbors(1)
def triangle_loss(
    simplex: Sequence[Sequence[float]],
    values: Any,
    value_scale: float,
    neighbors: Sequence[Any],
    neighbor_values: Sequence[Any],
) -> float:
    """The mean volume, in the graph of the function, of the ``(d + 1)``-simplices made by the
    simplex and each neighbouring vertex (``None`` neighbours are left out; 0 without any).

    Zero where the function is linear: it measures how much the graph bends.
    """
    vertices = _with_values(simplex, values)
    volumes = [
        simplex_volume_in_embedding([*vertices, *_with_values([point], [value])])
        for point, value in zip(neighbors, neighbor_values, strict=True)
        if point is not None
    ]
    return sum(volumes) / len(volumes) if volumes else 0.0


def curvature_loss_function(exploration: float = 0.05) -> Callable:
    """A loss refining where the graph of the function bends, plus a little uniform sampling.

    ``loss = (triangle_loss + exploration * volume ** ((d + 2) / d)) ** (1 / (d + 2))``, with
    ``d`` the dimension of the domain.
    """
    if not exploration >= 0:
        raise ValueError(f"exploration must be >= 0, got exploration={exploration!r}")

    @uses_nth_neighbors(1)
    def curvature_loss(
        simplex: Sequence[Sequence[float]],
        values: Any,
        value_scale: float,
        neighbors: Sequence[Any],
        neighbor_values: Sequence[Any],
    ) -> float:
        dim = len(simplex[0])
        bending = triangle_loss(simplex, values, value_scale, neighbors, neighbor_values)
        volume = simplex_volume_in_embedding(simplex)
        return (bending + exploration * volume ** ((2 + dim) / dim)) ** (1 / (2 + dim))

    return curvature_loss
