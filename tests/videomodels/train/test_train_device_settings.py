"""How a run uses its device (issue 17), checked on the CPU: CUDA settings chosen per run
(autotuning and TF32 on, determinism opt-in), mixed precision, fewer val passes, the clip memo
on the device, the GPU turn lock, latency on a missing GPU, and the out-of-memory helpers."""
from __future__ import annotations

import threading
import time

import pytest
import torch

from videomodels.train import TrainCallback, TrainConfig, TrainError, train_and_evaluate
from videomodels.train import runtime
from videomodels.train.clipmemo import ClipMemo
from videomodels.train.gpulock import DeviceLock, physical_gpu
from videomodels.train.runtime import AUTOTUNE_MIN_STEPS, applied, choose_settings

from conftest import fast_config


# ---------------------------------------------------------------------- the choice of settings
def test_cuda_runs_autotune_with_tf32_by_default_and_determinism_is_opt_in():
    fast = choose_settings("cuda", total_steps=200)
    assert (fast.cudnn_benchmark, fast.tf32, fast.deterministic, fast.precision) == (True, True, False, "fp32")
    exact = choose_settings("cuda", deterministic=True, total_steps=200)
    assert (exact.cudnn_benchmark, exact.tf32, exact.deterministic) == (False, False, True)
    assert "slower" in exact.note
    # Too few steps to pay for timing every algorithm: chosen per run, and said why.
    short = choose_settings("cuda", total_steps=AUTOTUNE_MIN_STEPS - 1)
    assert not short.cudnn_benchmark and short.tf32 and str(AUTOTUNE_MIN_STEPS) in short.note
    assert choose_settings("cuda", total_steps=3, autotune=True).cudnn_benchmark
    assert not choose_settings("cuda", total_steps=500, autotune=False).cudnn_benchmark
    # The defaults of a run are the fast ones.
    config = TrainConfig()
    assert config.deterministic is False and config.autotune is None and config.precision == "fp32"
    cpu = choose_settings("cpu", total_steps=500)
    assert not cpu.cudnn_benchmark and not cpu.tf32
    with pytest.raises(TrainError, match="precision"):
        choose_settings("cuda", precision="fp8")


def test_settings_set_torch_flags_for_the_run_only():
    cudnn = torch.backends.cudnn
    before = (cudnn.benchmark, cudnn.deterministic, torch.get_float32_matmul_precision())
    with applied(choose_settings("cuda", total_steps=100)):
        assert cudnn.benchmark and not cudnn.deterministic and torch.get_float32_matmul_precision() == "high"
    assert (cudnn.benchmark, cudnn.deterministic, torch.get_float32_matmul_precision()) == before
    with applied(choose_settings("cuda", deterministic=True, total_steps=100)):
        assert cudnn.deterministic and not cudnn.benchmark and torch.get_float32_matmul_precision() == "highest"
    assert (cudnn.benchmark, cudnn.deterministic, torch.get_float32_matmul_precision()) == before


class FlagsAtStart(TrainCallback):
    def on_train_start(self, info):
        self.info = info
        self.flags = (torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic)


def test_a_run_records_its_settings_and_applies_them_while_it_trains(micro_spec, tiny_cache):
    seen = FlagsAtStart()
    result = train_and_evaluate(micro_spec, tiny_cache, fast_config(epochs=1, deterministic=True), callbacks=[seen])
    assert seen.flags == (False, True) and seen.info["runtime"]["deterministic"] is True
    assert result.runtime == seen.info["runtime"] and result.to_dict()["runtime"]["device"] == "cpu"
    assert torch.backends.cudnn.deterministic is False  # restored after the run


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_trains(micro_spec, tiny_cache, precision):
    result = train_and_evaluate(micro_spec, tiny_cache, fast_config(epochs=1, precision=precision, grad_clip=1.0))
    assert result.runtime["precision"] == precision and result.steps == 3
    assert all(torch.isfinite(torch.tensor(loss)) for _, loss in result.loss_curve)
    with pytest.raises(TrainError, match="precision"):
        TrainConfig(precision="half").validate()


def test_max_evals_spreads_the_val_passes_and_keeps_the_last(micro_spec, tiny_cache):
    result = train_and_evaluate(micro_spec, tiny_cache, fast_config(epochs=6, batch_size=12, max_evals=2))
    scored = [h["epoch"] for h in result.history if h["val"] is not None]
    assert scored == [3, 6] and result.metrics["num_samples"] == 8


# ---------------------------------------------------------------------- clips kept on the device
def test_the_clip_memo_gives_the_same_numbers_and_serves_the_next_run(micro_spec, tiny_cache, monkeypatch):
    from videomodels.train import clipmemo

    memo = ClipMemo(64 * 2**20)
    monkeypatch.setattr(clipmemo, "_memo", memo)
    plain = train_and_evaluate(micro_spec, tiny_cache, fast_config(epochs=2))
    first = train_and_evaluate(micro_spec, tiny_cache, fast_config(epochs=2, clip_memo=True))
    misses = memo.misses
    second = train_and_evaluate(micro_spec, tiny_cache, fast_config(epochs=2, clip_memo=True))
    assert plain.loss_curve == first.loss_curve == second.loss_curve and plain.metrics == second.metrics
    assert misses == 12 * 2 + 8 and memo.misses == misses and memo.hits >= misses  # the second run sampled nothing


