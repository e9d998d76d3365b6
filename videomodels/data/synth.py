"""A synthetic motion benchmark written as real encoded videos.

Classes differ *only* in how objects move. Shape, texture, colours, background, size
and position are drawn per clip independently of the class, and the motion is laid
out symmetrically in time around the clip centre (translations wrap around the
frame, scales/angles are sampled so static classes match the moving ones' spread),
so a single frame carries no class information and a single-frame model should stay
at chance. Time-reversed pairs (left/right, zoom in/out, cw/ccw) also defeat models
that only look at appearance statistics of the whole clip.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .encode import CONTAINER_CODECS, pick_codec, write_video
from .errors import DataError
from .warp import sample_bilinear

MOTION_CLASSES: tuple[str, ...] = (
    "move_left",
    "move_right",
    "move_up",
    "move_down",
    "rotate_cw",
    "rotate_ccw",
    "zoom_in",
    "zoom_out",
    "shake",
    "still",
)

_SHAPES = ("circle", "ellipse", "square", "triangle", "star", "cross")
_TEXTURES = ("stripes", "checker", "blobs")
_SPRITE = 96  # sprite resolution; objects are warped down from it, so edges stay smooth
_SPRITE_RADIUS = _SPRITE / 2 * 0.95

# Motion magnitudes, in fractions of the frame size per frame, chosen to stay >= 1 px
# per frame after downscaling 64 -> 32 px and to survive sampling with stride 2.
_SPEED = (0.03, 0.05)
_SHAKE_AMPLITUDE = (0.06, 0.1)
_SHAKE_PERIOD = (6.0, 10.0)  # frames; >= 6 so stride 2 does not alias the oscillation
# Degrees per frame; at most 13 so even with stride 2 a step stays under half of the
# smallest symmetry angle of the shapes (star: 72 degrees) and cannot alias backwards.
_SPIN_DEG = (8.0, 13.0)
_ZOOM_LOG_RANGE = (math.log(2.0), math.log(2.6))  # total log-scale change over the clip
# Object radius at the clip centre, fraction of the frame. The smallest object (about
# 0.1 of the frame after zooming) is still >= 3 px at 32 px, so its rotation shows.
_RADIUS = (0.17, 0.24)


@dataclass
class SynthResult:
    out_dir: Path
    class_names: list[str]
    files: list[Path]
    labels: list[tuple[str, ...]]
    manifest: Path | None
    codec: str


# Every machine must render the same bytes (the benchmark's table records the data's hash), so
# rendering uses only elementwise float64 arithmetic, which is exact IEEE on every CPU, and
# integer drawing. Where a transcendental function is needed its result is rounded to a dyadic
# grid (`_quantize`) first: different libm/SIMD builds differ in the last bit, and only a value
# within one ulp of a grid midpoint could still round differently. OpenCV's float warps and
# resizes pick SIMD paths by CPU and are not bit-exact, so they are not used here.
def _quantize(value, bits: int = 20):
    scale = float(1 << bits)
    return np.round(np.asarray(value, dtype=np.float64) * scale) / scale


def _cos_sin(angle_rad: float) -> tuple[float, float]:
    return float(_quantize(math.cos(angle_rad))), float(_quantize(math.sin(angle_rad)))


def _unit_polygon(shape: str, rng: np.random.Generator) -> np.ndarray:
    """Vertices (x, y) inside the unit circle."""
    def ring(count: int, start: float = 0.0) -> np.ndarray:
        return np.array([_cos_sin(start + 2 * math.pi * k / count) for k in range(count)])

    if shape == "circle":
        return ring(48)
    if shape == "ellipse":
        return ring(48) * np.array([1.0, rng.uniform(0.5, 0.7)])
    if shape == "square":
        return np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * 0.72
    if shape == "triangle":
        return ring(3, math.pi / 2)
    if shape == "star":
        radii = np.where(np.arange(10) % 2 == 0, 1.0, 0.45)
        return ring(10) * radii[:, None]
    if shape == "cross":
        a, b = 0.35, 0.95
        return np.array([[-a, -b], [a, -b], [a, -a], [b, -a], [b, a], [a, a], [a, b], [-a, b], [-a, a], [-b, a], [-b, -a], [-a, -a]])
    raise ValueError(f"unknown shape {shape!r}")


def _two_colours(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    first = rng.uniform(0, 255, 3)
    second = rng.uniform(0, 255, 3)
    while np.abs(first - second).max() < 90:  # keep textures visible so rotation shows
        second = rng.uniform(0, 255, 3)
    return first, second


def _cubic_weights(t: np.ndarray) -> list[np.ndarray]:
    """Keys' cubic convolution weights (a = -0.75, as OpenCV's INTER_CUBIC) of the 4 taps around t."""
    a = -0.75
    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1
    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [far(1 + t), near(t), near(1 - t), far(2 - t)]


def _upsample_cubic(grid: np.ndarray, size: int) -> np.ndarray:
    """Bicubic upsampling of a small [g, g, ...] grid to [size, size, ...] (pixel centres aligned)."""
    cells = grid.shape[0]
    centres = (np.arange(size) + 0.5) * (cells / size) - 0.5
    base = np.floor(centres).astype(np.int64)
    weights = _cubic_weights(centres - base)
    taps = [np.clip(base + k - 1, 0, cells - 1) for k in range(4)]
    rows = sum(w.reshape((-1,) + (1,) * (grid.ndim - 1)) * grid[i] for w, i in zip(weights, taps))
    return sum(w.reshape((1, -1) + (1,) * (grid.ndim - 2)) * rows[:, i] for w, i in zip(weights, taps))


def _sprite(rng: np.random.Generator) -> np.ndarray:
    """Premultiplied RGBA float64 sprite [S, S, 4] of a random textured shape."""
    size = _SPRITE
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    texture = rng.choice(_TEXTURES)
    if texture == "stripes":
        cos_t, sin_t = _cos_sin(rng.uniform(0, np.pi))
        period = rng.uniform(18, 34)  # 3-5 stripes across: coarse enough to stay visible at 32 px
        mask = np.floor((xx * cos_t + yy * sin_t) * (2 / period)) % 2 == 0  # sin(2 pi phase) >= 0
    elif texture == "checker":
        cell = rng.uniform(14, 24)
        mask = ((xx // cell + yy // cell) % 2) == 0
    else:
        smooth = _upsample_cubic(rng.random((5, 5)), size)
        mask = smooth > np.median(smooth)
    first, second = _two_colours(rng)
    rgb = np.where(mask[..., None], first, second)
    polygon = _unit_polygon(str(rng.choice(_SHAPES)), rng) * _SPRITE_RADIUS + size / 2
    alpha = np.zeros((size, size), np.uint8)
    cv2.fillPoly(alpha, [np.round(polygon * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
    alpha_f = alpha.astype(np.float64) / 255.0
    return np.dstack([rgb * alpha_f[..., None], alpha_f])


def _wave(phase: np.ndarray) -> np.ndarray:
    """A sine-like wave of period 1 built from parabolas (exact arithmetic, unlike np.sin)."""
    u = phase - np.floor(phase)
    half = np.where(u < 0.5, u, u - 0.5)
    return np.where(u < 0.5, 1.0, -1.0) * 8 * half * (1 - 2 * half)


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    kind = rng.integers(3)
    if kind == 0:  # smooth colour noise
        cells = int(rng.integers(2, 7))
        grid = rng.uniform(0, 255, (cells, cells, 3))
        return np.clip(_upsample_cubic(grid, size), 0, 255)
    first, second = _two_colours(rng)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    cos_t, sin_t = _cos_sin(rng.uniform(0, 2 * np.pi))
    if kind == 1:  # linear gradient
        ramp = (xx * cos_t + yy * sin_t) / 2 + 0.5
    else:  # soft low-contrast stripes
        ramp = 0.5 + 0.25 * _wave((xx * cos_t + yy * sin_t) * rng.uniform(1.5, 4))
    ramp = np.clip(ramp, 0, 1)[..., None]
    return first * (1 - ramp) + second * ramp


@dataclass
class _Track:
    """One object's pose (centre x, y in px; radius in px; angle in degrees) per frame."""

    x: np.ndarray
    y: np.ndarray
    radius: np.ndarray
    angle: np.ndarray


