"""The C versions of the hot paths (``learners/_speedups_src/``) against the Python code.

Both must give bitwise the same triangulation, planes, gradients, losses and asked points: the
same sequence of calls is run twice, once with the compiled module and once with
``speedups.compiled = None`` (the Python code), and every piece of state is compared.
"""

from __future__ import annotations

import itertools
import math
import os
import random
import subprocess
import sys
from collections import Counter

import hypothesis
import hypothesis.strategies as st
import numpy as np
import pytest

from adaptive_runner.learners import learner2D, speedups, triangulation
from adaptive_runner.learners.learner2D import Learner2D
from adaptive_runner.learners.learner2D_losses import uniform_loss
from adaptive_runner.learners.learnerND import LearnerND
from adaptive_runner.learners.loss_queue import LossQueue
from adaptive_runner.learners.triangulation import Triangulation

try:  # imported directly, so the comparison also runs under ADAPTIVE_RUNNER_PURE_PYTHON=1
    from adaptive_runner.learners import _speedups as COMPILED
except ImportError:
    COMPILED = None
SQUARE = [(-1, 1), (-1, 1)]


def test_the_extension_is_built():
    """CI has a C compiler, so `pip install .` must have built the speedups (the pure Python
    fallback is for machines without one)."""
    assert COMPILED is not None, "adaptive_runner.learners._speedups was not built"


def test_the_environment_variable_switches_to_python():
    code = "from adaptive_runner.learners import speedups; print(speedups.compiled is None)"
    answers = []
    for value in ("1", ""):
        env = {**os.environ, "ADAPTIVE_RUNNER_PURE_PYTHON": value}
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        answers.append(done.stdout.strip())
    assert answers == ["True", "False"]


@pytest.fixture
def both(monkeypatch):
    """Run ``scenario()`` with the compiled module and with the Python code; return both."""
    if COMPILED is None:
        pytest.fail("the speedups are not built; see test_the_extension_is_built")

    def run(scenario):
        monkeypatch.setattr(speedups, "compiled", COMPILED)
        fast = scenario()
        monkeypatch.setattr(speedups, "compiled", None)
        slow = scenario()
        monkeypatch.setattr(speedups, "compiled", COMPILED)
        return fast, slow

    return run


def triangulation_state(tri: Triangulation) -> tuple:
    return (
        tri.vertices,
        sorted(tri.simplices),
        sorted((s, tri._spheres[s]) for s in tri.simplices),
        sorted((f, sorted(owners)) for f, owners in tri._facets.items()),
        [sorted(star) for star in tri.vertex_to_simplices],
    )


def mesh_state(learner: Learner2D) -> dict:
    """Everything the learner's mesh holds (the C Mesh2D or the Python _Mesh report it in the
    same form): triangles with their circumcircles and neighbours, perturbed and scaled points,
    values, planes, gradients, loss entries and the top entry; as reprs, so -0.0 and NaN
    count."""
    state = learner._mesh.state(learner._y_scale)
    assert set(state) == {
        "triangles",
        "vertices",
        "points",
        "values",
        "planes",
        "gradients",
        "entries",
        "top",
        "neighbours",
    }
    return {key: repr(value) for key, value in state.items()}


