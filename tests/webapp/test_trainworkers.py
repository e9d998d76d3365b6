"""The training workers a machine starts (webapp.trainworkers): N per visible GPU from the
environment, each pinned to its GPU with a memory share; one on the CPU without a GPU.
`make run`, the Procfile and the README's command all go through it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from webapp.trainworkers import DEFAULT_PER_GPU, LaunchError, plan, visible_gpus, workers_per_gpu

ROOT = Path(__file__).resolve().parents[2]


def no_probe():
    raise AssertionError("nvidia-smi must not be asked when CUDA_VISIBLE_DEVICES says which GPUs")


def test_n_workers_per_visible_gpu_from_the_environment_each_pinned_with_a_memory_share():
    env = {"CUDA_VISIBLE_DEVICES": "0,2", "STUDIO_TRAIN_WORKERS_PER_GPU": "3"}
    workers = plan(env)
    assert [w.name for w in workers] == [f"train-gpu{g}-{n}@%h" for g in (0, 2) for n in (1, 2, 3)]
    assert [w.env["CUDA_VISIBLE_DEVICES"] for w in workers] == ["0"] * 3 + ["2"] * 3
    assert {w.env["STUDIO_GPU_MEMORY_FRACTION"] for w in workers} == {"0.300"}  # 90% of the card split three ways
    assert all(w.queues == ["train"] for w in workers)
    command = workers[0].command("python")
    assert command[:5] == ["python", "-m", "celery", "-A", "webapp"] and "--pool" in command
    assert command[command.index("--pool") + 1] == "solo" and command[command.index("-Q") + 1] == "train"
    # The default is DEFAULT_PER_GPU; an explicit share wins; make run adds a default-queue worker without a GPU.
    assert len(plan({"CUDA_VISIBLE_DEVICES": "1"})) == DEFAULT_PER_GPU == workers_per_gpu({})
    shared = plan({"CUDA_VISIBLE_DEVICES": "1", "STUDIO_TRAIN_WORKERS_PER_GPU": "2", "STUDIO_GPU_MEMORY_FRACTION": "0.2"},
                  with_default_queue=True)
    assert [(w.name, w.queues, w.env.get("CUDA_VISIBLE_DEVICES"), w.env.get("STUDIO_GPU_MEMORY_FRACTION")) for w in shared] == [
        ("studio@%h", ["default"], "", None), ("train-gpu1-1@%h", ["train"], "1", "0.2"), ("train-gpu1-2@%h", ["train"], "1", "0.2")]


def test_without_a_gpu_one_worker_trains_on_the_cpu():
    assert [(w.name, w.queues) for w in plan({"CUDA_VISIBLE_DEVICES": ""}, with_default_queue=True)] == [
        ("studio@%h", ["default", "train"])]  # make run on a CPU machine: one worker, as before
    assert [(w.name, w.queues) for w in plan({}, gpus=[])] == [("train-cpu@%h", ["train"])]
    assert plan({"CUDA_VISIBLE_DEVICES": "-1", "STUDIO_TRAIN_WORKERS_PER_GPU": "8"})[0].env == {"CUDA_VISIBLE_DEVICES": ""}


def test_which_gpus_are_visible():
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "3, 1"}, probe=no_probe) == ["3", "1"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "0,-1,2"}, probe=no_probe) == ["0"]  # CUDA stops at the first invalid id
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "GPU-8f2c"}, probe=no_probe) == ["GPU-8f2c"]
    assert visible_gpus({}, probe=lambda: ["0", "1"]) == ["0", "1"]
    assert [w.name for w in plan({"CUDA_VISIBLE_DEVICES": "GPU-8f2c", "STUDIO_TRAIN_WORKERS_PER_GPU": "1"})] == ["train-gpu0-1@%h"]


@pytest.mark.parametrize("value", ["0", "x", "65", "-2", "1.5"])
def test_a_bad_worker_count_or_share_is_refused_with_its_name(value):
    with pytest.raises(LaunchError, match="STUDIO_TRAIN_WORKERS_PER_GPU must be a whole number from 1 to 64"):
        plan({"CUDA_VISIBLE_DEVICES": "0", "STUDIO_TRAIN_WORKERS_PER_GPU": value})
    with pytest.raises(LaunchError, match="STUDIO_GPU_MEMORY_FRACTION must be a number in"):
        plan({"CUDA_VISIBLE_DEVICES": "0", "STUDIO_GPU_MEMORY_FRACTION": "1.5"})


def test_the_documented_commands_start_workers_through_the_plan():
    procfile = (ROOT / "Procfile").read_text()
    assert "train: python -m webapp.trainworkers" in procfile
    assert "-Q default " in procfile.split("worker:")[1].splitlines()[0]  # the other worker serves only the default queue
    assert "from webapp.trainworkers import" in (ROOT / "scripts" / "run_studio.py").read_text()
    readme = (ROOT / "README.md").read_text()
    for text in ("python -m webapp.trainworkers", "STUDIO_TRAIN_WORKERS_PER_GPU", "--deterministic", "--latency-device",
                 "--precision"):
        assert text in readme, text
    env = {"PATH": "/usr/bin:/bin", "CUDA_VISIBLE_DEVICES": "0,1", "STUDIO_TRAIN_WORKERS_PER_GPU": "2"}
    dry = subprocess.run([sys.executable, "-m", "webapp.trainworkers", "--dry-run"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    assert "4 training workers: 2 on each of GPU 0, 1" in dry.stdout and dry.stdout.count("-Q train") == 4
    assert "import torch" not in (ROOT / "webapp" / "trainworkers.py").read_text()  # the launcher never touches CUDA
