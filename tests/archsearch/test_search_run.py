"""Headless runs with real training: resume after SIGKILL, latency filter, results file, CLI."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archsearch.cli import main
from archsearch.evaluate import EvalBudget, evaluate_candidate
from archsearch.spaces import SpaceConfig, make_space

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--population", "3", "--rounds", "1", "--low-steps", "3", "--high-steps", "0", "--batch-size", "8", "--seed", "4"]


def run_args(cache: Path, out: Path) -> list[str]:
    return ["run", "--family", "tvn", "--data", str(cache), "--out", str(out), *TINY]


def candidates(out: Path) -> list[dict]:
    return json.loads((out / "results.json").read_text())["candidates"]


def comparable(records: list[dict]) -> list[tuple]:
    return [(c["id"], c["spec_hash"], c["parent_id"], c["mutation"], c["status"], round(c.get("accuracy", -1), 6)) for c in records]


def test_resume_after_kill_9_loses_nothing_and_repeats_nothing(motion_cache, tmp_path):
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    assert main(run_args(motion_cache, reference)) == 0

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "archsearch", *run_args(motion_cache, killed)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline:
        if (killed / "results.json").exists() and len(candidates(killed)) >= 2:
            break
        assert process.poll() is None, "the search ended before it could be killed"
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    before = candidates(killed)
    assert 2 <= len(before) < 6

    assert main(["run", "--resume", str(killed)]) == 0
    after = candidates(killed)
    assert comparable(after[: len(before)]) == comparable(before)
    assert comparable(after) == comparable(candidates(reference))
    assert len({c["id"] for c in after}) == len(after) == 6


def test_results_file_holds_everything_a_reviewer_needs(motion_cache, tmp_path):
    out = tmp_path / "run"
    assert main(run_args(motion_cache, out)) == 0
    state = json.loads((out / "results.json").read_text())
    for record in state["candidates"]:
        assert {"spec", "accuracy", "latency_ms", "parent_id", "mutation", "generation", "params", "macs"} <= set(record)
    assert state["best"]["id"] in {c["id"] for c in state["candidates"]}
    assert set(state["pareto_front"]) <= {c["id"] for c in state["candidates"]}
    assert json.loads((out / "best_spec.json").read_text()) == state["best"]["spec"]
    children = [c for c in state["candidates"] if c["parent_id"]]
    assert children and all(c["mutation"] for c in children)
    for record in state["candidates"]:  # where each candidate's time went, summing to its total
        timing = record["timing"]
        assert {"latency_s", "setup_s", "train_s", "overhead_s"} <= set(timing) and timing["train_s"] > 0
        assert abs(sum(timing.values()) - record["seconds"]) < 1e-6


def test_latency_filter_rejects_before_any_training(motion_cache, tmp_path):
    space = make_space("tvn", SpaceConfig(num_classes=4, frames=8, size=32))
    import random

    spec = space.sample(random.Random(0)).to_dict()
    out = tmp_path / "candidate"
    result = evaluate_candidate(spec, str(motion_cache), EvalBudget(low_steps=2, high_steps=0, latency_budget_ms=1e-6), 0, out_dir=out)
    assert result["status"] == "rejected" and "budget" in result["reason"]
    assert result["latency_ms"] > 1e-6
    assert not out.exists()  # nothing was trained or written


def test_resume_and_create_mistakes_are_clear(motion_cache, tmp_path, capsys):
    assert main(["run", "--resume", str(tmp_path / "nowhere")]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    assert main(["run", "--family", "tvn", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "x")]) == 2
    assert "no such data" in capsys.readouterr().err
    assert main(["run", "--family", "tvn", "--out", str(tmp_path / "y")]) == 2
    assert "--data" in capsys.readouterr().err
