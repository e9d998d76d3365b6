"""Write uint8 RGB frame arrays as real encoded video files (used by the synthetic benchmark)."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .errors import DataError

# Container -> codecs to try in order (first one this FFmpeg build has wins).
CONTAINER_CODECS: dict[str, tuple[str, ...]] = {
    "mp4": ("libx264", "mpeg4"),
    "mkv": ("libx264", "mpeg4"),
    "mov": ("libx264", "mpeg4"),
    "avi": ("mpeg4", "mjpeg"),
    "webm": ("libvpx-vp9", "libvpx"),
}

# High quality settings: the benchmark's motion cues are a few pixels wide at 64 px
# and must not be smeared away by compression.
# One encoder thread: threaded rate control can vary run to run. The colour conversion is
# ours (rgb_to_yuv420p), not swscale's: swscale picks SIMD paths by CPU and those are not
# bit-exact, so the same frames could become different files on another machine. For the
# same reason x264 runs its C code only (asm=0): its assembly (float lookahead and mb-tree
# kernels among others) encodes the same frames to different bytes on different CPUs. The
# clips are tiny, so the cost is small.
_CODEC_OPTIONS: dict[str, dict[str, str]] = {
    "libx264": {"crf": "16", "preset": "veryfast", "threads": "1", "x264-params": "asm=0"},
    "libvpx-vp9": {"crf": "20", "b": "0", "deadline": "good", "cpu-used": "8", "threads": "1"},
    "libvpx": {"crf": "10", "b": "1M", "deadline": "good", "cpu-used": "8", "threads": "1"},
}
_CODEC_BIT_RATE = {"mpeg4": 2_000_000, "mjpeg": 4_000_000}


def _available(codec: str) -> bool:
    try:
        av.codec.Codec(codec, "w")
    except Exception:  # noqa: BLE001 - unknown encoder in this FFmpeg build
        return False
    return True


def pick_codec(container: str) -> str:
    """First encoder available for `container` (e.g. libx264, else mpeg4 for mp4)."""
    if container not in CONTAINER_CODECS:
        raise DataError(f"unsupported container {container!r}; choose one of {', '.join(CONTAINER_CODECS)}")
    for codec in CONTAINER_CODECS[container]:
        if _available(codec):
            return codec
    raise DataError(f"no encoder for {container} in this FFmpeg build (tried {', '.join(CONTAINER_CODECS[container])})")


def rgb_to_yuv420p(image: np.ndarray) -> np.ndarray:
    """uint8 RGB [H, W, 3] -> planar yuv420p [H * 3 / 2, W] (BT.601, limited range, what
    decoders assume for untagged video), in exact integer arithmetic."""
    rgb = image.astype(np.int32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16
    height, width = image.shape[:2]
    # Chroma from the 2x2 mean of each block, rounded half up.
    block = rgb.reshape(height // 2, 2, width // 2, 2, 3).sum(axis=(1, 3))
    br, bg, bb = block[..., 0], block[..., 1], block[..., 2]
    u = ((-38 * br - 74 * bg + 112 * bb + 512) >> 10) + 128
    v = ((112 * br - 94 * bg - 18 * bb + 512) >> 10) + 128
    planes = np.concatenate([np.clip(plane, 0, 255).ravel() for plane in (y, u, v)])
    return planes.astype(np.uint8).reshape(height * 3 // 2, width)


def _frame(image: np.ndarray, pix_fmt: str) -> av.VideoFrame:
    if pix_fmt == "yuv420p":
        return av.VideoFrame.from_ndarray(rgb_to_yuv420p(image), format="yuv420p")
    return av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")


def write_video(path: str | Path, frames: np.ndarray, *, fps: float, codec: str | None = None) -> None:
    """Encode uint8 RGB frames [T, H, W, 3] to `path`; container from the extension.

    Uses yuv420p (what players and FFmpeg decoders expect), so H and W must be even.
    """
    path = Path(path)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"expected uint8 frames [T, H, W, 3], got {frames.dtype} {frames.shape}")
    height, width = frames.shape[1:3]
    if height % 2 or width % 2:
        raise ValueError(f"yuv420p needs even frame sizes, got {width}x{height}")
    codec = codec or pick_codec(path.suffix.lower().lstrip("."))
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(os.fspath(path), mode="w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        stream.options = dict(_CODEC_OPTIONS.get(codec, {}))
        if codec in _CODEC_BIT_RATE:
            stream.bit_rate = _CODEC_BIT_RATE[codec]
        for image in frames:
            for packet in stream.encode(_frame(image, stream.pix_fmt)):
                container.mux(packet)
        for packet in stream.encode():  # flush delayed frames
            container.mux(packet)
