"""Loading: decode-from-file versus the clip cache, and whether the cache keeps a training step fed."""
from __future__ import annotations

import time

import torch
from torch.utils.data import DataLoader

from videomodels import build_model
from videomodels.data import ClipDataset, StreamRequest
from videomodels.data.benchmark import compare_loading
from videomodels.presets import get_preset
from videomodels.archspec import with_input_size

from benchmarks.common import WORK, motion_cache, table


def data_wait_fraction(cache, *, steps: int, batch: int = 16) -> dict:
    """Train a small model at 8x64x64 from the cache; time spent waiting for batches vs computing."""
    spec = with_input_size(get_preset("tvn-small"), frames=8, size=64)
    torch.manual_seed(0)
    model = build_model(spec, num_classes=10)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    dataset = ClipDataset(cache, "train", [StreamRequest("rgb", "rgb", 8, 1, 64)], train=True, seed=0)
    loader = DataLoader(dataset, batch_size=batch, shuffle=True, drop_last=True)
    wait = compute = 0.0
    done = 0
    while done < steps:
        iterator = iter(loader)
        while done < steps:
            start = time.perf_counter()
            try:
                inputs, targets = next(iterator)
            except StopIteration:
                break
            middle = time.perf_counter()
            loss = torch.nn.functional.cross_entropy(model(inputs), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            end = time.perf_counter()
            if done > 1:  # skip warm-up steps
                wait += middle - start
                compute += end - middle
            done += 1
    return {"wait_s": wait, "step_s": compute, "wait_fraction": wait / compute, "steps": steps - 2}


def run(quick: bool = False) -> tuple[str, dict]:
    torch.set_num_threads(2)
    cache = motion_cache(clips_per_class=8 if quick else 12, frames=8, size=64, flow=False)
    videos = WORK / f"motion-{8 if quick else 12}-s0"
    rates = compare_loading(videos, cache, [StreamRequest("rgb", "rgb", 8, 1, 64)], items=16 if quick else 48)
    fed = data_wait_fraction(cache, steps=8 if quick else 30)
    rows = [
        ["decode from video files (PyAV, every item)", rates["file_clips_per_s"], 1.0],
        ["memory-mapped clip cache", rates["cache_clips_per_s"], rates["speedup"]],
    ]
    lines = ["## Clip loading (8 frames at 64x64, training-mode sampling)", "",
             table(["source", "clips/s", "ratio to decoding"], rows), "",
             "## Is the training step fed? (tvn-small at 8x64x64, batch 16, cache, main-process loading)", "",
             table(["data wait per step (ms)", "compute per step (ms)", "wait / step"],
                   [[1000 * fed["wait_s"] / fed["steps"], 1000 * fed["step_s"] / fed["steps"], fed["wait_fraction"]]]), "",
             f"Goal: waiting under 10% of step time — {'met' if fed['wait_fraction'] < 0.10 else 'NOT met'}.", ""]
    return "\n".join(lines), {"loading": rates, "fed": fed}
