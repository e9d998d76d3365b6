from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from videomodels.data.cli import main, register


def test_synth_prepare_info_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "motion"
    assert main(["synth", str(out), "--clips-per-class", "2", "--frames", "8", "--size", "32", "--seed", "3"]) == 0
    assert "Wrote 20 mp4" in capsys.readouterr().out
    (out / "still" / "broken.mp4").write_text("not a video")

    cache = tmp_path / "cache"
    args = ["prepare", str(out), "--frames", "8", "--size", "32", "--flow", "--out", str(cache), "--val-fraction", "0.5"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "Prepared 20 clip(s)" in printed
    assert "train 10, val 10" in printed
    assert "move_left" in printed and "zoom_out" in printed
    assert "broken.mp4" in printed and "not a readable video" in printed

    assert main(args) == 0
    assert "Reused existing cache" in capsys.readouterr().out
    assert main(args + ["--force", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["reused"] is False and report["num_prepared"] == 20 and len(report["bad_files"]) == 1

    assert main(["info", str(cache)]) == 0
    printed = capsys.readouterr().out
    assert "items: 20" in printed and "opencv-dis" in printed and "move_up: 2" in printed and "broken.mp4" in printed
    assert main(["info", str(cache), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["class_counts"]["still"] == 2 and summary["split_counts"] == {"train": 10, "val": 10}


def test_missing_source_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no_such_dataset"
    code = main(["prepare", str(missing), "--frames", "4", "--size", "16", "--out", str(tmp_path / "c")])
    captured = capsys.readouterr()
    assert code == 2
    assert str(missing) in captured.err and "does not exist" in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert not (tmp_path / "c").exists()


def test_nothing_prepared_lists_bad_files_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "src" / "walk").mkdir(parents=True)
    (tmp_path / "src" / "walk" / "empty.mp4").write_bytes(b"")
    code = main(["prepare", str(tmp_path / "src"), "--frames", "4", "--size", "16", "--out", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 2
    assert "empty.mp4: file is empty" in err and "nothing was prepared" in err


def test_user_mistakes_exit_2_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(tmp_path)]) == 2
    assert "not a clip cache" in capsys.readouterr().err
    assert main(["prepare", str(tmp_path), "--frames", "0", "--size", "16", "--out", str(tmp_path / "c")]) == 2
    assert "positive integer" in capsys.readouterr().err
    assert main(["synth", str(tmp_path / "s"), "--clips-per-class", "1", "--size", "33"]) == 2
    assert "even" in capsys.readouterr().err
    assert main([]) == 2


def test_register_mounts_data_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="videomodels")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["data", "info", str(tmp_path / "nope")])
    assert args.func(args) == 2
    assert "does not exist" in capsys.readouterr().err
