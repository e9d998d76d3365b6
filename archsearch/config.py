"""Search settings, JSON-able so a run folder (or a database row) can hold them."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

FAMILIES = ("evanet", "assemblenet", "tvn")
OBJECTIVES = ("accuracy", "pareto")
PROXY_NAMES = ("synflow",)


class ConfigError(ValueError):
    """A search setting out of range; the message names the field."""


@dataclass
class SearchConfig:
    family: str
    population: int = 8
    rounds: int = 3  # generations after the initial population; each adds `population` trained children
    tournament_size: int = 3  # capped at the population size
    # Aging never evicts the `elitism` most accurate members: with a small population the
    # best model of a generation would otherwise leave after a single tournament or two,
    # before it ever became a parent. 0 = plain aging (regularized evolution as published).
    elitism: int = 1
    # Random samples before mutation starts (0 = `population`): a smaller first generation
    # starts evolving sooner; the population still grows to `population` through children.
    initial_population: int = 0
    # Training-free screen of every random sample: draw this many architectures and train the
    # one the proxy ranks best (1 = no screening).
    proxy_samples: int = 1
    proxy: str = "synflow"
    seed: int = 0
    objective: str = "accuracy"  # or "pareto": accuracy up, latency down
    latency_budget_ms: float | None = None  # children over it are discarded before training
    max_params: int = 2_000_000
    min_params: int = 0
    # Training budget per candidate, in optimizer steps: every child gets `low_steps`;
    # the promising ones (top `promote_fraction`) continue to `high_steps`.
    low_steps: int = 40
    high_steps: int = 120
    promote_fraction: float = 0.5
    batch_size: int = 16
    lr: float = 0.01
    inherit_weights: bool = True
    ensemble_size: int = 3  # EvaNet: diverse top models ensembled at the end
    latency_threads: int = 1
    latency_runs: int = 5
    max_rejections: int = 0  # consecutive over-budget proposals before giving up; 0 = 20 x population
    num_threads: int = 0  # training threads; 0 = min(4, cores)
    device: str = "auto"

    @property
    def total_trained(self) -> int:
        return self.population * (self.rounds + 1)

    @property
    def first_generation(self) -> int:
        """Random samples trained before the first child is mutated."""
        return min(self.initial_population or self.population, self.population)

    @property
    def rejection_limit(self) -> int:
        return self.max_rejections or 20 * self.population

    def validate(self) -> "SearchConfig":
        problems = []
        if self.family not in FAMILIES:
            problems.append(f"family: must be one of {', '.join(FAMILIES)}, got {self.family!r}")
        if self.objective not in OBJECTIVES:
            problems.append(f"objective: must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        for name, low, high in (("population", 2, 1000), ("rounds", 0, 1000), ("tournament_size", 1, 1000), ("elitism", 0, 1000), ("initial_population", 0, 1000), ("proxy_samples", 1, 64),
                                ("low_steps", 1, 10**6), ("batch_size", 1, 4096), ("latency_runs", 1, 1000),
                                ("max_params", 1000, 10**10), ("ensemble_size", 1, 16), ("latency_threads", 1, 256)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                problems.append(f"{name}: must be an integer from {low} to {high}, got {value!r}")
        if isinstance(self.high_steps, int) and isinstance(self.low_steps, int) and self.high_steps and self.high_steps < self.low_steps:
            problems.append(f"high_steps: must be 0 (no second fidelity) or at least low_steps ({self.low_steps}), got {self.high_steps}")
        if isinstance(self.elitism, int) and isinstance(self.population, int) and self.elitism >= self.population >= 2:
            problems.append(f"elitism: must be below the population ({self.population}), got {self.elitism}")
        if isinstance(self.initial_population, int) and isinstance(self.population, int) and self.initial_population > self.population:
            problems.append(f"initial_population: must be 0 (= population) or at most the population ({self.population}), got {self.initial_population}")
        if self.proxy not in PROXY_NAMES:
            problems.append(f"proxy: must be one of {', '.join(PROXY_NAMES)}, got {self.proxy!r}")
        if not 0.0 < float(self.promote_fraction) <= 1.0:
            problems.append(f"promote_fraction: must be in (0, 1], got {self.promote_fraction}")
        if self.latency_budget_ms is not None and not float(self.latency_budget_ms) > 0:
            problems.append(f"latency_budget_ms: must be positive, got {self.latency_budget_ms}")
        if not float(self.lr) > 0:
            problems.append(f"lr: must be positive, got {self.lr}")
        if problems:
            raise ConfigError("; ".join(problems))
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SearchConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown search settings: {', '.join(unknown)}")
        return cls(**data)
