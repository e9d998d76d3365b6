from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from videomodels.data import VideoDecodeError, decode_square, decode_uniform, decode_video, probe_video

# (file name, codec, pix_fmt, width, height, fps): several containers, odd sizes and rates.
CASES = [
    ("a.mp4", "libx264", "yuv420p", 48, 36, 25),
    ("b.mp4", "libx264", "yuv444p", 33, 47, 7),  # odd sizes need a non-subsampled format
    ("c.avi", "mpeg4", "yuv420p", 50, 38, 15),
    ("d.webm", "libvpx-vp9", "yuv420p", 40, 30, 30),
    ("e.mkv", "ffv1", "yuv444p", 31, 17, 5),
    ("f.mkv", "libx264", "yuv420p", 64, 48, 24),
    ("g.mov", "libx264", "yuv420p", 40, 30, Fraction(30000, 1001)),
]


@pytest.mark.parametrize("name,codec,pix_fmt,width,height,fps", CASES)
def test_decodes_containers_and_codecs(vt, tmp_path: Path, name, codec, pix_fmt, width, height, fps) -> None:
    path = vt.encode(tmp_path / name, vt.solid_frames(9, height, width, (200, 60, 20)), codec=codec, fps=fps, pix_fmt=pix_fmt)
    frames = decode_video(path)
    assert frames.dtype == np.uint8
    assert frames.shape == (9, height, width, 3)
    # Colour survives YUV round trips within a few levels.
    assert np.abs(frames.reshape(-1, 3).mean(0) - (200, 60, 20)).max() < 8
    info = probe_video(path)
    assert (info.width, info.height) == (width, height)
    assert info.fps == pytest.approx(float(fps), rel=1e-3)
    assert info.frames in range(8, 11)  # an estimate for webm/mkv


def test_max_frames_and_short_side(vt, tmp_path: Path) -> None:
    path = vt.encode(tmp_path / "v.mp4", vt.solid_frames(12, 40, 80, (10, 200, 10)), codec="libx264")
    assert decode_video(path, max_frames=5).shape == (5, 40, 80, 3)
    assert decode_video(path, short_side=20).shape == (12, 20, 40, 3)
    assert decode_square(path, 4, 16).frames.shape == (4, 16, 16, 3)


def test_decode_uniform_spreads_over_whole_video(vt, tmp_path: Path) -> None:
    # Frame i has brightness 2*i, so decoded brightness tells which frames were picked.
    count = 100
    frames = np.stack([np.full((16, 16, 3), 2 * i, np.uint8) for i in range(count)])
    path = vt.encode(tmp_path / "ramp.mkv", frames, codec="ffv1", pix_fmt="yuv444p")
    picked = decode_uniform(path, 5)  # 5 * 4 = 20 < 100 frames: exercises the thinning
    indices = picked.frames.reshape(5, -1).mean(1) / 2
    assert picked.source_frames == count
    assert picked.stride == pytest.approx(20.0)
    np.testing.assert_allclose(indices, [10, 30, 50, 70, 90], atol=2.5)


def test_short_video_repeats_frames(vt, tmp_path: Path) -> None:
    frames = np.stack([np.full((16, 16, 3), 40 * i, np.uint8) for i in range(3)])
    path = vt.encode(tmp_path / "short.mkv", frames, codec="ffv1", pix_fmt="yuv444p")
    picked = decode_uniform(path, 6)
    assert picked.frames.shape[0] == 6
    assert picked.stride == pytest.approx(0.5)
    np.testing.assert_allclose(picked.frames.reshape(6, -1).mean(1), [0, 0, 40, 40, 80, 80], atol=2)


def _reason(path: Path) -> str:
    with pytest.raises(VideoDecodeError) as caught:
        decode_video(path)
    assert str(path) in str(caught.value)
    assert isinstance(caught.value, ValueError)
    return caught.value.reason


def test_bad_files_raise_with_path_and_reason(vt, tmp_path: Path) -> None:
    good = vt.encode(tmp_path / "good.mp4", vt.solid_frames(20, 32, 32, (1, 2, 3)), codec="libx264")
    data = good.read_bytes()
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "half.mp4").write_bytes(data[: len(data) // 2])
    (tmp_path / "head.mp4").write_bytes(data[:200])
    (tmp_path / "noise.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    (tmp_path / "notes.avi").write_text("this is not a video\n" * 40)
    assert "empty" in _reason(tmp_path / "empty.mp4")
    known = ("not a readable video", "no video stream", "no decodable video frames")
    for name in ("half.mp4", "head.mp4", "noise.mp4", "notes.avi"):
        reason = _reason(tmp_path / name)
        assert any(text in reason for text in known), reason
    assert "does not exist" in _reason(tmp_path / "missing.mp4")
    with pytest.raises(VideoDecodeError):
        probe_video(tmp_path / "notes.avi")


def test_still_image_is_not_a_video(vt, tmp_path: Path) -> None:
    import cv2

    cv2.imwrite(str(tmp_path / "img.png"), np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "img.mp4").write_bytes((tmp_path / "img.png").read_bytes())
    assert "not a video" in _reason(tmp_path / "img.mp4")


def test_truncated_file_decodes_partially_or_fails_cleanly(vt, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, (40, 32, 32, 3), dtype=np.uint8)  # noise: every frame is large
    whole = vt.encode(tmp_path / "whole.mkv", frames, codec="libx264", options={"g": "4"})
    data = whole.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    partial = decode_video(cut)
    assert 1 <= len(partial) < 40
    tiny = tmp_path / "tiny.mkv"
    tiny.write_bytes(data[:300])  # header only: no frame can be decoded
    reason = _reason(tiny)
    assert "no decodable video frames" in reason or "not a readable video" in reason, reason
