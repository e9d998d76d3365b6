from __future__ import annotations

from typing import Any

from videomodels.archspec import ArchSpec, Edge, Node


class ImportError_(ValueError):
    """A config that cannot be imported; the message names the offending entry."""


def require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise ImportError_(f"{where}: {message}")


def as_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise ImportError_(f"{where}: expected an integer, got {value!r}")
    return int(value)


def drop_dead_nodes(spec: ArchSpec, head_id: str, implicit_uses=None) -> list[str]:
    """Remove nodes whose output reaches nothing (the original code computed and ignored them).

    ``implicit_uses(spec)`` names nodes read without an edge (attention peers), which stay.
    """
    dropped: list[str] = []
    while True:
        sources = {edge.source for edge in spec.edges} | (implicit_uses(spec) if implicit_uses else set())
        dead = [node.id for node in spec.nodes if node.id != head_id and node.id not in sources]
        if not dead:
            return dropped
        dropped += dead
        spec.nodes = [node for node in spec.nodes if node.id not in dead]
        spec.edges = [edge for edge in spec.edges if edge.target not in dead and edge.source not in dead]


def chain_edge(source: str, target: str) -> Edge:
    return Edge(source, target, None, True)


def classifier(num_classes: int, **attrs: Any) -> Node:
    return Node("head", "classifier", {"num_classes": num_classes, **attrs})
