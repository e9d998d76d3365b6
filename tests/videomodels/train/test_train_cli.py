"""The `train` command: JSON output, raw-source preparation and user mistakes (exit 2)."""
import argparse
import json

import pytest

from videomodels.train.cli import main, register

FAST = ["--threads", "1", "--device", "cpu", "--batch-size", "4"]


@pytest.fixture
def micro_spec_file(micro_spec_dict, tmp_path):
    path = tmp_path / "micro.json"
    path.write_text(json.dumps(micro_spec_dict))
    return path


def test_json_run_on_cache(micro_spec_file, tiny_cache, tmp_path, capsys):
    code = main([str(micro_spec_file), "--data", str(tiny_cache), "--out", str(tmp_path / "run"), "--steps", "2", "--json", *FAST])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)
    assert result["steps"] == 2 and result["primary_metric"] == "top1"
    assert 0.0 <= result["score"] <= 1.0
    assert (tmp_path / "run" / "checkpoint.pt").is_file()


def test_raw_source_is_prepared_in_run_folder_with_overrides(micro_spec_file, tiny_videos, tmp_path, capsys):
    run = tmp_path / "run"
    code = main([str(micro_spec_file), "--data", str(tiny_videos), "--out", str(run), "--steps", "1",
                 "--frames", "3", "--size", "24", *FAST])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    index = json.loads((run / "cache" / "index.json").read_text())
    assert (index["frames"], index["size"]) == (3, 24)  # frames x stride and size of the overridden spec
    assert "val top-1" in captured.out and "latency" in captured.out and "params" in captured.out
    spec = json.loads((run / "spec.json").read_text())
    assert spec["inputs"][0]["frames"] == 3 and spec["inputs"][0]["size"] == 24


def _fails(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err


def test_missing_data_path_exits_2_naming_it(micro_spec_file, tmp_path, capsys):
    missing = tmp_path / "no-such-dataset"
    code, err = _fails([str(micro_spec_file), "--data", str(missing), "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and str(missing) in err


def test_unknown_preset_exits_2(tiny_cache, tmp_path, capsys):
    code, err = _fails(["tvn-99", "--data", str(tiny_cache), "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and "tvn-99" in err and "tvn-1" in err


def test_invalid_spec_file_exits_2(micro_spec_dict, tiny_cache, tmp_path, capsys):
    micro_spec_dict["nodes"][0]["attrs"]["filters"] = -3
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(micro_spec_dict))
    code, err = _fails([str(bad), "--data", str(tiny_cache), "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and "bad.json" in err and "filters" in err


def test_malformed_json_spec_exits_2(tiny_cache, tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    code, err = _fails([str(broken), "--data", str(tiny_cache), "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and "broken.json" in err and "JSON" in err


def test_register_mounts_train_subcommand():
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["train", "tvn-1", "--data", "d", "--out", "o", "--steps", "5"])
    assert args.command == "train" and args.steps == 5 and callable(args.func)


def test_device_options_reach_the_run_and_cuda_latency_without_a_gpu_is_refused(micro_spec_file, tiny_cache, tmp_path, capsys):
    import torch

    code = main([str(micro_spec_file), "--data", str(tiny_cache), "--out", str(tmp_path / "run"), "--steps", "2", "--json",
                 "--deterministic", "--precision", "bf16", *FAST])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)
    assert result["config"]["deterministic"] is True and result["runtime"]["precision"] == "bf16"
    assert result["latency"]["device"] == "cpu"
    if not torch.cuda.is_available():
        code = main([str(micro_spec_file), "--data", str(tiny_cache), "--out", str(tmp_path / "gpu"), "--steps", "2",
                     "--latency-device", "cuda", *FAST])
        assert code == 2 and "no CUDA GPU" in capsys.readouterr().err
        assert not (tmp_path / "gpu" / "checkpoint.pt").exists()  # refused before training
