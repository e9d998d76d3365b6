"""Turn a stored frame array into network-ready clips, one per requested stream.

All streams of one item share a temporal centre and a spatial crop box, so an RGB
stream and a flow stream (or a slow and a fast stream, AssembleNet style) look at
the same moment and the same region. Horizontal flips are off by default because
they swap move_left/move_right style labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
import torch

# Kinetics-style RGB statistics; maps [0, 255] to roughly zero mean, unit range.
RGB_MEAN = 0.45
RGB_STD = 0.225
# Training crops cover 1/TRAIN_SCALE of the short side (the 224-from-256 convention),
# giving random crops room to move even when the cache is already cropped to size.
TRAIN_SCALE = 256 / 224

Modality = Literal["rgb", "flow"]
PadMode = Literal["repeat", "loop"]


@dataclass(frozen=True)
class StreamRequest:
    """One network input: `frames` frames taken `frame_stride` apart at `size`x`size`."""

    name: str
    modality: Modality
    frames: int
    frame_stride: int = 1
    size: int = 64

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("StreamRequest.name must be a non-empty string")
        if self.modality not in ("rgb", "flow"):
            raise ValueError(f"stream {self.name!r}: modality must be 'rgb' or 'flow', got {self.modality!r}")
        for field in ("frames", "frame_stride", "size"):
            value = getattr(self, field)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"stream {self.name!r}: {field} must be a positive int, got {value!r}")

    @property
    def span(self) -> int:
        """Source frames covered from the first to the last sampled frame."""
        return (self.frames - 1) * self.frame_stride + 1

    @property
    def channels(self) -> int:
        return 3 if self.modality == "rgb" else 2


def temporal_centre(num_available: int, span: int, *, train: bool, rng: np.random.Generator) -> float:
    """Centre of the sampling window: random where the window fits (train), else the middle."""
    if not train or span >= num_available:
        return (num_available - 1) / 2
    start = int(rng.integers(0, num_available - span + 1))
    return start + (span - 1) / 2


def temporal_indices(
    num_available: int, frames: int, stride: int, *, centre: float, pad: PadMode = "repeat"
) -> np.ndarray:
    """`frames` indices `stride` apart centred on `centre`.

    Windows running past the clip are padded by repeating the edge frame ("repeat",
    the default: no fake backwards jump in motion) or by wrapping around ("loop").
    """
    span = (frames - 1) * stride + 1
    start = int(np.ceil(centre - (span - 1) / 2 - 0.5))  # round half down: matches (n - span) // 2
    if span <= num_available:
        start = min(max(start, 0), num_available - span)  # whole window fits: keep it inside
    else:
        start = 0
    indices = start + stride * np.arange(frames)
    if pad == "loop":
        return indices % num_available
    if pad == "repeat":
        return np.clip(indices, 0, num_available - 1)
    raise ValueError(f"pad must be 'repeat' or 'loop', got {pad!r}")


def crop_box(height: int, width: int, *, train: bool, rng: np.random.Generator) -> tuple[int, int, int]:
    """Square (top, left, side) crop: random position at 1/TRAIN_SCALE of the short side
    when training, full short side centred otherwise."""
    short = min(height, width)
    if train:
        side = max(1, int(round(short / TRAIN_SCALE)))
        top = int(rng.integers(0, height - side + 1))
        left = int(rng.integers(0, width - side + 1))
    else:
        side = short
        top, left = (height - side) // 2, (width - side) // 2
    return top, left, side


def _resize_crop(frames: np.ndarray, box: tuple[int, int, int], size: int) -> np.ndarray:
    top, left, side = box
    crop = frames[:, top : top + side, left : left + side]
    if side == size:
        return np.ascontiguousarray(crop)
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return np.stack([cv2.resize(np.ascontiguousarray(f), (size, size), interpolation=interpolation) for f in crop])


def rgb_clip(frames: np.ndarray, indices: np.ndarray, box: tuple[int, int, int], size: int, flip: bool) -> torch.Tensor:
    """uint8 [T, H, W, 3] -> normalised float32 [3, T', size, size]."""
    clip = _resize_crop(np.asarray(frames[indices]), box, size)
    if flip:
        clip = clip[:, :, ::-1]
    clip = (clip.astype(np.float32) / 255.0 - RGB_MEAN) / RGB_STD
    return torch.from_numpy(np.ascontiguousarray(clip.transpose(3, 0, 1, 2)))


def flow_clip(
    flow: np.ndarray, indices: np.ndarray, stride: int, box: tuple[int, int, int], size: int, flip: bool
) -> torch.Tensor:
    """Normalised flow [T, H, W, 2] -> float32 [2, T', size, size].

    Stored flow is between neighbouring stored frames; for stride k each output frame
    is the mean flow over the k steps it spans (the average velocity), so values stay
    in the stored [-1, 1] range whatever the stride. Vectors are rescaled with the
    spatial resize so they remain "pixels at the output size / 20".
    """
    num = flow.shape[0]
    chunks = [np.asarray(flow[i : min(i + stride, num)], dtype=np.float32).mean(axis=0) for i in indices]
    clip = _resize_crop(np.stack(chunks), box, size) * (size / box[2])
    if flip:
        clip = clip[:, :, ::-1].copy()
        clip[..., 0] *= -1  # mirrored motion: horizontal component changes sign
    return torch.from_numpy(np.ascontiguousarray(clip.transpose(3, 0, 1, 2), dtype=np.float32))


def sample_streams(
    rgb: np.ndarray,
    flow: np.ndarray | None,
    streams: list[StreamRequest] | tuple[StreamRequest, ...],
    *,
    train: bool,
    rng: np.random.Generator,
    hflip_prob: float = 0.0,
    pad: PadMode = "repeat",
) -> dict[str, torch.Tensor]:
    """Sample every stream from one item's frames: name -> float32 [C, T, size, size].

    `rgb` is uint8 [T, H, W, 3] (decoded or a memmap row); `flow` is the matching
    normalised [T, H, W, 2] array, required only by flow streams.
    """
    if not streams:
        raise ValueError("at least one StreamRequest is needed")
    names = [s.name for s in streams]
    if len(set(names)) != len(names):
        raise ValueError(f"stream names must be unique, got {names}")
    num, height, width = rgb.shape[:3]
    centre = temporal_centre(num, max(s.span for s in streams), train=train, rng=rng)
    box = crop_box(height, width, train=train, rng=rng)
    flip = bool(train and hflip_prob > 0 and rng.random() < hflip_prob)
    out: dict[str, torch.Tensor] = {}
    for stream in streams:
        indices = temporal_indices(num, stream.frames, stream.frame_stride, centre=centre, pad=pad)
        if stream.modality == "rgb":
            out[stream.name] = rgb_clip(rgb, indices, box, stream.size, flip)
        else:
            if flow is None:
                raise ValueError(f"stream {stream.name!r} needs optical flow but none is available (prepare with --flow)")
            out[stream.name] = flow_clip(flow, indices, stream.frame_stride, box, stream.size, flip)
    return out
