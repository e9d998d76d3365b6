"""A search's device options on the CPU (issue 17): the latency device recorded on every
candidate, settings reaching the training, CUDA asked for where there is none, and a
candidate that runs out of GPU memory (raised on purpose): retried once at half the batch,
else failed with the reason."""
from __future__ import annotations

import json
import random

import pytest
import torch

from archsearch import evaluate as evaluation
from archsearch.cli import main
from archsearch.config import ConfigError, SearchConfig
from archsearch.evaluate import EvalBudget, evaluate_candidate
from archsearch.spaces import SpaceConfig, make_space

TINY = ["--population", "2", "--rounds", "0", "--low-steps", "2", "--high-steps", "0", "--batch-size", "8", "--seed", "1"]
OOM = "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 139.8 GiB total capacity)"


@pytest.fixture
def spec():
    return make_space("tvn", SpaceConfig(num_classes=4, frames=8, size=32)).sample(random.Random(0)).to_dict()


class OutOfMemoryAt:
    """A training callback that runs out of GPU memory, on purpose, at the given batch sizes."""

    def __init__(self, *batch_sizes: int):
        self.batch_sizes = set(batch_sizes)
        self.started: list[int] = []
        self.info: dict | None = None

    def on_train_start(self, info):
        self.info = info
        size = info["config"]["batch_size"]
        self.started.append(size)
        if size in self.batch_sizes:
            raise torch.cuda.OutOfMemoryError(OOM)


def test_a_candidate_out_of_gpu_memory_trains_again_at_half_the_batch(motion_cache, tmp_path, spec):
    watch = OutOfMemoryAt(8)
    result = evaluate_candidate(spec, str(motion_cache), EvalBudget(low_steps=2, high_steps=0, batch_size=8), 0,
                                out_dir=tmp_path / "c", watchers=[watch])
    assert watch.started == [8, 4]
    assert result["status"] == "evaluated" and result["metrics"]["batch_size"] == 4
    assert result["reason"].startswith("out of GPU memory in training at batch 8 (CUDA out of memory.")
    assert result["reason"].endswith("trained at batch 4")


def test_a_candidate_out_of_memory_twice_fails_with_the_reason_and_is_not_retried_again(motion_cache, tmp_path, spec):
    watch = OutOfMemoryAt(8, 4, 2, 1)
    result = evaluate_candidate(spec, str(motion_cache), EvalBudget(low_steps=2, high_steps=0, batch_size=8), 0,
                                out_dir=tmp_path / "c", watchers=[watch])
    assert watch.started == [8, 4]  # once more, never forever
    assert result["status"] == "failed"
    assert result["reason"].startswith("out of GPU memory in training at batch 8, and again at batch 4 (CUDA out of memory.")
    assert result["latency_ms"] > 0 and result["latency_device"] == "cpu"


def test_the_longer_training_out_of_memory_keeps_the_smaller_batch_and_its_own_retry(motion_cache, tmp_path, spec):
    watch = OutOfMemoryAt(8, 2)  # low: 8 fails, 4 trains; high: 4 is fine
    result = evaluate_candidate(spec, str(motion_cache), EvalBudget(low_steps=2, high_steps=4, batch_size=8), 0,
                                out_dir=tmp_path / "c", watchers=[watch], promote_threshold=float("-inf"))
    assert watch.started == [8, 4, 4] and result["fidelity"] == "high" and result["metrics"]["batch_size"] == 4
    watch = OutOfMemoryAt(8, 4, 2)  # low: 8 fails, 4 fails
    failed = evaluate_candidate(spec, str(motion_cache), EvalBudget(low_steps=2, high_steps=4, batch_size=8), 0,
                                out_dir=tmp_path / "d", watchers=[watch], promote_threshold=float("-inf"))
    assert failed["status"] == "failed" and watch.started == [8, 4]


