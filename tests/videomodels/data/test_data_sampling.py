from __future__ import annotations

import numpy as np
import pytest
import torch

from videomodels.data import RGB_MEAN, RGB_STD, StreamRequest, sample_streams, temporal_indices
from videomodels.data.sampling import TRAIN_SCALE, temporal_centre


def test_stream_request_validates() -> None:
    with pytest.raises(ValueError, match="modality"):
        StreamRequest("x", "depth", 8)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="frame_stride"):
        StreamRequest("x", "rgb", 8, 0)
    assert StreamRequest("x", "rgb", 8, 3).span == 22


def test_eval_window_is_centred_and_train_window_is_random() -> None:
    rng = np.random.default_rng(0)
    centre = temporal_centre(20, 7, train=False, rng=rng)
    np.testing.assert_array_equal(temporal_indices(20, 4, 2, centre=centre), [6, 8, 10, 12])
    starts = {int(temporal_indices(20, 4, 2, centre=temporal_centre(20, 7, train=True, rng=rng))[0]) for _ in range(200)}
    assert starts == set(range(0, 14))  # every valid start is reachable, none outside


def test_short_video_is_padded() -> None:
    np.testing.assert_array_equal(temporal_indices(5, 4, 2, centre=2.0), [0, 2, 4, 4])
    np.testing.assert_array_equal(temporal_indices(5, 4, 2, centre=2.0, pad="loop"), [0, 2, 4, 1])


def _clip(t: int = 16, s: int = 32) -> np.ndarray:
    # Frame t has brightness 10*t: identifies which frames were sampled.
    return np.stack([np.full((s, s, 3), 10 * i, np.uint8) for i in range(t)])


def test_multiple_streams_share_centre_and_have_requested_shapes() -> None:
    streams = [
        StreamRequest("slow", "rgb", 4, 4, 24),
        StreamRequest("fast", "rgb", 8, 1, 16),
        StreamRequest("motion", "flow", 4, 2, 20),
    ]
    flow = np.zeros((16, 32, 32, 2), np.float16)
    out = sample_streams(_clip(), flow, streams, train=False, rng=np.random.default_rng(0))
    assert out["slow"].shape == (3, 4, 24, 24)
    assert out["fast"].shape == (3, 8, 16, 16)
    assert out["motion"].shape == (2, 4, 20, 20)
    assert all(t.dtype == torch.float32 for t in out.values())
    frame_ids = lambda x: np.round((x[0, :, 0, 0].numpy() * RGB_STD + RGB_MEAN) * 255 / 10).astype(int)  # noqa: E731
    np.testing.assert_array_equal(frame_ids(out["slow"]), [1, 5, 9, 13])
    np.testing.assert_array_equal(frame_ids(out["fast"]), [4, 5, 6, 7, 8, 9, 10, 11])
    assert frame_ids(out["slow"]).mean() == pytest.approx(frame_ids(out["fast"]).mean(), abs=0.5)


def test_rgb_normalisation_range() -> None:
    clip = np.zeros((2, 8, 8, 3), np.uint8)
    clip[1] = 255
    out = sample_streams(clip, None, [StreamRequest("rgb", "rgb", 2, 1, 8)], train=False, rng=np.random.default_rng(0))
    assert out["rgb"][:, 0].max().item() == pytest.approx(-RGB_MEAN / RGB_STD)
    assert out["rgb"][:, 1].min().item() == pytest.approx((1 - RGB_MEAN) / RGB_STD)


def test_flow_stride_averages_and_resizing_scales_vectors() -> None:
    flow = np.zeros((8, 32, 32, 2), np.float32)
    flow[..., 0] = 0.1
    flow[::2, ..., 0] = 0.3  # alternating speeds: the mean over 2 steps is 0.2
    out = sample_streams(_clip(8), flow, [StreamRequest("f", "flow", 3, 2, 16)], train=False, rng=np.random.default_rng(0))
    # 32 -> 16 px halves pixel displacements.
    np.testing.assert_allclose(out["f"][0].numpy(), 0.1, atol=1e-5)
    np.testing.assert_allclose(out["f"][1].numpy(), 0.0, atol=1e-6)


def test_flow_stream_without_flow_is_an_error() -> None:
    with pytest.raises(ValueError, match="--flow"):
        sample_streams(_clip(), None, [StreamRequest("f", "flow", 4)], train=False, rng=np.random.default_rng(0))


def test_no_flip_by_default_and_flip_negates_horizontal_flow() -> None:
    clip = np.zeros((4, 32, 32, 3), np.uint8)
    clip[:, :, :16] = 255  # bright left half
    flow = np.zeros((4, 32, 32, 2), np.float32)
    flow[..., 0] = 0.5
    streams = [StreamRequest("rgb", "rgb", 4, 1, 32), StreamRequest("f", "flow", 4, 1, 32)]
    for seed in range(10):
        plain = sample_streams(clip, flow, streams, train=True, rng=np.random.default_rng(seed))
        assert plain["rgb"][0, 0, 14, 2] > plain["rgb"][0, 0, 14, -2]  # left stays bright
        assert plain["f"][0].mean() > 0
    flipped = sample_streams(clip, flow, streams, train=True, rng=np.random.default_rng(0), hflip_prob=1.0)
    assert flipped["rgb"][0, 0, 14, 2] < flipped["rgb"][0, 0, 14, -2]
    assert flipped["f"][0].mean() < 0


def test_train_crops_vary_eval_crop_is_fixed() -> None:
    rng_clip = np.random.default_rng(0).integers(0, 256, (4, 40, 40, 3), dtype=np.uint8)
    streams = [StreamRequest("rgb", "rgb", 4, 1, 32)]
    evals = [sample_streams(rng_clip, None, streams, train=False, rng=np.random.default_rng(s))["rgb"] for s in range(3)]
    assert all(torch.equal(evals[0], e) for e in evals)
    trains = [sample_streams(rng_clip, None, streams, train=True, rng=np.random.default_rng(s))["rgb"] for s in range(6)]
    assert any(not torch.equal(trains[0], t) for t in trains[1:])
    assert TRAIN_SCALE > 1
