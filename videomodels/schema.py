"""Node types and their typed attributes: what a family allows in a spec."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

REQUIRED = object()


@dataclass(frozen=True)
class Attr:
    """One typed attribute. ``kind`` is int, float, bool, choice or list (of objects)."""

    kind: str
    default: Any = REQUIRED
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()
    odd: bool = False
    item: dict[str, "Attr"] | None = None
    min_items: int = 0
    max_items: int | None = None
    doc: str = ""

    def check(self, value: Any, where: str) -> tuple[Any, list[tuple[str, str]]]:
        """Return the normalised value and a list of (location, message) problems."""
        problems: list[tuple[str, str]] = []
        if self.kind == "bool":
            if isinstance(value, bool):
                return value, problems
            if isinstance(value, int) and value in (0, 1):
                return bool(value), problems
            return value, [(where, f"must be true or false, got {value!r}")]
        if self.kind == "int":
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                return value, [(where, f"must be an integer, got {value!r}")]
        elif self.kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return value, [(where, f"must be a number, got {value!r}")]
            value = float(value)
            if value != value or value in (float("inf"), float("-inf")):
                return value, [(where, f"must be a finite number, got {value!r}")]
        elif self.kind == "choice":
            if value not in self.choices:
                options = ", ".join(repr(choice) for choice in self.choices)
                return value, [(where, f"must be one of {options}, got {value!r}")]
            return value, problems
        elif self.kind == "list":
            return self._check_list(value, where)
        if self.minimum is not None and value < self.minimum:
            problems.append((where, f"must be at least {self.minimum:g}, got {value!r}"))
        if self.maximum is not None and value > self.maximum:
            problems.append((where, f"must be at most {self.maximum:g}, got {value!r}"))
        if self.odd and isinstance(value, int) and value % 2 == 0:
            problems.append((where, f"must be odd, got {value}"))
        return value, problems

    def _check_list(self, value: Any, where: str) -> tuple[Any, list[tuple[str, str]]]:
        if not isinstance(value, list):
            return value, [(where, f"must be a list, got {type(value).__name__}")]
        problems: list[tuple[str, str]] = []
        if len(value) < self.min_items:
            problems.append((where, f"needs at least {self.min_items} item(s), got {len(value)}"))
        if self.max_items is not None and len(value) > self.max_items:
            problems.append((where, f"allows at most {self.max_items} items, got {len(value)}"))
        normalised = []
        for index, item in enumerate(value):
            item_where = f"{where}[{index}]"
            clean, item_problems = check_attrs(self.item or {}, item, item_where)
            normalised.append(clean)
            problems += item_problems
        return normalised, problems


def key_location(where: str, key: object) -> str:
    """``where.key``, or ``where["odd key"]`` when the key is not a plain name."""
    text = str(key)
    if text.isidentifier():
        return f"{where}.{text}" if where else text
    return f"{where}[{json.dumps(text)}]"


def check_attrs(schema: dict[str, Attr], attrs: Any, where: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Check a mapping against ``schema``; unknown keys and missing required ones are problems."""
    if not isinstance(attrs, dict):
        return {}, [(where, f"must be an object, got {type(attrs).__name__}")]
    problems: list[tuple[str, str]] = []
    clean: dict[str, Any] = {}
    for key in attrs:
        if key not in schema:
            known = ", ".join(sorted(schema)) or "none"
            problems.append((key_location(where, key), f"unknown attribute (known: {known})"))
    for key, spec in schema.items():
        if key in attrs:
            clean[key], found = spec.check(attrs[key], f"{where}.{key}")
            problems += found
        elif spec.default is REQUIRED:
            problems.append((f"{where}.{key}", "is required"))
        else:
            clean[key] = spec.default
    return clean, problems


@dataclass
class NodeType:
    """A node type: its attributes, how many inputs it takes, and how it builds.

    ``build(attrs, input_shapes, context)`` returns an ``nn.Module``; input shapes
    are (C, T, H, W) tuples after fusion (one per input when ``fuse == 'list'``).
    ``check(attrs, where)`` adds rules across attributes.
    """

    name: str
    family: str
    attrs: dict[str, Attr]
    build: Callable[..., Any]
    doc: str = ""
    min_inputs: int = 1
    max_inputs: int | None = 1
    fuse: str = "weighted"  # "weighted": one fused tensor; "list": the module takes every input
    check: Callable[[dict[str, Any], str], list[tuple[str, str]]] | None = None
    make_fusion: Callable[..., Any] | None = None
    # What a custom ``make_fusion`` reads from its BuildContext, as a hashable key, so the
    # cost walk can reuse a fused node's cost; required with a custom make_fusion.
    fusion_key: Callable[..., Any] | None = None
    is_head: bool = False

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "family": self.family,
            "doc": self.doc,
            "inputs": [self.min_inputs, self.max_inputs],
            "attrs": {
                key: {
                    "kind": attr.kind,
                    "default": None if attr.default is REQUIRED else attr.default,
                    "required": attr.default is REQUIRED,
                    "min": attr.minimum,
                    "max": attr.maximum,
                    "choices": list(attr.choices) or None,
                    "odd": attr.odd,
                    "doc": attr.doc,
                }
                for key, attr in self.attrs.items()
            },
        }


@dataclass
class Family:
    name: str
    node_types: dict[str, NodeType] = field(default_factory=dict)
    doc: str = ""
    # Nodes used without an edge (AssembleNet++ attention peers): spec -> node ids.
    implicit_uses: Callable[[Any], set[str]] | None = None


NODE_TYPES: dict[str, NodeType] = {}
FAMILIES: dict[str, Family] = {}


def register_family(name: str, doc: str = "") -> Family:
    family = FAMILIES.setdefault(name, Family(name, doc=doc))
    return family


def register(node_type: NodeType, *families: str) -> NodeType:
    """Register a node type and make it legal in ``families`` (its own by default)."""
    NODE_TYPES[node_type.name] = node_type
    for family in families or (node_type.family,):
        register_family(family).node_types[node_type.name] = node_type
    return node_type


def load_families() -> dict[str, Family]:
    # Importing the family modules registers their node types.
    import videomodels.families  # noqa: F401

    return FAMILIES
