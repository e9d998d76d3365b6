"""ArchSpec: the one JSON graph format shared by every family.

A spec is data only (no torch): network inputs (streams), typed nodes and weighted
directed edges. Families give meaning to node types (see ``videomodels.families``).
"""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

FORMAT = "archspec/1"
MODALITIES = ("rgb", "flow", "segmentation")


@dataclass
class InputStream:
    id: str
    modality: str = "rgb"
    channels: int = 3
    frames: int = 8
    frame_stride: int = 1
    size: int = 112

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "modality": self.modality,
            "channels": self.channels,
            "frames": self.frames,
            "frame_stride": self.frame_stride,
            "size": self.size,
        }


@dataclass
class Node:
    id: str
    type: str
    attrs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "attrs": copy.deepcopy(self.attrs)}


@dataclass
class Edge:
    """A connection. ``weight`` is the post-sigmoid fusion weight in (0, 1).

    It only matters where a node fuses several inputs; ``None`` means "not learned yet"
    (starts at 0.5). ``learnable`` edges keep training; frozen ones stay fixed.
    """

    source: str
    target: str
    weight: float | None = None
    learnable: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "weight": self.weight,
            "learnable": self.learnable,
        }


@dataclass
class ArchSpec:
    family: str
    inputs: list[InputStream]
    nodes: list[Node]
    edges: list[Edge]
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    # -- lookup helpers -------------------------------------------------
    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def node_index(self, node_id: str) -> int:
        for index, node in enumerate(self.nodes):
            if node.id == node_id:
                return index
        raise KeyError(node_id)

    def input(self, input_id: str) -> InputStream:
        for stream in self.inputs:
            if stream.id == input_id:
                return stream
        raise KeyError(input_id)

    def incoming(self, node_id: str) -> list[Edge]:
        return [edge for edge in self.edges if edge.target == node_id]

    def outgoing(self, node_id: str) -> list[Edge]:
        return [edge for edge in self.edges if edge.source == node_id]

    def output_nodes(self) -> list[Node]:
        """Nodes whose result leaves the network (no outgoing edge)."""
        sources = {edge.source for edge in self.edges}
        return [node for node in self.nodes if node.id not in sources]

    # -- serialisation --------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "family": self.family,
            "name": self.name,
            "inputs": [stream.to_dict() for stream in self.inputs],
            "nodes": [node.to_dict() for node in self.nodes],
            "edges": [edge.to_dict() for edge in self.edges],
            "meta": copy.deepcopy(self.meta),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ArchSpec":
        """Parse without judging the content; ``validate`` reports problems."""
        from videomodels.validation import parse_spec

        return parse_spec(data)

    @classmethod
    def from_json(cls, text: str) -> "ArchSpec":
        from videomodels.validation import SpecError, Problem

        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError([Problem("$", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")]) from None
        return cls.from_dict(data)

    def copy(self) -> "ArchSpec":
        return ArchSpec.from_dict(self.to_dict())

    def content_hash(self) -> str:
        """Stable identity of the architecture: name and meta do not count."""
        payload = self.to_dict()
        payload.pop("name")
        payload.pop("meta")
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def with_input_size(spec: ArchSpec, *, frames: int | None = None, size: int | None = None) -> ArchSpec:
    """A copy of ``spec`` whose input streams use ``frames`` and/or ``size``."""
    resized = spec.copy()
    for stream in resized.inputs:
        if frames is not None:
            stream.frames = int(frames)
        if size is not None:
            stream.size = int(size)
    return resized
