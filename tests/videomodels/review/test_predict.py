"""`python -m videomodels predict` on real video files: checkpoints, ONNX, flow models, bad files."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from videomodels.cli import main as cli_main
from videomodels.data import ClipDataset, load_cache
from videomodels.export import export_onnx
from videomodels.preprocessing import check_preprocessing
from videomodels.train.checkpoint import load_checkpoint

from review_helpers import CLASSES

ROOT = Path(__file__).resolve().parents[3]


def _expected_from_cache(run: Path, cache_dir: Path) -> dict[str, tuple[str, float]]:
    """What the training pipeline (clip cache, ClipDataset) makes of every val video."""
    model, meta = load_checkpoint(run / "checkpoint.pt")
    _, _, streams = check_preprocessing(meta["preprocessing"])
    dataset = ClipDataset(load_cache(cache_dir), "val", streams, train=False, seed=0)
    expected = {}
    for index, item in enumerate(dataset.item_indices):
        clips, _ = dataset[index]
        with torch.no_grad():
            probs = torch.softmax(model({k: v[None] for k, v in clips.items()}), dim=-1)[0]
        expected[dataset.cache.items[int(item)]["path"]] = (meta["class_names"][int(probs.argmax())], float(probs.max()))
    return expected


def _parse(out: str) -> dict[str, list]:
    return {row["file"]: row for row in map(json.loads, out.strip().splitlines())}


@pytest.mark.parametrize("flow", [False, True])
def test_train_then_predict_matches_the_training_pipeline(flow, request, capsys):
    run = request.getfixturevalue("trained_flow_run" if flow else "trained_run")
    cache_dir = request.getfixturevalue("flow_cache") if flow else run / "cache"
    expected = _expected_from_cache(run, cache_dir)
    assert cli_main(["predict", str(run / "checkpoint.pt"), *expected, "--json", "--threads", "1"]) == 0
    rows = _parse(capsys.readouterr().out)
    assert rows.keys() == expected.keys()
    for path, (name, score) in expected.items():
        assert rows[path]["class"] == name
        assert rows[path]["score"] == pytest.approx(score, abs=1e-6)


def test_text_output_one_line_per_file_and_top_k(trained_run, video_files, capsys):
    files = [str(p) for p in video_files[:4]]
    assert cli_main(["predict", str(trained_run / "checkpoint.pt"), *files, "--top", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4
    for path, line in zip(files, lines):
        assert line.startswith(f"{path}: ")
        best, score = line[len(path) + 2:].split()[:2]
        assert best in CLASSES and 0.0 < float(score) <= 1.0
        assert line.count("(") == 1  # the runner-up


def test_unreadable_files_are_named_with_the_reason_and_the_rest_go_on(trained_run, video_files, broken_files, capsys):
    good = [str(p) for p in video_files[:2]]
    bad = [str(p) for p in broken_files.values()]
    args = [good[0], *bad, good[1]]
    assert cli_main(["predict", str(trained_run / "checkpoint.pt"), *args]) == 0
    captured = capsys.readouterr()
    assert [line.split(": ")[0] for line in captured.out.strip().splitlines()] == good
    errors = captured.err.strip().splitlines()
    assert len(errors) == len(bad)
    for path, line in zip(bad, errors):
        assert line.startswith(f"error: {path}: ") and len(line) > len(f"error: {path}: ") + 5
    assert "does not exist" in errors[bad.index(str(broken_files["missing"]))]
    assert "empty" in errors[bad.index(str(broken_files["empty"]))]


def test_exit_code_is_non_zero_only_when_nothing_was_classified(trained_run, broken_files, capsys):
    assert cli_main(["predict", str(trained_run / "checkpoint.pt"), *map(str, broken_files.values())]) == 1
    assert "none of the 4 file(s) could be classified" in capsys.readouterr().err


def test_predict_with_the_exported_onnx_agrees_with_the_checkpoint(trained_run, video_files, tmp_path, capsys):
    report = export_onnx(trained_run / "checkpoint.pt", tmp_path / "model.onnx")
    files = [str(p) for p in video_files]
    assert cli_main(["predict", str(trained_run / "checkpoint.pt"), *files, "--json"]) == 0
    from_checkpoint = _parse(capsys.readouterr().out)
    assert cli_main(["predict", report.path, *files, "--json"]) == 0
    from_onnx = _parse(capsys.readouterr().out)
    for path in files:
        assert from_onnx[path]["class"] == from_checkpoint[path]["class"]
        assert from_onnx[path]["score"] == pytest.approx(from_checkpoint[path]["score"], rel=1e-3, abs=1e-5)


def test_an_unusable_model_file_is_a_user_error(tmp_path, video_files, capsys):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"PK\x03\x04 definitely not a checkpoint")
    assert cli_main(["predict", str(junk), str(video_files[0])]) == 2
    assert "not a loadable checkpoint" in capsys.readouterr().err
    assert cli_main(["predict", str(tmp_path / "missing.onnx"), str(video_files[0])]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_predict_runs_as_a_command(trained_run, video_files):
    result = subprocess.run([sys.executable, "-m", "videomodels", "predict", str(trained_run / "checkpoint.pt"), str(video_files[0]),
                             "--threads", "1"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{video_files[0]}: ")
