"""Quadrature building blocks of the IntegratorLearner: the Gauss-Kronrod rule, the subintervals
of the subdivision tree and an exact, order-independent running sum."""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.polynomial import legendre

__all__ = [
    "GAUSS_WEIGHTS",
    "KRONROD_WEIGHTS",
    "NODES",
    "ExactSum",
    "Interval",
    "gauss_kronrod",
    "kronrod_nodes",
]


def gauss_kronrod(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Gauss-Kronrod rule with ``2n + 1`` points on [-1, 1].

    Returns the sorted nodes, the Kronrod weights and the Gauss weights (0 at the ``n + 1``
    Kronrod-only nodes). The Kronrod nodes are the zeros of the Stieltjes polynomial E, of degree
    n + 1 and orthogonal to every polynomial of degree <= n with the weight P_n; the weights make
    the rule exact for the Legendre polynomials of degree <= 2n.
    """
    gauss_nodes, gauss_weights = legendre.leggauss(n)
    # a Gauss rule exact for the products below (degree <= 3n + 2)
    xq, wq = legendre.leggauss(2 * n + 2)
    basis = np.array([legendre.legval(xq, np.eye(n + 2)[k]) for k in range(n + 2)])
    weighted = wq * basis[n]
    # E = P_{n+1} + sum_{j <= n} e_j P_j with  integral(E P_n P_k) = 0  for k = 0..n
    products = basis[: n + 1, None, :] * basis[None, : n + 1, :]  # P_k P_j at the nodes
    matrix = products @ weighted
    rhs = -np.array([np.sum(weighted * basis[n + 1] * basis[k]) for k in range(n + 1)])
    stieltjes = np.append(np.linalg.lstsq(matrix, rhs, rcond=None)[0], 1.0)
    roots = np.sort(legendre.legroots(stieltjes).real)
    derivative = legendre.legder(stieltjes)
    for _ in range(3):  # polish the companion-matrix roots with Newton steps
        roots = roots - legendre.legval(roots, stieltjes) / legendre.legval(roots, derivative)
    nodes = np.sort(np.concatenate([gauss_nodes, roots]))
    vandermonde = np.array([legendre.legval(nodes, np.eye(2 * n + 1)[m]) for m in range(2 * n + 1)])
    moments = np.zeros(2 * n + 1)
    moments[0] = 2.0
    kronrod_weights = np.linalg.solve(vandermonde, moments)
    gauss_full = np.zeros_like(kronrod_weights)
    for node, weight in zip(gauss_nodes, gauss_weights, strict=True):
        gauss_full[np.argmin(np.abs(nodes - node))] = weight
    return nodes, kronrod_weights, gauss_full


NODES, KRONROD_WEIGHTS, GAUSS_WEIGHTS = gauss_kronrod(7)
NPOINTS = len(NODES)
ROUNDOFF = 50 * np.finfo(float).eps
MIN_ULPS = 1024  # a subinterval narrower than this many ulps is not split


def kronrod_nodes(a: float, b: float) -> list[float] | None:
    """The K15 nodes of [a, b], or None when they are not distinct in floating point."""
    if not b - a > MIN_ULPS * math.ulp(max(abs(a), abs(b))):
        return None
    center, half = 0.5 * (a + b), 0.5 * (b - a)
    points = (center + half * NODES).tolist()
    if not a < points[0] or not points[-1] < b:
        return None
    if any(p >= q for p, q in itertools.pairwise(points)):
        return None
    return points


class Interval:
    """A subinterval of the subdivision tree.

    Attributes
    ----------
    a, b
        The end points.
    igral, err
        The K15 estimate of the integral over [a, b] and its error estimate (None until all the
        interval's points are known).
    depth
        Number of splits from the whole domain.
    parent
        The interval this one was split from (None for the whole domain).
    points
        The 15 Kronrod nodes where the function is evaluated.
    """

    __slots__ = (
        "a",
        "b",
        "children",
        "depth",
        "err",
        "flagged",
        "graded_toward",
        "igral",
        "missing",
        "overflow",
        "parent",
        "points",
        "resabs",
        "roundoff_limited",
        "sibling",
        "split",
        "state",
        "steep_end",
    )

    def __init__(self, a: float, b: float, depth: int, parent: Interval | None) -> None:
        self.a, self.b, self.depth, self.parent = a, b, depth, parent
        self.sibling: Interval | None = None
        self.points: list[float] = []
        self.missing = 0
        self.igral: float | None = None
        self.err: float | None = None
        self.resabs = 0.0
        self.roundoff_limited = False
        self.steep_end = 0  # -1 / +1: the steepest slope is next to a / b
        self.graded_toward = 0  # -1 / +1: the small piece of a graded split, at a / b
        self.children: dict[float, tuple[Interval, Interval]] = {}
        self.state = "new"  # "open" / "closed" leaf, or "split", once in the tree
        self.split: float | None = None
        self.flagged = False
        self.overflow = False

    @property
    def evaluated(self) -> bool:
        return self.err is not None

    def __repr__(self) -> str:
        return f"Interval(a={self.a!r}, b={self.b!r}, igral={self.igral!r}, err={self.err!r})"


class ExactSum:
    """A sum of floats kept exactly, as an integer number of 2**-1074 (the smallest float), so
    adding and removing terms in any order gives the same, correctly rounded, value."""

    __slots__ = ("_total",)
    _SHIFT = 1074

    def __init__(self) -> None:
        self._total = 0

    def add(self, x: float, sign: int = 1) -> None:
        numerator, denominator = x.as_integer_ratio()  # the denominator is a power of 2
        self._total += sign * (numerator << (self._SHIFT - denominator.bit_length() + 1))

    def value(self) -> float:
        try:
            return self._total / (1 << self._SHIFT)  # int / int is correctly rounded
        except OverflowError:
            return math.inf if self._total > 0 else -math.inf
