"""``python -m videomodels.export.job`` with ``{"format": "checkpoint"}``: the training checkpoint re-saved as
weights only with its spec, class names and metadata, loaded back with ``torch.load(weights_only=True)``
before it counts; stages in order; a broken source or an unknown format ends with {"error"} and exit 2,
and writes no file."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[3]


def run(job: dict) -> tuple[int, list[dict]]:
    done = subprocess.run([sys.executable, "-m", "videomodels.export.job"], input=json.dumps(job), capture_output=True, text=True,
                          cwd=ROOT, timeout=600)
    return done.returncode, [json.loads(line[len("@@export "):]) for line in done.stdout.splitlines() if line.startswith("@@export ")]


def test_a_checkpoint_export_is_weights_only_verified_and_holds_the_trained_weights(trained_run, tmp_path):
    out = tmp_path / "portable.pt"
    code, messages = run({"format": "checkpoint", "checkpoint": str(trained_run / "checkpoint.pt"), "out": str(out),
                          "class_names": None, "metadata": {"evaluation": 7}})
    assert code == 0, messages
    stages = [m["stage"] for m in messages if "stage" in m]
    assert stages == ["loading the checkpoint", "rebuilding the network and writing its weights", "loading it back with weights_only=True",
                      "done"]
    fractions = [m["progress"] for m in messages if "progress" in m]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    done = messages[-1]["done"]
    portable = torch.load(out, weights_only=True)
    original = torch.load(trained_run / "checkpoint.pt", weights_only=True)
    assert done["verified"] == "torch.load(weights_only=True)" and done["tensors"] == len(portable["state_dict"]) > 0
    assert done["params"] == sum(t.numel() for t in portable["state_dict"].values())
    assert portable["metadata"]["evaluation"] == 7 and portable["spec"] == original["spec"]
    for name, tensor in original["state_dict"].items():  # the trained weights, not a fresh network's
        assert torch.equal(portable["state_dict"][name], tensor), name


def test_a_broken_source_or_an_unknown_format_is_an_error_and_writes_nothing(trained_run, tmp_path):
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    code, messages = run({"format": "checkpoint", "checkpoint": str(tmp_path / "broken.pt"), "out": str(tmp_path / "never.pt")})
    assert code == 2 and "error" in messages[-1] and not (tmp_path / "never.pt").exists()
    code, messages = run({"format": "pickle", "checkpoint": str(trained_run / "checkpoint.pt"), "out": str(tmp_path / "never.pt")})
    assert code == 2 and messages[-1] == {"error": "bad job: unknown format 'pickle'"} and not (tmp_path / "never.pt").exists()
