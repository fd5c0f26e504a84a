"""LearnerND: adaptive sampling of f: R^d -> R or R^m on a box or a convex polytope (d >= 2).

State. One Delaunay triangulation (:class:`~adaptive_runner.learners.triangulation.Triangulation`)
holds the corners of the domain, the evaluated points and the pending ones. Every simplex has a
loss: a simplex whose vertices are all evaluated gets ``loss_per_simplex`` of its vertices
(coordinates divided by the widths of the domain's bounding box, values multiplied by
1 / their spread); a simplex made by inserting a pending point inherits a share of the losses
of the simplices that point replaced, in proportion to its volume. So asking k points into one
region divides its loss among the pieces, and a tell recomputes only the simplices around the
told point (and their neighbours for losses that use them): no global recomputation per point.
A simplex with an unevaluated corner of the domain has an infinite loss: the corners come first.

Asking picks the simplex of largest loss (ties: larger volume, then the smaller coordinates)
and returns its centroid when its circumcenter lies inside it (a well-shaped simplex), else the
middle of its longest edge; the loss improvement is the simplex's loss.

Order independence. The triangulation of a point set is unique (exact predicates with a
coordinate-based tie-break), every loss is computed from the vertices in coordinate order, and
the value spread used for scaling is rounded up to a power of 2 ** (1 / 1024) (all losses are
recomputed when it changes). So telling the same data in any order gives the same learner.
``ask(n, tell_pending=False)`` with n > 1 and ``remove_unfinished`` rebuild the triangulation
(O(N)), because a triangulation cannot take a point out again.

``loss(real=True)`` is the largest loss over the evaluated points; while points are pending, a
simplex that has a pending vertex counts with the largest real loss of the simplices it
replaced.

Differences from python-adaptive 1.5.2 (same API otherwise):

* ``tri`` also holds the pending points (python-adaptive keeps them in per-simplex
  sub-triangulations); it is None until the corners are evaluated, as there.
* Before the corners are known python-adaptive asks random points; here the centroids of the
  (infinite-loss) simplices, so runs are reproducible.
* Ties between cospherical points are broken differently, so the triangulation (and the
  samples) can differ where the Delaunay triangulation is not unique; the losses are the same
  functions (up to the rounding of the value scale, below 0.07%).
* Telling data again, or resuming from a DataFrame and asking, never fails (python-adaptive:
  "Point already in triangulation"); a point told outside the domain is kept in ``data`` but
  not triangulated.
* NaN or infinite values give their simplices the uniform loss (python-adaptive's loss becomes
  NaN); degenerate or infinite bounds raise ``ValueError`` at construction.
* ``to_dataframe``'s default ``point_names=("x", "y", "z")`` means ``("x", "y")`` in 2D and
  ``("x0", "x1", ...)`` above 3D (python-adaptive raises unless the learner is 3D); vector
  values are kept as arrays in the single ``value`` column, as there.
* No ``anisotropic``/``triangulation_backend`` keywords (not part of the compatible API).
* ``plot_3D`` also takes 2D domains (the surface of the data; python-adaptive only 3D ones),
  and ``plot_isosurface`` returns its plotly figure instead of showing it.
"""

from __future__ import annotations

import heapq
import itertools
import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from adaptive_runner.learners import plotting
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
from adaptive_runner.learners.learnerND_losses import (
    _gram_volume,
    default_loss,
    uniform_loss,
)
from adaptive_runner.learners.triangulation import (
    Triangulation,
    _barycentric_2d,
    _barycentric_3d,
    circumsphere,
)

__all__ = ["LearnerND"]


def _morton_order(points: np.ndarray) -> list[int]:
    """Indices of ``points`` along a Z-order curve: consecutive points are close together, so
    inserting in this order keeps the walks that locate them short."""
    if len(points) == 0:
        return []
    low, high = points.min(axis=0), points.max(axis=0)
    cells = ((points - low) / np.where(high > low, high - low, 1.0) * 1023).astype(np.int64)
    dim = points.shape[1]
    codes = np.zeros(len(points), dtype=np.int64)
    for bit in range(10):
        for axis in range(dim):
            codes |= ((cells[:, axis] >> bit) & 1) << (bit * dim + axis)
    return np.argsort(codes, kind="stable").tolist()