def test_out_of_memory_while_timing_latency_fails_the_candidate(motion_cache, tmp_path, spec, monkeypatch):
    def no_memory(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError(OOM)

    monkeypatch.setattr(evaluation, "measure_candidate_latency", no_memory)
    result = evaluate_candidate(spec, str(motion_cache), EvalBudget(low_steps=2, high_steps=0), 0, out_dir=tmp_path / "c")
    assert result["status"] == "failed" and result["reason"].startswith("out of GPU memory measuring latency at batch 1")


def test_other_errors_are_not_taken_for_out_of_memory(motion_cache, tmp_path, spec):
    class Broken:
        def on_train_start(self, info):
            raise RuntimeError("cuDNN error: CUDNN_STATUS_NOT_SUPPORTED")

    with pytest.raises(RuntimeError, match="NOT_SUPPORTED"):
        evaluate_candidate(spec, str(motion_cache), EvalBudget(low_steps=2, high_steps=0), 0, out_dir=tmp_path / "c",
                           watchers=[Broken()])


def test_the_search_settings_reach_the_training(motion_cache, tmp_path, spec):
    watch = OutOfMemoryAt()
    budget = EvalBudget.from_config(SearchConfig(family="tvn", low_steps=2, high_steps=0, batch_size=8, deterministic=True,
                                                 precision="bf16"))
    result = evaluate_candidate(spec, str(motion_cache), budget, 0, out_dir=tmp_path / "c", watchers=[watch])
    assert result["status"] == "evaluated" and "reason" not in result
    assert watch.info["config"]["deterministic"] is True and watch.info["runtime"]["precision"] == "bf16"
    assert watch.info["config"]["clip_memo"] is True and watch.info["config"]["max_evals"] == evaluation.VAL_PASSES
    assert result["latency_device"] == "cpu" and result["latency_hardware"] == "cpu"


def test_every_candidate_records_where_its_latency_was_measured(motion_cache, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--family", "tvn", "--data", str(motion_cache), "--out", str(out), *TINY, "--json"]) == 0
    state = json.loads((out / "results.json").read_text())
    assert state["latency_device"] == "cpu" and state["config"]["latency_device"] == "cpu"
    assert state["candidates"] and all(c["latency_device"] == "cpu" and c["latency_ms"] > 0 for c in state["candidates"])
    assert json.loads(capsys.readouterr().out)["latency_device"] == "cpu"


def test_device_settings_are_checked(motion_cache, tmp_path, capsys):
    with pytest.raises(ConfigError, match="latency_device: must be one of cpu, cuda"):
        SearchConfig(family="tvn", latency_device="tpu").validate()
    with pytest.raises(ConfigError, match="precision: must be one of fp32, bf16, fp16"):
        SearchConfig(family="tvn", precision="fp8").validate()
    with pytest.raises(ConfigError, match="deterministic: must be true or false"):
        SearchConfig(family="tvn", deterministic="yes").validate()
    from videomodels.train.latency import LATENCY_DEVICES
    from videomodels.train.runtime import PRECISIONS

    from archsearch import config

    assert config.LATENCY_DEVICES == LATENCY_DEVICES and config.PRECISIONS == PRECISIONS
    if not torch.cuda.is_available():
        out = tmp_path / "gpu"
        assert main(["run", "--family", "tvn", "--data", str(motion_cache), "--out", str(out), *TINY,
                     "--latency-device", "cuda"]) == 2
        assert "--latency-device cuda: this machine has no CUDA GPU" in capsys.readouterr().err
        assert not (out / "results.json").exists()
        with pytest.raises(Exception, match="no CUDA GPU"):  # a worker without a GPU says so too
            evaluate_candidate(make_space("tvn", SpaceConfig(num_classes=4, frames=8, size=32)).sample(random.Random(0)).to_dict(),
                               str(motion_cache), EvalBudget(low_steps=2, high_steps=0, latency_device="cuda"), 0,
                               out_dir=tmp_path / "c")
