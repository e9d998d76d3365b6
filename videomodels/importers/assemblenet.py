"""AssembleNet(++): the structure list (and optional learned edge weights)."""
from __future__ import annotations

from typing import Any

from videomodels.archspec import ArchSpec, Edge, InputStream, Node
from videomodels.families.assemblenet import DEPTHS, peer_uses
from videomodels.importers.common import ImportError_, as_int, chain_edge, classifier, drop_dead_nodes, require

STEM_TYPES = {-1: "rgb", -2: "flow", -3: "object"}


def import_assemblenet(
    config: dict[str, Any] | list,
    *,
    depth: int = 50,
    frames: int = 32,
    size: int = 224,
    num_classes: int = 157,
    flow: str = "repflow",
    attention: str = "none",
    object_channels: int = 151,
    learnable_weights: bool = False,
    name: str = "",
) -> ArchSpec:
    """``flow='repflow'`` computes flow inside the network (released code); ``'input'`` takes a flow stream."""
    if isinstance(config, list):
        config = {"structure": config}
    require(isinstance(config, dict), "$", "expected an object with 'structure' and optional 'weights'")
    structure = config.get("structure")
    weights = config.get("weights") or []
    require(isinstance(structure, list) and structure, "structure", "must be a non-empty list of nodes")
    require(isinstance(weights, list), "weights", "must be a list (one entry per node)")
    require(depth in DEPTHS, "depth", f"unsupported depth {depth} (supported: {', '.join(map(str, sorted(DEPTHS)))})")
    require(flow in ("repflow", "input"), "flow", f"must be 'repflow' or 'input', got {flow!r}")
    modules_per_level = DEPTHS[depth]

    stems = [(i, raw) for i, raw in enumerate(structure) if isinstance(raw, list) and len(raw) == 2]
    require(stems, "structure", "has no stem nodes ([stem_type, temporal_dilation])")
    stem_filters = 128 // len(stems)
    rgb = InputStream("rgb", "rgb", 3, frames, 1, size)
    inputs = [rgb]
    spec = ArchSpec("assemblenet", inputs, [], [], name=name, meta={"imported_from": "assemblenet", "depth": depth})
    kinds = {STEM_TYPES.get(raw[0]) for _, raw in stems}
    if "flow" in kinds:
        if flow == "input":
            inputs.append(InputStream("flow", "flow", 2, frames, 1, size))
        else:
            spec.nodes.append(Node("repflow", "representation_flow", {"iterations": 40}))
            spec.edges.append(chain_edge("rgb", "repflow"))
    if "object" in kinds:
        inputs.append(InputStream("objects", "segmentation", object_channels, frames, 1, size))
    source_of = {"rgb": "rgb", "flow": "flow" if flow == "input" else "repflow", "object": "objects"}

    final: list[str] = []
    for index, raw in enumerate(structure):
        where = f"structure[{index}]"
        node_id = f"n{index}"
        require(isinstance(raw, list), where, f"must be a list, got {raw!r}")
        if len(raw) == 2:
            kind = STEM_TYPES.get(raw[0])
            require(kind is not None, f"{where}[0]", f"unknown stem type {raw[0]!r} (-1 RGB, -2 flow, -3 object)")
            spec.nodes.append(Node(node_id, "asn_stem", {"modality": kind, "temporal_dilation": as_int(raw[1], f"{where}[1]"), "filters": stem_filters}))
            spec.edges.append(chain_edge(source_of[kind], node_id))
            continue
        require(len(raw) in (5, 6), where, "a block is [level, [inputs], filters, temporal_dilation, spatial_stride(, 0)]")
        level = as_int(raw[0], f"{where}[0]")
        require(0 <= level <= 3, f"{where}[0]", f"level must be 0-3, got {level}")
        sources = raw[1]
        require(isinstance(sources, list) and sources, f"{where}[1]", "must be a non-empty list of node indexes")
        node_weights = _weights_for(weights, index, len(sources))
        for k, source in enumerate(sources):
            source = as_int(source, f"{where}[1][{k}]")
            require(0 <= source < index, f"{where}[1][{k}]", f"input {source} must be an earlier node (< {index})")
            weight = node_weights[k] if node_weights else None
            spec.edges.append(Edge(f"n{source}", node_id, weight, learnable_weights or weight is None))
        spec.nodes.append(Node(node_id, "asn_block", {
            "level": level,
            "filters": as_int(raw[2], f"{where}[2]"),
            "temporal_dilation": as_int(raw[3], f"{where}[3]"),
            "spatial_stride": as_int(raw[4], f"{where}[4]"),
            "num_modules": modules_per_level[level],
            "attention": attention,
        }))
        if level == 3:
            final.append(node_id)
    require(final, "structure", "has no level-3 node; the classifier reads the level-3 nodes")
    spec.nodes.append(classifier(num_classes))
    spec.edges += [chain_edge(node_id, "head") for node_id in final]
    dropped = drop_dead_nodes(spec, "head", peer_uses)
    if dropped:
        spec.meta["import_notes"] = [f"dropped nodes whose output reaches no level-3 node: {dropped}"]
    return spec


def _weights_for(weights: list, index: int, count: int) -> list[float] | None:
    if index >= len(weights) or not weights[index]:
        return None
    entry = weights[index]
    # Stored as one list per node, wrapped in another list: [[w0, w1, ...]].
    if isinstance(entry, list) and entry and isinstance(entry[0], list):
        entry = entry[0]
    if not isinstance(entry, list) or len(entry) != count:
        raise ImportError_(f"weights[{index}]: expected {count} edge weights, got {entry!r}")
    for k, value in enumerate(entry):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
            raise ImportError_(f"weights[{index}][{k}]: a post-sigmoid weight must lie strictly between 0 and 1, got {value!r}")
    return [float(value) for value in entry]