class LearnerND(BaseLearner):
    """Learn a function of several variables, f: R^d -> R or R^m, on a box or a convex hull.

    Parameters
    ----------
    func
        ``func(point)`` with ``point`` a tuple of d floats; returns a number or a vector (all of
        the same length).
    bounds
        A box ``[(low_0, high_0), ..., (low_(d-1), high_(d-1))]`` (finite, low < high), or a
        :class:`scipy.spatial.ConvexHull` of the domain's corners.
    loss_per_simplex
        ``loss(simplex, values, value_scale)`` (see
        :mod:`adaptive_runner.learners.learnerND_losses`); :func:`default_loss` when None.

    Examples
    --------
    >>> learner = LearnerND(lambda xy: xy[0] * xy[1], bounds=[(-1, 1), (-1, 1)])
    >>> points, improvements = learner.ask(4)
    >>> points
    [(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)]
    """

    def __init__(
        self, func: Callable, bounds: Any, loss_per_simplex: Callable | None = None
    ) -> None:
        if not callable(func):
            raise TypeError(f"func must be callable, got func={func!r}")
        if loss_per_simplex is not None and not callable(loss_per_simplex):
            raise TypeError(
                f"loss_per_simplex must be callable, got loss_per_simplex={loss_per_simplex!r}"
            )
        self.function = func
        self.bounds, self._hull_points, self._hull_equations = self._parse_bounds(bounds)
        self.ndim = len(self._hull_points[0])
        self.loss_per_simplex = loss_per_simplex or default_loss
        self.nth_neighbors = int(getattr(self.loss_per_simplex, "nth_neighbors", 0) or 0)
        if self.nth_neighbors not in (0, 1):
            raise ValueError(
                "LearnerND losses may use the neighbours across each facet "
                f"(uses_nth_neighbors(1)) but no further, got nth_neighbors={self.nth_neighbors}"
            )
        coordinates = np.asarray(self._hull_points)
        widths = coordinates.max(axis=0) - coordinates.min(axis=0)
        self._widths = tuple(float(w) for w in widths)
        self._volume_unit = float(np.prod(widths))
        self.data: dict[tuple[float, ...], Any] = {}
        self.pending_points: set[tuple[float, ...]] = set()
        self._pending_order: dict[tuple[float, ...], None] = {}
        self._outside: set[tuple[float, ...]] = set()  # told points the triangulation leaves out
        self._vdim: int | None = None
        self._value_min: float | None = None
        self._value_max: float | None = None
        self._value_scale = 1.0
        self._reset_geometry()

    # ---- construction --------------------------------------------------------------------------
    @staticmethod
    def _parse_bounds(bounds: Any) -> tuple[Any, list[tuple[float, ...]], np.ndarray | None]:
        if (
            hasattr(bounds, "points")
            and hasattr(bounds, "vertices")
            and hasattr(bounds, "equations")
        ):
            points = np.asarray(bounds.points, dtype=float)[np.asarray(bounds.vertices)]
            if not np.all(np.isfinite(points)):
                raise ValueError("the convex hull given as bounds has non-finite points")
            hull_points = [tuple(p) for p in points.tolist()]
            if len(hull_points[0]) < 2:
                raise ValueError("LearnerND needs at least 2 dimensions; use Learner1D")
            return bounds, hull_points, np.asarray(bounds.equations, dtype=float)
        try:
            box = [tuple(float(v) for v in pair) for pair in bounds]
        except (TypeError, ValueError):
            raise ValueError(
                "bounds must be a list of (low, high) pairs or a scipy.spatial.ConvexHull, "
                f"got bounds={bounds!r}"
            ) from None
        if any(len(pair) != 2 for pair in box):
            raise ValueError(f"bounds must be (low, high) pairs, got bounds={bounds!r}")
        if len(box) < 2:
            raise ValueError(
                f"LearnerND needs at least 2 dimensions (use Learner1D), got bounds={bounds!r}"
            )
        for axis, (low, high) in enumerate(box):
            if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
                raise ValueError(
                    f"bounds must be finite with low < high, got {(low, high)} on axis {axis} "
                    f"in bounds={bounds!r}"
                )
        return tuple(box), [tuple(corner) for corner in itertools.product(*box)], None

    def _reset_geometry(self) -> None:
        """An empty triangulation of the domain's corners, with the told values they have."""
        self._tri = Triangulation(self._hull_points)
        vertices = self._tri.vertices
        self._vertex_values: list[Any] = [self.data.get(p) for p in vertices]
        self._nonfinite: set[int] = {
            i for i, y in enumerate(self._vertex_values) if y is not None and not _finite(y)
        }
        self._scaled = [self._scale_point(p) for p in vertices]
        self._losses: dict[tuple, float] = {}
        self._real_losses: dict[tuple, float] = {}
        self._volumes: dict[tuple, float] = {}
        self._orders: dict[tuple, tuple] = {}  # simplex -> its vertices in coordinate order
        self._keys: dict[tuple, tuple] = {}  # simplex -> its vertices' coordinates, in order
        self._entries: dict[tuple, tuple] = {}
        self._real_entries: dict[tuple, tuple] = {}
        self._heap: list[tuple] = []
        self._real_heap: list[tuple] = []
        self._unsplittable: set[tuple] = set()
        self._bookkeep_all()

    def _scale_point(self, point: Sequence[float]) -> tuple[float, ...]:
        return tuple(x / w for x, w in zip(point, self._widths, strict=True))

    # ---- public attributes ---------------------------------------------------------------------
    @property
    def tri(self) -> Triangulation | None:
        """The triangulation (of the evaluated and pending points); None until the corners of
        the domain are all evaluated."""
        return self._tri if self.bounds_are_done else None

    @property
    def bounds_are_done(self) -> bool:
        """Whether every corner of the domain has been evaluated."""
        return all(p in self.data for p in self._hull_points)

    @property
    def vdim(self) -> int:
        """Length of the function's output (1 for scalars)."""
        return self._vdim or 1

    @property
    def points(self) -> np.ndarray:
        """The evaluated points, one row each (in the order they were told)."""
        return np.array(list(self.data), dtype=float).reshape(-1, self.ndim)

    @property
    def values(self) -> np.ndarray:
        """The values at :attr:`points`."""
        return np.array(list(self.data.values()), dtype=float)

    def inside_bounds(self, point: Sequence[float]) -> bool:
        """Whether ``point`` lies in the domain (its boundary included)."""
        point = np.asarray(point, dtype=float)
        if self._hull_equations is None:
            return all(low <= x <= high for x, (low, high) in zip(point, self.bounds, strict=True))
        scale = max(self._widths)
        return bool(
            np.all(
                self._hull_equations[:, :-1] @ point + self._hull_equations[:, -1] <= 1e-12 * scale
            )
        )

    # ---- asking --------------------------------------------------------------------------------
    def ask(self, n: int, tell_pending: bool = True) -> tuple[list, list[float]]:
        """``n`` points to evaluate next and the loss improvement each is expected to bring.

        The corners of the domain come first (improvement infinite); then points in the
        simplices of largest loss, counting pending points as already splitting their simplex.
        """
        n = check_ask_n(n)
        if n == 0:
            return [], []
        if not tell_pending and n == 1:
            point, improvement, _ = self._next_point()
            return ([], []) if point is None else ([point], [improvement])
        points, improvements = [], []
        for _ in range(n):
            point, improvement, hint = self._next_point()
            if point is None:
                break
            self._add_pending(point, hint)
            points.append(point)
            improvements.append(improvement)
        if not tell_pending and points:
            for point in points:
                self.pending_points.discard(point)
                del self._pending_order[point]
            self._rebuild()
        return points, improvements

    def _next_point(self) -> tuple[tuple | None, float, tuple | None]:
        for corner in self._hull_points:
            if corner not in self.data and corner not in self.pending_points:
                return corner, math.inf, None
        while True:
            simplex, loss = self._peek(self._heap, self._entries)
            if simplex is None or simplex in self._unsplittable:
                return None, 0.0, None
            point = self._choose_point(simplex)
            if point is not None:
                return point, loss, simplex
            # too small to split in floating point: never pick it again
            self._unsplittable.add(simplex)
            self._set_loss(simplex, 0.0, self._real_losses[simplex])

    def _choose_point(self, simplex: tuple) -> tuple | None:
        order = self._orders[simplex]
        vertices = self._tri.vertices
        coordinates = [vertices[v] for v in order]
        scaled = [self._scaled[v] for v in order]
        center, _ = circumsphere(scaled)
        if len(center) == 2:
            weights = _barycentric_2d(center, *scaled)
        elif len(center) == 3:
            weights = _barycentric_3d(center, *scaled)
        else:
            origin = np.asarray(scaled[0])
            try:
                rest = np.linalg.solve(
                    (np.asarray(scaled[1:]) - origin).T, np.asarray(center) - origin
                )
                weights = (1.0 - float(rest.sum()), *rest.tolist())
            except np.linalg.LinAlgError:
                weights = None
        if weights is not None and all(math.isfinite(w) for w in weights) and min(weights) > -1e-8:
            count = len(coordinates)
            point = tuple(sum(axis) / count for axis in zip(*coordinates, strict=True))
        else:
            longest, pair = -1.0, (0, 1)
            for i, j in itertools.combinations(range(len(order)), 2):
                length = math.dist(scaled[i], scaled[j])
                if length > longest:
                    longest, pair = length, (i, j)
            a, b = coordinates[pair[0]], coordinates[pair[1]]
            point = tuple((x + y) / 2 for x, y in zip(a, b, strict=True))
        if self._tri.vertex_index(point) is not None or point in self._outside:
            return None
        return point

    # ---- telling -------------------------------------------------------------------------------
    def _check_point(self, x: Any) -> tuple[float, ...]:
        try:
            point = tuple(map(float, x))
        except (TypeError, ValueError):
            raise ValueError(
                f"LearnerND points are sequences of {self.ndim} numbers, got x={x!r}"
            ) from None
        if len(point) != self.ndim:
            raise ValueError(
                f"LearnerND points have {self.ndim} coordinates, got x={x!r} with {len(point)}"
            )
        if not all(math.isfinite(v) for v in point):
            raise ValueError(f"LearnerND points must be finite, got x={x!r}")
        return point

    def _check_y(self, y: Any) -> Any:
        value, self._vdim = checked_value(y, self._vdim)
        return value

    def tell_pending(self, x: Any) -> None:
        point = self._check_point(x)
        if point in self.data or point in self.pending_points:
            return
        self._add_pending(point, None)

    def _add_pending(self, point: tuple, hint: tuple | None) -> None:
        self.pending_points.add(point)
        self._pending_order[point] = None
        if self._tri.vertex_index(point) is None:
            self._insert_vertex(point, None, hint)

    def tell(self, x: Any, y: Any) -> None:
        point = self._check_point(x)
        if point in self.data:
            return
        y = self._check_y(y)
        self.data[point] = y
        rescaled = self._update_range(y)
        index = self._tri.vertex_index(point)
        if point in self.pending_points:
            self.pending_points.discard(point)
            del self._pending_order[point]
        if index is None:
            index = self._insert_vertex(point, y, None)
        else:
            self._set_value(index, y)
            if not rescaled:
                self._recompute_around(index)
        if rescaled:
            self._recompute_all()

    def tell_many(self, xs: Iterable, ys: Iterable) -> None:
        """Tell many points at once; with many points the triangulation is rebuilt in one pass
        (inserting along a space-filling curve) and the losses computed once."""
        xs, ys = list(xs), list(ys)
        if len(xs) != len(ys):
            raise ValueError(f"tell_many: got {len(xs)} points but {len(ys)} values")
        if len(xs) < 0.25 * len(self.data) + 8:
            for x, y in zip(xs, ys, strict=True):
                self.tell(x, y)
            return
        # check everything before changing anything
        checked = [(self._check_point(x), y) for x, y in zip(xs, ys, strict=True)]
        checked = [(point, self._check_y(y)) for point, y in checked if point not in self.data]
        for point, y in checked:
            if point not in self.data:
                self.data[point] = y
                self._update_range(y)
                if point in self.pending_points:
                    self.pending_points.discard(point)
                    del self._pending_order[point]
        self._rebuild()

    def remove_unfinished(self) -> None:
        """Forget the pending points (the triangulation is rebuilt without them)."""
        if self.pending_points:
            self.pending_points.clear()
            self._pending_order.clear()
            self._rebuild()

    # ---- the triangulation and its losses ------------------------------------------------------
    def _insert_vertex(self, point: tuple, value: Any, hint: tuple | None) -> int | None:
        """Insert ``point`` (told with ``value``, or pending when None) and update the losses;
        a point the triangulation cannot take (outside, or a near duplicate) is left out."""
        if not self.inside_bounds(point):
            self._outside.add(point)
            return None
        try:
            deleted, added = self._tri.add_point(point, hint)
        except ValueError:
            self._outside.add(point)
            return None
        index = len(self._vertex_values)
        self._vertex_values.append(value)
        self._scaled.append(self._scale_point(point))
        if value is not None and not _finite(value):
            self._nonfinite.add(index)
        self._replace(deleted, added)
        return index

    def _set_value(self, index: int, value: Any) -> None:
        self._vertex_values[index] = value
        if not _finite(value):
            self._nonfinite.add(index)

    def _replace(self, deleted: set, added: set) -> None:
        losses, real_losses, volumes = self._losses, self._real_losses, self._volumes
        total_loss = total_volume = 0.0
        largest_real = 0.0
        for simplex in deleted:
            total_loss += losses.pop(simplex)
            total_volume += volumes.pop(simplex)
            largest_real = max(largest_real, real_losses.pop(simplex))
            del self._orders[simplex], self._keys[simplex]
            del self._entries[simplex], self._real_entries[simplex]
            self._unsplittable.discard(simplex)
        values = self._vertex_values
        pending = values[-1] is None  # the new vertex is pending: no added simplex is told
        for simplex in added:
            volume = self._bookkeep(simplex)
            if not pending and all(values[v] is not None for v in simplex):
                loss = self._simplex_loss(simplex)
                self._set_loss(simplex, loss, loss)
            else:
                share = total_loss * (volume / total_volume) if total_volume > 0 else total_loss
                self._set_loss(simplex, share, largest_real)
        if self.nth_neighbors:
            around = set()
            for simplex in added:
                around |= self._tri.neighbours(simplex)
            self._recompute(around - added)

    def _bookkeep(self, simplex: tuple) -> float:
        vertices = self._tri.vertices
        order = tuple(sorted(simplex, key=vertices.__getitem__))
        self._orders[simplex] = order
        self._keys[simplex] = tuple([vertices[v] for v in order])
        volume = self._volume(order)
        self._volumes[simplex] = volume
        return volume

    def _bookkeep_all(self) -> None:
        """Volumes, orders and losses of every simplex, from scratch."""
        vertices = self._tri.vertices
        simplices = list(self._tri.simplices)
        for simplex in simplices:
            order = tuple(sorted(simplex, key=vertices.__getitem__))
            self._orders[simplex] = order
            self._keys[simplex] = tuple([vertices[v] for v in order])
        volumes = self._batch_volumes(simplices)
        for simplex, volume in zip(simplices, volumes, strict=True):
            self._volumes[simplex] = volume
        self._recompute_all(infinite_unknown=True)

    def _batch_volumes(self, simplices: list[tuple]) -> list[float]:
        """:meth:`_volume` of many simplices with NumPy, with the same operations in the same
        order (so bit for bit the same results)."""
        if self.ndim not in (2, 3) or len(simplices) < 16:
            return [self._volume(self._orders[s]) for s in simplices]
        x = np.array(self._scaled)[np.array([self._orders[s] for s in simplices])]
        x = x.transpose(2, 1, 0)  # axis, vertex, simplex
        if self.ndim == 2:
            (ox, ax, bx), (oy, ay, by) = x
            return (np.abs((ax - ox) * (by - oy) - (ay - oy) * (bx - ox)) / 2).tolist()
        (ox, ax, bx, cx), (oy, ay, by, cy), (oz, az, bz, cz) = x
        ax, ay, az, bx, by, bz = ax - ox, ay - oy, az - oz, bx - ox, by - oy, bz - oz
        cx, cy, cz = cx - ox, cy - oy, cz - oz
        det = ax * (by * cz - bz * cy) - ay * (bx * cz - bz * cx) + az * (bx * cy - by * cx)
        return (np.abs(det) / 6).tolist()

    def _batch_losses(self, simplices: list[tuple]) -> list[float]:
        """:meth:`_simplex_loss` of many simplices; the default loss on scalar values in 2D and
        3D with NumPy, with the same operations in the same order as :meth:`_graph_volume`."""
        fast = self.loss_per_simplex is default_loss and self._vdim == 1 and self.ndim in (2, 3)
        if not fast or len(simplices) < 16:
            return [self._simplex_loss(s) for s in simplices]
        orders = np.array([self._orders[s] for s in simplices])
        m = 1.0 / self._value_scale
        x = np.array(self._scaled)[orders].transpose(2, 1, 0)  # axis, vertex, simplex
        values = np.array([math.nan if y is None else y for y in self._vertex_values])
        y = (values[orders] * m).T  # vertex, simplex
        if self.ndim == 2:
            (ox, ax, bx), (oy, ay, by) = x
            ov, av, bv = y
            ax, ay, av = ax - ox, ay - oy, av - ov
            bx, by, bv = bx - ox, by - oy, bv - ov
            cross_x, cross_y, cross_v = ay * bv - av * by, av * bx - ax * bv, ax * by - ay * bx
            losses = 0.5 * np.sqrt(cross_x * cross_x + cross_y * cross_y + cross_v * cross_v)
        else:
            (ox, ax, bx, cx), (oy, ay, by, cy), (oz, az, bz, cz) = x
            ov, av, bv, cv = y
            u = (ax - ox, ay - oy, az - oz, av - ov)
            v = (bx - ox, by - oy, bz - oz, bv - ov)
            w = (cx - ox, cy - oy, cz - oz, cv - ov)
            uu = u[0] * u[0] + u[1] * u[1] + u[2] * u[2] + u[3] * u[3]
            vv = v[0] * v[0] + v[1] * v[1] + v[2] * v[2] + v[3] * v[3]
            ww = w[0] * w[0] + w[1] * w[1] + w[2] * w[2] + w[3] * w[3]
            uv = u[0] * v[0] + u[1] * v[1] + u[2] * v[2] + u[3] * v[3]
            uw = u[0] * w[0] + u[1] * w[1] + u[2] * w[2] + u[3] * w[3]
            vw = v[0] * w[0] + v[1] * w[1] + v[2] * w[2] + v[3] * w[3]
            det = uu * (vv * ww - vw * vw) - uv * (uv * ww - vw * uw) + uw * (uv * vw - vv * uw)
            losses = np.sqrt(np.maximum(det, 0.0)) / 6
        volumes = np.array([self._volumes[s] for s in simplices])
        finite = np.isfinite(losses)
        if self._nonfinite:
            finite &= ~np.isin(orders, list(self._nonfinite)).any(axis=1)
        return np.where(finite, losses, volumes).tolist()

    def _volume(self, order: tuple) -> float:
        scaled = self._scaled
        if self.ndim == 2:
            (ox, oy), (ax, ay), (bx, by) = (scaled[v] for v in order)
            return abs((ax - ox) * (by - oy) - (ay - oy) * (bx - ox)) / 2
        if self.ndim == 3:
            (ox, oy, oz), (ax, ay, az), (bx, by, bz), (cx, cy, cz) = (scaled[v] for v in order)
            ax, ay, az, bx, by, bz = ax - ox, ay - oy, az - oz, bx - ox, by - oy, bz - oz
            cx, cy, cz = cx - ox, cy - oy, cz - oz
            det = ax * (by * cz - bz * cy) - ay * (bx * cz - bz * cx) + az * (bx * cy - by * cx)
            return abs(det) / 6
        origin = scaled[order[0]]
        vectors = [[x - o for x, o in zip(scaled[v], origin, strict=True)] for v in order[1:]]
        return abs(float(np.linalg.det(np.asarray(vectors)))) / math.factorial(len(origin))

    def _graph_volume(self, order: tuple, multiplier: float) -> float:
        """:func:`default_loss` for scalar values, inlined for 2D and 3D domains."""
        scaled, values = self._scaled, self._vertex_values
        if self.ndim == 2:
            a, b, c = order
            (ox, oy), (ax, ay), (bx, by) = scaled[a], scaled[b], scaled[c]
            ov = values[a] * multiplier
            ax, ay, av = ax - ox, ay - oy, values[b] * multiplier - ov
            bx, by, bv = bx - ox, by - oy, values[c] * multiplier - ov
            cross_x, cross_y, cross_v = ay * bv - av * by, av * bx - ax * bv, ax * by - ay * bx
            return 0.5 * math.sqrt(cross_x * cross_x + cross_y * cross_y + cross_v * cross_v)
        if self.ndim == 3:
            a, b, c, d = order
            (ox, oy, oz), (ax, ay, az) = scaled[a], scaled[b]
            (bx, by, bz), (cx, cy, cz) = scaled[c], scaled[d]
            ov = values[a] * multiplier
            u = (ax - ox, ay - oy, az - oz, values[b] * multiplier - ov)
            v = (bx - ox, by - oy, bz - oz, values[c] * multiplier - ov)
            w = (cx - ox, cy - oy, cz - oz, values[d] * multiplier - ov)
            uu = u[0] * u[0] + u[1] * u[1] + u[2] * u[2] + u[3] * u[3]
            vv = v[0] * v[0] + v[1] * v[1] + v[2] * v[2] + v[3] * v[3]
            ww = w[0] * w[0] + w[1] * w[1] + w[2] * w[2] + w[3] * w[3]
            uv = u[0] * v[0] + u[1] * v[1] + u[2] * v[2] + u[3] * v[3]
            uw = u[0] * w[0] + u[1] * w[1] + u[2] * w[2] + u[3] * w[3]
            vw = v[0] * w[0] + v[1] * w[1] + v[2] * w[2] + v[3] * w[3]
            det = uu * (vv * ww - vw * vw) - uv * (uv * ww - vw * uw) + uw * (uv * vw - vv * uw)
            return math.sqrt(max(det, 0.0)) / 6
        rows = [(*scaled[v], values[v] * multiplier) for v in order]
        origin = rows[0]
        return _gram_volume([[x - o for x, o in zip(row, origin, strict=True)] for row in rows[1:]])

    def _simplex_loss(self, simplex: tuple) -> float:
        """The loss of a simplex whose vertices are all evaluated (NaN or inf: its volume)."""
        order = self._orders[simplex]
        volume = self._volumes[simplex]
        if self._nonfinite and any(v in self._nonfinite for v in order):
            return volume
        loss_function = self.loss_per_simplex
        if loss_function is uniform_loss:
            return volume
        scaled, values = self._scaled, self._vertex_values
        multiplier = 1.0 / self._value_scale
        if loss_function is default_loss and self._vdim == 1:
            loss = self._graph_volume(order, multiplier)
        else:
            points = np.array([scaled[v] for v in order])
            scaled_values = np.array([values[v] for v in order]) * multiplier
            if self.nth_neighbors:
                neighbors, neighbor_values = self._neighbours_of(simplex, order, multiplier)
                loss = loss_function(points, scaled_values, multiplier, neighbors, neighbor_values)
            else:
                loss = loss_function(points, scaled_values, multiplier)
            loss = float(loss) if isinstance(loss, float | int) else float(np.max(loss))
        return loss if math.isfinite(loss) else volume

    def _neighbours_of(self, simplex: tuple, order: tuple, multiplier: float) -> tuple:
        points, values = [], []
        for v in order:
            other = self._tri.neighbour_across(simplex, v)
            if other is None:
                points.append(None)
                values.append(None)
                continue
            (w,) = set(other) - set(simplex)
            value = self._vertex_values[w]
            if value is None or w in self._nonfinite:
                points.append(None)
                values.append(None)
            else:
                points.append(np.array(self._scaled[w]))
                values.append(value * multiplier)
        return points, values

    def _set_loss(self, simplex: tuple, loss: float, real: float, push: bool = True) -> None:
        self._losses[simplex] = loss
        self._real_losses[simplex] = real
        key = self._keys[simplex]
        volume = self._volumes[simplex]
        entry = (-loss, -volume, key, simplex)
        self._entries[simplex] = entry
        real_entry = entry if loss == real else (-real, -volume, key, simplex)
        self._real_entries[simplex] = real_entry
        if push:
            heapq.heappush(self._heap, entry)
            heapq.heappush(self._real_heap, real_entry)
            if len(self._heap) > 3 * len(self._entries) + 64:
                self._heap = list(self._entries.values())
                heapq.heapify(self._heap)
                self._real_heap = list(self._real_entries.values())
                heapq.heapify(self._real_heap)

    @staticmethod
    def _peek(heap: list, entries: dict) -> tuple[tuple | None, float]:
        while heap:
            top = heap[0]
            if entries.get(top[3]) is top:
                return top[3], -top[0]
            heapq.heappop(heap)
        return None, 0.0

    def _recompute(self, simplices: Iterable[tuple]) -> None:
        values = self._vertex_values
        for simplex in simplices:
            if all(values[v] is not None for v in simplex):
                loss = self._simplex_loss(simplex)
                self._set_loss(simplex, loss, loss)

    def _recompute_around(self, index: int) -> None:
        around = set(self._tri.vertex_to_simplices[index])
        if self.nth_neighbors:
            for simplex in list(around):
                around |= self._tri.neighbours(simplex)
        self._recompute(around)

    def _recompute_all(self, infinite_unknown: bool = False) -> None:
        """Recompute the loss of every simplex whose vertices are all evaluated (and, with
        ``infinite_unknown``, set the others' losses to infinity)."""
        values = self._vertex_values
        told, unknown = [], []
        for simplex in self._tri.simplices:
            if all(values[v] is not None for v in simplex):
                told.append(simplex)
            else:
                unknown.append(simplex)
        for simplex, loss in zip(told, self._batch_losses(told), strict=True):
            self._set_loss(simplex, loss, loss, push=False)
        if infinite_unknown:
            for simplex in unknown:
                self._set_loss(simplex, math.inf, math.inf, push=False)
        self._heap = list(self._entries.values())
        self._real_heap = list(self._real_entries.values())
        heapq.heapify(self._heap)
        heapq.heapify(self._real_heap)

    def _update_range(self, y: Any) -> bool:
        """Widen the value range with ``y``; True when the value scale changes."""
        if isinstance(y, float):
            if not math.isfinite(y):
                return False
            low = high = y
        else:
            finite = y[np.isfinite(y)]
            if not len(finite):
                return False
            low, high = float(finite.min()), float(finite.max())
        if self._value_min is None:
            self._value_min, self._value_max = low, high
        elif low < self._value_min or high > self._value_max:
            self._value_min = min(self._value_min, low)
            self._value_max = max(self._value_max, high)
        else:
            return False
        scale = quantized_scale(self._value_max - self._value_min)
        if scale != self._value_scale:
            self._value_scale = scale
            return True
        return False

    def _rebuild(self) -> None:
        """The triangulation and losses from scratch: the told points, then the pending ones
        in the order they were registered."""
        self._outside = set()
        tri = None
        self._tri = tri = Triangulation(self._hull_points)
        inside = [p for p in self.data if tri.vertex_index(p) is None]
        values = [self.data.get(p) for p in tri.vertices]
        if inside:
            order = _morton_order(np.asarray(inside, dtype=float))
            for i in order:
                point = inside[i]
                if not self.inside_bounds(point):
                    self._outside.add(point)
                    continue
                try:
                    tri.add_point(point)
                except ValueError:
                    self._outside.add(point)
                    continue
                values.append(self.data[point])
        self._vertex_values = values
        self._nonfinite = {i for i, y in enumerate(values) if y is not None and not _finite(y)}
        self._scaled = [self._scale_point(p) for p in tri.vertices]
        self._losses, self._real_losses, self._volumes, self._orders = {}, {}, {}, {}
        self._keys = {}
        self._entries, self._real_entries, self._unsplittable = {}, {}, set()
        self._bookkeep_all()
        for point in self._pending_order:
            if tri.vertex_index(point) is None:
                self._insert_vertex(point, None, None)

    def loss(self, real: bool = True) -> float:
        """The largest simplex loss; infinite until the corners of the domain are evaluated."""
        if not self.bounds_are_done:
            return math.inf
        if real:
            _, loss = self._peek(self._real_heap, self._real_entries)
        else:
            _, loss = self._peek(self._heap, self._entries)
        return loss

    # ---- data ----------------------------------------------------------------------------------
    def _get_data(self) -> dict[tuple, Any]:
        return dict(self.data)

    def _set_data(self, data: dict[tuple, Any]) -> None:
        if data:
            self.tell_many(list(data), list(data.values()))

    def _settings(self) -> dict[str, Any]:
        return {
            "func": self.function,
            "bounds": self.bounds,
            "loss_per_simplex": self.loss_per_simplex,
        }

    def to_numpy(self) -> np.ndarray:
        """Rows ``(*x, *y)``, sorted by point."""
        rows = [(*p, *np.ravel(self.data[p])) for p in sorted(self.data)]
        return np.array(rows, dtype=float).reshape(-1, self.ndim + self.vdim)

    def _point_names(self, point_names: Sequence[str]) -> list[str]:
        names = list(point_names)
        if len(names) != self.ndim:
            if tuple(names) == ("x", "y", "z"):  # python-adaptive's default, for any dimension
                return names[: self.ndim] if self.ndim <= 3 else [f"x{i}" for i in range(self.ndim)]
            raise ValueError(
                f"point_names must name the {self.ndim} coordinates, got {point_names!r}"
            )
        return names

    def to_dataframe(
        self,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        point_names: tuple[str, ...] = ("x", "y", "z"),
        value_name: str = "value",
    ):
        """The data as a DataFrame: one column per coordinate and ``value_name`` (holding
        arrays for vector output), sorted by point."""
        pd = require_pandas()
        names = self._point_names(point_names)
        points = sorted(self.data)
        df = pd.DataFrame(np.array(points, dtype=float).reshape(-1, self.ndim), columns=names)
        df[value_name] = [self.data[p] for p in points]
        return describe_dataframe(
            df, names, value_name, self.function, with_default_function_args, function_prefix
        )

    def load_dataframe(
        self,
        df: Any,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        point_names: tuple[str, ...] = ("x", "y", "z"),
        value_name: str = "value",
    ) -> None:
        """Tell the learner the data of a DataFrame made by :meth:`to_dataframe`."""
        require_pandas()
        names = self._point_names(point_names)
        missing = [c for c in [*names, value_name] if c not in df.columns]
        if missing:
            raise ValueError(f"the dataframe has no column(s) {missing}")
        self.function = function_from_dataframe(
            self.function, df, with_default_function_args, function_prefix
        )
        points = df[names].to_numpy(dtype=float).tolist()
        self.tell_many(points, list(df[value_name]))

    # ---- plotting --------------------------------------------------------------------------------
    def ip(self):
        """A linear interpolator of the data (scipy's ``LinearNDInterpolator``)."""
        from scipy.interpolate import LinearNDInterpolator

        inside = [p for p in self.data if p not in self._outside]
        if len(inside) < self.ndim + 1:
            raise ValueError("the learner needs more data to interpolate")
        values = np.array([self.data[p] for p in inside], dtype=float)
        return LinearNDInterpolator(np.array(inside, dtype=float), values)

    def _grid_size(self, n: int | None) -> int:
        if n is None:
            return int(min(max(2 * math.sqrt(max(self.npoints, 1)), 20), 300))
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2:
            raise ValueError(f"n must be an integer >= 2 (points per axis), got n={n!r}")
        return int(n)

    def plot(self, n: int | None = None, tri_alpha: float = 0):
        """The linear interpolation of the data as a holoviews ``Image`` of ``n`` x ``n`` pixels
        covering the domain's bounding box, each showing the value at its centre (NaN outside
        the domain), viridis with a colour bar; 2D
        domains only (else see :meth:`plot_slice`, :meth:`plot_3D`, :meth:`plot_isosurface`).

        With ``tri_alpha > 0`` the triangulation of the evaluated points is drawn on top with
        that opacity (an ``Overlay``). A vector function gives a ``HoloMap`` over its
        ``component``. Before there are enough points to interpolate, the image is empty.
        Needs holoviews.
        """
        hv = require_holoviews("LearnerND.plot")
        if self.ndim != 2:
            raise ValueError(
                f"LearnerND.plot needs a 2D domain, this one is {self.ndim}D: use "
                "plot_slice(cut_mapping) to plot a 1D or 2D slice (or plot_3D/plot_isosurface "
                "for a 3D domain)"
            )
        (x0, x1), (y0, y1) = self._bounding_box()
        size = self._grid_size(n)
        grid_x, grid_y = np.meshgrid(
            plotting.pixel_centers(x0, x1, size), plotting.pixel_centers(y0, y1, size)
        )
        values = self._interpolate(np.column_stack([grid_x.ravel(), grid_y.ravel()]))
        edges = None
        if tri_alpha:
            points, _, simplices = self._evaluated_mesh()
            edges = plotting.segments_path(
                hv, plotting.triangle_edges(points[simplices]), alpha=tri_alpha, line_width=1
            )

        def image(component: int | None):
            z = None
            if values is not None:
                # rows of the grid run up in y, an image's rows run down from the top
                z = np.flipud(values[:, component or 0].reshape(size, size))
            element = plotting.image(hv, z, (x0, y0, x1, y1), vdim="value")
            return element * edges if edges is not None else element

        return plotting.per_component(hv, self.vdim, image)

    def _bounding_box(self) -> list[tuple[float, float]]:
        coordinates = np.asarray(self._hull_points)
        return list(
            zip(coordinates.min(axis=0).tolist(), coordinates.max(axis=0).tolist(), strict=True)
        )

    def _interpolate(self, points: np.ndarray) -> np.ndarray | None:
        """The linear interpolation at ``points`` (rows), one column per component (NaN outside
        the evaluated points' hull); None while there are too few points to interpolate."""
        try:
            interpolator = self.ip()
        except (ValueError, RuntimeError):  # too few points, or all in a plane (QhullError)
            return None
        return np.asarray(interpolator(points), dtype=float).reshape(len(points), -1)

    def plot_slice(self, cut_mapping: dict[int, float], n: int | None = None):
        """A 1D or 2D slice of the linear interpolation: ``cut_mapping`` (``{axis: value}``)
        fixes all coordinates but one or two.

        One free axis gives a holoviews ``Curve`` through ``n`` points (for a vector function an
        ``Overlay`` of one curve per component, labelled ``value_0``, ...); two give an ``Image``
        of ``n`` x ``n`` pixels like :meth:`plot` (a ``HoloMap`` over the ``component`` for a
        vector function). NaN (nothing drawn) where the slice leaves the evaluated region.
        Needs holoviews.
        """
        hv = require_holoviews("LearnerND.plot_slice")
        free = [axis for axis in range(self.ndim) if axis not in cut_mapping]
        valid_axes = all(
            isinstance(a, numbers.Integral) and not isinstance(a, bool) and 0 <= a < self.ndim
            for a in cut_mapping
        )
        if len(free) not in (1, 2) or not valid_axes:
            raise ValueError(
                f"cut_mapping must fix all but 1 or 2 of the {self.ndim} axes (0 to "
                f"{self.ndim - 1}), as {{axis: value}}, got {cut_mapping!r}"
            )
        size = self._grid_size(n)
        box = self._bounding_box()
        # a curve through samples from end to end; an image of pixels, each sampled at its centre
        sample = np.linspace if len(free) == 1 else plotting.pixel_centers
        axes = [sample(*box[a], size) for a in free]
        grids = np.meshgrid(*axes)
        points = np.zeros((grids[0].size, self.ndim))
        for axis, value in cut_mapping.items():
            points[:, axis] = float(value)
        for axis, grid in zip(free, grids, strict=True):
            points[:, axis] = grid.ravel()
        values = self._interpolate(points)
        if values is None:
            values = np.full((len(points), self.vdim), np.nan)
        names = self._point_names(("x", "y", "z"))
        if len(free) == 1:
            x = hv.Dimension(names[free[0]], range=box[free[0]])
            if self.vdim == 1:
                return hv.Curve((axes[0], values[:, 0]), kdims=[x], vdims=["value"])
            return hv.Overlay(
                [
                    hv.Curve((axes[0], column), kdims=[x], vdims=["value"], label=f"value_{k}")
                    for k, column in enumerate(values.T)
                ]
            )
        (x0, x1), (y0, y1) = box[free[0]], box[free[1]]
        kdims = (names[free[0]], names[free[1]])

        def image(component: int | None):
            z = np.flipud(values[:, component or 0].reshape(size, size))
            return plotting.image(hv, z, (x0, y0, x1, y1), kdims=kdims, vdim="value")

        return plotting.per_component(hv, self.vdim, image)

    def plot_isoline(self, level: float = 0.0, n: int | None = None, tri_alpha: float = 0):
        """The lines where the linear interpolation of the data equals ``level`` (a number, or
        several) on top of :meth:`plot` (``n=-1``: the lines alone); 2D domains and scalar
        functions only.

        The lines are exact for the linear interpolant: they are found on the triangulation of
        the evaluated points, not on the image's grid. Returns a holoviews ``Overlay``. Needs
        holoviews.
        """
        hv = require_holoviews("LearnerND.plot_isoline")
        if self.ndim != 2 or self.vdim != 1:
            raise ValueError(
                "plot_isoline needs a 2D domain and a scalar function, this learner has a "
                f"{self.ndim}D domain and {self.vdim} output components"
            )
        levels = list(level) if isinstance(level, Iterable) else [level]
        points, values, simplices = self._evaluated_mesh()
        lines = [
            line
            for value in levels
            for line in plotting.isolines(points, values, simplices, float(value))
        ]
        path = plotting.segments_path(hv, lines, kind="Path", color="red", line_width=2)
        if n == -1:
            return hv.Overlay([path])
        return self.plot(n=n, tri_alpha=tri_alpha) * path

    def _evaluated_mesh(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The triangulation of the evaluated points: their coordinates (one row each), their
        values, and the simplices whose vertices are all evaluated with finite values (rows of
        indices into the coordinates). Pending points are left out (the triangulation is made
        anew without them), so a plot made while a runner works has no holes around them."""
        tri, values = self._tri, self._vertex_values
        if self.pending_points:
            tri = Triangulation(self._hull_points)
            inside = [
                p for p in self.data if p not in self._outside and tri.vertex_index(p) is None
            ]
            for i in _morton_order(np.asarray(inside, dtype=float)) if inside else []:
                try:
                    tri.add_point(inside[i])
                except ValueError:  # as in _rebuild: a point the triangulation cannot take
                    continue
            values = [self.data.get(p) for p in tri.vertices]
        kept = [v for v, y in enumerate(values) if y is not None and _finite(y)]
        position = {v: k for k, v in enumerate(kept)}
        simplices = sorted(
            tuple(position[v] for v in s) for s in tri.simplices if all(v in position for v in s)
        )
        vertices = tri.vertices
        return (
            np.array([vertices[v] for v in kept], dtype=float).reshape(-1, self.ndim),
            np.array([values[v] for v in kept], dtype=float),
            np.array(simplices, dtype=int).reshape(-1, self.ndim + 1),
        )

    def plot_3D(self, with_triangulation: bool = False, return_fig: bool = False):
        """The learner's data in 3D (plotly).

        On a 3D domain, the evaluated points as markers coloured by their value (as
        python-adaptive); on a 2D domain, the linear interpolant as a surface over the domain
        (a mesh whose heights are the values). ``with_triangulation`` adds the edges of the
        triangulation of the evaluated points as lines. The figure is shown with
        ``plotly.offline.iplot`` unless ``return_fig``, which returns the
        ``plotly.graph_objects.Figure``. Scalar functions only.
        """
        go = _require_plotly("LearnerND.plot_3D")
        if self.ndim not in (2, 3) or self.vdim != 1:
            raise ValueError("plot_3D needs a 2D or 3D domain and a scalar function")
        points, values, simplices = self._evaluated_mesh()
        if self.ndim == 2:
            coordinates = np.column_stack([points, values])
            x, y, z = coordinates.T
            i, j, k = simplices.T
            data = [
                go.Mesh3d(
                    x=x, y=y, z=z, i=i, j=j, k=k, intensity=z, colorscale="Viridis", name="surface"
                )
            ]
        else:
            coordinates = points
            x, y, z = coordinates.T
            marker = {"size": 3, "color": values, "colorscale": "Viridis"}
            data = [go.Scatter3d(x=x, y=y, z=z, mode="markers", marker=marker, name="points")]
        if with_triangulation:
            edges = sorted(
                {(a, b) for s in simplices.tolist() for a, b in itertools.combinations(s, 2)}
            )
            lines: list[list[float | None]] = [[], [], []]
            for a, b in edges:
                for axis in range(3):
                    lines[axis] += [coordinates[a, axis], coordinates[b, axis], None]
            data.append(
                go.Scatter3d(
                    x=lines[0],
                    y=lines[1],
                    z=lines[2],
                    mode="lines",
                    line={"color": "rgb(125,125,125)", "width": 1},
                    hoverinfo="none",
                    name="triangulation",
                )
            )
        fig = go.Figure(data=data, layout={"showlegend": False, "hovermode": "closest"})
        if return_fig:
            return fig
        import plotly.offline

        return plotly.offline.iplot(fig)

    def plot_isosurface(self, level: float = 0.0, hull_opacity: float = 0.2):
        """The surface ``f = level`` of the linear interpolant over a 3D domain (plotly), by
        marching tetrahedra over the triangulation of the evaluated points; the domain's hull
        is drawn translucent (left out when ``hull_opacity`` < 0.001). Returns the
        ``plotly.graph_objects.Figure`` (python-adaptive shows it instead). Raises
        ``ValueError`` when no surface has that level, as python-adaptive."""
        go = _require_plotly("LearnerND.plot_isosurface")
        if self.ndim != 3 or self.vdim != 1:
            raise ValueError("plot_isosurface needs a 3D domain and a scalar function")
        points, triangles = self._isosurface(level)
        if not triangles:
            if not self.data:
                raise ValueError("plot_isosurface needs data: the learner has no evaluated points")
            values = [y for y in self.data.values() if _finite(y)]
            span = f"[{min(values)}, {max(values)}]" if values else "not finite"
            raise ValueError(
                f"no isosurface at level={level}: it must lie strictly inside the range of the "
                f"values on the triangulated points, {span}"
            )
        p, t = np.asarray(points), np.asarray(triangles)
        data = [
            go.Mesh3d(
                x=p[:, 0], y=p[:, 1], z=p[:, 2], i=t[:, 0], j=t[:, 1], k=t[:, 2], name="isosurface"
            )
        ]
        if hull_opacity >= 1e-3:
            from scipy.spatial import ConvexHull

            hull = np.asarray(self._hull_points)
            faces = ConvexHull(hull).simplices
            data.append(
                go.Mesh3d(
                    x=hull[:, 0],
                    y=hull[:, 1],
                    z=hull[:, 2],
                    i=faces[:, 0],
                    j=faces[:, 1],
                    k=faces[:, 2],
                    opacity=hull_opacity,
                    name="domain",
                )
            )
        return go.Figure(data=data)

    def _isosurface(self, level: float) -> tuple[list, list]:
        """Marching tetrahedra: the triangles where the linear interpolant equals ``level``, as
        (points, triangles of indices into points). A crossing point is made once per edge of
        the triangulation, so neighbouring tetrahedra share it and the surface is connected."""
        vertices, values, simplices = self._evaluated_mesh()
        points: list[tuple[float, ...]] = []
        made: dict[tuple[int, int], int] = {}  # edge (a, b), a < b -> index of its crossing
        triangles: list[tuple[int, int, int]] = []
        below = (values - level) < 0
        for simplex in simplices.tolist():
            crossings = []
            for a, b in itertools.combinations(simplex, 2):
                if below[a] == below[b]:
                    continue
                if (a, b) not in made:
                    ya, yb = values[a] - level, values[b] - level
                    t = ya / (ya - yb)
                    made[a, b] = len(points)
                    points.append(tuple((vertices[a] + t * (vertices[b] - vertices[a])).tolist()))
                crossings.append(made[a, b])
            if len(crossings) == 3:
                triangles.append(tuple(crossings))
            elif len(crossings) == 4:
                # two corners on each side; the edges come in the order (01)(02)(03)(12)(13)(23)
                # less the two inside a side, which leaves the quadrilateral's corners in the
                # cyclic order 0 1 3 2
                q = crossings
                triangles += [(q[0], q[1], q[3]), (q[0], q[3], q[2])]
        return points, triangles


def _finite(y: Any) -> bool:
    if isinstance(y, float):
        return math.isfinite(y)
    return bool(np.all(np.isfinite(y)))


def _require_plotly(owner: str):
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise ImportError(f"{owner} needs plotly: pip install plotly") from None
    return go
