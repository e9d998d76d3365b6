import json

from videomodels.cli import main


def test_presets_lists_every_preset(capsys):
    assert main(["presets", "--json"]) == 0
    names = {row["name"] for row in json.loads(capsys.readouterr().out)}
    assert {"tvn-1", "evanet-2", "assemblenet-plus"} <= names


def test_describe_json_has_the_documented_fields(capsys):
    assert main(["describe", "tvn-mobile-2", "--size", "64", "--latency", "--runs", "2", "--threads", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["params"] > 1_000_000 and data["macs"] > 0
    assert data["output_shape"] == [1, 157]
    assert data["latency_ms"] > 0 and data["threads"] == 1


def test_describe_without_latency_reports_null_latency(capsys, tmp_path, tiny_tvn):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(tiny_tvn))
    assert main(["describe", str(path), "--frames", "8", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["latency_ms"] is None and data["inputs"]["rgb"] == [1, 3, 8, 32, 32]


def test_validate_lists_problems_with_locations(capsys, tmp_path, tiny_tvn):
    tiny_tvn["nodes"][0]["attrs"]["filters"] = -3
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(tiny_tvn))
    assert main(["validate", str(path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert {"location": "nodes[0].attrs.filters", "message": "must be at least 1, got -3"} in data["problems"]


def test_user_mistakes_exit_2_with_a_clear_message(capsys, tmp_path):
    assert main(["describe", str(tmp_path / "missing.json")]) == 2
    assert "missing.json" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{]")
    assert main(["import", str(broken), "--from", "tvn"]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"structure": [[0, [1], 8, 1, 1, 0]]}))
    assert main(["import", str(wrong), "--from", "assemblenet"]) == 2
    assert "no stem" in capsys.readouterr().err


def test_budget_flags_refuse_big_specs(capsys):
    assert main(["describe", "tvn-2", "--max-params", "1000"]) == 2
    assert "parameter budget exceeded" in capsys.readouterr().err
