"""Video data pipeline: decode real videos, cache clips as memmaps, sample multi-stream clips.

Typical use:
    report = prepare_cache("datasets/ucf101", "cache/ucf101-16x64", frames=16, size=64, flow=True)
    train = ClipDataset(report.cache_dir, "train", [StreamRequest("rgb", "rgb", 8, 2, 64)], train=True, seed=0)
"""

from .benchmark import compare_loading
from .cache import BadFile, ClipCache, NothingPreparedError, PrepareReport, load_cache, prepare_cache
from .dataset import ClipDataset, FileClipDataset, item_rng
from .decode import (
    VIDEO_EXTENSIONS,
    UniformFrames,
    VideoInfo,
    decode_square,
    decode_uniform,
    decode_video,
    iter_frames,
    probe_video,
)
from .encode import write_video
from .errors import CacheError, DataError, LayoutError, VideoDecodeError
from .flow import FLOW_CLIP_PX, FLOW_METHOD, compute_flow
from .layouts import SkippedFile, VideoEntry, VideoIndex, assign_splits, discover
from .sampling import RGB_MEAN, RGB_STD, StreamRequest, sample_streams, temporal_indices
from .synth import MOTION_CLASSES, SynthResult, render_clip, synthesize

__all__ = [
    "BadFile",
    "CacheError",
    "ClipCache",
    "ClipDataset",
    "DataError",
    "FLOW_CLIP_PX",
    "FLOW_METHOD",
    "FileClipDataset",
    "LayoutError",
    "MOTION_CLASSES",
    "NothingPreparedError",
    "PrepareReport",
    "RGB_MEAN",
    "RGB_STD",
    "SkippedFile",
    "StreamRequest",
    "SynthResult",
    "UniformFrames",
    "VIDEO_EXTENSIONS",
    "VideoDecodeError",
    "VideoEntry",
    "VideoIndex",
    "VideoInfo",
    "assign_splits",
    "compare_loading",
    "compute_flow",
    "decode_square",
    "decode_uniform",
    "decode_video",
    "discover",
    "item_rng",
    "iter_frames",
    "load_cache",
    "prepare_cache",
    "probe_video",
    "render_clip",
    "sample_streams",
    "synthesize",
    "temporal_indices",
    "write_video",
]
