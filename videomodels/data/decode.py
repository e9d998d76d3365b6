"""Decode real video files (any container/codec FFmpeg knows) into RGB uint8 arrays.

All FFmpeg failures are turned into `VideoDecodeError(path, reason)` so callers can
report a bad file by name and carry on with the rest of a dataset.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
from av.video.reformatter import Interpolation
import numpy as np

from .errors import VideoDecodeError

# Extensions treated as videos during dataset discovery. A file with one of these
# extensions that is not really a video is *not* ignored: it is reported as bad.
VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".m4v", ".avi", ".webm", ".mkv", ".mov", ".mpg", ".mpeg", ".wmv", ".flv", ".ogv", ".3gp", ".ts"}
)

# FFmpeg happily "decodes" still images and text (tty/ANSI art) as one-stream videos;
# those are never what a video dataset means.
_NON_VIDEO_FORMATS = ("image2", "tty", "gif_pipe")
_NON_VIDEO_CODECS = ("ansi", "png", "mjpeg_pipe", "bmp", "tiff", "webp")

# Corrupt packets are skipped, but a file that keeps failing is abandoned rather
# than ground through packet by packet.
_MAX_PACKET_ERRORS = 32


@dataclass(frozen=True)
class VideoInfo:
    """What the container header says about a video (frame count is an estimate)."""

    path: str
    frames: int
    fps: float
    width: int
    height: int
    duration_s: float
    codec: str
    container: str


@dataclass(frozen=True)
class UniformFrames:
    """Frames spread uniformly over a whole video, plus how they were picked."""

    frames: np.ndarray  # uint8 [T, H, W, 3]
    source_frames: int  # frames actually decoded from the file
    stride: float  # source frames between consecutive picked frames (may be < 1)
    fps: float


def _ffmpeg_reason(exc: BaseException) -> str:
    # FFmpeg errors repeat the path in str(exc); strerror alone reads better after "path: ".
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text).strip()


def _open_video(path: str | Path) -> tuple[av.container.InputContainer, av.video.stream.VideoStream]:
    """Open `path` and return its container and first video stream, or raise VideoDecodeError."""
    path = Path(path)
    if not path.exists():
        raise VideoDecodeError(path, "file does not exist")
    if not path.is_file():
        raise VideoDecodeError(path, "not a regular file")
    if path.stat().st_size == 0:
        raise VideoDecodeError(path, "file is empty (0 bytes)")
    try:
        container = av.open(os.fspath(path), mode="r")
    except Exception as exc:  # noqa: BLE001 - FFmpeg raises many error types for garbage input
        raise VideoDecodeError(
            path, f"not a readable video (unknown, truncated or corrupt container: {_ffmpeg_reason(exc)})"
        ) from None
    try:
        if not container.streams.video:
            raise VideoDecodeError(path, "contains no video stream (truncated, or an audio/data-only file)")
        stream = container.streams.video[0]
        fmt = container.format.name
        codec = stream.codec_context.name if stream.codec_context else ""
        if any(name in fmt.split(",") for name in _NON_VIDEO_FORMATS) or fmt.endswith("_pipe") or codec in _NON_VIDEO_CODECS:
            raise VideoDecodeError(path, f"not a video (FFmpeg sees a {fmt}/{codec} still image or text file)")
    except BaseException:
        container.close()
        raise
    return container, stream


def _fps(stream: av.video.stream.VideoStream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return float(rate)
    return 0.0


def probe_video(path: str | Path) -> VideoInfo:
    """Read a video's header: estimated frame count, fps, size, duration and codec."""
    container, stream = _open_video(path)
    with container:
        fps = _fps(stream)
        duration = 0.0
        if stream.duration is not None and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / av.time_base
        frames = int(stream.frames or 0)
        if frames <= 0 and duration > 0 and fps > 0:
            frames = int(round(duration * fps))  # webm/mkv carry no frame count
        return VideoInfo(
            path=str(path),
            frames=frames,
            fps=fps,
            width=int(stream.codec_context.width),
            height=int(stream.codec_context.height),
            duration_s=duration,
            codec=stream.codec_context.name,
            container=container.format.name,
        )


# swscale's bit-exact mode: its SIMD paths then give the same pixels as its C code, so a
# clip cache has the same content hash on every machine.
_EXACT_AREA = Interpolation.AREA | Interpolation.ACCURATE_RND | Interpolation.BITEXACT


def short_side_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    """(width, height) after scaling so the shorter side equals `short_side`."""
    scale = short_side / min(width, height)
    return max(short_side, round(width * scale)), max(short_side, round(height * scale))


