"""The closing note: each goal and claim with its verdict, read from the sections' stored results."""
from __future__ import annotations

import json
import statistics

from benchmarks.common import WORK, table

STORE = WORK / "sections"


def _load(name: str) -> dict | None:
    path = STORE / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _search_goal(search: dict) -> list[list]:
    rows = []
    budget = search["settings"]["budget_s"]
    default, peer = search.get("evolution (default)"), search.get("tpe + hyperband")
    for target in search["settings"]["targets"]:
        ratios = default[f"ratio_to_random_{target}"]
        mine = [t if t is not None else budget for t in default[f"time_to_{target}"]]
        theirs = [t if t is not None else budget for t in peer[f"time_to_{target}"]]
        third = [r <= 1 / 3 for r in ratios]
        ahead = [m < t for m, t in zip(mine, theirs)]
        rows.append([f"top-1 ≥ {target}", f"{statistics.median(ratios):.2f}x", f"{sum(third)}/3",
                     "met" if statistics.median(ratios) <= 1 / 3 and sum(third) >= 2 else "not met",
                     f"{statistics.median(mine):.0f} s vs {statistics.median(theirs):.0f} s", f"{sum(ahead)}/3",
                     "met" if statistics.median(mine) < statistics.median(theirs) and sum(ahead) >= 2 else "not met"])
    return rows


def run(quick: bool = False) -> tuple[str, dict]:
    lines = ["## Closing note: goals and claims", "",
             "Read from the sections above (each measured in its own run, see its stamp). A claim counts as reproduced only "
             "when it holds for the median and for at least 2 of 3 seeds.", ""]
    data: dict = {}
    search = _load("search")
    if search and search.get("_quick") == quick:
        rows = _search_goal(search)
        data["search_goal"] = rows
        lines += ["Default TVN search against its peers (time to target; a seed that never reached it counts as the budget):", "",
                  table(["target", "median ratio to random", "seeds ≤ 0.33x", "goal ≤ 0.33x", "median time vs TPE + Hyperband",
                         "seeds ahead", "goal: ahead"], rows), ""]
    claims = []
    evolved = _load("claim-evolved")
    if evolved and evolved.get("_quick") == quick:
        for dataset in ("motion", "scenes"):
            if dataset in evolved:
                claims.append([f"1. evolved beat hand-designed ({dataset})", evolved[dataset]["claim1"]])
        for dataset in ("motion", "scenes"):
            if dataset in evolved:
                claims.append([f"2. TVN ≥ 10x faster at matched accuracy ({dataset})", evolved[dataset]["claim2"]])
    ensemble = _load("claim-ensemble")
    if ensemble and ensemble.get("_quick") == quick:
        claims += [["3. diverse EvaNet ensemble beats the best single model", ensemble["vs_single"]],
                   ["3. diverse ensemble beats the top-3 by accuracy", ensemble["vs_top_k"]]]
    assemble = _load("claim-assemblenet")
    if assemble and assemble.get("_quick") == quick:
        claims += [["4. connection-guided beats unguided mutation", assemble["verdict"]],
                   ["4. evolved AssembleNet beats the two-stream baseline", assemble["vs_two_stream"]]]
    data["claims"] = claims
    if claims:
        lines += [table(["claim", "verdict"], claims), ""]
    return "\n".join(lines), data