def drive(learner: Learner2D, steps: int, function, seed: int = 0, batches=(1, 1, 3, 8)):
    """Ask in random batch sizes, tell in a shuffled order, sometimes drop pending points;
    return everything asked, with the loss after each round."""
    rng = random.Random(seed)
    history = []
    for step in range(steps):
        points, improvements = learner.ask(rng.choice(batches))
        history.append((points, improvements))
        rng.shuffle(points)
        told = points if step % 7 else points[: len(points) // 2]
        for point in told:
            learner.tell(point, function(point))
        if step % 7 == 0:
            learner.remove_unfinished()
        history.append(learner.loss())
    return history


def ring(xy):
    x, y = xy
    return x + math.exp(-((x**2 + y**2 - 0.75**2) ** 2) / 0.2**4)


def test_random_points_give_the_same_triangulation(both):
    def scenario():
        tri = Triangulation([(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)])
        changes = []
        for point in np.random.default_rng(3).random((600, 2)):
            deleted, added = tri.add_point(point)
            changes.append((sorted(deleted), sorted(added)))
        return changes, triangulation_state(tri)

    fast, slow = both(scenario)
    assert fast == slow
    assert len(fast[1][1]) > 1000  # the triangles of 604 points


def test_cocircular_and_hull_points_give_the_same_triangulation(both, monkeypatch):
    """A grid (every cell has four cocircular corners, decided by the exact predicate) and
    points on the hull's edges (the uncertain-orientation path)."""
    calls = Counter()

    def counted(function):
        def wrapper(*args):
            calls[function.__name__, speedups.compiled is not None] += 1
            return function(*args)

        return wrapper

    for name in ("in_circumsphere_exact", "_orient2"):
        monkeypatch.setattr(triangulation, name, counted(getattr(triangulation, name)))

    def scenario():
        tri = Triangulation([(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)])
        grid = [(i / 8, j / 8) for i, j in itertools.product(range(9), repeat=2)]
        grid = [p for p in grid if p not in tri._index]
        random.Random(5).shuffle(grid)
        for point in grid:
            tri.add_point(point)
        return triangulation_state(tri)

    fast, slow = both(scenario)
    assert fast == slow
    assert len(fast[0]) == 81
    # the C code called the exact predicates for the ties, as the Python code does
    assert calls["in_circumsphere_exact", True] > 0
    assert calls["_orient2", True] > 0


def test_3d_points_give_the_same_triangulation(both, monkeypatch):
    """Random points, a grid (eight cospherical corners per cell, decided by the exact
    predicate) and points on the faces of the hull (the uncertain-orientation path), in 3D."""
    calls = Counter()
    exact = triangulation.in_circumsphere_exact

    def counted(*args):
        calls[speedups.compiled is not None] += 1
        return exact(*args)

    monkeypatch.setattr(triangulation, "in_circumsphere_exact", counted)

    def scenario():
        corners = [tuple(map(float, c)) for c in itertools.product([0, 1], repeat=3)]
        tri = Triangulation(corners)
        changes = []
        grid = [tuple(v / 4 for v in c) for c in itertools.product(range(5), repeat=3)]
        grid = [p for p in grid if p not in tri._index]
        random.Random(9).shuffle(grid)
        points = [tuple(p) for p in np.random.default_rng(4).random((150, 3))]
        for point in grid[:60] + points + grid[60:]:
            deleted, added = tri.add_point(point)
            changes.append((sorted(deleted), sorted(added)))
        return changes, triangulation_state(tri)

    fast, slow = both(scenario)
    assert fast == slow
    assert len(fast[1][0]) == 125 + 150
    assert calls[True] > 0  # the C code asked the exact predicate about the ties


def test_learnernd_runs_are_identical(both):
    def shell(xyz):
        x, y, z = xyz
        return x + math.exp(-((x * x + y * y + z * z - 0.36) ** 2) / 0.0016)

    def scenario():
        learner = LearnerND(shell, [(-1, 1)] * 3)
        asked = []
        for step in range(120):
            points, improvements = learner.ask(1 + step % 3)
            asked.append((points, improvements))
            for point in points:
                learner.tell(point, shell(point))
        return asked, triangulation_state(learner.tri), learner.loss()

    fast, slow = both(scenario)
    assert fast == slow


def test_learner_runs_are_identical(both):
    def scenario():
        learner = Learner2D(ring, SQUARE)
        history = drive(learner, 400, ring)
        return history, mesh_state(learner), learner.loss(real=False)

    fast, slow = both(scenario)
    assert fast == slow
    assert len(fast[0]) == 800


def test_the_learner_uses_the_compiled_mesh_for_floats_and_the_default_loss():
    if COMPILED is None:
        pytest.fail("the speedups are not built; see test_the_extension_is_built")
    scalar = Learner2D(ring, SQUARE)
    assert type(scalar._mesh) is COMPILED.Mesh2D
    other_loss = Learner2D(ring, SQUARE, loss_per_triangle=uniform_loss)
    assert type(other_loss._mesh) is learner2D._Mesh
    vector = Learner2D(lambda xy: np.array([xy[0], xy[1]]), SQUARE)
    points, _ = vector.ask(6)  # pending points in the C mesh, then a vector arrives
    assert type(vector._mesh) is COMPILED.Mesh2D
    for point in points:
        vector.tell(point, vector.function(point))
    assert type(vector._mesh) is learner2D._Mesh
    assert vector.pending_points == set()
    assert vector.npoints == 6
    points, _ = vector.ask(3)  # and it goes on asking from the rebuilt mesh
    assert len(set(points)) == 3
    assert not set(points) & set(vector.data)


def test_grid_tells_and_non_finite_values_are_identical(both):
    """Cocircular points told from a grid, NaN and inf values (their triangles take the
    Python path inside the C loop), then asking on."""

    def function(xy):
        x, y = xy
        if abs(x - 0.25) < 0.1 and abs(y) < 0.2:
            return math.nan
        if abs(x + 0.5) < 0.05:
            return math.inf
        return math.sin(3 * x) * y

    def scenario():
        learner = Learner2D(function, SQUARE)
        grid = [(x, y) for x in np.linspace(-1, 1, 9) for y in np.linspace(-1, 1, 9)]
        learner.tell_many(grid, [function(p) for p in grid])
        history = drive(learner, 150, function, seed=2)
        return history, mesh_state(learner), sorted(learner._mesh.nonfinite)

    fast, slow = both(scenario)
    assert fast == slow
    assert fast[2]  # non-finite values were in the mesh


def test_vector_values_and_other_losses_are_identical(both):
    """Vector values (planes are arrays: the C loop calls the Python code for them) and a
    loss other than the default (the Python branch)."""

    def vector(xy):
        x, y = xy
        return np.array([x * y, math.exp(-(x * x + y * y) / 0.1)])

    def scenario():
        runs = []
        for function, loss in ((vector, None), (ring, uniform_loss)):
            learner = Learner2D(function, SQUARE, loss_per_triangle=loss)
            runs.append((drive(learner, 120, function, seed=4), mesh_state(learner)))
        return runs

    fast, slow = both(scenario)
    assert fast == slow


def test_bad_arguments_raise_instead_of_crashing():
    if COMPILED is None:
        pytest.fail("the speedups are not built; see test_the_extension_is_built")
    with pytest.raises(TypeError, match="takes 9 arguments"):
        COMPILED.insert_2d(1, 2)
    with pytest.raises(TypeError, match="takes 9 arguments"):
        COMPILED.insert_3d(1, 2)
    with pytest.raises(TypeError, match="unexpected types"):
        COMPILED.insert_3d(*[None] * 9)
    with pytest.raises(TypeError, match="unexpected types"):
        COMPILED.insert_2d(*[None] * 9)
    tri = Triangulation([(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)])
    tri.vertices.append((0.2, 0.2))
    with pytest.raises(KeyError):  # a start triangle that is not in the triangulation
        COMPILED.insert_2d(
            3,
            (0, 1, 7),
            tri.vertices,
            tri._spheres,
            tri._facets,
            tri.simplices,
            [*tri.vertex_to_simplices, set()],
            None,
            None,
        )


def test_the_compiled_mesh_rejects_bad_input():
    learner = Learner2D(ring, SQUARE)
    mesh = learner._mesh
    if COMPILED is None or type(mesh) is not COMPILED.Mesh2D:
        pytest.fail("the speedups are not built; see test_the_extension_is_built")
    with pytest.raises(TypeError):
        COMPILED.Mesh2D()
    with pytest.raises(TypeError, match="floats or None"):
        mesh.insert((0.0, 0.0), (0.5, 0.5), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="outside the convex hull"):
        mesh.insert((3.0, 0.0), (2.0, 0.5), None)
    with pytest.raises(ValueError, match="non-finite"):
        mesh.insert((0.0, 0.0), (math.nan, 0.5), None)
    with pytest.raises(ValueError, match="already in the mesh"):
        mesh.insert((-1.0, -1.0), (0.5, 0.5), None)
    assert mesh.insert((0.0, 0.0), (0.5, 0.5), 1.0) == 4
    with pytest.raises(ValueError, match="not a triangle of the mesh"):
        mesh.mark_unsplittable(10_000)
    with pytest.raises(ValueError, match="not a triangle of the mesh"):
        mesh.interpolate(-1, (0.5, 0.5))
    with pytest.raises(IndexError, match="not in the mesh"):
        mesh.set_value(99, 1.0)
    with pytest.raises(TypeError, match="takes 3 or 4 arguments"):
        mesh.insert((0.0, 0.0))
    # nothing above changed the mesh: five vertices, four triangles around the centre
    state = mesh.state(1.0)
    assert len(state["points"]) == 5
    assert [t for t, _ in state["triangles"]] == [(0, 1, 4), (0, 2, 4), (1, 3, 4), (2, 3, 4)]
    assert mesh.index == {
        (-1.0, -1.0): 0,
        (-1.0, 1.0): 1,
        (1.0, -1.0): 2,
        (1.0, 1.0): 3,
        (0.0, 0.0): 4,
    }


def test_exact_sum_is_math_fsum():
    """The C gradients sum exactly, as math.fsum: the correctly rounded sum, whatever the order
    (cancellations, ties rounded to even, wide exponent ranges)."""
    if COMPILED is None:
        pytest.fail("the speedups are not built; see test_the_extension_is_built")
    rng = random.Random(11)
    cases = [
        [],
        [1.0],
        [1e100, 1.0, -1e100],
        [1.0, 1e-16, 1e-16],  # the two small terms decide the rounding together
        [1.0, 2.0**-53, 2.0**-106],  # just above a tie: rounds up
        [1.0, 2.0**-53],  # an exact tie: rounds to even (down)
        [1.0 + 2.0**-52, 2.0**-53],  # an exact tie: rounds to even (up)
        [0.1] * 10,
    ]
    for _ in range(2000):
        size = rng.randint(1, 20)
        cases.append(
            [rng.uniform(-1, 1) * 10.0 ** rng.randint(-30, 30) for _ in range(size)]
            + [rng.choice([-1, 1]) * 2.0 ** rng.randint(-60, 60)]
        )
    for values in cases:
        if math.fsum(values) == 0:
            continue
        shuffled = values[:]
        rng.shuffle(shuffled)
        assert COMPILED.exact_sum(values) == math.fsum(values), values
        assert COMPILED.exact_sum(shuffled) == math.fsum(values), values
    # not finite, an overflow on the way, or a zero sum (its sign is math.fsum's to decide):
    # it defers to math.fsum
    assert COMPILED.exact_sum([1.0, math.inf]) is None
    assert COMPILED.exact_sum([1e308, 1e308, -1e308]) is None
    assert COMPILED.exact_sum([-0.0, -0.0]) is None
    assert COMPILED.exact_sum([1.5, -1.5]) is None


def test_loss_queues_agree():
    """The C LossQueue (an indexed heap) and the Python one (a heap with lazy deletion) give
    the same smallest entry after any sequence of changes: ties in the floats are decided by
    the triangle, infinite losses come first."""
    if COMPILED is None:
        pytest.fail("the speedups are not built; see test_the_extension_is_built")
    rng = random.Random(7)
    fast, slow = COMPILED.LossQueue(), LossQueue()
    triangles = [tuple(sorted(rng.sample(range(40), 3))) for _ in range(300)]
    triangles = list(dict.fromkeys(triangles))
    for step in range(6000):
        t = rng.choice(triangles)
        action = rng.random()
        if action < 0.6:
            loss = rng.choice([0.5, 1.0, 2.0, rng.random()])  # repeated values: ties
            entry = (-loss, float(t[0] % 3), 0.25, loss, t)
            if rng.random() < 0.05:
                entry = (-math.inf, -rng.choice([0.1, 0.2]), 1.0, 0.0, math.inf, t)
            fast.set(t, entry)
            slow.set(t, entry)
        elif action < 0.9:
            fast.discard(t)
            slow.discard(t)
        if step % 500 == 0:
            entries = {u: (-1.0, 0.0, 0.0, 1.0, u) for u in triangles[:20]}
            fast.reset(entries)
            slow.reset(entries)
        assert fast.top() == slow.top()
        assert len(fast) == len(slow)
        assert (t in fast) == (t in slow)
    assert sorted(fast.items()) == sorted(slow.items())
    while slow.top() is not None:  # emptying in order gives the same sequence
        entry = slow.top()
        assert fast.top() == entry
        fast.discard(entry[-1])
        slow.discard(entry[-1])
    assert fast.top() is None
    assert len(fast) == 0
    with pytest.raises(TypeError, match="4 or 5 floats"):
        fast.set((1, 2, 3), (1.0, (1, 2, 3)))
    with pytest.raises(TypeError, match="no arguments"):
        COMPILED.LossQueue(1)


def _run_with(compiled, operations):
    """Apply ``operations`` to a fresh Learner2D with ``speedups.compiled = compiled``."""
    saved = speedups.compiled
    speedups.compiled = compiled
    try:
        learner = Learner2D(lambda xy: 0.0, [(-1, 1), (-1, 1)])
        trace = []
        for operation, argument in operations:
            if operation == "ask":
                points, improvements = learner.ask(argument)
                trace.append((points, improvements))
            elif operation == "tell":
                for point in sorted(learner.pending_points)[: argument[0]]:
                    learner.tell(point, argument[1](point))
            elif operation == "grid":
                size, function = argument
                axis = np.linspace(-1, 1, size)
                grid = [(x, y) for x in axis for y in axis]
                learner.tell_many(grid, [function(p) for p in grid])
            else:
                learner.remove_unfinished()
            trace.append(repr(learner.loss()))
        return trace, mesh_state(learner)
    finally:
        speedups.compiled = saved


VALUES = [
    lambda p: p[0] * p[1],
    lambda p: math.tanh((p[0] ** 2 + p[1] ** 2 - 0.4) / 0.02),
    lambda p: math.nan if p[0] > 0.5 else p[1],
    lambda p: math.inf if abs(p[0]) < 0.1 else 1.0,
    lambda p: 3.0,  # constant: zero spread
    lambda p: 1e300 * p[0],  # huge values
]


@hypothesis.settings(max_examples=60, deadline=None)
@hypothesis.given(
    operations=st.lists(
        st.one_of(
            st.tuples(st.just("ask"), st.integers(0, 12)),
            st.tuples(st.just("tell"), st.tuples(st.integers(0, 12), st.sampled_from(VALUES))),
            st.tuples(st.just("grid"), st.tuples(st.integers(2, 6), st.sampled_from(VALUES))),
            st.tuples(st.just("remove"), st.none()),
        ),
        max_size=25,
    )
)
def test_random_operations_are_identical(operations):
    """Any sequence of asks, tells (also NaN, inf, constant and huge values), grids of
    cocircular points and removals gives the same state with the C code and without it."""
    if COMPILED is None:
        pytest.fail("the speedups are not built; see test_the_extension_is_built")
    assert _run_with(COMPILED, operations) == _run_with(None, operations)
