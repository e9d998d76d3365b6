"""``python -m benchmarks.nasbench query``: its JSON, and one clear line for every mistake."""
from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from videomodels import ArchSpec

from benchmarks.nasbench import query
from benchmarks.nasbench.build import TRAINING
from benchmarks.nasbench.data import recipe_commands
from benchmarks.nasbench.space import grid_arch_of
from benchmarks.nasbench.table import load_table


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = query.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_reports_size_seeds_recipe_and_noise(fixture_table_path: Path, capsys) -> None:
    (fixture_table_path.parent / "provenance.json").write_text(json.dumps({"data": {"content_hash": "abc123"}, "rows_planned": 2612,
                                                                            "training": TRAINING}))
    code, out, err = _run(capsys, "--summary", "--json", "--table", str(fixture_table_path))
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["architectures"] == 40 and data["rows"] == 56 and data["grid_architectures"] == 2176 and not data["complete"]
    assert data["seeds"]["architectures_by_seed_count"] == {"1": 32, "3": 8}
    assert data["data"]["content_hash"] == "abc123" and data["data"]["recipe_commands"] == recipe_commands(cache="nasbench-cache")
    assert data["rows_planned"] == 2612 and data["steps"] == [12, 36, 108]
    noise = data["noise"]
    assert noise["architectures_with_several_seeds"] == 8 and noise["test_top1_seed_std"]["median"] > 0
    correlations = noise["rank_correlation_between_fidelities"]
    assert set(correlations) == {"val top-1 at 12 vs 108 steps", "val top-1 at 36 vs 108 steps", "val vs test top-1 at 108 steps"}
    # The made-up curves rise with the architecture's quality, so the fidelities agree (and the closer one more).
    assert 0.3 < correlations["val top-1 at 12 vs 108 steps"]["spearman"] < correlations["val top-1 at 36 vs 108 steps"]["spearman"]
    assert data["latency_pass"] is None  # not run beside this table

    rows = [{"key": "r3d", "baseline": True, "latency_ms": 7.0, "runs": 21, "load": 0.5, "cpu": "Some CPU", "finished": "2026-12-06T03:40:00+00:00"},
            {"key": load_table(fixture_table_path).keys[0], "latency_ms": 0.4, "runs": 21, "load": 0.9, "cpu": "Some CPU",
             "finished": "2026-12-06T03:30:00+00:00"}]
    (fixture_table_path.parent / "latency.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    code, out, _ = _run(capsys, "--summary", "--json", "--table", str(fixture_table_path))
    assert json.loads(out)["latency_pass"] == {"architectures": 1, "baselines": 1, "cpus": ["Some CPU"], "runs": 21, "max_load_average": 0.9,
                                               "first": "2026-12-06T03:30:00+00:00", "last": "2026-12-06T03:40:00+00:00"}


def test_random_rows_carry_spec_data_curves_settings_and_the_command(fixture_table_path: Path, capsys) -> None:
    code, out, _ = _run(capsys, "--random", "3", "--seed", "7", "--json", "--table", str(fixture_table_path))
    rows = json.loads(out)["rows"]
    assert code == 0 and len(rows) == 3 and len({r["key"] for r in rows}) == 3
    again = json.loads(_run(capsys, "--random", "3", "--seed", "7", "--json", "--table", str(fixture_table_path))[1])["rows"]
    assert [r["key"] for r in again] == [r["key"] for r in rows]  # the seed fixes the draw
    table = load_table(fixture_table_path)
    several = next(r for r in json.loads(_run(capsys, "--random", "40", "--json", "--table", str(fixture_table_path))[1])["rows"]
                   if len(r["runs"]) == 3)
    for row in rows + [several]:
        assert grid_arch_of(ArchSpec.from_dict(row["spec"])).key() == row["key"]
        entry = table[row["key"]]
        assert [run["seed"] for run in row["runs"]] == list(entry.seeds)
        for run in row["runs"]:
            assert [p["steps"] for p in run["curve"]] == [12, 36, 108]
            assert run["curve"][-1]["test_top1"] == pytest.approx(entry.test(run["seed"], 2), abs=1e-4)
            words = shlex.split(run["command"])
            assert words[:5] == ["python", "-m", "videomodels", "train", row["spec_file"]]
            flags = dict(zip(words[5::2], words[6::2]))
            assert flags["--data"] == "nasbench-cache" and flags["--steps"] == "108" and flags["--seed"] == str(run["seed"])
            assert float(flags["--lr"]) == TRAINING["lr"] and int(flags["--batch-size"]) == TRAINING["batch_size"]
            assert int(flags["--warmup-steps"]) == TRAINING["warmup_steps"] and flags["--threads"] == "1" and flags["--device"] == "cpu"
        assert row["training"]["steps"] == 108 and row["data"]["recipe_commands"]


def test_key_and_pareto(fixture_table_path: Path, capsys) -> None:
    table = load_table(fixture_table_path)
    key = table.keys[3]
    code, out, _ = _run(capsys, "--key", key, "--json", "--table", str(fixture_table_path))
    assert code == 0 and json.loads(out)["key"] == key
    front = json.loads(_run(capsys, "--pareto", "--json", "--table", str(fixture_table_path))[1])["front"]
    assert [p["key"] for p in front] == [e.key for e in table.pareto()]
    code, out, _ = _run(capsys, "--pareto", "--table", str(fixture_table_path))
    assert code == 0 and len(out.strip().splitlines()) == len(front)


@pytest.mark.parametrize("argv, message", [
    (["--key", "f8s99r5|std.1d.c16.cg0"], "not in the grid"),
    (["--key", "f4s16r0|std.1d.c16.cg0|std.1d.c16.cg0"], "does not hold yet"),
    (["--random", "0"], "from 1 to the table's 40"),
    (["--random", "41"], "from 1 to the table's 40"),
])
def test_bad_arguments_print_one_error_line(fixture_table_path: Path, capsys, argv, message) -> None:
    table = load_table(fixture_table_path)
    assert "f4s16r0|std.1d.c16.cg0|std.1d.c16.cg0" not in table
    code, out, err = _run(capsys, *argv, "--table", str(fixture_table_path))
    assert code == 2 and out == "" and err.startswith("error: ") and message in err and "Traceback" not in err


def test_missing_table_and_missing_question(tmp_path: Path, capsys) -> None:
    code, _, err = _run(capsys, "--summary", "--table", str(tmp_path / "nowhere.jsonl"))
    assert code == 2 and "no such table file" in err
    code, _, err = _run(capsys)
    assert code == 2 and "one of the arguments" in err
    code, _, err = _run(capsys, "--random", "x")
    assert code == 2 and "invalid int value" in err
