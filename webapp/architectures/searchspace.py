"""Search-space warnings: a valid spec whose values the family's mutations could never reach.

The choices are the search spaces' own constants (archsearch/spaces/*.py), read here so the
two never drift. A warning, never a refusal: hand-designed and published networks lie
outside the scaled-down spaces on purpose.
"""
from __future__ import annotations

from typing import Any

from archsearch.spaces import assemblenet as asn
from archsearch.spaces import evanet as eva
from archsearch.spaces import tvn
from videomodels.archspec import ArchSpec
from videomodels.validation import Problem


def _outside(where: str, what: str, value: Any, choices) -> Problem:
    shown = ", ".join(str(c) for c in choices)
    return Problem(where, f"{what} {value!r} is outside the search space ({shown}): mutations never produce it")


def _assemblenet(spec: ArchSpec) -> list[Problem]:
    warnings = []
    for index, node in enumerate(spec.nodes):
        where, attrs = f"nodes[{index}].attrs", node.attrs
        if node.type == "asn_stem":
            if attrs["filters"] not in asn.STEM_FILTERS:
                warnings.append(_outside(f"{where}.filters", "stem filters", attrs["filters"], asn.STEM_FILTERS))
            if attrs["modality"] == "rgb" and attrs["temporal_dilation"] not in asn.DILATIONS:
                warnings.append(_outside(f"{where}.temporal_dilation", "temporal dilation", attrs["temporal_dilation"], asn.DILATIONS))
        elif node.type == "asn_block":
            level = attrs["level"]
            if attrs["filters"] not in asn.LEVEL_FILTERS[level]:
                warnings.append(_outside(f"{where}.filters", f"level-{level} filters", attrs["filters"], asn.LEVEL_FILTERS[level]))
            if attrs["temporal_dilation"] not in asn.DILATIONS:
                warnings.append(_outside(f"{where}.temporal_dilation", "temporal dilation", attrs["temporal_dilation"], asn.DILATIONS))
            if attrs["num_modules"] != asn.NUM_MODULES:
                warnings.append(_outside(f"{where}.num_modules", "num_modules", attrs["num_modules"], (asn.NUM_MODULES,)))
            if attrs["spatial_stride"] != asn.LEVEL_STRIDE[level]:
                warnings.append(_outside(f"{where}.spatial_stride", f"level-{level} spatial stride", attrs["spatial_stride"], (asn.LEVEL_STRIDE[level],)))
            if attrs["attention"] != "none":
                warnings.append(_outside(f"{where}.attention", "attention", attrs["attention"], ("none",)))
    return warnings


def _evanet(spec: ArchSpec) -> list[Problem]:
    warnings = []
    blocks = [node for node in spec.nodes if node.type == "evanet_block"]
    for index, node in enumerate(spec.nodes):
        where, attrs = f"nodes[{index}].attrs", node.attrs
        if node.type == "evanet_stem":
            if attrs["temporal_kernel"] not in eva.TEMPORAL_SIZES:
                warnings.append(_outside(f"{where}.temporal_kernel", "stem temporal size", attrs["temporal_kernel"], eva.TEMPORAL_SIZES))
        elif node.type == "evanet_block":
            if attrs["repeats"] > eva.MAX_REPEATS:
                warnings.append(_outside(f"{where}.repeats", "repeats", attrs["repeats"], range(1, eva.MAX_REPEATS + 1)))
            if len(attrs["branches"]) > eva.MAX_BRANCHES:
                warnings.append(Problem(f"{where}.branches", f"{len(attrs['branches'])} branches: the search space allows at most {eva.MAX_BRANCHES}"))
            position = blocks.index(node)
            if position < len(eva.BLOCK_FILTERS) and attrs["filters"] != eva.BLOCK_FILTERS[position]:
                warnings.append(_outside(f"{where}.filters", f"block {position + 1} filters", attrs["filters"], (eva.BLOCK_FILTERS[position],)))
    if len(blocks) != len(eva.BLOCK_IDS):
        warnings.append(Problem("nodes", f"{len(blocks)} EvaNet blocks: the search space's skeleton has {len(eva.BLOCK_IDS)}"))
    return warnings


def _tvn(spec: ArchSpec) -> list[Problem]:
    warnings = []
    blocks = [node for node in spec.nodes if node.type == "tvn_block"]
    for index, node in enumerate(spec.nodes):
        if node.type != "tvn_block":
            continue
        for key, choices in tvn.BLOCK_CHOICES.items():
            value = node.attrs.get(key)
            if value not in choices:
                warnings.append(_outside(f"nodes[{index}].attrs.{key}", key, value, choices))
    if len(blocks) > tvn.MAX_BLOCKS:
        warnings.append(Problem("nodes", f"{len(blocks)} TVN blocks: the search space allows at most {tvn.MAX_BLOCKS}"))
    return warnings


CHECKS = {"assemblenet": _assemblenet, "evanet": _evanet, "tvn": _tvn}


def space_warnings(spec: ArchSpec) -> list[Problem]:
    """``spec`` is valid (defaults filled in)."""
    check = CHECKS.get(spec.family)
    return check(spec) if check else []


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
