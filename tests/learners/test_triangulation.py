"""Tests of the incremental Delaunay triangulation."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
from scipy.spatial import ConvexHull, Delaunay

from adaptive_runner.learners.triangulation import (
    Triangulation,
    in_circumsphere_exact,
    orientation,
)


def cube(dim: int) -> list[tuple[float, ...]]:
    return [tuple(map(float, c)) for c in itertools.product([0, 1], repeat=dim)]


def assert_valid(tri: Triangulation) -> None:
    """A proper triangulation of the convex hull of its vertices."""
    assert all(tri.orientation(s) != 0 for s in tri.simplices)
    assert all(s == tuple(sorted(s)) and len(s) == tri.dim + 1 for s in tri.simplices)
    facet_count = Counter(f for s in tri.simplices for f in itertools.combinations(s, tri.dim))
    assert max(facet_count.values()) <= 2
    hull_volume = ConvexHull(np.array(tri.vertices)).volume
    assert sum(tri.volumes()) == pytest.approx(hull_volume, rel=1e-9)
    for v, simplices in enumerate(tri.vertex_to_simplices):
        assert simplices == {s for s in tri.simplices if v in s}


def assert_delaunay(tri: Triangulation, rtol: float = 1e-9) -> None:
    """No vertex is strictly inside any simplex's circumsphere (up to tolerance)."""
    vertices = np.array(tri.vertices)
    for simplex in tri.simplices:
        center, radius = tri.circumsphere(simplex)
        distances = np.linalg.norm(vertices - np.array(center), axis=1)
        assert not np.any(distances < radius * (1 - rtol)), simplex


def canonical(tri: Triangulation) -> frozenset:
    return frozenset(frozenset(tri.vertices[v] for v in s) for s in tri.simplices)


@pytest.mark.parametrize(("dim", "n"), [(2, 400), (3, 150)])
def test_random_points_match_scipy(dim, n):
    rng = np.random.default_rng(dim)
    tri = Triangulation(cube(dim))
    for point in rng.random((n, dim)):
        deleted, added = tri.add_point(point)
        assert deleted
        assert added
    assert_valid(tri)
    assert_delaunay(tri)
    reference = Delaunay(np.array(tri.vertices))
    assert len(tri.simplices) == len(reference.simplices)
    assert len(tri.vertices) == n + 2**dim


def test_add_point_returns_the_change():
    tri = Triangulation([(0, 0), (1, 0), (0, 1), (1, 1)])
    before = set(tri.simplices)
    deleted, added = tri.add_point((0.4, 0.3))
    assert deleted <= before
    assert tri.simplices == (before - deleted) | added
    assert all(len(tri.vertices) - 1 in s for s in added)


@pytest.mark.parametrize(("dim", "size"), [(2, 6), (3, 4)])
def test_grid_points_are_unique_whatever_the_order(dim, size):
    """Cospherical points: the triangulation is valid and does not depend on insertion order."""
    corners = cube(dim)
    grid = [
        p
        for p in itertools.product(np.linspace(0, 1, size).tolist(), repeat=dim)
        if p not in corners
    ]
    rng = np.random.default_rng(1)
    results = set()
    for _ in range(4):
        shuffled_corners = list(corners)
        rng.shuffle(shuffled_corners)
        tri = Triangulation(shuffled_corners)
        order = list(grid)
        rng.shuffle(order)
        for point in order:
            tri.add_point(point)
        assert_valid(tri)
        assert_delaunay(tri)
        results.add(canonical(tri))
    assert len(results) == 1


@pytest.mark.parametrize("dim", [2, 3])
def test_points_on_edges_and_faces(dim):
    rng = np.random.default_rng(3)
    tri = Triangulation(cube(dim))
    for _ in range(150):
        simplex = sorted(tri.simplices)[rng.integers(len(tri.simplices))]
        k = rng.integers(2, dim + 1)  # an edge, or a face of k vertices
        chosen = rng.choice(simplex, k, replace=False)
        point = tuple(np.mean([tri.vertices[v] for v in chosen], axis=0).tolist())
        if point in tri.vertices:
            continue
        tri.add_point(point)
    assert_valid(tri)
    assert_delaunay(tri)


@pytest.mark.parametrize("dim", [2, 3])
def test_points_on_the_hull(dim):
    tri = Triangulation(cube(dim))
    rng = np.random.default_rng(4)
    for _ in range(40):
        point = rng.random(dim)
        point[rng.integers(dim)] = float(rng.integers(2))  # on a face of the cube
        tri.add_point(point)
    assert_valid(tri)
    assert len(tri.hull) == len(tri.vertices)  # every vertex is on the boundary


def test_nearly_flat_simplices():
    tri = Triangulation([(0, 0), (1, 0), (0, 1), (1, 1)])
    for x in np.linspace(0.01, 0.99, 60):
        tri.add_point((x, 1e-9 * x * (1 - x)))
    for x in np.linspace(0.015, 0.985, 30):
        tri.add_point((x, x + 1e-13))
    assert_valid(tri)


