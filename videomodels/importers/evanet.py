"""EvaNet: the DNA (DNASpec protobuf) written as JSON."""
from __future__ import annotations

from typing import Any

from videomodels.archspec import ArchSpec, InputStream, Node
from videomodels.importers.common import ImportError_, as_int, chain_edge, classifier, require

LAYER_TYPES = {0: "1x1", 1: "conv", 2: "conv2", 3: "maxpool_conv", "SINGLE_DEFAULT": "1x1", "CONV": "conv", "CONV2": "conv2", "MAXPOOLCONV": "maxpool_conv"}
CONV_TYPES = {0: "conv3d", 1: "itgm", 2: "conv2p1", "CONV3D_DEFAULT": "conv3d", "CONV3D": "conv3d", "TGM": "itgm", "ITGM": "itgm", "CONV2P1": "conv2p1"}
MODALITY_CHANNELS = {"rgb": 3, "flow": 2}


def _enum(table: dict, value: Any, where: str) -> str:
    key = value
    if isinstance(value, str):
        # "SINGLE_DEFAULT(1x1x1 conv)" -> "SINGLE_DEFAULT"
        key = value.split("(")[0].strip().upper()
    if key not in table:
        names = sorted(k for k in table if isinstance(k, str))
        raise ImportError_(f"{where}: unknown value {value!r} (expected one of {', '.join(names)} or their numbers)")
    return table[key]


def import_evanet(
    dna: dict[str, Any],
    *,
    modality: str = "rgb",
    frames: int = 32,
    size: int = 224,
    num_classes: int = 400,
    name: str = "",
) -> ArchSpec:
    require(isinstance(dna, dict), "$", "an EvaNet DNA must be an object with 'stem' and 'blocks'")
    require(modality in MODALITY_CHANNELS, "modality", f"must be rgb or flow, got {modality!r}")
    stem = dna.get("stem", {})
    require(isinstance(stem, dict), "stem", "must be an object")
    blocks = dna.get("blocks")
    require(isinstance(blocks, list) and blocks, "blocks", "must be a non-empty list")

    stream = InputStream(id=modality, modality=modality, channels=MODALITY_CHANNELS[modality], frames=frames, frame_stride=1, size=size)
    spec = ArchSpec(family="evanet", inputs=[stream], nodes=[], edges=[], name=name, meta={"imported_from": "evanet"})
    spec.nodes.append(Node("stem", "evanet_stem", {
        "conv_type": _enum(CONV_TYPES, stem.get("convop1", "CONV3D"), "stem.convop1"),
        "temporal_kernel": as_int(stem.get("time1", 3), "stem.time1"),
    }))
    # maxpool1 [t1,3,3]/2; then between blocks [t,2,2]/[1,2,2] with t = time1, time3, time4
    # (max_pool1_time is deliberately reused for the second pool, as in the released code).
    t1 = as_int(stem.get("max_pool1_time", 1), "stem.max_pool1_time")
    pool_times = [t1, as_int(stem.get("max_pool3_time", 1), "stem.max_pool3_time"), as_int(stem.get("max_pool4_time", 1), "stem.max_pool4_time")]
    spec.nodes.append(Node("pool1", "pool3d", {"kind": "max", "temporal_kernel": t1, "spatial_kernel": 3, "temporal_stride": 2, "spatial_stride": 2}))
    previous = "pool1"
    spec.edges += [chain_edge(stream.id, "stem"), chain_edge("stem", "pool1")]
    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        require(isinstance(block, dict), where, "must be an object")
        layers = block.get("layers")
        require(isinstance(layers, list) and layers, f"{where}.layers", "must be a non-empty list")
        branches = []
        for j, layer in enumerate(layers):
            lw = f"{where}.layers[{j}]"
            require(isinstance(layer, dict), lw, "must be an object")
            branches.append({
                "kind": _enum(LAYER_TYPES, layer.get("layer_type", 0), f"{lw}.layer_type"),
                "conv_type": _enum(CONV_TYPES, layer.get("conv_type", 0), f"{lw}.conv_type"),
                "temporal_kernel": as_int(layer.get("time", 1), f"{lw}.time"),
                "conv_type2": _enum(CONV_TYPES, layer.get("conv_type2", 0), f"{lw}.conv_type2"),
                "temporal_kernel2": as_int(layer.get("time2", 1), f"{lw}.time2"),
            })
        level = as_int(block.get("res_block", index + 2), f"{where}.res_block")
        node_id = f"res{level}"
        filters = as_int(block.get("total_filters", 256 * 2 ** index), f"{where}.total_filters")
        spec.nodes.append(Node(node_id, "evanet_block", {"filters": filters, "repeats": as_int(block.get("repeats", 1), f"{where}.repeats"), "branches": branches}))
        spec.edges.append(chain_edge(previous, node_id))
        previous = node_id
        if index + 1 < len(blocks):
            pool_id = f"pool{index + 2}"
            t = pool_times[index] if index < len(pool_times) else 1
            spec.nodes.append(Node(pool_id, "pool3d", {"kind": "max", "temporal_kernel": t, "spatial_kernel": 2, "temporal_stride": 1, "spatial_stride": 2}))
            spec.edges.append(chain_edge(previous, pool_id))
            previous = pool_id
    spec.nodes.append(classifier(num_classes, temporal_window=2))
    spec.edges.append(chain_edge(previous, "head"))
    return spec
