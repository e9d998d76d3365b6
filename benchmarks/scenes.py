"""A second video collection, made differently from ``data synth``: camera motion over drawn scenes.

``data synth`` moves one textured sprite over a static background; here the *camera*
moves over a cluttered scene drawn with OpenCV (rectangles, polylines, circles and text
strokes in random colours, then blurred), while a distractor object crosses the frame
with a motion of its own that is independent of the class. Classes are the camera's
moves, so the signal is global motion with a moving object as noise. The clips are
encoded with PyAV through ``videomodels.data.encode`` like any video a user uploads.
Deterministic given the seed; nothing is downloaded.
"""
from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from videomodels.data.encode import write_video
from videomodels.data.warp import inverse_map, sample_bilinear

CAMERA_MOVES = ("pan_left", "pan_right", "tilt_up", "tilt_down", "dolly_in", "dolly_out", "roll_cw", "roll_ccw")
_SCENE = 3  # the scene is this many times the frame size, so the camera never leaves it


def _scene(rng: np.random.Generator, size: int) -> np.ndarray:
    side = size * _SCENE
    canvas = np.empty((side, side, 3), np.uint8)
    canvas[:] = rng.integers(40, 200, 3)
    for _ in range(int(rng.integers(40, 70))):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        kind = rng.integers(0, 4)
        x, y = (int(v) for v in rng.integers(0, side, 2))
        extent = int(rng.integers(side // 24, side // 6))
        if kind == 0:
            cv2.rectangle(canvas, (x, y), (x + extent, y + int(extent * rng.uniform(0.3, 1.5))), colour, -1)
        elif kind == 1:
            cv2.circle(canvas, (x, y), extent // 2, colour, -1)
        elif kind == 2:
            points = (np.array([x, y]) + rng.integers(-extent, extent, (int(rng.integers(3, 6)), 2))).astype(np.int32)
            cv2.polylines(canvas, [points], True, colour, int(rng.integers(1, 4)))
        else:
            cv2.line(canvas, (x, y), (x + int(rng.integers(-extent, extent)), y + int(rng.integers(-extent, extent))), colour, 2)
    return cv2.GaussianBlur(canvas, (3, 3), 0)


def _camera(move: str, t: float, size: int, speed: float) -> np.ndarray:
    """2x3 affine map from scene to frame at time t (in frames, centred on the clip)."""
    centre = size * _SCENE / 2
    dx = dy = angle = 0.0
    scale = 1.0
    if move in ("pan_left", "pan_right"):
        dx = (1 if move == "pan_right" else -1) * speed * size * t
    elif move in ("tilt_up", "tilt_down"):
        dy = (1 if move == "tilt_down" else -1) * speed * size * t
    elif move in ("dolly_in", "dolly_out"):
        scale = math.exp((1 if move == "dolly_in" else -1) * 0.05 * t)
    else:
        angle = (1 if move == "roll_ccw" else -1) * 4.0 * t
    matrix = cv2.getRotationMatrix2D((centre + dx, centre + dy), angle, scale)
    matrix[:, 2] += size / 2 - np.array([centre + dx, centre + dy])
    # Rounded to a dyadic grid so every machine warps with the same matrix: cos, sin and exp
    # may differ in the last bit between libm builds.
    return np.round(matrix * 65536) / 65536


def render(move: str, rng: np.random.Generator, *, frames: int, size: int) -> np.ndarray:
    scene = _scene(rng, size)
    speed = rng.uniform(0.03, 0.05)
    # A distractor: a solid blob crossing the frame in a random direction, whatever the class.
    colour = tuple(int(c) for c in rng.integers(0, 256, 3))
    start = rng.uniform(0.2, 0.8, 2) * size
    velocity = rng.normal(0, 1, 2)
    velocity *= rng.uniform(0.02, 0.05) * size / (math.hypot(*velocity) + 1e-9)
    velocity = np.round(velocity * 256) / 256  # same positions on every machine (see _camera)
    radius = int(size * rng.uniform(0.08, 0.14))
    clip = np.empty((frames, size, size, 3), np.uint8)
    for i in range(frames):
        t = i - (frames - 1) / 2
        warped = sample_bilinear(scene, *inverse_map(_camera(move, t, size, speed), size), border="reflect")
        frame = np.clip(np.rint(warped), 0, 255).astype(np.uint8)
        x, y = (start + velocity * t).astype(int)
        cv2.circle(frame, (int(x), int(y)), radius, colour, -1)
        clip[i] = frame
    return clip


def make_collection(out_dir: Path, *, clips_per_class: int, frames: int = 16, size: int = 48, seed: int = 0) -> Path:
    """``out_dir/<move>/<move>_0000.mp4``; written once (a ``.complete`` marker guards reuse)."""
    out_dir = Path(out_dir)
    if (out_dir / ".complete").exists():
        return out_dir
    for class_index, move in enumerate(CAMERA_MOVES):
        (out_dir / move).mkdir(parents=True, exist_ok=True)
        for i in range(clips_per_class):
            rng = np.random.default_rng([seed, 7919, class_index, i])
            write_video(out_dir / move / f"{move}_{i:04d}.mp4", render(move, rng, frames=frames, size=size), fps=12)
    (out_dir / ".complete").write_text("ok")
    return out_dir