def _track(motion: str, rng: np.random.Generator, frames: int, size: int, radius_scale: float) -> _Track:
    t = np.arange(frames, dtype=np.float64) - (frames - 1) / 2
    cx, cy = rng.uniform(0, size, 2)
    angle0 = rng.uniform(0, 360)
    radius0 = rng.uniform(*_RADIUS) * size * radius_scale
    zoom_range = rng.uniform(*_ZOOM_LOG_RANGE)
    x, y = np.full(frames, cx), np.full(frames, cy)
    angle = np.full(frames, angle0)
    if motion in ("zoom_in", "zoom_out"):
        sign = 1.0 if motion == "zoom_in" else -1.0
        radius = radius0 * np.array([math.exp(sign * zoom_range * s / max(frames - 1, 1)) for s in t])
    else:
        radius = np.full(frames, radius0 * math.exp(zoom_range * (rng.uniform() - 0.5)))
    if motion.startswith("move_"):
        dx, dy = {"move_left": (-1, 0), "move_right": (1, 0), "move_up": (0, -1), "move_down": (0, 1)}[motion]
        speed = rng.uniform(*_SPEED) * size
        x, y = cx + dx * speed * t, cy + dy * speed * t
    elif motion in ("rotate_cw", "rotate_ccw"):
        sign = -1.0 if motion == "rotate_cw" else 1.0
        angle = angle0 + sign * rng.uniform(*_SPIN_DEG) * t
    elif motion == "shake":
        cos_t, sin_t = _cos_sin(rng.uniform(0, 2 * np.pi))
        amplitude = rng.uniform(*_SHAKE_AMPLITUDE) * size
        period, phase = rng.uniform(*_SHAKE_PERIOD), rng.uniform(0, 2 * np.pi)
        offset = amplitude * _quantize([math.sin(2 * math.pi * s / period + phase) for s in t])
        x, y = cx + cos_t * offset, cy + sin_t * offset
    elif motion not in ("still", "zoom_in", "zoom_out"):
        raise ValueError(f"unknown motion {motion!r}")
    return _Track(_quantize(x % size, 8), _quantize(y % size, 8), _quantize(radius, 8), _quantize(angle, 8))


