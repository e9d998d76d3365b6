"""Search settings, JSON-able so a run folder (or a database row) can hold them."""
from __future__ import annotations

import math
import re
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

FAMILIES = ("evanet", "assemblenet", "tvn")
OBJECTIVES = ("accuracy", "pareto")
# The same names as videomodels.train (kept here so reading a config needs no torch).
LATENCY_DEVICES = ("cpu", "cuda")
PRECISIONS = ("fp32", "bf16", "fp16")
DEVICE_PATTERN = re.compile(r"auto|cpu|mps|cuda(:\d{1,2})?")
SEED_MAX = 2**63 - 1  # a seed is stored in 64-bit columns and files

INT_RANGES = {
    "population": (2, 1000), "rounds": (0, 1000), "tournament_size": (1, 1000), "seed": (0, SEED_MAX),
    "max_params": (1000, 10**10), "min_params": (0, 10**10), "low_steps": (1, 10**6), "high_steps": (0, 10**6),
    "batch_size": (1, 4096), "ensemble_size": (1, 16), "latency_threads": (1, 256), "latency_runs": (1, 1000),
    "max_rejections": (0, 10**6), "num_threads": (0, 256), "elitism": (0, 1000), "initial_population": (0, 1000),
    "proxy_samples": (1, 64),
}
# name: (low, high, low excluded)
FLOAT_RANGES = {"latency_budget_ms": (0.0, 1e9, True), "promote_fraction": (0.0, 1.0, True), "lr": (0.0, 1e3, True),
                "curve_stop": (0.0, 1.0, False)}
OPTIONAL = {"latency_budget_ms"}
BOOL_FIELDS = ("inherit_weights", "deterministic")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same_kind(value: Any, default: Any) -> bool:
    if default is MISSING or default is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return _is_int(value) and abs(value) <= SEED_MAX
    if isinstance(default, float):
        return _is_real(value) and math.isfinite(value)
    return isinstance(value, type(default))


def _show(value: Any) -> str:
    """A user's value, short: a huge or nested one must not flood the message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
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
    # Random samples before mutation starts (0 = half the population, at least 2): a smaller
    # first generation starts evolving sooner; the population still grows to `population`
    # through children. Half is what the video NAS benchmark chose (docs/BENCHMARKS.md: 0.31x
    # random search's time to the top 1% on held-out seeds, against 0.38x for a full one).
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
    # Early termination on the learning curve (archsearch.curves): at this fraction of
    # low_steps, a candidate whose training loss is above the population's median at that
    # step stops there. 0 = off.
    curve_stop: float = 0.0
    batch_size: int = 16
    lr: float = 0.01
    inherit_weights: bool = True
    ensemble_size: int = 3  # EvaNet: diverse top models ensembled at the end
    latency_threads: int = 1
    latency_runs: int = 5
    max_rejections: int = 0  # consecutive over-budget proposals before giving up; 0 = 20 x population
    num_threads: int = 0  # training threads; 0 = min(4, cores)
    device: str = "auto"
    # Where latency is measured and budgeted: the CPU, or the GPU (batch 1, synchronised, the
    # GPU alone while timing). Each candidate records the device.
    latency_device: str = "cpu"
    # Bit-for-bit repeatable CUDA training (cuDNN's deterministic algorithms, no autotuning):
    # 1.5-9x slower per step on a GPU. Off: autotuning and TF32.
    deterministic: bool = False
    precision: str = "fp32"  # or "bf16" / "fp16" autocast (fp16 with a gradient scaler)
    # Hand-made members of the initial population, proposed first (see archsearch.seeding).
    seeds: list = field(default_factory=list)

    @property
    def total_trained(self) -> int:
        return self.population * (self.rounds + 1)

    @property
    def first_generation(self) -> int:
        """Random samples trained before the first child is mutated."""
        return min(self.initial_population or max(2, self.population // 2), self.population)

    @property
    def rejection_limit(self) -> int:
        return self.max_rejections or 20 * self.population

    def validate(self) -> "SearchConfig":
        """Every setting checked for its type and range; the message names each field at fault."""
        problems = []
        if not isinstance(self.family, str) or self.family not in FAMILIES:
            problems.append(f"family: must be one of {', '.join(FAMILIES)}, got {_show(self.family)}")
        if not isinstance(self.objective, str) or self.objective not in OBJECTIVES:
            problems.append(f"objective: must be one of {', '.join(OBJECTIVES)}, got {_show(self.objective)}")
        if not isinstance(self.device, str) or not DEVICE_PATTERN.fullmatch(self.device):
            problems.append(f"device: must be auto, cpu, cuda, cuda:N or mps, got {_show(self.device)}")
        for name, (low, high) in INT_RANGES.items():
            value = getattr(self, name)
            if not _is_int(value) or not low <= value <= high:
                problems.append(f"{name}: must be an integer from {low} to {high}, got {_show(value)}")
        for name, (low, high, low_open) in FLOAT_RANGES.items():
            value = getattr(self, name)
            if value is None and name in OPTIONAL:
                continue
            if not _is_real(value) or not math.isfinite(value) or value > high or value < low or (low_open and value == low):
                span = f"{'above' if low_open else 'from'} {low:g}" + (f" up to {high:g}" if math.isfinite(high) else "")
                problems.append(f"{name}: must be a finite number {span}, got {_show(value)}")
        for name in BOOL_FIELDS:
            if not isinstance(getattr(self, name), bool):
                problems.append(f"{name}: must be true or false, got {_show(getattr(self, name))}")
        # Settings added later get at least their default's type checked.
        from archsearch.seeding import seed_problems

        problems += seed_problems(self.seeds)
        checked = {"family", "objective", "device", "seeds", "latency_device", "precision", *INT_RANGES, *FLOAT_RANGES,
                   *BOOL_FIELDS}
        for item in fields(self):
            if item.name not in checked and not _same_kind(getattr(self, item.name), item.default):
                problems.append(f"{item.name}: must be like {item.default!r}, got {_show(getattr(self, item.name))}")
        if _is_int(self.high_steps) and _is_int(self.low_steps) and self.high_steps and self.high_steps < self.low_steps:
            problems.append(f"high_steps: must be 0 (no second fidelity) or at least low_steps ({self.low_steps}), got {self.high_steps}")
        if _is_int(self.min_params) and _is_int(self.max_params) and self.min_params > self.max_params:
            problems.append(f"min_params: must not be above max_params ({self.max_params}), got {self.min_params}")
        if _is_int(self.elitism) and _is_int(self.population) and self.elitism >= self.population >= 2:
            problems.append(f"elitism: must be below the population ({self.population}), got {self.elitism}")
        if _is_int(self.initial_population) and _is_int(self.population) and self.initial_population > self.population:
            problems.append(f"initial_population: must be 0 (= half the population) or at most the population ({self.population}), got {self.initial_population}")
        if not isinstance(self.latency_device, str) or self.latency_device not in LATENCY_DEVICES:
            problems.append(f"latency_device: must be one of {', '.join(LATENCY_DEVICES)}, got {_show(self.latency_device)}")
        if not isinstance(self.precision, str) or self.precision not in PRECISIONS:
            problems.append(f"precision: must be one of {', '.join(PRECISIONS)}, got {_show(self.precision)}")
        if not isinstance(self.proxy, str) or self.proxy not in PROXY_NAMES:
            problems.append(f"proxy: must be one of {', '.join(PROXY_NAMES)}, got {_show(self.proxy)}")
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
