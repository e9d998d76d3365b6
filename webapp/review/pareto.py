"""The accuracy/cost Pareto front in O(n log n): sort by cost, sweep keeping the best accuracy.

archsearch.selection.pareto_front compares every pair (O(n^2)), which is fine for a population
and hopeless for a team's 100,000 candidates. Same definition of dominance: a point is on the
front when no other point is at least as accurate and at least as cheap, and better in one.
"""
from __future__ import annotations

from typing import Iterable, Sequence


def pareto_front(points: Iterable[tuple[int, float, float]]) -> list[tuple[int, float, float]]:
    """Points (id, accuracy, cost) on the front, cheapest first. Of exact duplicates (equal accuracy
    and cost) the lowest id stands for them all."""
    ordered: Sequence = sorted(points, key=lambda p: (p[2], -p[1], p[0]))
    return sweep_sorted(ordered)


def sweep_sorted(ordered: Iterable[tuple[int, float, float]]) -> list[tuple[int, float, float]]:
    """The front of points already sorted by (cost ascending, accuracy descending, id) - O(n)."""
    front: list[tuple[int, float, float]] = []
    best = float("-inf")
    for point in ordered:
        if point[1] > best:
            front.append(point)
            best = point[1]
    return front
