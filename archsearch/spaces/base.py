"""The interface every family's search space implements.

A space samples random architectures and mutates existing ones. Every mutation
returns a valid spec and a short human-readable description of what changed.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Protocol

from videomodels import ArchSpec


@dataclass
class Mutation:
    spec: ArchSpec
    description: str  # e.g. "block 2 temporal conv k3->k5", "dropped edge n7->n9 (w=0.08)"
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SpaceConfig:
    """What every space needs from the run: the data's shape and the model's size range."""

    num_classes: int
    frames: int = 8  # the most frames a candidate may read (the data cache's frame count)
    size: int = 32  # the largest input resolution available
    max_params: int = 5_000_000
    min_params: int = 0


class SearchSpace(Protocol):
    family: str

    def sample(self, rng: random.Random) -> ArchSpec:
        """A random valid architecture (for the initial population and random search)."""

    def mutate(self, spec: ArchSpec, rng: random.Random, *, progress: float = 0.0, evaluation: dict | None = None) -> Mutation:
        """A valid child of ``spec``. ``progress`` in [0, 1] is how far the run is (EvaNet
        mutates more early on); ``evaluation`` is the parent's result (AssembleNet reads
        its learned edge weights from ``evaluation['edge_weights']``)."""

    def suggest(self, trial) -> ArchSpec:
        """Build a spec from an Optuna trial's suggestions, over the same choices as ``sample``
        (define-by-run: conditional parameters such as per-block fields are fine)."""
