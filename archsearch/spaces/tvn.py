"""Tiny Video Networks search space: input resolution/frames and a chain of cheap blocks.

Choices follow found_tvns.py's fields; the value ranges are ours, scaled to the CPU
search setting (small clips, few blocks). Latency is not judged here: the engine
measures it and discards a child over the budget before any training.
"""
from __future__ import annotations

import random
from typing import Any

from videomodels import ArchSpec, Budget, Edge, InputStream, Node, SpecError, analyze

from archsearch.spaces.base import Mutation, SpaceConfig

BLOCK_CHOICES: dict[str, tuple] = {
    "spatial_type": ("std", "depth", "maxpool", "avgpool"),
    "spatial_kernel": (1, 2, 3, 4, 5),
    "spatial_stride": (1, 2, 3),
    "temporal_type": ("1d", "maxpool", "avgpool"),
    "temporal_kernel": (1, 2, 3, 4, 5),
    "temporal_stride": (1, 2),
    "filters": (8, 16, 24, 32, 48, 64),
    "expand": (1, 2, 3, 4, 6),
    "squeeze": (0.0, 0.25, 0.5, 0.75),
    "context_gate": (False, True),
    "skip": (False, True),
    "repeats": (1, 2, 3),
}
# Iterations of in-network representation flow before the first block (0: plain RGB).
# Ours: lets the search trade the flow layer's runtime for motion sensitivity.
FLOW_ITERATIONS = (0, 5, 10)
MAX_BLOCKS = 5
ATTEMPTS = 30


