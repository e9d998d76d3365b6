"""Search-space warnings: a valid spec whose values neither the family's mutations nor its published networks use.

The choices are the search spaces' own constants (archsearch/spaces/*.py), read here so the
two never drift. A warning, never a refusal. The spaces are scaled down on purpose; the published
networks (videomodels' presets) are the full-size scale of the same space, so a value one of
them uses is in the space too: a published network is never flagged just for being published.
Each warning names the node by id (its location still points into the spec as sent, for the editor).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from archsearch.spaces import assemblenet as asn
from archsearch.spaces import evanet as eva
from archsearch.spaces import tvn
from videomodels.archspec import ArchSpec
from videomodels.presets import PUBLISHED_NAMES, get_preset
from videomodels.validation import Problem, check_structure


@dataclass(frozen=True)
class Choice:
    """One value the spec chose, and what the search space chooses from at that place."""

    slot: tuple  # what the value is, independent of where (e.g. ("asn_block.filters", level)): published values match by slot
    where: str
    node: str | None  # the node's id, named in the message
    what: str
    value: Any
    choices: tuple


def _assemblenet(spec: ArchSpec) -> Iterator[Choice]:
    for index, node in enumerate(spec.nodes):
        where, attrs, c = f"nodes[{index}].attrs", node.attrs, node.id
        if node.type == "asn_stem":
            yield Choice(("stem.filters",), f"{where}.filters", c, "stem filters", attrs["filters"], asn.STEM_FILTERS)
            if attrs["modality"] == "rgb":
                yield Choice(("dilation",), f"{where}.temporal_dilation", c, "temporal dilation", attrs["temporal_dilation"], asn.DILATIONS)
        elif node.type == "asn_block":
            level = attrs["level"]
            yield Choice(("block.filters", level), f"{where}.filters", c, f"level-{level} filters", attrs["filters"], asn.LEVEL_FILTERS[level])
            yield Choice(("dilation",), f"{where}.temporal_dilation", c, "temporal dilation", attrs["temporal_dilation"], asn.DILATIONS)
            yield Choice(("block.num_modules", level), f"{where}.num_modules", c, "num_modules", attrs["num_modules"], (asn.NUM_MODULES,))
            yield Choice(("block.stride", level), f"{where}.spatial_stride", c, f"level-{level} spatial stride", attrs["spatial_stride"],
                         (asn.LEVEL_STRIDE[level],))
            yield Choice(("block.attention",), f"{where}.attention", c, "attention", attrs["attention"], ("none",))


def _evanet(spec: ArchSpec) -> Iterator[Choice]:
    blocks = [node for node in spec.nodes if node.type == "evanet_block"]
    for index, node in enumerate(spec.nodes):
        where, attrs, c = f"nodes[{index}].attrs", node.attrs, node.id
        if node.type == "evanet_stem":
            yield Choice(("stem.temporal_kernel",), f"{where}.temporal_kernel", c, "stem temporal size", attrs["temporal_kernel"], eva.TEMPORAL_SIZES)
        elif node.type == "evanet_block":
            yield Choice(("block.repeats",), f"{where}.repeats", c, "repeats", attrs["repeats"], tuple(range(1, eva.MAX_REPEATS + 1)))
            yield Choice(("block.branches",), f"{where}.branches", c, "number of branches", len(attrs["branches"]),
                         tuple(range(1, eva.MAX_BRANCHES + 1)))
            position = blocks.index(node)
            if position < len(eva.BLOCK_FILTERS):
                yield Choice(("block.filters", position), f"{where}.filters", c, f"block {position + 1} filters", attrs["filters"],
                             (eva.BLOCK_FILTERS[position],))
    yield Choice(("blocks",), "nodes", None, "number of EvaNet blocks", len(blocks), (len(eva.BLOCK_IDS),))


def _tvn(spec: ArchSpec) -> Iterator[Choice]:
    blocks = [node for node in spec.nodes if node.type == "tvn_block"]
    for index, node in enumerate(spec.nodes):
        if node.type != "tvn_block":
            continue
        for key, choices in tvn.BLOCK_CHOICES.items():
            yield Choice(("block", key), f"nodes[{index}].attrs.{key}", node.id, key, node.attrs.get(key), tuple(choices))
    yield Choice(("blocks",), "nodes", None, "number of TVN blocks", len(blocks), tuple(range(1, tvn.MAX_BLOCKS + 1)))


CHOICES = {"assemblenet": _assemblenet, "evanet": _evanet, "tvn": _tvn}


@cache
def published_values(family: str) -> dict[tuple, frozenset]:
    """Per slot, the values the family's published networks use (the full-size scale of its space)."""
    seen: dict[tuple, set] = {}
    for name in PUBLISHED_NAMES:
        spec = get_preset(name)
        if spec.family != family:
            continue
        clean, problems = check_structure(spec)
        if problems:
            continue
        for choice in CHOICES[family](clean):
            seen.setdefault(choice.slot, set()).add(_hashable(choice.value))
    return {slot: frozenset(values) for slot, values in seen.items()}


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _order(value: Any) -> tuple:
    return (0, value, "") if isinstance(value, (int, float)) and not isinstance(value, bool) else (1, 0, str(value))


def _shown(values) -> str:
    values = list(values)
    if len(values) > 6 and all(isinstance(v, int) for v in values) and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}-{values[-1]}"
    return ", ".join(str(v) for v in values)


def _warning(choice: Choice, published: frozenset) -> Problem:
    subject = f"node {choice.node!r}: " if choice.node else ""
    extra = sorted((v for v in published if v not in choice.choices), key=_order)
    also = f"; published networks also use {_shown(extra)}" if extra else ""
    return Problem(choice.where, f"{subject}{choice.what} {choice.value!r} is outside the search space ({_shown(choice.choices)}{also}): "
                                 "mutations never produce it")


def space_warnings(spec: ArchSpec) -> list[Problem]:
    """``spec`` is valid (defaults filled in)."""
    check = CHOICES.get(spec.family)
    if check is None:
        return []
    published = published_values(spec.family)
    warnings = []
    for choice in check(spec):
        seen = published.get(choice.slot, frozenset())
        value = _hashable(choice.value)
        if value not in choice.choices and value not in seen:
            warnings.append(_warning(choice, seen))
    return warnings


def space_choices(family: str) -> dict[str, Any]:
    """What the family's search space chooses from, for the editor's palette hints."""
    if family == "assemblenet":
        return {"temporal_dilation": list(asn.DILATIONS), "stem_filters": list(asn.STEM_FILTERS),
                "level_filters": [list(f) for f in asn.LEVEL_FILTERS], "num_modules": [asn.NUM_MODULES]}
    if family == "evanet":
        return {"temporal_sizes": list(eva.TEMPORAL_SIZES), "branch_kinds": list(eva.BRANCH_KINDS),
                "max_branches": eva.MAX_BRANCHES, "max_repeats": eva.MAX_REPEATS, "block_filters": list(eva.BLOCK_FILTERS)}
    if family == "tvn":
        return {key: list(values) for key, values in tvn.BLOCK_CHOICES.items()} | {"max_blocks": tvn.MAX_BLOCKS}
    return {}