def test_duplicates_and_outside_points_raise():
    tri = Triangulation(cube(2))
    tri.add_point((0.5, 0.5))
    with pytest.raises(ValueError, match=r"\(0\.5, 0\.5\).*already"):
        tri.add_point((0.5, 0.5))
    with pytest.raises(ValueError, match="coincides"):
        tri.add_point((0.5, 0.5 + 1e-15))
    with pytest.raises(ValueError, match="outside"):
        tri.add_point((1.5, 0.5))
    with pytest.raises(ValueError, match="outside"):
        tri.add_point((1 + 1e-6, 0.5))
    with pytest.raises(ValueError, match="dimension"):
        tri.add_point((0.5, 0.5, 0.5))
    assert_valid(tri)
    assert len(tri.vertices) == 5


def test_bad_initial_points():
    with pytest.raises(ValueError, match="affinely independent"):
        Triangulation([(0, 0), (1, 1), (2, 2), (3, 3)])
    with pytest.raises(ValueError, match="at least"):
        Triangulation([(0, 0), (1, 0)])
    with pytest.raises(ValueError, match="twice"):
        Triangulation([(0, 0), (1, 0), (0, 1), (1, 0)])
    with pytest.raises(ValueError, match="dimension"):
        Triangulation([(0,), (1,)])


def test_initial_points_inside_and_on_the_hull():
    points = [(0, 0), (4, 0), (0, 4), (1, 1), (2, 0), (2, 2), (0.5, 3)]
    tri = Triangulation(points)
    assert_valid(tri)
    assert_delaunay(tri)
    assert {v for s in tri.simplices for v in s} == set(range(len(points)))


@pytest.mark.parametrize("dim", [4, 5, 6])
def test_higher_dimensions(dim):
    rng = np.random.default_rng(dim)
    tri = Triangulation(cube(dim))
    for point in rng.random((12, dim)):
        tri.add_point(point)
    tri.add_point(tuple([0.5] * (dim - 1) + [0.0]))  # on a facet of the hull
    assert_valid(tri)


def test_locate_point_walks_and_finds():
    rng = np.random.default_rng(5)
    tri = Triangulation(cube(2))
    for point in rng.random((200, 2)):
        tri.add_point(point)
    for point in rng.random((50, 2)):
        simplex = tri.locate_point(point)
        assert simplex in tri.simplices
        assert tri.point_in_simplex(point, simplex)
    assert tri.locate_point((0.5, 1.5)) is None
    on_vertex = tri.locate_point(tri.vertices[10])
    assert 10 in on_vertex or tri.point_in_simplex(tri.vertices[10], on_vertex)


def test_hint_is_checked():
    tri = Triangulation(cube(2))
    wrong = next(s for s in tri.simplices if not tri.point_in_simplex((0.9, 0.05), s))
    tri.add_point((0.9, 0.05), simplex=wrong)
    assert_valid(tri)


def test_neighbour_helpers_and_faces():
    tri = Triangulation(cube(2))
    for point in [(0.5, 0.5), (0.25, 0.25), (0.75, 0.25)]:
        tri.add_point(point)
    for simplex in tri.simplices:
        for other in tri.neighbours(simplex):
            assert len(set(simplex) & set(other)) == tri.dim
        assert tri.neighbours(simplex) <= tri.get_neighbors_from_vertices(simplex)
        assert tri.get_face_sharing_neighbors(
            tri.get_neighbors_from_vertices(simplex), simplex
        ) == tri.neighbours(simplex)
    assert tri.get_simplices_attached_to_points([4]) == tri.vertex_to_simplices[4]
    edges = list(tri.faces())
    assert len(edges) == len(set(edges))
    assert all(len(e) == 2 for e in edges)
    assert set(tri.faces(vertices=[4])) == {e for e in edges if 4 in e}
    assert tri.hull == {0, 1, 2, 3}
    assert all(len(f) == 2 for f in tri.hull_facets)


def test_predicates():
    assert orientation([(0, 0), (1, 0), (0, 1)]) == 1
    assert orientation([(0, 0), (0, 1), (1, 0)]) == -1
    assert orientation([(0, 0), (1, 1), (3, 3)]) == 0
    assert orientation([(0.1, 0.1), (0.2, 0.2), (0.30000000000000004, 0.30000000000000004)]) == 0
    square = [(0, 0), (1, 0), (0, 1)]
    assert in_circumsphere_exact(square, (0.5, 0.6))
    assert not in_circumsphere_exact(square, (1.1, 1))
    # ties (four cocircular points) are broken consistently: one diagonal of the square wins
    assert not in_circumsphere_exact(square, (1, 1))
    assert not in_circumsphere_exact([(1, 0), (0, 1), (1, 1)], (0, 0))
    assert in_circumsphere_exact([(0, 0), (1, 0), (1, 1)], (0, 1))
    assert in_circumsphere_exact([(0, 0), (0, 1), (1, 1)], (1, 0))


def test_volume_and_circumsphere():
    tri = Triangulation([(0, 0), (2, 0), (0, 2)])
    (simplex,) = tri.simplices
    assert tri.volume(simplex) == pytest.approx(2.0)
    center, radius = tri.circumsphere(simplex)
    assert center == pytest.approx((1, 1))
    assert radius == pytest.approx(2**0.5)


def test_pickle_round_trip():
    import pickle

    tri = Triangulation(cube(3))
    for point in np.random.default_rng(6).random((20, 3)):
        tri.add_point(point)
    copy = pickle.loads(pickle.dumps(tri))
    assert copy.simplices == tri.simplices
    copy.add_point((0.5, 0.5, 0.51))
    assert_valid(copy)