class TVNSpace:
    family = "tvn"

    def __init__(self, config: SpaceConfig):
        self.config = config
        self.frame_choices = [f for f in (1, 2, 4, 8, 16) if f <= config.frames] or [1]
        self.size_choices = [s for s in range(16, config.size + 1, 8)] or [config.size]
        self.budget = Budget(max_params=config.max_params)

    # -- construction ----------------------------------------------------
    def build(self, frames: int, stride: int, size: int, blocks: list[tuple[str, dict]], flow: int = 0) -> ArchSpec:
        stream = InputStream("rgb", "rgb", 3, frames, stride, size)
        nodes = [Node("flow", "representation_flow", {"iterations": flow})] if flow and frames > 1 else []
        nodes += [Node(node_id, "tvn_block", dict(attrs)) for node_id, attrs in blocks]
        nodes.append(Node("head", "classifier", {"num_classes": self.config.num_classes, "dropout": 0.2}))
        ids = ["rgb"] + [node.id for node in nodes]
        edges = [Edge(a, b) for a, b in zip(ids, ids[1:])]
        return ArchSpec("tvn", [stream], nodes, edges, name="tvn-candidate")

    def is_valid(self, spec: ArchSpec) -> bool:
        try:
            params = analyze(spec, num_classes=self.config.num_classes, budget=self.budget).params
        except SpecError:
            return False
        return params >= self.config.min_params

    def _random_block(self, rng: random.Random) -> dict[str, Any]:
        return {key: rng.choice(values) for key, values in BLOCK_CHOICES.items()}

    def _strides_ok(self, frames: int, stride: int) -> bool:
        return frames * stride <= max(self.config.frames, 1) or (frames == 1 and stride == 1)

    def sample(self, rng: random.Random) -> ArchSpec:
        for _ in range(ATTEMPTS):
            frames = rng.choice(self.frame_choices)
            strides = [s for s in (1, 2, 4) if self._strides_ok(frames, s)] or [1]
            spec = self.build(
                frames,
                rng.choice(strides),
                rng.choice(self.size_choices),
                [(f"b{i}", self._random_block(rng)) for i in range(rng.randint(1, 4))],
                rng.choice(FLOW_ITERATIONS),
            )
            if self.is_valid(spec):
                return spec
        return self._fallback()

    def _fallback(self) -> ArchSpec:
        block = {key: values[0] for key, values in BLOCK_CHOICES.items()}
        block.update(spatial_kernel=3, spatial_stride=2, temporal_kernel=3, filters=16)
        return self.build(self.frame_choices[-1], 1, self.size_choices[-1], [("b0", block)])

    # -- mutation ----------------------------------------------------------
    def mutate(self, spec: ArchSpec, rng: random.Random, *, progress: float = 0.0, evaluation: dict | None = None) -> Mutation:
        for _ in range(ATTEMPTS):
            child, description = self._mutate_once(spec, rng)
            if child.content_hash() != spec.content_hash() and self.is_valid(child):
                return Mutation(child, description, {"operations": 1})
        child, description = self._resample_field(spec, rng, "filters")
        return Mutation(child if self.is_valid(child) else spec.copy(), description, {"operations": 1})

    def _parts(self, spec: ArchSpec):
        stream = spec.inputs[0]
        blocks = [(node.id, dict(node.attrs)) for node in spec.nodes if node.type == "tvn_block"]
        flow = next((node.attrs.get("iterations", 0) for node in spec.nodes if node.type == "representation_flow"), 0)
        return stream.frames, stream.frame_stride, stream.size, blocks, flow

    def _mutate_once(self, spec: ArchSpec, rng: random.Random) -> tuple[ArchSpec, str]:
        frames, stride, size, blocks, flow = self._parts(spec)
        operation = rng.choices(["field", "input", "add", "remove"], weights=[6, 2, 1, 1])[0]
        if operation == "input":
            which = rng.choice(["frames", "frame_stride", "size", "flow"])
            if which == "frames":
                new = rng.choice(self.frame_choices)
                return self.build(new, stride if self._strides_ok(new, stride) else 1, size, blocks, flow), f"input frames {frames}->{new}"
            if which == "frame_stride":
                new = rng.choice([s for s in (1, 2, 4) if self._strides_ok(frames, s)] or [1])
                return self.build(frames, new, size, blocks, flow), f"input frame stride {stride}->{new}"
            if which == "flow":
                new = rng.choice([i for i in FLOW_ITERATIONS if i != flow])
                return self.build(frames, stride, size, blocks, new), f"representation flow iterations {flow}->{new}"
            new = rng.choice(self.size_choices)
            return self.build(frames, stride, new, blocks, flow), f"input size {size}->{new}"
        if operation == "add" and len(blocks) < MAX_BLOCKS:
            position = rng.randint(0, len(blocks))
            used = {int(node_id[1:]) for node_id, _ in blocks if node_id[1:].isdigit()}
            node_id = f"b{max(used, default=-1) + 1}"
            attrs = self._random_block(rng)
            blocks.insert(position, (node_id, attrs))
            summary = f"{attrs['spatial_type']} k{attrs['spatial_kernel']}, {attrs['temporal_type']} k{attrs['temporal_kernel']}, {attrs['filters']} filters"
            return self.build(frames, stride, size, blocks, flow), f"added block {node_id} at {position} ({summary})"
        if operation == "remove" and len(blocks) > 1:
            index = rng.randrange(len(blocks))
            node_id, _ = blocks.pop(index)
            return self.build(frames, stride, size, blocks, flow), f"removed block {node_id}"
        return self._resample_field(spec, rng)

    def _resample_field(self, spec: ArchSpec, rng: random.Random, field: str | None = None) -> tuple[ArchSpec, str]:
        frames, stride, size, blocks, flow = self._parts(spec)
        index = rng.randrange(len(blocks))
        node_id, attrs = blocks[index]
        field = field or rng.choice(list(BLOCK_CHOICES))
        old = attrs.get(field)
        options = [value for value in BLOCK_CHOICES[field] if value != old] or list(BLOCK_CHOICES[field])
        attrs[field] = rng.choice(options)
        blocks[index] = (node_id, attrs)
        label = field.replace("_", " ")
        return self.build(frames, stride, size, blocks, flow), f"{node_id} {label} {describe_value(old)}->{describe_value(attrs[field])}"

    # -- Optuna ------------------------------------------------------------
    def suggest(self, trial) -> ArchSpec:
        frames = trial.suggest_categorical("frames", self.frame_choices)
        stride = trial.suggest_categorical("frame_stride", [1, 2, 4])
        if not self._strides_ok(frames, stride):
            stride = 1
        size = trial.suggest_categorical("size", self.size_choices)
        flow = trial.suggest_categorical("flow_iterations", list(FLOW_ITERATIONS))
        count = trial.suggest_int("blocks", 1, 4)
        blocks = []
        for i in range(count):
            attrs = {key: trial.suggest_categorical(f"b{i}.{key}", list(values)) for key, values in BLOCK_CHOICES.items()}
            blocks.append((f"b{i}", attrs))
        spec = self.build(frames, stride, size, blocks, flow)
        return spec if self.is_valid(spec) else self._fallback()


def describe_value(value: Any) -> str:
    """A field's value as mutation descriptions print it (on/off, 0.25, 3)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
