"""The op library: space-time layers used by the three family builders."""
from videomodels.ops.conv import (
    ConvBNAct,
    Conv3dSame,
    Conv2Plus1d,
    FramewiseConv2d,
    ITGMConv3d,
    TemporalConv,
    make_conv,
)
from videomodels.ops.gating import ContextGate, SqueezeExcite
from videomodels.ops.activations import make_activation
from videomodels.ops.pooling import Pool3dSame
from videomodels.ops.fusion import PeerAttention, WeightedFusion
from videomodels.ops.repflow import RepresentationFlow

__all__ = [
    "ConvBNAct",
    "Conv3dSame",
    "Conv2Plus1d",
    "ContextGate",
    "FramewiseConv2d",
    "ITGMConv3d",
    "PeerAttention",
    "Pool3dSame",
    "RepresentationFlow",
    "SqueezeExcite",
    "TemporalConv",
    "WeightedFusion",
    "make_activation",
    "make_conv",
]