def iter_frames(path: str | Path, *, short_side: int | None = None) -> Iterator[np.ndarray]:
    """Yield RGB uint8 [H, W, 3] frames; optionally resized so the short side is `short_side`.

    Resizing inside FFmpeg (swscale, area filter) avoids ever materialising full-size
    frames, which keeps long or large videos cheap. Corrupt packets are skipped; a
    truncated file yields what precedes the cut. Raises VideoDecodeError when not a
    single frame can be decoded.
    """
    container, stream = _open_video(path)
    yield from _decode_stream(path, container, stream, short_side)


def _decode_stream(
    path: str | Path,
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    short_side: int | None,
) -> Iterator[np.ndarray]:
    produced = 0
    errors = 0
    last_error = ""
    out_size: tuple[int, int] | None = None
    with container:
        try:
            packets = container.demux(stream)
            while True:
                try:
                    packet = next(packets)
                except StopIteration:
                    break
                except Exception as exc:  # noqa: BLE001 - truncated container: stop reading, keep what we have
                    last_error = _ffmpeg_reason(exc)
                    break
                try:
                    frames = packet.decode()
                except Exception as exc:  # noqa: BLE001 - corrupt packet: skip it
                    errors += 1
                    last_error = _ffmpeg_reason(exc)
                    if errors > _MAX_PACKET_ERRORS:
                        break
                    continue
                for frame in frames:
                    if out_size is None:
                        # Fix the output size from the first frame so a mid-stream
                        # resolution change cannot produce ragged arrays.
                        w, h = frame.width, frame.height
                        out_size = short_side_size(w, h, short_side) if short_side else (w, h)
                    image = frame.reformat(
                        width=out_size[0], height=out_size[1], format="rgb24", interpolation=_EXACT_AREA
                    ).to_ndarray()
                    produced += 1
                    yield image
        finally:
            packets = None  # release the demuxer before the container closes
    if produced == 0:
        detail = f" (last FFmpeg error: {last_error})" if last_error else ""
        raise VideoDecodeError(path, f"no decodable video frames; the file is truncated or corrupt{detail}")


def decode_video(path: str | Path, *, max_frames: int | None = None, short_side: int | None = None) -> np.ndarray:
    """Decode a whole video (or its first `max_frames` frames) to uint8 [T, H, W, 3] RGB."""
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames must be >= 1, got {max_frames}")
    frames: list[np.ndarray] = []
    generator = iter_frames(path, short_side=short_side)
    try:
        for image in generator:
            frames.append(image)
            if max_frames is not None and len(frames) >= max_frames:
                break
    finally:
        generator.close()
    return np.stack(frames)


def uniform_indices(num_source: int, num_frames: int) -> np.ndarray:
    """Indices of `num_frames` frames spread evenly over `num_source` frames (centre of each bin).

    Shorter videos repeat frames (stride < 1) rather than failing.
    """
    if num_source < 1 or num_frames < 1:
        raise ValueError("num_source and num_frames must be >= 1")
    positions = (np.arange(num_frames) + 0.5) * (num_source / num_frames)
    return np.minimum(np.floor(positions).astype(np.int64), num_source - 1)


def decode_uniform(path: str | Path, num_frames: int, *, short_side: int | None = None) -> UniformFrames:
    """Decode `num_frames` frames spread uniformly over the whole video in one pass.

    The total frame count is not trusted from the header (often missing or wrong), so
    frames are kept at a power-of-two step that doubles whenever more than
    4*num_frames are held. Memory stays bounded for any video length and the final
    pick is within half a step of the ideal uniform positions.
    """
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    container, stream = _open_video(path)
    fps = _fps(stream)
    limit = 4 * num_frames
    step = 1
    kept: list[np.ndarray] = []  # kept[j] is source frame j*step
    count = 0
    for index, image in enumerate(_decode_stream(path, container, stream, short_side)):
        count = index + 1
        if index % step == 0:
            kept.append(image)
            if len(kept) > limit:
                kept = kept[::2]
                step *= 2
    wanted = uniform_indices(count, num_frames)
    picks = np.minimum(np.round(wanted / step).astype(np.int64), len(kept) - 1)
    return UniformFrames(
        frames=np.stack([kept[i] for i in picks]),
        source_frames=count,
        stride=count / num_frames,
        fps=fps,
    )


def decode_square(path: str | Path, num_frames: int, size: int) -> UniformFrames:
    """`decode_uniform` at short side `size`, centre-cropped to `size`x`size` (the cached form)."""
    picked = decode_uniform(path, num_frames, short_side=size)
    frames = picked.frames
    top, left = (frames.shape[1] - size) // 2, (frames.shape[2] - size) // 2
    square = np.ascontiguousarray(frames[:, top : top + size, left : left + size])
    return UniformFrames(frames=square, source_frames=picked.source_frames, stride=picked.stride, fps=picked.fps)
