"""Affine warps that give the same bytes on every machine (for the synthetic collections).

OpenCV's warpAffine picks SIMD paths by CPU and its coordinates are not bit-exact (the same
frame warped with and without `cv2.setUseOptimized` differs), so a benchmark's videos would
change from machine to machine. These use only elementwise float64 arithmetic, which is
exact IEEE on every CPU, and sample bilinearly like INTER_LINEAR.
"""
from __future__ import annotations

import numpy as np


def inverse_map(matrix: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Source coordinates (x, y) of every pixel of a size x size output, for a forward 2x3
    affine `matrix` (output = A @ source + t), pixel centres at integer coordinates."""
    (a, b, tx), (d, e, ty) = np.asarray(matrix, dtype=np.float64)
    det = a * e - b * d
    if det == 0:
        raise ValueError("affine matrix is singular")
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    dx, dy = xx - tx, yy - ty
    return (e * dx - b * dy) / det, (a * dy - d * dx) / det


def _reflect(index: np.ndarray, length: int) -> np.ndarray:
    """OpenCV's BORDER_REFLECT (fedcba|abcdef|fedcba) for any index."""
    folded = np.mod(index, 2 * length)
    return np.where(folded >= length, 2 * length - 1 - folded, folded)


def sample_bilinear(image: np.ndarray, sx: np.ndarray, sy: np.ndarray, *, border: str) -> np.ndarray:
    """float64 [H', W', C] bilinear samples of `image` [H, W, C] at (sx, sy).

    border: "constant" (zero outside, so a premultiplied sprite is transparent there) or
    "reflect"."""
    height, width = image.shape[:2]
    source = np.asarray(image, dtype=np.float64)
    x0, y0 = np.floor(sx).astype(np.int64), np.floor(sy).astype(np.int64)
    fx, fy = (sx - x0)[..., None], (sy - y0)[..., None]
    if border == "reflect":
        def tap(ix, iy):
            return source[_reflect(iy, height), _reflect(ix, width)]
    elif border == "constant":
        padded = np.pad(source, ((1, 1), (1, 1), (0, 0)))
        def tap(ix, iy):
            return padded[np.clip(iy + 1, 0, height + 1), np.clip(ix + 1, 0, width + 1)]
    else:
        raise ValueError(f"border must be 'constant' or 'reflect', got {border!r}")
    top = tap(x0, y0) * (1 - fx) + tap(x0 + 1, y0) * fx
    bottom = tap(x0, y0 + 1) * (1 - fx) + tap(x0 + 1, y0 + 1) * fx
    return top * (1 - fy) + bottom * fy
