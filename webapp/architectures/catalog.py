"""What the editor's palette and attribute panel are built from: node types per family, from the schema."""
from __future__ import annotations

from typing import Any

from videomodels.presets import PRESETS
from videomodels.schema import REQUIRED, Attr, load_families
from videomodels.validation import INPUT_SCHEMA

from .searchspace import space_choices

FAMILY_DOCS = {
    "assemblenet": "Multi-stream graphs of block groups at levels 0-3 with weighted connections (AssembleNet, AssembleNet++).",
    "evanet": "A stem, then blocks of parallel space-time branches (EvaNet's ResNet-like meta-architecture).",
    "tvn": "A chain of cheap blocks: spatial and temporal ops, squeeze-excitation, context gating, skips (Tiny Video Networks).",
}


def describe_attr(attr: Attr) -> dict[str, Any]:
    described = {
        "kind": attr.kind,
        "default": None if attr.default is REQUIRED else attr.default,
        "required": attr.default is REQUIRED,
        "min": attr.minimum,
        "max": attr.maximum,
        "choices": list(attr.choices) or None,
        "odd": attr.odd,
        "doc": attr.doc,
    }
    if attr.kind == "list":
        described.update(item={key: describe_attr(a) for key, a in (attr.item or {}).items()},
                         min_items=attr.min_items, max_items=attr.max_items)
    return described


def family_names() -> list[str]:
    return sorted(load_families())


def describe_family(name: str) -> dict[str, Any]:
    family = load_families()[name]
    node_types = []
    for node_type in family.node_types.values():
        node_types.append({
            "name": node_type.name,
            "doc": node_type.doc,
            "inputs": {"min": node_type.min_inputs, "max": node_type.max_inputs},
            "is_head": node_type.is_head,
            "attrs": {key: describe_attr(attr) for key, attr in node_type.attrs.items()},
        })
    return {
        "name": name,
        "doc": FAMILY_DOCS.get(name, family.doc),
        "node_types": node_types,
        "input_attrs": {key: describe_attr(attr) for key, attr in INPUT_SCHEMA.items() if key != "id"},
        "search_space": space_choices(name),
        "presets": [preset.name for preset in PRESETS.values() if preset.family == name],
    }


def preset_list() -> list[dict[str, str]]:
    return [{"name": preset.name, "family": preset.family, "doc": preset.doc} for preset in PRESETS.values()]
