"""Regularized (aging) evolution as a state machine: propose a candidate, record its result.

Each proposal's randomness comes from (seed, proposal index) and the population is
a pure function of the recorded history, so replaying a run folder's history
rebuilds the exact state: a run killed at any moment resumes with the same
candidates, none lost and none evaluated twice. Proposals and results are plain
dicts so that any worker (a Celery task, another machine) can evaluate them.
"""
from __future__ import annotations

import math
import random
import statistics
from collections import deque
from typing import Any, Iterable

from videomodels import ArchSpec, Budget, analyze

from archsearch.config import SearchConfig
from archsearch.curves import median_threshold
from archsearch.events import (
    CandidateEvaluated,
    CandidateRejected,
    Event,
    GenerationFinished,
    GenerationStarted,
    NewBest,
)
from archsearch.seeding import seeded_proposal
from archsearch.selection import pareto_front, tournament
from archsearch.spaces import SearchSpace


# Draws a proposal may take to find an architecture the search has not tried yet. Without it most
# children of a converged population are copies of members (on the video NAS table, 80% of a default
# run's evaluations retrained an architecture it had already scored); a small space may run out, and
# then a repeat is proposed rather than none.
FRESH_TRIES = 25


def candidate_rng(seed: int, index: int) -> random.Random:
    # String seeds hash deterministically (unlike hash() of tuples across processes).
    return random.Random(f"archsearch:{seed}:{index}")


