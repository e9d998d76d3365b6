"""AssembleNet: multi-stream graphs of ResNet-like block groups with weighted connections."""
from __future__ import annotations

import torch
from torch import nn

from videomodels.ops import ConvBNAct, Conv3dSame, PeerAttention, Pool3dSame, TemporalConv, WeightedFusion
from videomodels.schema import Attr, NodeType, register, register_family

BN = {"bn_momentum": 0.01, "bn_eps": 1e-5}  # TF decay 0.99
INTERMEDIATE_WIDTH = (64, 128, 256, 512)  # the 3x3 conv's width, fixed by level
DEPTHS = {26: (2, 2, 2, 2), 38: (2, 4, 4, 2), 50: (3, 4, 6, 3), 68: (3, 4, 12, 3), 77: (3, 4, 15, 3), 101: (3, 4, 23, 3)}


class RGBStem(nn.Sequential):
    def __init__(self, in_channels: int, filters: int, dilation: int):
        super().__init__(
            ConvBNAct(Conv3dSame(in_channels, filters, (1, 7, 7), (1, 2, 2), padding="fixed"), filters, "relu", **BN),
            ConvBNAct(TemporalConv(filters, filters, 5, dilation=dilation), filters, "relu", **BN),
            Pool3dSame("max", (1, 3, 3), (1, 2, 2)),
        )


class FlowStem(nn.Sequential):
    # No temporal conv: the released code ignores a flow stem's dilation.
    def __init__(self, in_channels: int, filters: int):
        super().__init__(
            ConvBNAct(Conv3dSame(in_channels, filters, (1, 7, 7), (1, 2, 2), padding="fixed"), filters, "relu", **BN),
            Pool3dSame("max", (1, 2, 2), (1, 2, 2)),
        )


def _build_stem(attrs, shape, context):
    modality = attrs["modality"]
    if modality == "object":
        return Pool3dSame("max", (1, 4, 4), (1, 4, 4))
    if modality == "rgb":
        return RGBStem(shape[0], attrs["filters"], attrs["temporal_dilation"])
    return FlowStem(shape[0], attrs["filters"])


register(
    NodeType(
        name="asn_stem",
        family="assemblenet",
        doc="A stream's stem: RGB (7x7/2 conv, dilated temporal conv, pool), flow (conv, pool) or object (4x4/4 pool).",
        attrs={
            "modality": Attr("choice", "rgb", choices=("rgb", "flow", "object")),
            "temporal_dilation": Attr("int", 1, minimum=1, maximum=32),
            "filters": Attr("int", 32, minimum=1, maximum=1024),
        },
        build=_build_stem,
    )
)


class Bottleneck(nn.Module):
    """Interleaved 2D / (2+1)D bottleneck: odd modules open with a dilated temporal conv."""

    def __init__(self, in_channels: int, filters: int, middle: int, stride: int, dilation: int, index: int):
        super().__init__()
        out = 4 * filters
        if index % 2 == 1:
            first = ConvBNAct(TemporalConv(in_channels, filters, 3, dilation=dilation), filters, "relu", **BN)
        else:
            first = ConvBNAct(Conv3dSame(in_channels, filters, 1), filters, "relu", **BN)
        self.body = nn.Sequential(
            first,
            ConvBNAct(Conv3dSame(filters, middle, (1, 3, 3), (1, stride, stride), padding="fixed"), middle, "relu", **BN),
            ConvBNAct(Conv3dSame(middle, out, 1), out, "none", zero_init=True, **BN),
        )
        self.shortcut = (
            ConvBNAct(Conv3dSame(in_channels, out, 1, (1, stride, stride), padding="fixed"), out, "none", **BN)
            if index == 0
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class BlockGroup(nn.Sequential):
    def __init__(self, attrs, in_channels: int):
        middle = INTERMEDIATE_WIDTH[attrs["level"]]
        modules = []
        channels = in_channels
        for index in range(attrs["num_modules"]):
            stride = attrs["spatial_stride"] if index == 0 else 1
            modules.append(Bottleneck(channels, attrs["filters"], middle, stride, attrs["temporal_dilation"], index))
            channels = 4 * attrs["filters"]
        super().__init__(*modules)


def node_level(spec, node_id: str) -> int | None:
    """Stems are level -1; blocks have their level; anything else has none."""
    return _level(spec.node(node_id))


def _level(node) -> int | None:
    if node.type == "asn_stem":
        return -1
    if node.type == "asn_block":
        return node.attrs.get("level")
    return None


def _is_object(context, source: str) -> bool:
    node = context.nodes_by_id.get(source)
    if node is None:
        return context.spec.input(source).modality == "segmentation"
    return node.type == "asn_stem" and node.attrs.get("modality") == "object"


def peer_uses(spec) -> set[str]:
    """Nodes read only as attention peers: every stem/block below the highest level
    that fuses its inputs with peer-attention. They have no outgoing edge yet are used."""
    inputs: dict[str, int] = {}
    for edge in spec.edges:  # counted once: a scan per node would be quadratic
        inputs[edge.target] = inputs.get(edge.target, 0) + 1
    levels = [
        node.attrs.get("level", 0)
        for node in spec.nodes
        if node.type == "asn_block" and node.attrs.get("attention") == "peer" and inputs.get(node.id, 0) > 1
    ]
    if not levels:
        return set()
    top = max(levels)
    return {node.id for node in spec.nodes if (level := _level(node)) is not None and level < top}


def _peers(attrs, context) -> list[str]:
    """Peer-attention reads every stem and block below this level computed before it."""
    if attrs["attention"] != "peer":
        return []
    return [node.id for node in context.spec.nodes
            if node.id in context.shapes and (level := _level(node)) is not None and level < attrs["level"]]


def _make_fusion(node_type, attrs, in_shapes, context):
    excluded = [_is_object(context, edge.source) for edge in context.edges]
    peers = _peers(attrs, context)
    attention = None
    if peers:
        peer_channels = [context.shapes[peer][0] for peer in peers]
        attention = PeerAttention(peer_channels, [shape[0] for shape in in_shapes])
    fusion = WeightedFusion(
        [shape[0] for shape in in_shapes],
        [edge.weight for edge in context.edges],
        [edge.learnable for edge in context.edges],
        excluded_from_width=excluded,
        attention=attention,
    )
    return fusion, peers


def _fusion_key(attrs, context) -> tuple:
    """Everything ``_make_fusion`` reads besides the attributes and input shapes."""
    return (
        tuple((edge.weight, edge.learnable, _is_object(context, edge.source)) for edge in context.edges),
        tuple((peer, context.shapes[peer]) for peer in _peers(attrs, context)),
    )


register(
    NodeType(
        name="asn_block",
        family="assemblenet",
        doc="A block group at a level (0-3): num_modules bottlenecks; inputs fused with sigmoid edge weights.",
        attrs={
            "level": Attr("int", minimum=0, maximum=3),
            "filters": Attr("int", minimum=1, maximum=8192, doc="output channels are 4x filters"),
            "temporal_dilation": Attr("int", 1, minimum=1, maximum=32),
            "spatial_stride": Attr("int", 1, minimum=1, maximum=4),
            "num_modules": Attr("int", 3, minimum=1, maximum=64),
            "attention": Attr("choice", "none", choices=("none", "peer"), doc="AssembleNet++ peer-attention on each connection"),
        },
        build=lambda attrs, shape, context: BlockGroup(attrs, shape[0]),
        make_fusion=_make_fusion,
        fusion_key=_fusion_key,
        max_inputs=None,
    )
)


register_family("assemblenet").implicit_uses = peer_uses
