"""An incremental Delaunay triangulation in N dimensions (Bowyer-Watson, exact predicates).

Why incremental, in pure Python
-------------------------------
The adaptive learners add one point at a time and need to know which simplices disappeared and
which appeared, so they can update losses locally. Rebuilding with ``scipy.spatial.Delaunay``
(Qhull) after every point costs O(N) per point and does not tell what changed. Measured on the
development machine (2 cores, Python 3.11; mean insertion cost while growing to N random points
in a cube, given the containing simplex as a hint as the learners do, against one Qhull
triangulation of the N points; without a hint, the walk from the last simplex adds about
O(sqrt(N)) orientation tests in 2D):

====  ======  =====================  ====================
dim   N       insert here (per pt)   Qhull rebuild (once)
====  ======  =====================  ====================
2     500     20 µs                  1.2 ms
2     2,000   24 µs                  5.5 ms
2     8,000   38 µs                  31 ms
3     300     115 µs                 3.1 ms
3     1,000   150 µs                 11 ms
4     200     3.6 ms                 14 ms
====  ======  =====================  ====================

Only the simplices whose circumsphere holds the new point are touched (about 4 triangles in 2D,
16 tetrahedra in 3D), so insertion does not grow with N (beyond memory effects). 2D and 3D have
inlined fast paths; 4D and up use NumPy per simplex and are slow but correct. The 2D and 3D
fast paths also exist in C (``_speedups_src/``, built when a C compiler is present at install
time; see :mod:`adaptive_runner.learners.speedups`): they work on the same Python structures,
call the exact predicates below for the close calls, and give bitwise the same triangulation.

Robustness and uniqueness
-------------------------
* Orientation tests are exact: a floating-point determinant with a forward error bound
  (Shewchuk's static filter in 2D and 3D, a Hadamard bound beyond) and exact integer arithmetic
  (every float is an integer times a power of two) when the sign is not certain.
* The in-circumsphere test compares the distance to a cached circumcenter; within a relative
  band of ``1e-9`` it is decided exactly, and exact ties (cospherical points, as on a grid) are
  broken by a symbolic perturbation that depends on the coordinates only. So the triangulation
  of a point set is unique: it does not depend on the order in which the points were added,
  which makes a learner built on it independent of the order of ``tell``.
* Before re-triangulating, the cavity is checked: while the new point does not see every
  boundary facet strictly from the inside, the simplex across that facet joins the cavity. So
  every simplex has a positive volume even if a floating-point test was wrong.
* A point on a facet of the convex hull makes no flat simplex with that facet.
* Duplicates (a vertex with the same coordinates, or closer than ``1e-12`` of the size of the
  initial points) and points outside the convex hull raise ``ValueError``.

The initial points are triangulated by the same algorithm, growing the hull point by point.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np

from adaptive_runner.learners import speedups

__all__ = [
    "Triangulation",
    "circumsphere",
    "in_circumsphere_exact",
    "orientation",
    "simplex_volume",
]

Simplex = tuple[int, ...]
Point = tuple[float, ...]

# relative band of the floating-point in-circumsphere test (squared distances); inside it the
# test is decided exactly
_INSPHERE_BAND = 1e-9
# Shewchuk's static error bounds for the 2D and 3D orientation determinants
_EPS = 2.0**-53
_INF = math.inf
_ORIENT2_BOUND = (3.0 + 16.0 * _EPS) * _EPS
_ORIENT3_BOUND = (7.0 + 56.0 * _EPS) * _EPS


# ---- exact predicates --------------------------------------------------------------------------
def _to_integers(points: Sequence[Sequence[float]]) -> list[list[int]]:
    """The points as integers, all scaled by one power of two (so exactly)."""
    ratios = [[float(x).as_integer_ratio() for x in p] for p in points]
    denominator = max(d for row in ratios for _, d in row)
    return [[n * (denominator // d) for n, d in row] for row in ratios]


def _integer_det(matrix: list[list[int]]) -> int:
    """Determinant of a square integer matrix (fraction-free Bareiss elimination)."""
    m = [list(row) for row in matrix]
    n = len(m)
    sign, previous = 1, 1
    for k in range(n - 1):
        if m[k][k] == 0:
            swap = next((r for r in range(k + 1, n) if m[r][k] != 0), None)
            if swap is None:
                return 0
            m[k], m[swap] = m[swap], m[k]
            sign = -sign
        pivot = m[k][k]
        row_k = m[k]
        for i in range(k + 1, n):
            row_i = m[i]
            factor = row_i[k]
            for j in range(k + 1, n):
                row_i[j] = (row_i[j] * pivot - factor * row_k[j]) // previous
        previous = pivot
    return sign * m[n - 1][n - 1]


def _exact_orientation(points: Sequence[Sequence[float]]) -> int:
    ints = _to_integers(points)
    origin = ints[0]
    det = _integer_det([[x - o for x, o in zip(p, origin, strict=True)] for p in ints[1:]])
    return (det > 0) - (det < 0)


def _orient2(a: Sequence[float], b: Sequence[float], c: Sequence[float]) -> int:
    left = (b[0] - a[0]) * (c[1] - a[1])
    right = (b[1] - a[1]) * (c[0] - a[0])
    det = left - right
    if abs(det) > _ORIENT2_BOUND * (abs(left) + abs(right)):
        return 1 if det > 0 else -1
    return _exact_orientation((a, b, c))


def _orient3(a: Sequence[float], b: Sequence[float], c: Sequence[float], d: Sequence[float]) -> int:
    adx, ady, adz = a[0] - d[0], a[1] - d[1], a[2] - d[2]
    bdx, bdy, bdz = b[0] - d[0], b[1] - d[1], b[2] - d[2]
    cdx, cdy, cdz = c[0] - d[0], c[1] - d[1], c[2] - d[2]
    bc1, bc2 = bdy * cdz, bdz * cdy
    ca1, ca2 = cdy * adz, cdz * ady
    ab1, ab2 = ady * bdz, adz * bdy
    det = adx * (bc1 - bc2) + bdx * (ca1 - ca2) + cdx * (ab1 - ab2)
    permanent = (
        (abs(bc1) + abs(bc2)) * abs(adx)
        + (abs(ca1) + abs(ca2)) * abs(bdx)
        + (abs(ab1) + abs(ab2)) * abs(cdx)
    )
    if abs(det) > _ORIENT3_BOUND * permanent:
        # sign convention: the same as the determinant of (b - a, c - a, d - a)
        return -1 if det > 0 else 1
    return _exact_orientation((a, b, c, d))


def _orient3_float(
    a: Sequence[float], b: Sequence[float], c: Sequence[float], d: Sequence[float]
) -> int:
    """:func:`_orient3` without the exact fallback: 0 when floating point is not sure."""
    adx, ady, adz = a[0] - d[0], a[1] - d[1], a[2] - d[2]
    bdx, bdy, bdz = b[0] - d[0], b[1] - d[1], b[2] - d[2]
    cdx, cdy, cdz = c[0] - d[0], c[1] - d[1], c[2] - d[2]
    bc1, bc2 = bdy * cdz, bdz * cdy
    ca1, ca2 = cdy * adz, cdz * ady
    ab1, ab2 = ady * bdz, adz * bdy
    det = adx * (bc1 - bc2) + bdx * (ca1 - ca2) + cdx * (ab1 - ab2)
    permanent = (
        (abs(bc1) + abs(bc2)) * abs(adx)
        + (abs(ca1) + abs(ca2)) * abs(bdx)
        + (abs(ab1) + abs(ab2)) * abs(cdx)
    )
    if abs(det) > _ORIENT3_BOUND * permanent:
        return -1 if det > 0 else 1
    return 0


def _orient_nd(*points: Sequence[float]) -> int:
    matrix = np.asarray(points[1:], dtype=float) - np.asarray(points[0], dtype=float)
    det = float(np.linalg.det(matrix))
    hadamard = float(np.prod(np.linalg.norm(matrix, axis=1)))
    if abs(det) > 1e-10 * hadamard:
        return 1 if det > 0 else -1
    return _exact_orientation(points)


def orientation(points: Sequence[Sequence[float]]) -> int:
    """The exact sign (+1, 0, -1) of ``det(p1 - p0, ..., pd - p0)`` for ``d + 1`` points in R^d."""
    dim = len(points[0])
    if len(points) != dim + 1:
        raise ValueError(f"orientation needs {dim + 1} points in {dim}D, got {len(points)}")
    if dim == 2:
        return _orient2(*points)
    if dim == 3:
        return _orient3(*points)
    return _orient_nd(*points)


def _lifted_det(points: Sequence[Sequence[float]]) -> tuple[int, list[list[int]]]:
    ints = _to_integers(points)
    rows = [[*q, sum(x * x for x in q), 1] for q in ints]
    return _integer_det(rows), rows


_INSIDE_SIGN: dict[int, int] = {}


def _inside_sign(dim: int) -> int:
    """The sign of ``orientation * lifted determinant`` for a point inside a circumsphere."""
    if dim not in _INSIDE_SIGN:
        simplex = [tuple(float(i == j) for j in range(dim)) for i in range(-1, dim)]
        centroid = tuple(1.0 / (dim + 1) for _ in range(dim))
        det, _ = _lifted_det([*simplex, centroid])
        _INSIDE_SIGN[dim] = (1 if det > 0 else -1) * _exact_orientation(simplex)
    return _INSIDE_SIGN[dim]


def in_circumsphere_exact(simplex: Sequence[Sequence[float]], point: Sequence[float]) -> bool:
    """Whether ``point`` is inside the circumsphere of ``simplex``, decided exactly.

    Ties (the point exactly on the sphere) are broken by a symbolic perturbation of the lifted
    heights ``|q|^2`` of the ``d + 2`` points, larger for points with larger coordinates
    (compared as tuples). The perturbation depends on the coordinates only, never on the order
    in which points were inserted, so the Delaunay triangulation of a point set is unique even
    when many points are cospherical (e.g. on a grid).
    """
    dim = len(point)
    points = [*simplex, point]
    det, rows = _lifted_det(points)
    if det == 0:
        for r in sorted(range(dim + 2), key=lambda k: tuple(points[k]), reverse=True):
            minor = [row[:dim] + row[dim + 1 :] for k, row in enumerate(rows) if k != r]
            cofactor = _integer_det(minor)
            if cofactor:
                det = cofactor if (r + dim) % 2 == 0 else -cofactor
                break
    return (1 if det > 0 else -1) * _exact_orientation(simplex) == _inside_sign(dim)


# ---- circumspheres ------------------------------------------------------------------------------
def _circumsphere2(a: Point, b: Point, c: Point) -> tuple[Point, float]:
    bx, by = b[0] - a[0], b[1] - a[1]
    cx, cy = c[0] - a[0], c[1] - a[1]
    d = 2.0 * (bx * cy - by * cx)
    if d == 0.0:
        return (math.inf, math.inf), math.inf
    b2, c2 = bx * bx + by * by, cx * cx + cy * cy
    ux = (cy * b2 - by * c2) / d
    uy = (bx * c2 - cx * b2) / d
    return (a[0] + ux, a[1] + uy), ux * ux + uy * uy


def _circumsphere3(a: Point, b: Point, c: Point, d: Point) -> tuple[Point, float]:
    ux, uy, uz = b[0] - a[0], b[1] - a[1], b[2] - a[2]
    vx, vy, vz = c[0] - a[0], c[1] - a[1], c[2] - a[2]
    wx, wy, wz = d[0] - a[0], d[1] - a[1], d[2] - a[2]
    # cross products v x w, w x u, u x v
    vw = (vy * wz - vz * wy, vz * wx - vx * wz, vx * wy - vy * wx)
    wu = (wy * uz - wz * uy, wz * ux - wx * uz, wx * uy - wy * ux)
    uv = (uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx)
    denominator = 2.0 * (ux * vw[0] + uy * vw[1] + uz * vw[2])
    if denominator == 0.0:
        return (math.inf, math.inf, math.inf), math.inf
    u2 = ux * ux + uy * uy + uz * uz
    v2 = vx * vx + vy * vy + vz * vz
    w2 = wx * wx + wy * wy + wz * wz
    ox = (u2 * vw[0] + v2 * wu[0] + w2 * uv[0]) / denominator
    oy = (u2 * vw[1] + v2 * wu[1] + w2 * uv[1]) / denominator
    oz = (u2 * vw[2] + v2 * wu[2] + w2 * uv[2]) / denominator
    return (a[0] + ox, a[1] + oy, a[2] + oz), ox * ox + oy * oy + oz * oz


def _circumsphere_nd(*points: Point) -> tuple[Point, float]:
    origin = np.asarray(points[0], dtype=float)
    matrix = np.asarray(points[1:], dtype=float) - origin
    rhs = 0.5 * np.einsum("ij,ij->i", matrix, matrix)
    try:
        offset = np.linalg.solve(matrix, rhs)
    except np.linalg.LinAlgError:
        return tuple([math.inf] * len(origin)), math.inf
    return tuple((origin + offset).tolist()), float(offset @ offset)


def circumsphere(points: Sequence[Sequence[float]]) -> tuple[Point, float]:
    """Center and radius of the sphere through the ``d + 1`` vertices of a simplex in R^d."""
    pts = [tuple(map(float, p)) for p in points]
    center, radius2 = _SPHERES.get(len(pts[0]), _circumsphere_nd)(*pts)
    return center, math.sqrt(radius2)


_SPHERES = {2: _circumsphere2, 3: _circumsphere3}


def simplex_volume(points: Sequence[Sequence[float]]) -> float:
    """The volume of the simplex with these ``d + 1`` vertices in R^d."""
    pts = np.asarray(points, dtype=float)
    dim = pts.shape[1]
    return abs(float(np.linalg.det(pts[1:] - pts[0]))) / math.factorial(dim)


def _barycentric_2d(point: Sequence[float], a: Point, b: Point, c: Point) -> tuple:
    det = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    if det == 0.0:
        return None
    px, py = point[0] - a[0], point[1] - a[1]
    l1 = (px * (c[1] - a[1]) - py * (c[0] - a[0])) / det
    l2 = ((b[0] - a[0]) * py - (b[1] - a[1]) * px) / det
    return (1.0 - l1 - l2, l1, l2)


def _barycentric_3d(point: Sequence[float], a: Sequence[float], *others: Sequence[float]):
    """Barycentric coordinates of ``point`` in the tetrahedron ``a, *others`` (Cramer's rule);
    None when it is flat."""
    (ux, uy, uz), (vx, vy, vz), (wx, wy, wz) = (
        (q[0] - a[0], q[1] - a[1], q[2] - a[2]) for q in others
    )
    px, py, pz = point[0] - a[0], point[1] - a[1], point[2] - a[2]
    det = ux * (vy * wz - vz * wy) - vx * (uy * wz - uz * wy) + wx * (uy * vz - uz * vy)
    if det == 0.0:
        return None
    l1 = (px * (vy * wz - vz * wy) - vx * (py * wz - pz * wy) + wx * (py * vz - pz * vy)) / det
    l2 = (ux * (py * wz - pz * wy) - px * (uy * wz - uz * wy) + wx * (uy * pz - uz * py)) / det
    l3 = (ux * (vy * pz - vz * py) - vx * (uy * pz - uz * py) + px * (uy * vz - uz * vy)) / det
    return (1.0 - l1 - l2 - l3, l1, l2, l3)


# ---- the triangulation -------------------------------------------------------------------------
class Triangulation:
    """An incremental Delaunay triangulation of points in R^d (d >= 2).

    Parameters
    ----------
    coords
        The initial points (e.g. the corners of a box); they must contain ``d + 1`` affinely
        independent points. Later points are added with :meth:`add_point` and must lie inside
        the convex hull of the initial points.

    Attributes
    ----------
    dim
        The dimension ``d``.
    vertices
        Vertex index -> coordinates (tuples of floats).
    simplices
        The simplices, each a sorted tuple of ``d + 1`` vertex indices.
    vertex_to_simplices
        Vertex index -> the set of simplices having that vertex.

    Examples
    --------
    >>> tri = Triangulation([(0, 0), (1, 0), (0, 1), (1, 1)])
    >>> deleted, added = tri.add_point((0.5, 0.25))
    >>> len(tri.simplices)
    4
    """

    def __init__(self, coords: Sequence[Sequence[float]]) -> None:
        points = [tuple(float(x) for x in p) for p in coords]
        if not points:
            raise ValueError("Triangulation needs at least dim + 1 points, got none")
        dim = len(points[0])
        if dim < 2:
            raise ValueError(f"Triangulation needs points of dimension >= 2, got dimension {dim}")
        for p in points:
            if len(p) != dim:
                raise ValueError(f"all points must have dimension {dim}, got {p!r}")
            if not all(math.isfinite(x) for x in p):
                raise ValueError(f"the point {p!r} has non-finite coordinates")
        if len(points) < dim + 1:
            raise ValueError(
                f"Triangulation needs at least dim + 1 = {dim + 1} affinely independent points, "
                f"got {len(points)}"
            )
        self.dim = dim
        self.vertices: list[Point] = []
        self.simplices: set[Simplex] = set()
        self.vertex_to_simplices: list[set[Simplex]] = []
        self._index: dict[Point, int] = {}
        self._facets: dict[tuple[int, ...], list[Simplex]] = {}
        self._spheres: dict[Simplex, tuple[Point, float]] = {}
        self._last: Simplex | None = None
        self._walk_counter = 0
        self._orient = {2: _orient2, 3: _orient3}.get(dim, _orient_nd)
        self._sphere = _SPHERES.get(dim, _circumsphere_nd)
        self._facet_getters = [
            operator.itemgetter(*[j for j in range(dim + 1) if j != i]) for i in range(dim + 1)
        ]

        for p in points:
            if p in self._index:
                raise ValueError(f"the initial points contain {p!r} twice")
            self._index[p] = len(self.vertices)
            self.vertices.append(p)
            self.vertex_to_simplices.append(set())
        array = np.asarray(points)
        self._duplicate_distance = 1e-12 * float(np.linalg.norm(np.ptp(array, axis=0)))
        self._initial_triangulation(array)

    def _initial_triangulation(self, array: np.ndarray) -> None:
        """Triangulate the initial points incrementally, growing the hull point by point.

        The points are inserted in sorted order; the result does not depend on it (it is the
        Delaunay triangulation with the coordinate-based tie-breaking of the in-sphere test).
        """
        order = sorted(range(len(self.vertices)), key=lambda i: self.vertices[i])
        first = [order[0]]
        for i in order[1:]:
            if len(first) == self.dim + 1:
                break
            candidate = [*first, i]
            ints = _to_integers([self.vertices[j] for j in candidate])
            rows = [[x - o for x, o in zip(p, ints[0], strict=True)] for p in ints[1:]]
            gram = [[sum(a * b for a, b in zip(r, q, strict=True)) for q in rows] for r in rows]
            if _integer_det(gram) != 0:  # still affinely independent
                first = candidate
        if len(first) < self.dim + 1:
            raise ValueError(
                f"the initial points span less than {self.dim} dimensions: they must contain "
                f"{self.dim + 1} affinely independent points"
            )
        self._add_simplex(tuple(sorted(first)))
        for i in order:
            if i in first:
                continue
            start = self.locate_point(self.vertices[i])
            if start is not None and self.point_in_simplex(self.vertices[i], start, eps=0.0):
                self._insert(i, start)
            else:
                self._insert_outside(i)

    # ---- bookkeeping ---------------------------------------------------------------------------
    def _add_simplex(self, simplex: Simplex) -> None:
        self.simplices.add(simplex)
        facets = self._facets
        for v in simplex:
            self.vertex_to_simplices[v].add(simplex)
        for getter in self._facet_getters:
            facet = getter(simplex)
            owners = facets.get(facet)
            if owners is None:
                facets[facet] = [simplex]
            else:
                owners.append(simplex)
        coordinates = [self.vertices[v] for v in simplex]
        center, radius2 = self._sphere(*coordinates)
        # (center, squared radius band, orientation sign of the sorted vertices)
        self._spheres[simplex] = (
            *center,
            radius2 * (1.0 - _INSPHERE_BAND),
            radius2 * (1.0 + _INSPHERE_BAND),
            self._orient(*coordinates),
        )
        self._last = simplex

    def _remove_simplex(self, simplex: Simplex) -> None:
        self.simplices.remove(simplex)
        del self._spheres[simplex]
        facets = self._facets
        for v in simplex:
            self.vertex_to_simplices[v].remove(simplex)
        for getter in self._facet_getters:
            facet = getter(simplex)
            owners = facets[facet]
            if len(owners) == 1:
                del facets[facet]
            else:
                owners.remove(simplex)

    def _across(self, simplex: Simplex, facet: tuple[int, ...]) -> Simplex | None:
        """The simplex on the other side of ``facet`` of ``simplex`` (None on the hull)."""
        owners = self._facets[facet]
        for other in owners:
            if other != simplex:
                return other
        return None

    # ---- queries ---------------------------------------------------------------------------------
    def vertex_index(self, point: Sequence[float]) -> int | None:
        """The index of the vertex with exactly these coordinates, or None."""
        return self._index.get(tuple(float(x) for x in point))

    def get_vertices(self, indices: Iterable[int]) -> list[Point]:
        """The coordinates of these vertex indices."""
        return [self.vertices[i] for i in indices]

    def volume(self, simplex: Simplex) -> float:
        """The volume of ``simplex``."""
        return simplex_volume(self.get_vertices(simplex))

    def volumes(self) -> list[float]:
        """The volume of every simplex (in the iteration order of ``simplices``)."""
        return [self.volume(s) for s in self.simplices]

    def circumsphere(self, simplex: Simplex) -> tuple[Point, float]:
        """Center and radius of the circumsphere of ``simplex``."""
        center, radius2 = self._sphere(*self.get_vertices(simplex))
        return center, math.sqrt(radius2)

    def orientation(self, simplex: Simplex) -> int:
        """The exact sign of the volume of ``simplex`` with its vertices in the given order."""
        return self._orient(*self.get_vertices(simplex))

    def barycentric(self, point: Sequence[float], simplex: Simplex) -> tuple[float, ...]:
        """The barycentric coordinates of ``point`` in ``simplex`` (one per vertex)."""
        vertices = self.get_vertices(simplex)
        if self.dim in (2, 3):
            barycentric = _barycentric_2d if self.dim == 2 else _barycentric_3d
            coordinates = barycentric(point, *vertices)
            if coordinates is not None:
                return coordinates
        origin = np.asarray(vertices[0])
        matrix = (np.asarray(vertices[1:]) - origin).T
        try:
            rest = np.linalg.solve(matrix, np.asarray(point, dtype=float) - origin)
        except np.linalg.LinAlgError:
            return tuple([-math.inf] * (self.dim + 1))
        return (1.0 - float(rest.sum()), *rest.tolist())

    def point_in_simplex(self, point: Sequence[float], simplex: Simplex, eps: float = 1e-8) -> bool:
        """Whether ``point`` lies in ``simplex`` (its faces included), up to barycentric ``eps``."""
        if self.dim == 2:  # the common case, inlined
            vertices = self.vertices
            a, b, c = vertices[simplex[0]], vertices[simplex[1]], vertices[simplex[2]]
            coordinates = _barycentric_2d(point, a, b, c)
            if coordinates is not None:
                return min(coordinates) >= -eps
        return min(self.barycentric(point, simplex)) >= -eps

    def locate_point(self, point: Sequence[float], start: Simplex | None = None) -> Simplex | None:
        """A simplex containing ``point`` (possibly on its boundary), or None if it is outside.

        Walks from ``start`` (default: the most recently created simplex) towards the point,
        crossing a facet the point lies beyond, so the cost grows with the distance walked, not
        with the size.
        """
        point = tuple(float(x) for x in point)
        if start is None or start not in self.simplices:
            start = self._last if self._last in self.simplices else next(iter(self.simplices))
        simplex = start
        orient = self._orient
        vertices = self.vertices
        dim = self.dim
        max_steps = 4 * len(self.simplices) + 100
        for _ in range(max_steps):
            coords = [vertices[v] for v in simplex]
            sign = self._spheres[simplex][-1]  # the cached orientation of the simplex
            crossing = None
            self._walk_counter += 1
            start = self._walk_counter % (dim + 1)
            for k in range(dim + 1):
                i = (start + k) % (dim + 1)
                replaced = [*coords[:i], point, *coords[i + 1 :]]
                if orient(*replaced) * sign < 0:
                    crossing = i
                    break
            if crossing is None:
                return simplex
            facet = simplex[:crossing] + simplex[crossing + 1 :]
            other = self._across(simplex, facet)
            if other is None:
                break
            simplex = other
        # outside (or the walk got lost near a slightly non-convex hull): check the hull simplices
        if self.point_in_simplex(point, simplex):
            return simplex
        candidates = {owners[0] for owners in self._facets.values() if len(owners) == 1}
        best = max(candidates, key=lambda s: min(self.barycentric(point, s)))
        return best if self.point_in_simplex(point, best) else None

    def get_simplices_attached_to_points(self, indices: Iterable[int]) -> set[Simplex]:
        """The simplices having all of these vertices."""
        indices = list(indices)
        if not indices:
            return set(self.simplices)
        result = set(self.vertex_to_simplices[indices[0]])
        for i in indices[1:]:
            result &= self.vertex_to_simplices[i]
        return result

    def get_neighbors_from_vertices(self, simplex: Simplex) -> set[Simplex]:
        """All simplices sharing at least one vertex with ``simplex`` (``simplex`` included)."""
        return set().union(*(self.vertex_to_simplices[v] for v in simplex))

    def neighbours(self, simplex: Simplex) -> set[Simplex]:
        """The simplices sharing a facet with ``simplex``."""
        result = set()
        for i in range(len(simplex)):
            other = self._across(simplex, simplex[:i] + simplex[i + 1 :])
            if other is not None:
                result.add(other)
        return result

    def get_face_sharing_neighbors(
        self, neighbors: Iterable[Simplex], simplex: Simplex
    ) -> set[Simplex]:
        """The simplices among ``neighbors`` that share a facet with ``simplex``."""
        return {other for other in neighbors if len(set(other) & set(simplex)) == self.dim}

    def neighbour_across(self, simplex: Simplex, vertex: int) -> Simplex | None:
        """The simplex sharing the facet of ``simplex`` opposite ``vertex`` (None on the hull)."""
        i = simplex.index(vertex)
        return self._across(simplex, simplex[:i] + simplex[i + 1 :])

    def faces(
        self,
        dim: int | None = None,
        simplices: Iterable[Simplex] | None = None,
        vertices: Iterable[int] | None = None,
    ) -> Iterator[tuple[int, ...]]:
        """Iterate over the faces with ``dim`` vertices (default ``self.dim``: the facets).

        Faces of ``simplices`` (default: all simplices; with ``vertices``, the simplices having
        all of them), each once; with ``vertices``, only faces containing all of them.
        """
        dim = self.dim if dim is None else dim
        if simplices is None:
            simplices = (
                self.simplices
                if vertices is None
                else self.get_simplices_attached_to_points(vertices)
            )
        wanted = set(vertices) if vertices is not None else None
        seen = set()
        for simplex in simplices:
            for face in itertools.combinations(simplex, dim):
                if face in seen or (wanted is not None and not wanted.issubset(face)):
                    continue
                seen.add(face)
                yield face

    @property
    def hull(self) -> set[int]:
        """The vertex indices on the boundary of the triangulation (its convex hull)."""
        return {v for facet in self.hull_facets for v in facet}

    @property
    def hull_facets(self) -> set[tuple[int, ...]]:
        """The facets on the boundary of the triangulation (each in one simplex only)."""
        return {facet for facet, owners in self._facets.items() if len(owners) == 1}

    def __len__(self) -> int:
        return len(self.simplices)

    def __repr__(self) -> str:
        return (
            f"<Triangulation dim={self.dim} vertices={len(self.vertices)} "
            f"simplices={len(self.simplices)}>"
        )

    # ---- insertion -------------------------------------------------------------------------------
    def add_point(
        self, point: Sequence[float], simplex: Simplex | None = None
    ) -> tuple[set[Simplex], set[Simplex]]:
        """Insert ``point``; return ``(deleted simplices, added simplices)``.

        ``simplex`` is an optional hint: a simplex containing the point (it is checked, and the
        point is located by walking when it is wrong). Raises ``ValueError`` for a point outside
        the convex hull of the vertices, and for a point that is already a vertex.
        """
        point = tuple(map(float, point))
        if len(point) != self.dim:
            raise ValueError(f"the point {point!r} does not have dimension {self.dim}")
        if not all(map(math.isfinite, point)):
            raise ValueError(f"the point {point!r} has non-finite coordinates")
        if point in self._index:
            raise ValueError(f"the point {point!r} is already in the triangulation")
        if (
            simplex is None
            or simplex not in self.simplices
            or not self.point_in_simplex(point, simplex, eps=1e-12)
        ):
            simplex = self._near_hint(point, simplex)
            if simplex is None:
                raise ValueError(
                    f"the point {point!r} lies outside the convex hull of the triangulation"
                )
        for v in simplex:
            vertex = self.vertices[v]
            if math.dist(vertex, point) <= self._duplicate_distance:
                raise ValueError(
                    f"the point {point!r} coincides with the vertex {vertex!r} of the triangulation"
                )
        index = len(self.vertices)
        self.vertices.append(point)
        self.vertex_to_simplices.append(set())
        self._index[point] = index
        try:
            if self.dim == 2:
                result = self._insert_2d(index, simplex)
                if result is not None:
                    return result
            elif self.dim == 3:
                result = self._insert_3d(index, simplex)
                if result is not None:
                    return result
            return self._insert(index, simplex)
        except ValueError:
            self.vertices.pop()
            self.vertex_to_simplices.pop()
            del self._index[point]
            raise

    def _near_hint(self, point: Point, hint: Simplex | None) -> Simplex | None:
        """A simplex containing ``point``: a neighbour of ``hint`` when one does (a point on
        or near a facet of the hint), else the end of a walk from the hint."""
        if hint is not None and hint in self.simplices:
            for i in range(self.dim + 1):
                other = self._across(hint, hint[:i] + hint[i + 1 :])
                if other is not None and self.point_in_simplex(point, other, eps=1e-12):
                    return other
        return self.locate_point(point, hint)

    def _conflict(self, point: Point, simplex: Simplex) -> bool:
        """Whether ``point`` is inside the circumsphere of ``simplex`` (exact when close)."""
        *center, low, high, _ = self._spheres[simplex]
        distance2 = math.dist(point, center) ** 2
        if distance2 < low:
            return True
        if distance2 > high:
            return False
        return in_circumsphere_exact(self.get_vertices(simplex), point)

    def _insert(self, index: int, start: Simplex | None) -> tuple[set[Simplex], set[Simplex]]:
        """Bowyer-Watson: remove the simplices whose circumsphere holds the point, re-cone."""
        point = self.vertices[index]
        if start is None:
            start = self.locate_point(point)
            if start is None:
                raise ValueError(f"the point {point!r} lies outside the convex hull")
        cavity = {start}
        self._grow_cavity(point, [start], cavity)
        return self._recone(index, cavity, set())

    def _compiled_insert(
        self, insert: Callable, index: int, start: Simplex, orient: Callable
    ) -> tuple[set[Simplex], set[Simplex]] | None:
        """Run a C insertion of ``_speedups`` (``insert_2d`` or ``insert_3d``) on this
        triangulation's structures; None as for the Python fast paths."""
        done = insert(
            index,
            start,
            self.vertices,
            self._spheres,
            self._facets,
            self.simplices,
            self.vertex_to_simplices,
            in_circumsphere_exact,
            orient,
        )
        if done is None:
            return None
        cavity, added, last = done
        if last is not None:
            self._last = last
        return cavity, added

    def _insert_2d(self, index: int, start: Simplex) -> tuple[set[Simplex], set[Simplex]] | None:
        """The common 2D case of :meth:`_insert`, inlined for speed.

        Returns None (having changed nothing) when an orientation is not certain in floating
        point or the cavity needs a repair; the general method then does the work.
        """
        if speedups.compiled is not None:  # the same, in C
            return self._compiled_insert(speedups.compiled.insert_2d, index, start, _orient2)
        vertices = self.vertices
        spheres = self._spheres
        facets = self._facets
        point = vertices[index]
        px, py = point
        cavity = {start}
        stack = [start]
        boundary = []
        while stack:
            simplex = stack.pop()
            a, b, c = simplex
            for edge, opposite in (((b, c), a), ((a, c), b), ((a, b), c)):
                owners = facets[edge]
                if len(owners) == 2:
                    other = owners[1] if owners[0] == simplex else owners[0]
                    if other in cavity:
                        continue
                    cx, cy, low, high, _ = spheres[other]
                    distance2 = (px - cx) ** 2 + (py - cy) ** 2
                    if distance2 < low or (
                        distance2 <= high and in_circumsphere_exact(self.get_vertices(other), point)
                    ):
                        cavity.add(other)
                        stack.append(other)
                        continue
                boundary.append((edge, opposite))
        new_edges = []
        bound = _ORIENT2_BOUND
        for edge, opposite in boundary:
            (ux, uy), (vx, vy) = vertices[edge[0]], vertices[edge[1]]
            wx, wy = vertices[opposite]
            # p must be strictly on the side of the edge where the cavity's vertex w is
            left, right = (vx - ux) * (wy - uy), (vy - uy) * (wx - ux)
            det_w = left - right
            if abs(det_w) <= bound * (abs(left) + abs(right)):
                return None
            left, right = (vx - ux) * (py - uy), (vy - uy) * (px - ux)
            det_p = left - right
            if abs(det_p) <= bound * (abs(left) + abs(right)):
                # the point may lie on the edge's line: fine on the hull (no flat triangle)
                if len(facets[edge]) == 1 and _orient2((ux, uy), (vx, vy), point) == 0:
                    continue
                return None
            if (det_p > 0) != (det_w > 0):
                return None
            new_edges.append((edge, 1 if det_p > 0 else -1))
        vertex_to_simplices = self.vertex_to_simplices
        simplices = self.simplices
        for simplex in cavity:  # _remove_simplex, inlined for triangles
            simplices.remove(simplex)
            del spheres[simplex]
            a, b, c = simplex
            vertex_to_simplices[a].remove(simplex)
            vertex_to_simplices[b].remove(simplex)
            vertex_to_simplices[c].remove(simplex)
            for edge in ((b, c), (a, c), (a, b)):
                owners = facets[edge]
                if len(owners) == 1:
                    del facets[edge]
                else:
                    owners.remove(simplex)
        added = set()
        new_vertex = vertex_to_simplices[index]
        low_factor, high_factor = 1.0 - _INSPHERE_BAND, 1.0 + _INSPHERE_BAND
        for (i, j), seen in new_edges:
            if j < index:
                simplex, sign = (i, j, index), seen  # the orientation of (u, v, p) found above
            else:
                simplex = tuple(sorted((i, j, index)))
                sign = _orient2(*(vertices[v] for v in simplex))
            simplices.add(simplex)
            added.add(simplex)
            vertex_to_simplices[i].add(simplex)
            vertex_to_simplices[j].add(simplex)
            new_vertex.add(simplex)
            a, b, c = simplex
            for facet in ((b, c), (a, c), (a, b)):
                owners = facets.get(facet)
                if owners is None:
                    facets[facet] = [simplex]
                else:
                    owners.append(simplex)
            # _circumsphere2, inlined
            (ax, ay), (bx, by), (cx, cy) = vertices[a], vertices[b], vertices[c]
            bx, by, cx, cy = bx - ax, by - ay, cx - ax, cy - ay
            d = 2.0 * (bx * cy - by * cx)
            if d == 0.0:
                spheres[simplex] = (_INF, _INF, _INF, _INF, sign)
                continue
            b2, c2 = bx * bx + by * by, cx * cx + cy * cy
            ux = (cy * b2 - by * c2) / d
            uy = (bx * c2 - cx * b2) / d
            radius2 = ux * ux + uy * uy
            spheres[simplex] = (
                ax + ux,
                ay + uy,
                radius2 * low_factor,
                radius2 * high_factor,
                sign,
            )
        self._last = simplex
        return cavity, added

    def _insert_3d(self, index: int, start: Simplex) -> tuple[set[Simplex], set[Simplex]] | None:
        """The common 3D case of :meth:`_insert`, inlined for speed (None: use the general
        method, nothing was changed)."""
        if speedups.compiled is not None:  # the same, in C
            return self._compiled_insert(speedups.compiled.insert_3d, index, start, _orient3)
        vertices = self.vertices
        spheres = self._spheres
        facets = self._facets
        point = vertices[index]
        px, py, pz = point
        cavity = {start}
        stack = [start]
        boundary = []
        while stack:
            simplex = stack.pop()
            a, b, c, d = simplex
            # a facet and the orientation of (facet, opposite vertex) relative to the simplex's
            for facet, parity in (((b, c, d), -1), ((a, c, d), 1), ((a, b, d), -1), ((a, b, c), 1)):
                owners = facets[facet]
                if len(owners) == 2:
                    other = owners[1] if owners[0] == simplex else owners[0]
                    if other in cavity:
                        continue
                    cx, cy, cz, low, high, _ = spheres[other]
                    distance2 = (px - cx) ** 2 + (py - cy) ** 2 + (pz - cz) ** 2
                    if distance2 < low or (
                        distance2 <= high and in_circumsphere_exact(self.get_vertices(other), point)
                    ):
                        cavity.add(other)
                        stack.append(other)
                        continue
                boundary.append((facet, parity * spheres[simplex][5]))
        new_facets = []
        for facet, inside in boundary:
            u, v, w = vertices[facet[0]], vertices[facet[1]], vertices[facet[2]]
            seen = _orient3_float(u, v, w, point)
            if seen == 0:
                # the point may lie on the facet's plane: fine on the hull (no flat simplex)
                if len(facets[facet]) == 1 and _orient3(u, v, w, point) == 0:
                    continue
                return None
            if seen != inside:
                return None
            new_facets.append((facet, seen))
        for simplex in cavity:
            self._remove_simplex(simplex)
        added = set()
        vertex_to_simplices = self.vertex_to_simplices
        simplices = self.simplices
        new_vertex = vertex_to_simplices[index]
        low_factor, high_factor = 1.0 - _INSPHERE_BAND, 1.0 + _INSPHERE_BAND
        for (i, j, k), seen in new_facets:
            if k < index:
                simplex, sign = (i, j, k, index), seen  # the orientation of (u, v, w, p)
            else:
                simplex = tuple(sorted((i, j, k, index)))
                sign = _orient3(*(vertices[v] for v in simplex))
            simplices.add(simplex)
            added.add(simplex)
            vertex_to_simplices[i].add(simplex)
            vertex_to_simplices[j].add(simplex)
            vertex_to_simplices[k].add(simplex)
            new_vertex.add(simplex)
            a, b, c, d = simplex
            for face in ((b, c, d), (a, c, d), (a, b, d), (a, b, c)):
                owners = facets.get(face)
                if owners is None:
                    facets[face] = [simplex]
                else:
                    owners.append(simplex)
            (cx, cy, cz), radius2 = _circumsphere3(
                vertices[a], vertices[b], vertices[c], vertices[d]
            )
            spheres[simplex] = (cx, cy, cz, radius2 * low_factor, radius2 * high_factor, sign)
        self._last = simplex
        return cavity, added

    def _grow_cavity(self, point: Point, stack: list[Simplex], cavity: set[Simplex]) -> None:
        facets = self._facets
        getters = self._facet_getters
        conflict = self._conflict
        while stack:
            simplex = stack.pop()
            for getter in getters:
                owners = facets[getter(simplex)]
                if len(owners) == 2:
                    other = owners[1] if owners[0] == simplex else owners[0]
                    if other not in cavity and conflict(point, other):
                        cavity.add(other)
                        stack.append(other)

    def _recone(
        self, index: int, cavity: set[Simplex], visible: set[tuple[int, ...]]
    ) -> tuple[set[Simplex], set[Simplex]]:
        """Replace the cavity by the cone from vertex ``index`` over its boundary.

        ``visible`` are hull facets the point lies strictly beyond (only when growing the hull):
        they are inside the region being re-triangulated.
        """
        point = self.vertices[index]
        while True:
            cone, extra = self._cone_facets(point, cavity, visible)
            if not extra:
                break
            cavity.update(extra)
            self._grow_cavity(point, list(extra), cavity)
        for simplex in cavity:
            self._remove_simplex(simplex)
        added = set()
        for facet in cone:
            simplex = (*facet, index) if facet[-1] < index else tuple(sorted((*facet, index)))
            self._add_simplex(simplex)
            added.add(simplex)
        return cavity, added

    def _cone_facets(
        self, point: Point, cavity: set[Simplex], visible: set[tuple[int, ...]]
    ) -> tuple[list[tuple[int, ...]], list[Simplex]]:
        """The boundary facets of the cavity to cone from ``point``, and the simplices that must
        join the cavity because the point does not see their shared facet strictly from inside."""
        orient = self._orient
        vertices = self.vertices
        facets = self._facets
        cone, extra = [], []
        for facet in visible:  # hull facets the point lies beyond, of simplices that stay
            if facets[facet][0] not in cavity:
                cone.append(facet)
        for simplex in cavity:
            coords = None
            for i, getter in enumerate(self._facet_getters):
                facet = getter(simplex)
                owners = facets[facet]
                other = None
                if len(owners) == 2:
                    other = owners[1] if owners[0] == simplex else owners[0]
                    if other in cavity:
                        continue
                elif facet in visible:
                    continue
                if coords is None:
                    coords = [vertices[v] for v in simplex]
                    sign = orient(*coords)
                seen = orient(*coords[:i], point, *coords[i + 1 :])
                if seen == sign:
                    cone.append(facet)
                elif other is not None:
                    extra.append(other)
                elif seen != 0 and not self._near_plane(point, facet):
                    raise ValueError(f"the point {point!r} lies outside the convex hull")
                # else: the point lies on a hull facet; the flat simplex is not made
        return cone, list(dict.fromkeys(extra))

    def _insert_outside(self, index: int) -> None:
        """Insert a point outside the hull (only while building the initial triangulation)."""
        point = self.vertices[index]
        visible, seeds = set(), []
        for facet, owners in list(self._facets.items()):
            if len(owners) != 1:
                continue
            simplex = owners[0]
            coords = [self.vertices[v] for v in simplex]
            i = next(k for k, v in enumerate(simplex) if v not in facet)
            inside = self._orient(*coords)
            seen = self._orient(*coords[:i], point, *coords[i + 1 :])
            if seen == -inside:
                visible.add(facet)
            if seen != inside:
                seeds.append(simplex)
        if not visible:
            raise ValueError(f"the point {point!r} is inside the hull or a duplicate")
        cavity = {s for s in seeds if self._conflict(point, s)}
        self._grow_cavity(point, list(cavity), cavity)
        self._recone(index, cavity, visible)

    def _near_plane(self, point: Point, facet: tuple[int, ...]) -> bool:
        """Whether ``point`` is within rounding distance of the hyperplane of a hull facet."""
        coords = np.asarray(self.get_vertices(facet))
        origin = coords[0]
        basis = coords[1:] - origin
        offset = np.asarray(point) - origin
        solution, *_ = np.linalg.lstsq(basis.T, offset, rcond=None)
        distance = float(np.linalg.norm(basis.T @ solution - offset))
        return distance <= 1e-10 * max(float(np.linalg.norm(basis)), 1e-300)