class Evolution:
    def __init__(self, config: SearchConfig, space: SearchSpace, history: Iterable[dict] = ()):
        self.config = config.validate()
        self.space = space
        self.candidates: list[dict[str, Any]] = []
        self._trained: list[dict[str, Any]] = []  # the evaluated candidates, kept as they come (asked for on every proposal)
        self.population: deque[str] = deque()
        self.by_id: dict[str, dict[str, Any]] = {}
        self.best_id: str | None = None
        self.consecutive_rejections = 0
        self._tried: set[str] = set()  # spec hashes of every recorded candidate, evaluated, rejected or failed
        for record in history:
            self._apply(record)

    # -- state -------------------------------------------------------------
    @property
    def trained(self) -> list[dict[str, Any]]:
        return list(self._trained)  # a copy: callers may keep or sort it

    @property
    def generation(self) -> int:
        return len(self._trained) // self.config.population

    @property
    def done(self) -> bool:
        return len(self._trained) >= self.config.total_trained or self.gave_up

    @property
    def gave_up(self) -> bool:
        return self.consecutive_rejections >= self.config.rejection_limit

    @property
    def best(self) -> dict[str, Any] | None:
        return self.by_id.get(self.best_id) if self.best_id else None

    def members(self) -> list[dict[str, Any]]:
        return [self.by_id[cid] for cid in self.population]

    def pareto(self) -> list[dict[str, Any]]:
        return pareto_front(self.trained)

    def promote_threshold(self) -> float | None:
        """Low-fidelity accuracy a child needs to earn the longer training."""
        config = self.config
        if not config.high_steps or config.high_steps <= config.low_steps:
            return None
        scores = [c["low_accuracy"] for c in self.members() if c.get("low_accuracy") is not None]
        if len(scores) < 2:
            return float("-inf")  # nothing to compare with yet: promote
        scores.sort(reverse=True)
        keep = max(1, round(len(scores) * config.promote_fraction))
        return scores[keep - 1]

    def curve_threshold(self) -> float | None:
        """The training loss at the check step above which a candidate stops early (None: it never does)."""
        if self.config.curve_stop <= 0:
            return None
        return median_threshold(c.get("curve_loss") for c in self.members())

    def _screened_sample(self, rng: random.Random) -> tuple[ArchSpec, dict[str, Any]]:
        """A random architecture; with ``proxy_samples`` > 1, the best of several by the proxy."""
        if self.config.proxy_samples <= 1:
            return self.space.sample(rng), {}
        from archsearch.proxy import PROXIES

        score = PROXIES[self.config.proxy]
        drawn = [self.space.sample(rng) for _ in range(self.config.proxy_samples)]
        scores = [score(spec) for spec in drawn]
        best = max(range(len(drawn)), key=lambda i: (scores[i], -i))
        shown = scores[best] if math.isfinite(scores[best]) else None  # JSON (and Postgres) have no -inf
        return drawn[best], {"proxy": self.config.proxy, "proxy_score": shown, "screened": len(drawn)}

    def _fresh(self, draw):
        """``draw()`` -> (spec, extra) again until the spec is one the search has not tried (FRESH_TRIES at most)."""
        for _ in range(FRESH_TRIES):
            spec, extra = draw()
            if spec.content_hash() not in self._tried:
                break
        return spec, extra

    def elite_ids(self) -> set[str]:
        """The members aging spares: the ``elitism`` most accurate (ties: the older)."""
        ranked = sorted(self.members(), key=lambda c: (-c["accuracy"], c["index"]))
        return {c["id"] for c in ranked[: self.config.elitism]}

    def _age_out(self) -> None:
        """Aging: the oldest member leaves, however good, unless it is one of the elite."""
        elite = self.elite_ids()
        oldest = next(cid for cid in self.population if cid not in elite)
        self.population.remove(oldest)

    # -- the two operations -----------------------------------------------
    def propose(self, index: int | None = None) -> dict[str, Any]:
        """The next candidate to evaluate (not yet part of the history).

        ``index`` defaults to the history's length; a scheduler that keeps several
        candidates in flight passes the next free index itself.
        """
        index = len(self.candidates) if index is None else index
        rng = candidate_rng(self.config.seed, index)
        generation = self.generation
        parent = None
        seeded = seeded_proposal(self.config.seeds, index)
        if seeded is not None:
            spec, mutation = seeded
            details = {"seeded": True}
        elif len(self._trained) < self.config.first_generation or not self.population:
            spec, details = self._fresh(lambda: self._screened_sample(rng))
            mutation = None
        else:
            span = max(1, self.config.total_trained - self.config.first_generation)
            progress = min(1.0, (len(self._trained) - self.config.first_generation) / span)

            def child():  # each try holds its own tournament: a parent whose neighbours are all tried yields to another
                chosen = tournament(self.members(), rng, self.config.tournament_size, objective=self.config.objective)
                result = self.space.mutate(ArchSpec.from_dict(chosen["spec"]), rng, progress=progress, evaluation=chosen)
                return result.spec, (chosen, result.description, result.details)

            spec, (parent, mutation, details) = self._fresh(child)
        params, macs = self._costs(spec)
        return {
            "id": f"c{index:04d}",
            "index": index,
            "generation": generation,
            "parent_id": parent["id"] if parent else None,
            "mutation": mutation,
            "mutation_details": details,
            "spec": spec.to_dict(),
            "spec_hash": spec.content_hash(),
            "params": params,
            "macs": macs,
            "status": "proposed",
        }

    def _costs(self, spec: ArchSpec) -> tuple[int, int]:
        """Params and MACs of a proposal. A space that already knows them (a benchmark table) says
        so through ``known_costs``: analysing builds the model on the meta device, a fifth of a
        second for each new architecture, which would dominate a replay of thousands of runs."""
        known = getattr(self.space, "known_costs", None)
        costs = known(spec) if known is not None else None
        if costs is not None:
            return costs
        # Same arguments as the space's own check, so the memoised analysis is reused.
        num_classes = getattr(getattr(self.space, "config", None), "num_classes", None)
        analysis = analyze(spec, num_classes=num_classes, budget=Budget(max_params=self.config.max_params))
        return analysis.params, analysis.macs

    def record(self, proposal: dict[str, Any], result: dict[str, Any], *, in_order: bool = True) -> list[Event]:
        """Add an evaluated (or rejected) candidate; returns the events it caused.

        Sequential runs record in proposal order (``in_order``) so a replay is exact;
        with parallel workers results arrive in completion order instead.
        """
        if proposal["id"] in self.by_id:
            raise ValueError(f"candidate {proposal['id']} is already recorded")
        if in_order and proposal["index"] != len(self.candidates):
            raise ValueError(f"candidate {proposal['id']} is out of order (expected index {len(self.candidates)})")
        record = {**proposal, **result}
        if record["status"] not in ("evaluated", "rejected", "failed"):
            raise ValueError(f"candidate {proposal['id']}: unknown status {record['status']!r}")
        previous_best, previous_generation = self.best_id, self.generation
        self._apply(record)
        events: list[Event] = []
        if record["status"] == "evaluated":
            events.append(CandidateEvaluated(record["id"], record["generation"], record["accuracy"], record.get("latency_ms"),
                                             record.get("fidelity", "low"), record["params"], record.get("seconds", 0.0),
                                             record.get("latency_device") or "cpu"))
            if self.best_id != previous_best:
                events.append(NewBest(record["id"], record["accuracy"], record.get("latency_ms")))
            if self.generation != previous_generation:
                scores = [c["accuracy"] for c in self.trained if c["generation"] == previous_generation]
                events.append(GenerationFinished(previous_generation, max(scores), statistics.fmean(scores), len(self._trained)))
                if not self.done:
                    events.append(GenerationStarted(self.generation, len(self._trained)))
        else:
            events.append(CandidateRejected(record["id"], record["generation"], record.get("reason", ""), record.get("latency_ms"),
                                            record.get("latency_device") or "cpu"))
        return events

    def _apply(self, record: dict[str, Any]) -> None:
        self.candidates.append(record)
        self.by_id[record["id"]] = record
        self._tried.add(record.get("spec_hash") or ArchSpec.from_dict(record["spec"]).content_hash())
        if record["status"] != "evaluated":
            self.consecutive_rejections += 1
            return
        self.consecutive_rejections = 0
        self._trained.append(record)
        self.population.append(record["id"])
        if len(self.population) > self.config.population:
            self._age_out()
        best = self.best
        if best is None or record["accuracy"] > best["accuracy"]:
            self.best_id = record["id"]
