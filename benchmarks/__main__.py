"""Run the benchmarks and write docs/BENCHMARKS.md: ``python -m benchmarks [--quick] [--only NAME ...]``."""
from __future__ import annotations

import argparse
import datetime
import json

from benchmarks import baselines, claims, data, models, review, search, summary
from benchmarks.common import CACHES_USED, ROOT, WORK, machine
from benchmarks.document import SECTIONS, write


def studio(quick: bool):
    from webapp.bench import run as studio_run

    results = studio_run(quick=quick)
    return results.pop("markdown"), results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="tiny budgets: checks the benchmarks run, numbers mean little")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections (others keep their last results)")
    parser.add_argument("--search-budget-s", type=float, help="CPU seconds per search run (default: benchmarks.search.BUDGET_S for every family)")
    args = parser.parse_args(argv)
    chosen = args.only or SECTIONS
    store = WORK / "sections"
    store.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in chosen:
        print(f"== {name}", flush=True)
        CACHES_USED.clear()
        if name == "models":
            text, result = models.run(args.quick)
        elif name == "data":
            text, result = data.run(args.quick)
        elif name == "baselines":
            text, result = baselines.run(args.quick)
        elif name == "search":
            text, result = search.run(args.quick, budget_s=args.search_budget_s)
        elif name == "nasbench":
            from benchmarks.nasbench.compare import bench as nasbench

            text, result = nasbench(args.quick)
        elif name == "summary":
            text, result = summary.run(args.quick)
        elif name.startswith("claim-"):
            text, result = claims.run(name, args.quick, budget_s=args.search_budget_s)
        elif name == "editor":
            from benchmarks import editor

            text, result = editor.run(args.quick)
        elif name == "review":
            text, result = review.run(args.quick)
        elif name == "leaderboard":
            from benchmarks import leaderboard

            text, result = leaderboard.run(args.quick)
        elif name == "gpu":  # training and latency on a CUDA GPU; one line saying it was skipped elsewhere
            from benchmarks import gpu

            text, result = gpu.run(args.quick)
        else:
            text, result = studio(args.quick)
        result = {**result, "_quick": args.quick} if isinstance(result, dict) else result
        results[name] = result
        # Not named `data`: that is the data section's module, needed again by a later section.
        caches = "; clip caches: " + ", ".join(f"{cache} (sha256 {digest})" for cache, digest in CACHES_USED.items()) if CACHES_USED else ""
        stamp = f"_Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}{caches}{' (quick mode)' if args.quick else ''}._\n\n"
        (store / f"{name}.md").write_text(stamp + text)
        (store / f"{name}.json").write_text(json.dumps(result, indent=1, default=str))
        print(text, flush=True)
    print(f"wrote {write(store, ROOT / 'docs' / 'BENCHMARKS.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
