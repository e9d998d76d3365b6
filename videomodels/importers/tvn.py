"""Tiny Video Networks: the found_tvns.py dict format (single- or multi-stream)."""
from __future__ import annotations

from typing import Any

from videomodels.archspec import ArchSpec, InputStream, Node
from videomodels.families.tvn import TVN_BLOCK_ATTRS
from videomodels.importers.common import ImportError_, as_int, chain_edge, classifier, drop_dead_nodes, require

# Search-time bookkeeping in found_tvns.py that the builder never reads.
BOOKKEEPING = {"current_size", "input_size", "output_size", "inputs"}
RENAMED = {"inv-bottle": "inv_bottleneck"}


def import_tvn(config: dict[str, Any], *, num_classes: int = 157, name: str = "") -> ArchSpec:
    require(isinstance(config, dict), "$", "a TVN config must be an object with 'meta' and 'blocks'")
    meta = config.get("meta")
    blocks = config.get("blocks")
    require(isinstance(meta, dict), "meta", "missing or not an object")
    require(isinstance(blocks, list) and blocks, "blocks", "must be a non-empty list")

    if "input_streams" in meta:
        streams = meta["input_streams"]
        require(isinstance(streams, list) and streams, "meta.input_streams", "must be a non-empty list")
        inputs = [_stream(raw, f"meta.input_streams[{i}]", f"rgb{i}" if len(streams) > 1 else "rgb") for i, raw in enumerate(streams)]
    else:
        inputs = [_stream(meta, "meta", "rgb")]

    spec = ArchSpec(family="tvn", inputs=inputs, nodes=[], edges=[], name=name, meta={"imported_from": "tvn"})
    available = [stream.id for stream in inputs]  # input_streams, then each block's output
    for index, raw in enumerate(blocks):
        where = f"blocks[{index}]"
        require(isinstance(raw, dict), where, "must be an object")
        attrs: dict[str, Any] = {}
        for key, value in raw.items():
            key = RENAMED.get(key, key)
            if key in BOOKKEEPING:
                continue
            if key not in TVN_BLOCK_ATTRS:
                raise ImportError_(f"{where}.{key}: unknown TVN block field")
            attrs[key] = value
        node_id = f"b{index}"
        spec.nodes.append(Node(node_id, "tvn_block", attrs))
        if "inputs" in raw:
            # Only the first listed input is read by the released multi-stream code.
            source = as_int(raw["inputs"][0], f"{where}.inputs[0]") if raw["inputs"] else -1
            require(0 <= source < len(available), f"{where}.inputs", f"refers to stream/block {source}, which does not exist yet")
            spec.edges.append(chain_edge(available[source], node_id))
        else:
            spec.edges.append(chain_edge(available[-1] if index else inputs[0].id, node_id))
        available.append(node_id)
    spec.nodes.append(classifier(num_classes))
    spec.edges.append(chain_edge(available[-1], "head"))
    dropped = drop_dead_nodes(spec, "head")
    if dropped:
        spec.meta["import_notes"] = [f"dropped unused blocks {dropped}"]
    return spec


def _stream(raw: dict, where: str, stream_id: str) -> InputStream:
    require(isinstance(raw, dict), where, "must be an object")
    size = raw.get("image_size", raw.get("img_size"))
    require(size is not None, f"{where}.image_size", "is required")
    return InputStream(
        id=stream_id,
        modality="rgb",
        channels=3,
        frames=as_int(raw.get("num_frames", 2), f"{where}.num_frames"),
        frame_stride=as_int(raw.get("frame_stride", 1), f"{where}.frame_stride"),
        size=as_int(size, f"{where}.image_size"),
    )