def _warp(sprite: np.ndarray, x: float, y: float, radius: float, angle: float, size: int) -> np.ndarray:
    """The sprite rotated by `angle` degrees (counter-clockwise on screen), scaled to `radius` and
    centred on (x, y): bilinear sampling of the inverse map, transparent outside the sprite."""
    scale = _SPRITE_RADIUS / radius
    cos_a, sin_a = _cos_sin(math.radians(angle))
    a, b = float(_quantize(cos_a * scale)), float(_quantize(sin_a * scale))
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    dx, dy = xx - x, yy - y
    centre = _SPRITE / 2
    sx = centre + a * dx - b * dy
    sy = centre + b * dx + a * dy
    return sample_bilinear(sprite, sx, sy, border="constant")


def _paste(canvas: np.ndarray, sprite: np.ndarray, x: float, y: float, radius: float, angle: float) -> None:
    size = canvas.shape[0]
    for ox in (-size, 0, size):
        for oy in (-size, 0, size):
            px, py = x + ox, y + oy
            if px + radius < 0 or px - radius > size or py + radius < 0 or py - radius > size:
                continue
            layer = _warp(sprite, px, py, radius, angle, size)
            canvas *= 1.0 - layer[..., 3:4]
            canvas += layer[..., :3]


def render_clip(motions: list[str] | tuple[str, ...], rng: np.random.Generator, *, frames: int, size: int) -> np.ndarray:
    """Render one clip with one object per entry of `motions` -> uint8 [T, size, size, 3]."""
    return _render(motions, rng, frames=frames, size=size)[0]