def test_the_clip_memo_is_capped_and_drops_the_least_recently_used():
    clip = ({"rgb": torch.zeros(1000)}, torch.tensor(1))
    size = 1000 * 4 + 8
    memo = ClipMemo(3 * size)
    for key in "abc":
        memo.put((key,), clip)
    assert memo.get(("a",)) is clip  # a is now the most recently used
    memo.put(("d",), clip)
    assert memo.get(("b",)) is None and memo.get(("a",)) is clip and memo.stats()["bytes"] == 3 * size
    memo.put(("huge",), ({"rgb": torch.zeros(10_000)}, torch.tensor(1)))  # bigger than the whole memo: not kept
    assert memo.get(("huge",)) is None


# ---------------------------------------------------------------------- the GPU turn
def test_a_measurement_waits_for_the_steps_in_flight_and_holds_new_ones_back(tmp_path):
    trainer, measurer, late = (DeviceLock("gpu-7", tmp_path) for _ in range(3))  # three processes' file handles
    events = []
    step_in_flight = threading.Event()

    def step(lock, name, hold):
        with lock.shared():
            events.append(f"{name} starts")
            step_in_flight.set()
            time.sleep(hold)
            events.append(f"{name} ends")

    first = threading.Thread(target=step, args=(trainer, "step 1", 0.3))
    first.start()
    step_in_flight.wait(5)
    with measurer.exclusive() as waited:
        events.append("measure")
        second = threading.Thread(target=step, args=(late, "step 2", 0.0))
        second.start()
        time.sleep(0.2)
        events.append("measured")
    first.join(5)
    second.join(5)
    assert waited >= 0.1
    assert events == ["step 1 starts", "step 1 ends", "measure", "measured", "step 2 starts", "step 2 ends"]
    busy = DeviceLock("gpu-7", tmp_path)
    with trainer.shared():
        with pytest.raises(TimeoutError, match="busy"):
            with busy.exclusive(timeout=0.1):
                pass
    with busy.exclusive(timeout=1):  # free again, and the gate was reopened after the timeout
        pass


def test_locks_are_per_physical_gpu():
    assert physical_gpu(0, {"CUDA_VISIBLE_DEVICES": "3,5"}) == "3"
    assert physical_gpu(1, {"CUDA_VISIBLE_DEVICES": "3,5"}) == "5"
    assert physical_gpu(0, {}) == "0"


# ---------------------------------------------------------------------- latency on a GPU that is not there
@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_latency_on_cuda_without_cuda_is_a_clear_error_before_training(micro_spec, tiny_cache):
    from videomodels.train import measure_model_latency
    from videomodels.graph import build_model

    with pytest.raises(TrainError, match="no CUDA GPU"):
        train_and_evaluate(micro_spec, tiny_cache, fast_config(latency_device="cuda"))
    with pytest.raises(TrainError, match="no CUDA GPU"):
        measure_model_latency(build_model(micro_spec), micro_spec, device="cuda", threads=1)


# ---------------------------------------------------------------------- out of memory
def test_out_of_memory_is_recognised_and_the_share_is_set_once(monkeypatch):
    assert runtime.is_out_of_memory(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert runtime.is_out_of_memory(RuntimeError("CUDA out of memory. Tried to allocate 20 MiB"))
    assert not runtime.is_out_of_memory(RuntimeError("shape mismatch")) and not runtime.is_out_of_memory(ValueError())
    calls = []
    monkeypatch.setattr(runtime, "_memory_share", None)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "set_per_process_memory_fraction", lambda fraction, device: calls.append((fraction, device)))
    assert runtime.limit_gpu_memory(None) is None and calls == []
    assert runtime.limit_gpu_memory(0.225) == 0.225 and runtime.limit_gpu_memory(0.225) == 0.225
    assert calls == [(0.225, 0)]
    monkeypatch.setattr(runtime, "_memory_share", None)
    with pytest.raises(TrainError, match="fraction"):
        runtime.limit_gpu_memory(1.5)


def test_how_often_the_val_split_is_scored_never_changes_the_training(micro_spec_dict, tiny_cache):
    from videomodels.archspec import ArchSpec

    micro_spec_dict["nodes"][-1]["attrs"]["dropout"] = 0.5  # dropout draws from the global generator
    spec = ArchSpec.from_dict(micro_spec_dict)
    every = train_and_evaluate(spec, tiny_cache, fast_config(epochs=4))
    last = train_and_evaluate(spec, tiny_cache, fast_config(epochs=4, max_evals=1))
    assert every.loss_curve == last.loss_curve and every.metrics == last.metrics
    assert sum(h["val"] is not None for h in every.history) == 4 and sum(h["val"] is not None for h in last.history) == 1
