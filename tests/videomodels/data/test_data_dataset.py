from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from videomodels.data import ClipDataset, DataError, FileClipDataset, StreamRequest, load_cache, prepare_cache

STREAMS = [
    StreamRequest("rgb_fast", "rgb", 8, 1, 24),
    StreamRequest("rgb_slow", "rgb", 4, 3, 16),
    StreamRequest("flow", "flow", 6, 2, 24),
]


def _equal(a, b) -> bool:
    return all(torch.equal(a[0][k], b[0][k]) for k in a[0]) and torch.equal(a[1], b[1])


def test_shapes_targets_and_metadata(synth_cache: Path) -> None:
    data = ClipDataset(synth_cache, "train", STREAMS, train=True, seed=0)
    clips, target = data[0]
    assert clips["rgb_fast"].shape == (3, 8, 24, 24)
    assert clips["rgb_slow"].shape == (3, 4, 16, 16)
    assert clips["flow"].shape == (2, 6, 24, 24)
    assert target.dtype == torch.int64 and target.ndim == 0
    assert data.num_classes == 10 and len(data.class_names) == 10 and not data.multilabel
    assert len(data) + len(ClipDataset(synth_cache, "val")) == len(ClipDataset(synth_cache, "all")) == 30
    assert abs(clips["rgb_fast"].mean().item()) < 2.0  # normalised, not 0..255


def test_deterministic_per_seed_epoch_index(synth_cache: Path) -> None:
    one = ClipDataset(synth_cache, "train", STREAMS, train=True, seed=7)
    two = ClipDataset(synth_cache, "train", STREAMS, train=True, seed=7)
    assert _equal(one[3], two[3])
    epochs = []
    for epoch in range(4):
        one.set_epoch(epoch)
        epochs.append(one[3])
    assert any(not _equal(epochs[0], e) for e in epochs[1:])  # new epoch, new random clip
    one.set_epoch(0)
    assert _equal(one[3], epochs[0])
    evaluation = ClipDataset(synth_cache, "val", STREAMS, train=False, seed=7)
    first = evaluation[0]
    evaluation.set_epoch(5)
    assert _equal(first, evaluation[0])  # eval sampling ignores the epoch


def test_dataloader_workers_match_direct_indexing(synth_cache: Path) -> None:
    data = ClipDataset(synth_cache, "train", STREAMS[:1], train=True, seed=1)
    data.set_epoch(2)
    loader = DataLoader(data, batch_size=4, num_workers=2, shuffle=False)
    batch_clips, batch_targets = next(iter(loader))
    for i in range(4):
        clips, target = data[i]
        assert torch.equal(batch_clips["rgb_fast"][i], clips["rgb_fast"])
        assert batch_targets[i] == target


def test_flow_stream_needs_flow_in_cache(colour_tree: Path, tmp_path: Path) -> None:
    prepare_cache(colour_tree, tmp_path / "c", frames=4, size=16, flow=False, progress=False)
    with pytest.raises(DataError, match="no flow"):
        ClipDataset(tmp_path / "c", "train", [StreamRequest("f", "flow", 4)])
    with pytest.raises(ValueError, match="split"):
        ClipDataset(tmp_path / "c", "holdout")


def test_multilabel_targets(multilabel_synth: Path, tmp_path: Path) -> None:
    prepare_cache(multilabel_synth, tmp_path / "ml", frames=4, size=16, flow=False, progress=False)
    data = ClipDataset(tmp_path / "ml", "all", train=False)
    assert data.multilabel
    _, target = data[0]
    assert target.dtype == torch.float32 and target.shape == (data.num_classes,)
    assert set(target.unique().tolist()) <= {0.0, 1.0} and target.sum() >= 1
    cache = load_cache(tmp_path / "ml")
    assert cache.labels.dtype == np.float32
    assert (np.asarray(cache.labels).sum(1) >= 1).all()


def test_file_dataset_matches_cache_in_eval_mode(synth_small: Path, synth_cache: Path) -> None:
    streams = [StreamRequest("rgb", "rgb", 6, 2, 32), StreamRequest("flow", "flow", 6, 2, 32)]
    from_files = FileClipDataset(synth_small, "val", streams, train=False, frames=12, size=32, val_fraction=0.34, split_seed=0)
    from_cache = ClipDataset(synth_cache, "val", streams, train=False)
    assert len(from_files) == len(from_cache) == 10
    a, b = from_files[0], from_cache[0]
    assert torch.equal(a[0]["rgb"], b[0]["rgb"]) and torch.equal(a[1], b[1])
    # The cache stores flow as float16.
    assert torch.allclose(a[0]["flow"], b[0]["flow"], atol=2e-3)


def test_cache_reads_never_decode_video(synth_cache: Path, monkeypatch) -> None:
    # Speed is measured in `make bench`; here: the cache path must not touch the decoder.
    import videomodels.data.dataset as dataset_module
    import videomodels.data.decode as decode

    def refuse(*args, **kwargs):
        raise AssertionError("ClipDataset decoded a video file")

    for name in ("decode_video", "decode_square", "decode_uniform", "iter_frames"):
        monkeypatch.setattr(decode, name, refuse)
    monkeypatch.setattr(dataset_module, "decode_square", refuse)
    dataset = ClipDataset(synth_cache, "train", [StreamRequest("rgb", "rgb", 6, 2, 32)], train=True)
    clip, _ = dataset[0]
    assert clip["rgb"].shape == (3, 6, 32, 32)


def test_loading_comparison_reports_both_rates(synth_small: Path, synth_cache: Path) -> None:
    from videomodels.data.benchmark import compare_loading

    rates = compare_loading(synth_small, synth_cache, [StreamRequest("rgb", "rgb", 6, 2, 32)], items=4)
    assert rates["file_clips_per_s"] > 0 and rates["cache_clips_per_s"] > 0
