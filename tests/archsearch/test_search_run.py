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

pytestmark = pytest.mark.slow  # real training in subprocesses (resume after SIGKILL): one of the longest files

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--population", "3", "--rounds", "1", "--low-steps", "3", "--high-steps", "0", "--batch-size", "8", "--seed", "4"]


def run_args(cache: Path, out: Path) -> list[str]:
    return ["run", "--family", "tvn", "--data", str(cache), "--out", str(out), *TINY]


def candidates(out: Path) -> list[dict]:
    return json.loads((out / "results.json").read_text())["candidates"]


def comparable(records: list[dict]) -> list[tuple]:
    return [(c["id"], c["spec_hash"], c["parent_id"], c["mutation"], c["status"], round(c.get("accuracy", -1), 6)) for c in records]


@pytest.fixture(scope="module")
def reference_run(motion_cache, tmp_path_factory) -> Path:
    """One uninterrupted tiny search, run in this process: what a killed and resumed one must equal, and
    the results file a reviewer reads (only read by the tests that share it)."""
    out = tmp_path_factory.mktemp("reference") / "run"
    assert main(run_args(motion_cache, out)) == 0
    return out


def test_resume_after_kill_9_loses_nothing_and_repeats_nothing(motion_cache, reference_run, tmp_path):
    reference, killed = reference_run, tmp_path / "killed"

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


def test_results_file_holds_everything_a_reviewer_needs(reference_run):
    out = reference_run
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


def test_median_stopping_rule_stops_a_candidate_above_the_threshold_at_the_check_step(motion_cache, tmp_path):
    import random

    spec = make_space("tvn", SpaceConfig(num_classes=4, frames=8, size=32)).sample(random.Random(0)).to_dict()
    budget = EvalBudget(low_steps=8, high_steps=16, curve_stop=0.5, num_threads=1, latency_runs=1)
    free = evaluate_candidate(spec, str(motion_cache), budget, 0, out_dir=tmp_path / "free", curve_threshold=None,
                              promote_threshold=float("-inf"))
    assert free["fidelity"] == "high" and free["steps"] == 16
    assert free["curve_loss"] > 0 and free["metrics"]["curve_loss"] == free["curve_loss"]
    # Any real loss is above a threshold of 0: the candidate stops at step 4 of 8 and is not promoted.
    stopped = evaluate_candidate(spec, str(motion_cache), budget, 0, out_dir=tmp_path / "stopped", curve_threshold=0.0,
                                 promote_threshold=float("-inf"))
    assert stopped["status"] == "evaluated" and stopped["fidelity"] == "stopped" and stopped["steps"] == 4
    assert stopped["curve_loss"] == pytest.approx(free["curve_loss"])  # same seed, same first steps
    assert 0.0 <= stopped["accuracy"] <= 1.0
    kept = evaluate_candidate(spec, str(motion_cache), budget, 0, out_dir=tmp_path / "kept", curve_threshold=1e9,
                              promote_threshold=float("-inf"))
    assert kept["fidelity"] == "high" and kept["steps"] == 16


def test_cli_seeds_the_first_generation_with_the_presets_that_fit(motion_cache, tmp_path, capsys):
    out = tmp_path / "seeded"
    args = ["run", "--family", "tvn", "--data", str(motion_cache), "--out", str(out), "--population", "2", "--rounds", "0",
            "--low-steps", "4", "--high-steps", "0", "--max-params", "300000", "--curve-stop", "0.5", "--seed-presets"]
    assert main(args) == 0
    assert "seeded with 1 preset(s): tvn-small" in capsys.readouterr().err
    first, second = candidates(out)
    assert first["mutation"] == "preset tvn-small" and first["parent_id"] is None and first["status"] == "evaluated"
    assert second["mutation"] is None  # past the seeds: random samples, then mutation
    assert all(c["curve_loss"] is not None for c in (first, second))
    config = json.loads((out / "results.json").read_text())["config"]
    assert config["curve_stop"] == 0.5 and len(config["seeds"]) == 1
    too_small = [str(tmp_path / "tiny") if a == str(out) else "1000" if a == "300000" else a for a in args]
    assert main(too_small) == 2
    assert "no tvn preset fits" in capsys.readouterr().err
