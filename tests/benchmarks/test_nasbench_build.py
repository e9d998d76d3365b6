"""The table builder on a tiny clip cache: rows, resumption, provenance, and reproduction
of a row by the command line's own training."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from videomodels.cli import main as videomodels_main
from videomodels.data import load_cache, prepare_cache, synthesize

from benchmarks.nasbench import build as builder
from benchmarks.nasbench.space import spec_of
from benchmarks.nasbench.table import load_table


@pytest.fixture(scope="module")
def tiny_cache(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("nasbench")
    synthesize(root / "videos", clips_per_class=3, seed=0, frames=8, size=32, classes=("move_left", "move_right", "still"))
    prepare_cache(root / "videos", root / "cache", frames=8, size=32, flow=False, val_fraction=0.34, test_fraction=0.33,
                  seed=0, progress=False)
    return root / "cache"


@pytest.fixture()
def tiny_plan(monkeypatch):
    monkeypatch.setattr(builder, "STEPS", (1, 2, 3))
    monkeypatch.setattr(builder, "BASELINES", ("baseline-2d",))
    monkeypatch.setattr(builder, "BASELINE_LRS", (0.01,))
    monkeypatch.setattr(builder, "LATENCY_RUNS", 2)


def test_cache_has_three_splits_and_a_location_free_hash(tiny_cache: Path, tmp_path: Path) -> None:
    cache = load_cache(tiny_cache)
    assert cache.split_counts() == {"train": 3, "val": 3, "test": 3}
    moved = tmp_path / "elsewhere"
    prepare_cache(Path(cache.index["params"]["source"]), moved, frames=8, size=32, flow=False, val_fraction=0.34,
                  test_fraction=0.33, seed=0, progress=False)
    assert load_cache(moved).content_hash() == cache.content_hash()


def test_build_writes_rows_resumes_and_records_provenance(tiny_cache: Path, tiny_plan, tmp_path: Path) -> None:
    table, baselines = tmp_path / "table.jsonl", tmp_path / "baselines.jsonl"
    assert builder.build(workers=1, limit=4, table=table, baselines=baselines, cache=tiny_cache, log=lambda m: None) == 4
    rows, base = builder.read_rows(table), builder.read_rows(baselines)
    assert len(base) == 3 and {row["seed"] for row in base} == {0, 1, 2}  # every baseline seed first
    assert len(rows) == 1
    row = rows[0]
    assert [point["steps"] for point in row["curve"]] == [1, 2, 3]
    assert all(0.0 <= point[f"{split}_top1"] <= 1.0 for point in row["curve"] for split in ("val", "test"))
    train_seconds = [point["train_s"] for point in row["curve"]]
    assert train_seconds == sorted(train_seconds) and train_seconds[0] > 0
    assert row["params"] > 0 and row["latency_ms"] > 0 and row["final_val_top1"] == row["curve"][-1]["val_top1"]
    assert (row["key"], row["seed"]) == builder.jobs()[0]

    # A kill mid-write leaves a torn line: it is dropped and the build goes on from there.
    with table.open("a") as handle:
        handle.write('{"key": "torn')
    assert builder.build(workers=1, limit=1, table=table, baselines=baselines, cache=tiny_cache, log=lambda m: None) == 1
    rows = builder.read_rows(table)
    assert [(r["key"], r["seed"]) for r in rows] == builder.jobs()[:2]

    meta = json.loads((tmp_path / "provenance.json").read_text())
    assert meta["rows"] == 2 and meta["baselines"]["rows"] == 3
    assert meta["data"]["content_hash"] == load_cache(tiny_cache).content_hash()
    assert meta["builder"]["torch"] and meta["steps"] == [1, 2, 3]

    # What is committed is the compressed copy: a clone without the working copy resumes from it,
    # and both forms load as one table with one digest.
    packed = tmp_path / "table.jsonl.gz"
    assert packed.exists() and gzip.decompress(packed.read_bytes()) == table.read_bytes()
    first_pack = packed.read_bytes()
    table.unlink()
    assert builder.build(workers=1, limit=1, table=table, baselines=baselines, cache=tiny_cache, log=lambda m: None) == 1
    assert [(r["key"], r["seed"]) for r in builder.read_rows(table)] == builder.jobs()[:3]
    assert gzip.decompress(packed.read_bytes()) == table.read_bytes() and packed.read_bytes() != first_pack
    builder.pack(table)
    assert gzip.decompress(packed.read_bytes()) == table.read_bytes()
    assert load_table(packed).digest == load_table(table).digest and len(load_table(packed)) == 3


def test_build_refuses_a_cache_other_than_the_tables(tiny_cache: Path, tiny_plan, tmp_path: Path) -> None:
    meta = {"data": {"content_hash": "0" * 64}}
    (tmp_path / "provenance.json").write_text(json.dumps(meta))
    with pytest.raises(SystemExit, match="content hash"):
        builder.build(workers=1, limit=1, table=tmp_path / "t.jsonl", baselines=tmp_path / "b.jsonl", cache=tiny_cache)


def test_the_command_line_reproduces_a_row(tiny_cache: Path, tiny_plan, tmp_path: Path, capsys) -> None:
    key, seed = builder.jobs()[5]
    row = builder.train_row(key, seed, str(tiny_cache))
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec_of(key, num_classes=3).to_dict()))
    settings = builder.TRAINING
    code = videomodels_main(["train", str(spec_file), "--data", str(tiny_cache), "--out", str(tmp_path / "run"),
                             "--steps", "3", "--seed", str(seed), "--lr", str(settings["lr"]),
                             "--batch-size", str(settings["batch_size"]), "--warmup-steps", str(settings["warmup_steps"]),
                             "--threads", "1", "--device", "cpu", "--json"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["metrics"]["top1"] == pytest.approx(row["final_val_top1"], abs=1e-9)
    # With three validation clips top-1 can agree by chance; the loss cannot.
    assert printed["metrics"]["loss"] == pytest.approx(row["curve"][-1]["val_loss"], rel=1e-5)


def test_latency_pass_measures_each_architecture_once_and_resumes(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(builder, "LATENCY_PASS_RUNS", 3)
    path = tmp_path / "latency.jsonl"
    assert builder.measure_latencies(table=path, limit=2, log=lambda m: None) == 2
    assert builder.measure_latencies(table=path, limit=1, log=lambda m: None) == 1
    rows = builder.read_rows(path)
    # The hand-designed baselines come first, so claim 2 compares figures from the same pass.
    assert [(row["key"], row.get("baseline", False)) for row in rows] == [(name, True) for name in builder.BASELINES[:3]]
    monkeypatch.setattr(builder, "BASELINES", builder.BASELINES[:3])
    assert builder.measure_latencies(table=path, limit=2, log=lambda m: None) == 2
    rows = builder.read_rows(path)
    assert [row["key"] for row in rows[3:]] == [arch.key() for arch in builder.enumerate_grid()][:2]
    assert all(0 < row["p10_ms"] <= row["latency_ms"] <= row["p90_ms"] and row["runs"] == 3 and row["cpu"] for row in rows)
    assert rows[0]["latency_ms"] > rows[3]["latency_ms"]  # baseline-2d at full size against a tiny grid network