def _render(
    motions: list[str] | tuple[str, ...], rng: np.random.Generator, *, frames: int, size: int
) -> tuple[np.ndarray, list[_Track]]:
    """render_clip plus each object's ground-truth track (for checks of the motion itself)."""
    background = _background(rng, size)
    radius_scale = 1.0 if len(motions) == 1 else 0.75
    objects = [(_sprite(rng), _track(m, rng, frames, size, radius_scale)) for m in motions]
    out = np.empty((frames, size, size, 3), np.uint8)
    for t in range(frames):
        canvas = background.copy()
        for sprite, track in objects:
            _paste(canvas, sprite, track.x[t], track.y[t], track.radius[t], track.angle[t])
        # Sensor noise, so no frame is bit-identical: integer, sd 2 (sum of two uniforms on -2..2).
        canvas += rng.integers(-2, 3, canvas.shape) + rng.integers(-2, 3, canvas.shape)
        out[t] = np.clip(canvas, 0, 255).astype(np.uint8)
    return out, [track for _, track in objects]


def synthesize(
    out_dir: str | Path,
    *,
    clips_per_class: int,
    seed: int = 0,
    multilabel: bool = False,
    frames: int = 24,
    size: int = 64,
    fps: float = 12,
    container: str = "mp4",
    codec: str | None = None,
    classes: tuple[str, ...] = MOTION_CLASSES,
    on_clip: Callable[[int, int], None] | None = None,
) -> SynthResult:
    """Write the motion benchmark as encoded videos under `out_dir`.

    Single-label: `out_dir/<class>/<class>_0000.<container>`, `clips_per_class` each.
    Multi-label: `out_dir/videos/clip_00000.<container>` with 2-3 objects moving in
    their own ways and `out_dir/manifest.csv` (path,labels; labels joined by ';');
    there are clips_per_class * len(classes) clips and every class is the first
    object's motion in clips_per_class of them. Output is deterministic given `seed`.
    `on_clip(done, total)` is called after each clip is written.
    """
    out_dir = Path(out_dir)
    if seed < 0:
        raise DataError(f"seed must be >= 0, got {seed}")
    if clips_per_class < 1:
        raise DataError(f"clips_per_class must be >= 1, got {clips_per_class}")
    if frames < 2:
        raise DataError(f"frames must be >= 2 to show motion, got {frames}")
    if size < 16 or size % 2:
        raise DataError(f"size must be an even number >= 16 (yuv420p), got {size}")
    unknown = [c for c in classes if c not in MOTION_CLASSES]
    if unknown:
        raise DataError(f"unknown synth classes {unknown}; choose from {', '.join(MOTION_CLASSES)}")
    if container not in CONTAINER_CODECS:
        raise DataError(f"unsupported container {container!r}; choose one of {', '.join(CONTAINER_CODECS)}")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise DataError(f"{out_dir}: output folder exists and is not empty; choose a new folder")
    codec = codec or pick_codec(container)
    out_dir.mkdir(parents=True, exist_ok=True)

    files: list[Path] = []
    labels: list[tuple[str, ...]] = []
    if not multilabel:
        for class_index, name in enumerate(classes):
            (out_dir / name).mkdir()
            for i in range(clips_per_class):
                rng = np.random.default_rng([seed, class_index, i])
                path = out_dir / name / f"{name}_{i:04d}.{container}"
                write_video(path, render_clip([name], rng, frames=frames, size=size), fps=fps, codec=codec)
                files.append(path)
                labels.append((name,))
                if on_clip is not None:
                    on_clip(len(files), clips_per_class * len(classes))
        return SynthResult(out_dir, sorted(classes), files, labels, None, codec)

    (out_dir / "videos").mkdir()
    manifest = out_dir / "manifest.csv"
    rows = []
    for i in range(clips_per_class * len(classes)):
        rng = np.random.default_rng([seed, i])
        count = int(rng.integers(2, 4))
        motions = [classes[i % len(classes)]] + [str(rng.choice(classes)) for _ in range(count - 1)]
        path = out_dir / "videos" / f"clip_{i:05d}.{container}"
        write_video(path, render_clip(motions, rng, frames=frames, size=size), fps=fps, codec=codec)
        clip_labels = tuple(sorted(set(motions)))
        files.append(path)
        if on_clip is not None:
            on_clip(len(files), clips_per_class * len(classes))
        labels.append(clip_labels)
        rows.append((path.relative_to(out_dir).as_posix(), ";".join(clip_labels)))
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "labels"])
        writer.writerows(rows)
    return SynthResult(out_dir, sorted(classes), files, labels, manifest, codec)
