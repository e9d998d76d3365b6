"""What a trained model expects from a video, as data, and how to produce it from a file.

Training never decodes on the fly: ``prepare_cache`` stores ``frames`` frames spread
over each whole video, short side resized to ``size`` and centre-cropped, optical
flow (OpenCV DIS, float16) computed on those frames, and evaluation then samples each
input stream at the centre. ``preprocessing_for`` writes that recipe down (it travels
inside checkpoints and ONNX files); ``clips_from_video`` replays it on a new file, so
``predict`` sees exactly what validation saw.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from videomodels.archspec import ArchSpec
from videomodels.data import FLOW_CLIP_PX, FLOW_METHOD, RGB_MEAN, RGB_STD, StreamRequest, compute_flow, decode_square, sample_streams

FORMAT = "videomodels-preprocessing/1"
_MODALITIES = {"rgb": 3, "flow": 2}
_MAX_DECODED_PIXELS = 512 * 512 * 512
_LIMITS = {"frames": (1, 4096), "frame_stride": (1, 256), "size": (8, 4096)}


class PreprocessingError(ValueError):
    """A preprocessing description that cannot be replayed (names the field)."""


def preprocessing_for(spec: ArchSpec, *, cache_frames: int | None = None, cache_size: int | None = None) -> dict[str, Any]:
    """The recipe for ``spec``'s inputs. ``cache_frames``/``cache_size``: what the training
    cache stored, when known (else what ``train`` would prepare for this spec)."""
    frames = cache_frames or max(s.frames * s.frame_stride for s in spec.inputs)
    size = cache_size or max(s.size for s in spec.inputs)
    uses_flow = any(s.modality == "flow" for s in spec.inputs)
    return {
        "format": FORMAT,
        "decode": {"frames": int(frames), "size": int(size), "temporal": "uniform over the whole video",
                   "resize": "short side to size (area)", "crop": "centre square"},
        "streams": [{"id": s.id, "modality": s.modality, "channels": s.channels, "frames": s.frames,
                     "frame_stride": s.frame_stride, "size": s.size} for s in spec.inputs],
        "flow": {"method": FLOW_METHOD, "clip_px": FLOW_CLIP_PX, "stored_as": "float16",
                 "computed_on": "the decoded frames"} if uses_flow else None,
        "normalisation": {"rgb": {"scale": 1 / 255, "mean": RGB_MEAN, "std": RGB_STD}, "flow": {"divide_by_px": FLOW_CLIP_PX}},
        "sampling": "centre window, full-frame centre crop (evaluation)",
        "layout": "NCTHW",
    }


def _int_field(data: dict, key: str, where: str) -> int:
    value = data.get(key)
    low, high = _LIMITS[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PreprocessingError(f"{where}.{key}: must be an integer in [{low}, {high}], got {value!r}")
    return value


def check_preprocessing(data: Any) -> tuple[int, int, list[StreamRequest]]:
    """Validate a recipe read from a file; returns (decode frames, decode size, streams)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PreprocessingError(f"preprocessing: expected a {FORMAT} object")
    decode = data.get("decode")
    if not isinstance(decode, dict):
        raise PreprocessingError("preprocessing.decode: must be an object")
    frames = _int_field(decode, "frames", "preprocessing.decode")
    size = _int_field(decode, "size", "preprocessing.decode")
    if frames * size * size > _MAX_DECODED_PIXELS:  # the decoded clip must fit in memory
        raise PreprocessingError(f"preprocessing.decode: {frames} frames at {size}px is more than "
                                 f"{_MAX_DECODED_PIXELS:,} pixels per video")
    raw_streams = data.get("streams")
    if not isinstance(raw_streams, list) or not 1 <= len(raw_streams) <= 16:
        raise PreprocessingError("preprocessing.streams: must be a list of 1 to 16 streams")
    streams = []
    for index, raw in enumerate(raw_streams):
        where = f"preprocessing.streams[{index}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
            raise PreprocessingError(f"{where}.id: must be a non-empty string")
        modality = raw.get("modality")
        if modality not in _MODALITIES:
            raise PreprocessingError(f"{where}.modality: the data pipeline delivers rgb or flow, got {modality!r}")
        streams.append(StreamRequest(raw["id"], modality, _int_field(raw, "frames", where),
                                     _int_field(raw, "frame_stride", where), _int_field(raw, "size", where)))
    if len({s.name for s in streams}) != len(streams):
        raise PreprocessingError("preprocessing.streams: stream ids must be unique")
    return frames, size, streams


def clips_from_frames(frames: np.ndarray, preprocessing: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Decoded square frames uint8 [T, S, S, 3] (as the cache stores them) -> stream id ->
    float32 [C, T', size, size], sampled as evaluation samples."""
    _, _, streams = check_preprocessing(preprocessing)
    flow = None
    if any(s.modality == "flow" for s in streams):
        flow = compute_flow(frames).astype(np.float16)  # the cache's storage precision
    return sample_streams(frames, flow, streams, train=False, rng=np.random.default_rng(0))


def clips_from_video(path: str | Path, preprocessing: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Decode ``path`` with the project's PyAV decoder and replay the recipe.
    Raises videomodels.data.VideoDecodeError (with the reason) for unreadable files."""
    frames, size, _ = check_preprocessing(preprocessing)
    picked = decode_square(path, frames, size)
    return clips_from_frames(picked.frames, preprocessing)


def batch_clips(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {key: torch.stack([item[key] for item in items]) for key in items[0]}


def describe(preprocessing: dict[str, Any]) -> str:
    """One line for model cards and logs."""
    frames, size, streams = check_preprocessing(preprocessing)
    parts = [f"{s.name} ({s.modality}) {s.frames} frames x{s.frame_stride} stride at {s.size}px" for s in streams]
    flow = " ; optical flow: OpenCV DIS" if preprocessing.get("flow") else ""
    return f"decode {frames} frames uniformly over the video, short side {size}px, centre crop; " + "; ".join(parts) + flow

