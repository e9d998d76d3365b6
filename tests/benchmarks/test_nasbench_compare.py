"""Strategies on the table and a quick comparison run end to end (3 seeds, small budget)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.nasbench import compare
from benchmarks.nasbench.strategies import run_evolution, run_local_search, run_random, run_tpe
from benchmarks.nasbench.table import load_table


@pytest.mark.parametrize("runner, options", [(run_evolution, {}), (run_random, {}), (run_tpe, {}), (run_tpe, {"hyperband": True}),
                                             (run_local_search, {}), (run_local_search, {"best_improvement": True})])
def test_every_strategy_spends_its_budget_and_picks_table_architectures(fixture_table_path: Path, runner, options) -> None:
    table = load_table(fixture_table_path)
    budget = 25 * table.mean_full_cost_s
    run = runner(table, 1, budget, **options)
    assert run["picks"] and all(key in table for _, key in run["picks"])
    times = [t for t, _ in run["picks"]]
    assert times == sorted(times) and times[-1] <= run["seconds"]
    if runner is run_local_search:  # local search stops early only when every architecture is evaluated
        assert run["seconds"] >= budget or run["evaluations"] == len(table)
    else:
        assert budget <= run["seconds"] < budget + 3 * table.mean_full_cost_s
    assert runner(table, 1, budget, **options)["picks"] == run["picks"]  # a seed replays exactly
    assert runner(table, 2, budget, **options)["picks"] != run["picks"] or runner is run_local_search


def test_hyperband_prunes_and_rungs_promote(fixture_table_path: Path) -> None:
    table = load_table(fixture_table_path)
    budget = 40 * table.mean_full_cost_s
    assert run_tpe(table, 0, budget, hyperband=True)["pruned"] > 0
    evolution = run_evolution(table, 0, budget)
    assert 0 < evolution["promoted"] < evolution["evaluations"]
    assert run_evolution(table, 0, budget, config={"low_steps": 120, "high_steps": 0})["promoted"] == 0


def test_ablations_follow_the_defaults_and_unknown_strategies_are_refused() -> None:
    ids = [s.id for s in compare.strategies()]
    assert ids[:7] == ["default", "aging", "random", "tpe", "tpe-hb", "ls-first", "ls-best"]
    assert len(ids) == len(set(ids)) and sum(s.group == "ablations" for s in compare.strategies()) >= 8
    assert [s.id for s in compare.select(["tpe"])] == ["default", "random", "tpe"]
    with pytest.raises(ValueError, match="unknown strategy 'nope'"):
        compare.select(["nope"])


def test_quick_compare_writes_report_plot_and_numbers(fixture_table_path: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("BENCH_WORKERS", "1")  # in this process: no spawn in a unit test
    out = tmp_path / "report" / "compare"
    argv = ["--table", str(fixture_table_path), "--seeds", "3", "--budget", "20", "--strategies", "peers", "abl-elitism",
            "--out", str(out)]
    monkeypatch.setattr(compare, "CACHE", tmp_path / "replays")
    assert compare.main(argv) == 0
    text = out.with_name("compare.md").read_text()
    assert "time to top 1%" in text and "Optuna TPE + Hyperband" in text and "elitism 0 (default 1)" in text
    assert "![test regret against simulated time](compare.png)" in text
    from benchmarks.nasbench.table import load_table

    table = load_table(fixture_table_path)
    best_val = max(table.entries.values(), key=lambda e: (e.mean_val, e.mean_test))
    assert f"`{best_val.key}`) has a mean test top-1 of {best_val.mean_test:.3f}" in text  # the floor that selection on validation sets
    assert out.with_name("compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    numbers = json.loads(out.with_name("compare.json").read_text())
    assert set(numbers["strategies"]) == {"default", "aging", "random", "tpe", "tpe-hb", "ls-first", "ls-best", "abl-elitism"}
    assert all(len(s["times"]["top 1%"]) == 3 for s in numbers["strategies"].values())
    assert numbers["table"]["architectures"] == 40 and numbers["settings"]["seeds"] == 3
    capsys.readouterr()


def test_replays_are_cached_and_reused(fixture_table_path: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BENCH_WORKERS", "1")
    chosen = compare.select(["random"])
    first = compare.run_comparison(fixture_table_path, seeds=2, budget_evals=10, chosen=chosen, cache=tmp_path, log=lambda m: None)
    assert len(list(tmp_path.glob("*.json"))) == 2  # default and random
    calls = []
    monkeypatch.setattr("benchmarks.nasbench.strategies.RUNNERS", {k: (lambda *a, **k: calls.append(a)) for k in ("evolution", "random")})
    again = compare.run_comparison(fixture_table_path, seeds=2, budget_evals=10, chosen=chosen, cache=tmp_path, log=lambda m: None)
    assert calls == [] and again["runs"] == first["runs"]


def test_held_out_seeds_run_from_the_first_seed_and_share_the_cache(fixture_table_path: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BENCH_WORKERS", "1")
    chosen = compare.select(["random"])
    first = compare.run_comparison(fixture_table_path, seeds=3, budget_evals=10, chosen=chosen, cache=tmp_path, log=lambda m: None)
    held_out = compare.run_comparison(fixture_table_path, seeds=2, budget_evals=10, chosen=chosen, cache=tmp_path, first_seed=7,
                                      log=lambda m: None)
    assert [run["seed"] for run in held_out["runs"]["default"]] == [7, 8]
    assert held_out["runs"]["random"][0]["picks"] != first["runs"]["random"][0]["picks"]
    text, numbers = compare.render(held_out, png_name="x.png")
    assert "2 seeds (7-8)" in text and numbers["settings"]["first_seed"] == 7


def test_compare_refuses_bad_arguments(fixture_table_path: Path, tmp_path: Path, capsys) -> None:
    assert compare.main(["--table", str(tmp_path / "none.jsonl")]) == 2
    assert "no such table file" in capsys.readouterr().err
    assert compare.main(["--table", str(fixture_table_path), "--seeds", "0"]) == 2
    assert "--seeds must be from 1" in capsys.readouterr().err
    assert compare.main(["--table", str(fixture_table_path), "--strategies", "nope"]) == 2
    assert "unknown strategy" in capsys.readouterr().err
    assert compare.main(["--table", str(fixture_table_path), "--first-seed", "-1"]) == 2
    assert "--first-seed must be from 0" in capsys.readouterr().err


def test_bench_section_skips_in_one_line_on_a_small_table(fixture_table_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(compare, "default_path", lambda: fixture_table_path)
    monkeypatch.setattr(compare, "MIN_ROWS", 41)
    text, result = compare.bench()
    assert "Skipped: the committed table (table.jsonl) holds 40 architectures" in text and result["architectures"] == 40
    assert len([line for line in text.splitlines() if line.strip()]) == 2  # the heading and the one line
