"""Leaderboard benchmark: ``python -m benchmarks.leaderboard [--quick] [--json]``.

A fresh Django in a subprocess, on a fresh SQLite database (migrated, so the studio's sort
indexes exist), filled with generated candidate rows across 10 experiments of one team. It
measures, through Django's test client (the whole view, serializer and template):

1. the API's first page and a sorted, filtered page further in, at 10,000 and 100,000 rows;
2. the same two pages of the server-rendered leaderboard;
3. the Pareto front (accuracy vs latency) of 100,000 candidates, query included.

Baselines measured in the same run: what a dashboard that sends every trial does (read every
candidate of the team and sort in Python), and archsearch's pairwise Pareto front (O(n^2))
against the sweep on the same 2,000 points. Goals (issue 10): p95 < 200 ms at 100,000 for the
pages and the front.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILTERED = "sort=latency&max_latency=30&min_accuracy=0.5&family=tvn&status=evaluated&offset=200"


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def timed(fn, runs):
    fn()  # warm: the first call pays for imports and the template cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(percentile(times, 95), 2), "runs": runs}


def fill(total, experiments, rng):
    from webapp.studio.models import Candidate

    have = Candidate.objects.count()
    rows = []
    for i in range(have, total):
        status = "evaluated" if rng.random() > 0.05 else "failed"
        evaluated = status == "evaluated"
        rows.append(Candidate(experiment=experiments[i % len(experiments)], index=i, name=f"c{i:06d}", spec={}, generation=i % 40,
                              status=status, accuracy=round(rng.random(), 4) if evaluated else None,
                              latency_ms=round(rng.uniform(1, 80), 3) if evaluated else None,
                              params=rng.randint(10**4, 10**7), macs=rng.randint(10**6, 10**10)))
        if len(rows) == 5000:
            Candidate.objects.bulk_create(rows)
            rows = []
    Candidate.objects.bulk_create(rows)


def measure(quick: bool) -> dict:
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client

    from archsearch.selection import pareto_front as pairwise
    from webapp.review import leaderboard
    from webapp.review.pareto import pareto_front
    from webapp.studio.models import Candidate, Dataset, Experiment
    from webapp.teams.models import Membership, Team

    call_command("migrate", verbosity=0)
    rng = random.Random(0)
    user = User.objects.create_user("bench", password="bench-pass-123")
    team = Team.objects.create(name="bench")
    Membership.objects.create(user=user, team=team, role="owner")
    dataset = Dataset.objects.create(team=team, name="motion", kind="synthetic", status="ready")
    experiments = [Experiment.objects.create(team=team, name=f"search {i}", family=("tvn", "evanet", "assemblenet")[i % 3],
                                             dataset=dataset, config={"population": 10, "rounds": 10}) for i in range(10)]
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(user)
    sizes = (2000, 5000) if quick else (10_000, 100_000)
    runs = 5 if quick else 30
    results = {"sizes": {}}

    def get(url):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])

    for size in sizes:
        fill(size, experiments, rng)
        row = {
            "api_first": timed(lambda: get("/api/leaderboard/?limit=50"), runs),
            "api_filtered": timed(lambda: get(f"/api/leaderboard/?limit=50&{FILTERED}"), runs),
            "page_first": timed(lambda: get("/leaderboard/"), runs),
            "page_filtered": timed(lambda: get(f"/leaderboard/?{FILTERED}"), runs),
        }

        def send_everything():
            rows = list(Candidate.objects.filter(experiment__team=team).values(
                "pk", "name", "accuracy", "latency_ms", "params", "macs", "status", "generation"))
            rows.sort(key=lambda r: (r["accuracy"] is None, -(r["accuracy"] or 0)))
            return json.dumps(rows[:50])

        row["baseline_all_rows"] = timed(send_everything, max(3, runs // 6))
        results["sizes"][size] = row

    query = leaderboard.Query()
    results["pareto"] = timed(lambda: leaderboard.pareto(user, query, "latency"), max(5, runs // 3))
    results["pareto_points"] = leaderboard.pareto(user, query, "latency")["count"]
    points = [(i, rng.random(), rng.uniform(1, 80)) for i in range(2000)]
    dicts = [{"id": i, "accuracy": a, "latency_ms": c} for i, a, c in points]
    results["front_2000_sweep"] = timed(lambda: pareto_front(points), 5)
    results["front_2000_pairwise"] = timed(lambda: pairwise(dicts), 2)
    results["markdown"] = markdown(results, quick)
    return results


def markdown(r: dict, quick: bool) -> str:
    lines = ["## Leaderboard", "",
             "Generated candidate rows in 10 experiments of one team, SQLite (migrated: the sort indexes exist), through Django's "
             "test client (view, serializer/template and queries). p50 / p95 over repeated requests. Baseline: reading every "
             f"candidate of the team and sorting in Python, as a dashboard that sends every trial does. Filtered page: `{FILTERED}`.",
             "", "| rows | API first page | API sorted+filtered | page first | page sorted+filtered | baseline: every row | "
             "first page vs baseline |", "|---|---|---|---|---|---|---|"]
    for size, row in r["sizes"].items():
        cells = [f"{row[k]['p50_ms']:.1f} / {row[k]['p95_ms']:.1f} ms" for k in ("api_first", "api_filtered", "page_first",
                                                                                 "page_filtered", "baseline_all_rows")]
        ratio = row["baseline_all_rows"]["p50_ms"] / max(1e-9, row["api_first"]["p50_ms"])
        lines.append(f"| {int(size):,} | " + " | ".join(cells) + f" | {ratio:.0f}x faster |")
    largest = max(r["sizes"], key=int)
    worst = max(r["sizes"][largest][k]["p95_ms"] for k in ("api_first", "api_filtered", "page_first", "page_filtered"))
    lines += ["", f"Goal p95 < 200 ms at 100,000: worst p95 at {int(largest):,} rows is {worst:.1f} ms"
              f" ({'met' if worst < 200 else 'NOT met'}){' (quick mode: smaller sizes)' if quick else ''}.", "",
              f"Pareto front (accuracy vs latency) of {r['pareto_points']:,} candidates, query included: "
              f"p50 {r['pareto']['p50_ms']:.1f} ms, p95 {r['pareto']['p95_ms']:.1f} ms "
              f"(goal < 200 ms: {'met' if r['pareto']['p95_ms'] < 200 else 'NOT met'}).",
              f"Front of 2,000 points: sort-and-sweep {r['front_2000_sweep']['p50_ms']:.2f} ms vs archsearch's pairwise "
              f"{r['front_2000_pairwise']['p50_ms']:.0f} ms "
              f"({r['front_2000_pairwise']['p50_ms'] / max(1e-9, r['front_2000_sweep']['p50_ms']):.0f}x).", ""]
    return "\n".join(lines)


def run(quick: bool = False) -> tuple[str, dict]:
    """In a fresh process on a fresh database; returns (markdown, numbers)."""
    with tempfile.TemporaryDirectory(prefix="bench-leaderboard-") as work:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
        env.update(DATABASE_URL=f"sqlite:///{work}/db.sqlite3", STUDIO_VAR_DIR=f"{work}/var", DJANGO_SETTINGS_MODULE="webapp.settings")
        args = [sys.executable, "-m", "benchmarks.leaderboard", "--json"] + (["--quick"] if quick else [])
        done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    results = json.loads(done.stdout.strip().splitlines()[-1])
    return results.pop("markdown"), results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    results = measure(args.quick)
    print(json.dumps(results) if args.json else results["markdown"])


if __name__ == "__main__":
    main()
