"""Selection: tournaments over fitness or Pareto rank (accuracy up, latency down)."""
from __future__ import annotations

import random
from typing import Sequence


def dominates(a: dict, b: dict) -> bool:
    """a is at least as accurate and as fast as b, and strictly better in one."""
    la, lb = a.get("latency_ms") or 0.0, b.get("latency_ms") or 0.0
    return a["accuracy"] >= b["accuracy"] and la <= lb and (a["accuracy"] > b["accuracy"] or la < lb)


def pareto_front(candidates: Sequence[dict]) -> list[dict]:
    front = [c for c in candidates if not any(dominates(other, c) for other in candidates if other is not c)]
    return sorted(front, key=lambda c: c.get("latency_ms") or 0.0)


def pareto_ranks(candidates: Sequence[dict]) -> dict[str, int]:
    """Non-domination rank of each candidate id (0 = on the front), as in NSGA-II."""
    remaining = list(candidates)
    ranks: dict[str, int] = {}
    rank = 0
    while remaining:
        front = [c for c in remaining if not any(dominates(o, c) for o in remaining if o is not c)]
        for c in front:
            ranks[c["id"]] = rank
        remaining = [c for c in remaining if c["id"] not in ranks]
        rank += 1
    return ranks


def tournament(population: Sequence[dict], rng: random.Random, size: int, *, objective: str = "accuracy") -> dict:
    """Sample ``size`` members without replacement and return the best.

    ``objective='pareto'`` prefers a lower Pareto rank within the whole population,
    then higher accuracy.
    """
    contestants = rng.sample(list(population), min(size, len(population)))
    if objective == "pareto":
        ranks = pareto_ranks(population)
        return min(contestants, key=lambda c: (ranks[c["id"]], -c["accuracy"], c["index"]))
    return max(contestants, key=lambda c: (c["accuracy"], -c["index"]))
