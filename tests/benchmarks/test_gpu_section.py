"""The gpu section of `make bench` runs its own code on the CPU at tiny sizes: step times per
setting, candidates per hour with workers side by side, TVN latency as a search measures it,
the tables; and without CUDA the section is one line saying it was skipped."""
from __future__ import annotations

import pytest
import torch

from benchmarks import gpu


@pytest.fixture(scope="module")
def tiny_cache(tmp_path_factory):
    from videomodels.data import prepare_cache, synthesize

    root = tmp_path_factory.mktemp("gpu-bench")
    synthesize(root / "videos", clips_per_class=4, seed=0, frames=8, size=32, classes=("move_left", "move_right"))
    return prepare_cache(root / "videos", root / "cache", frames=4, size=16, flow=False, val_fraction=0.25, seed=0,
                         progress=False).cache_dir


def test_step_times_under_every_setting_and_the_autotuning_break_even():
    cells = {setting: gpu.step_times("tvn-small", 4, 16, 2, setting, device="cpu", steps=3, warmup=1, threads=1)
             for setting in gpu.SETTINGS}
    assert all(c["first_ms"] > 0 and c["step_ms"] > 0 and c["steps"] == 3 for c in cells.values())
    assert cells["deterministic"]["runtime"]["deterministic"] is True and cells["bf16"]["runtime"]["precision"] == "bf16"
    assert gpu.break_even({"first_ms": 10, "step_ms": 5}, {"first_ms": 110, "step_ms": 3}) == pytest.approx(50)
    assert gpu.break_even({"first_ms": 10, "step_ms": 5}, {"first_ms": 110, "step_ms": 6}) is None
    latency = gpu.tvn_latency(device="cpu", names=("tvn-1", "tvn-3"), size=64, runs=2)
    assert [r["model"] for r in latency] == ["tvn-1", "tvn-3"] and all(r["ms"] > 0 for r in latency)
    assert latency[0]["published_ms"] == 10.0 and latency[1]["published_ms"] is None
    throughput = [{"workers": 1, "candidates": 2, "wall_s": 10.0, "per_hour": 720.0, "median_candidate_s": 5.0}]
    text = gpu.render({"tvn-small": cells}, throughput, latency, "CPU", quick=True)
    assert "### Milliseconds per training step" in text and "| tvn-small | 4x16², batch 2 |" in text
    assert "autotuning pays after" in text
    assert "### Candidates per hour on one GPU" in text and "| 1 | 2 | 10 | 720 | 1.00x | 5 |" in text
    assert "### TVN latency at batch 1 on the GPU" in text and "| tvn-1 | 2x64² |" in text


def test_candidates_per_hour_with_workers_started_together(tiny_cache):
    result = gpu.candidates_per_hour(2, device="cpu", cache=tiny_cache, per_worker=1, steps=2, batch=2)
    assert result["workers"] == 2 and result["candidates"] == 2 and result["evaluated"] == 2
    assert result["per_hour"] > 0 and 0 < result["median_candidate_s"] < result["wall_s"] + 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="the section runs for real where there is a GPU")
def test_without_cuda_the_section_is_one_line_saying_it_was_skipped():
    text, data = gpu.run(quick=True)
    assert data == {"skipped": "no CUDA GPU"}
    assert [line for line in text.splitlines() if line.strip()] == [
        "## GPU", f"Skipped: no CUDA GPU on this machine (torch {torch.__version__}); run `make bench` on a GPU machine for this section."]
