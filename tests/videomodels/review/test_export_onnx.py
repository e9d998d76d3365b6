"""ONNX export: verified in onnxruntime at two batch sizes, metadata for predict, refusals that name the op."""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from videomodels import build_model, with_input_size
from videomodels.export import ExportError, ExportRefused, export_onnx, load_exported, load_onnx
from videomodels.preprocessing import batch_clips, clips_from_video
from videomodels.presets import get_preset

from review_helpers import CLASSES, micro_spec


def test_trained_checkpoint_exports_within_tolerance_on_real_clips(trained_run, video_files, tmp_path):
    loaded = load_exported(trained_run / "checkpoint.pt")
    clips = batch_clips([clips_from_video(path, loaded.preprocessing) for path in video_files[:3]])
    report = export_onnx(trained_run / "checkpoint.pt", tmp_path / "model.onnx", sample_inputs=clips, batch_sizes=(1, 3))
    assert report.opset >= 18 and report.samples == "clips"
    assert report.input_names == ["rgb"] and set(report.max_abs_diff_by_batch) == {"1", "3"}
    assert 0 <= report.max_abs_diff <= 1e-3

    # Independently of the report: onnxruntime against PyTorch at two batch sizes.
    session = onnxruntime.InferenceSession(report.path, providers=["CPUExecutionProvider"])
    for batch in (2, 5):
        inputs = {"rgb": torch.randn(batch, 3, 4, 16, 16, generator=torch.Generator().manual_seed(batch))}
        with torch.no_grad():
            expected = loaded.model(inputs).numpy()
        got = session.run(["logits"], {"rgb": inputs["rgb"].numpy()})[0]
        np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-5)

    opened = load_onnx(report.path)
    assert opened.class_names == sorted(CLASSES)
    assert opened.preprocessing == loaded.preprocessing
    assert opened.spec.to_dict()["nodes"] == loaded.spec.to_dict()["nodes"]
    metadata = {p.key for p in onnx.load(report.path).metadata_props}
    assert {"videomodels.spec", "videomodels.class_names", "videomodels.preprocessing"} <= metadata


def test_multi_input_network_exports_one_graph_input_per_stream(tmp_path):
    spec = with_input_size(get_preset("assemblenet-small"), frames=4, size=16)
    torch.manual_seed(0)
    model = build_model(spec, num_classes=5).eval()
    report = export_onnx(model, tmp_path / "asn.onnx", batch_sizes=(1, 2))
    assert report.input_names == [s.id for s in spec.inputs] and len(report.input_names) == 2
    assert report.samples == "random" and report.max_abs_diff < 1e-3
    session = onnxruntime.InferenceSession(report.path, providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == report.input_names
    assert session.run(None, {s.id: np.zeros((3, s.channels, 4, 16, 16), np.float32) for s in spec.inputs})[0].shape == (3, 5)


class _FixedPool(nn.Module):
    """Non-global adaptive pooling: ONNX has no operator for it."""

    def __init__(self, block: nn.Module):
        super().__init__()
        self.block = block

    def forward(self, x):
        return F.adaptive_avg_pool3d(self.block(x), (1, 3, 3))


def test_a_model_with_an_op_onnx_lacks_is_refused_naming_the_op(tmp_path):
    model = build_model(micro_spec(), num_classes=3).eval()
    model.blocks["b1"] = _FixedPool(model.blocks["b1"])  # 4x4 -> 3x3: not a whole-number window
    with torch.no_grad():
        assert model({"rgb": torch.zeros(1, 3, 4, 16, 16)}).shape == (1, 3)  # PyTorch itself runs it
    with pytest.raises(ExportRefused) as refused:
        export_onnx(model, tmp_path / "bad.onnx")
    error = refused.value
    assert error.op == "aten._adaptive_avg_pool3d.default"
    assert error.stage == "translate" and "adaptive pooling" in error.reason
    assert error.to_dict()["op"] == error.op and error.op in str(error)


def test_foreign_and_corrupt_onnx_files_are_refused(tmp_path):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x00\x01 not a model")
    with pytest.raises(ExportError, match="not a loadable ONNX model"):
        load_onnx(garbage)
    plain = tmp_path / "plain.onnx"
    torch.onnx.export(nn.Linear(3, 2).eval(), (torch.randn(1, 3),), str(plain), input_names=["x"], output_names=["logits"])
    with pytest.raises(ExportError, match="without videomodels metadata"):
        load_onnx(plain)
    with pytest.raises(ExportError, match="does not exist"):
        load_onnx(tmp_path / "nothing.onnx")


def test_bad_arguments(tmp_path):
    model = build_model(micro_spec(), num_classes=3)
    with pytest.raises(ExportError, match="batch_sizes"):
        export_onnx(model, tmp_path / "m.onnx", batch_sizes=(0,))
    with pytest.raises(ExportError, match="lacks streams"):
        export_onnx(model, tmp_path / "m.onnx", sample_inputs={"flow": torch.zeros(1, 2, 4, 16, 16)})


class _PythonState(nn.Module):
    """Python-side state: traced once as a constant, so the ONNX graph cannot follow it."""

    def __init__(self, block: nn.Module):
        super().__init__()
        self.block, self.calls = block, 0

    def forward(self, x):
        self.calls += 1
        return self.block(x) + float(self.calls)


def test_an_export_that_disagrees_with_pytorch_is_refused(tmp_path):
    model = build_model(micro_spec(), num_classes=3).eval()
    model.blocks["b1"] = _PythonState(model.blocks["b1"])
    with pytest.raises(ExportRefused) as refused:
        export_onnx(model, tmp_path / "drift.onnx")
    assert refused.value.stage == "verify" and "differs from PyTorch at batch" in refused.value.reason


def test_progress_is_told_and_the_job_runner_speaks_its_protocol(trained_run, tmp_path):
    """export_onnx reports its stages in order; ``python -m videomodels.export.job`` (a process per export)
    ends with {"done": report}, or {"error"} and exit status 2 for a checkpoint that is not one."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    steps = []
    export_onnx(trained_run / "checkpoint.pt", tmp_path / "direct.onnx", progress=lambda stage, f: steps.append((stage, f)))
    fractions = [f for _, f in steps]
    assert steps[0][0] == "exporting with torch.onnx" and fractions == sorted(fractions) and fractions[-1] < 1
    assert any("onnxruntime" in stage for stage, _ in steps)

    root = Path(__file__).resolve().parents[3]

    def run(job):
        done = subprocess.run([sys.executable, "-m", "videomodels.export.job"], input=json.dumps(job), capture_output=True,
                              text=True, cwd=root, timeout=600)
        return done.returncode, [json.loads(line[len("@@export "):]) for line in done.stdout.splitlines() if line.startswith("@@export ")]

    code, messages = run({"checkpoint": str(trained_run / "checkpoint.pt"), "out": str(tmp_path / "job.onnx")})
    assert code == 0 and messages[-1]["done"]["file_bytes"] == (tmp_path / "job.onnx").stat().st_size
    assert [m["progress"] for m in messages if "progress" in m][-1] == 1.0
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    code, messages = run({"checkpoint": str(tmp_path / "broken.pt"), "out": str(tmp_path / "never.onnx")})
    assert code == 2 and "error" in messages[-1] and not (tmp_path / "never.onnx").exists()
