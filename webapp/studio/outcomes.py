"""How a search's outcome reads to a person: why it gave up, how coarse its accuracy is.

Pure functions over plain numbers and the engine's candidate records, so the pages, the
API and the scheduler all say the same thing in the same words.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

# Below this many validation clips, an accuracy moves in steps of more than 5 points.
FINE_VAL_CLIPS = 20
# What the dataset form suggests: enough clips that accuracy moves in steps of 2 points.
SUGGESTED_VAL_CLIPS = 50


def format_ms(value: float) -> str:
    """Three significant figures: 1.3 ms, 0.0412 ms, 123 ms (never a misleading 0.0)."""
    return f"{value:.3g}"


def give_up_reason(records: Iterable[dict[str, Any]], latency_budget_ms: float | None) -> str:
    """Why a search stopped proposing: the run of rejected proposals at the end of its history.

    ``records`` are the engine's candidate records in the order their results came.
    """
    records = list(records)
    tail: list[dict[str, Any]] = []
    for record in reversed(records):
        if record["status"] == "evaluated":
            break
        tail.append(record)
    tail.reverse()
    count = len(tail)
    trained = sum(1 for r in records if r["status"] == "evaluated")
    after = f"; {trained} trained before that" if trained else ""
    if not tail:
        return "gave up"
    latencies = [r["latency_ms"] for r in tail if r.get("latency_ms") is not None]
    over = latency_budget_ms is not None and len(latencies) == count and all(latency > latency_budget_ms for latency in latencies)
    if over:
        return (f"gave up after {count} proposal{'s' * (count != 1)} over the {latency_budget_ms:g} ms budget: "
                f"the fastest was {format_ms(min(latencies))} ms{after}")
    last = next((r.get("reason") for r in reversed(tail) if r.get("reason")), "") or "no reason recorded"
    return f"gave up after {count} proposal{'s' * (count != 1)} in a row were rejected or failed (the last: {last}){after}"


def accuracy_note(val_clips: int | None) -> str:
    """A warning when accuracy on ``val_clips`` validation clips can only take a few values."""
    if not val_clips or val_clips >= FINE_VAL_CLIPS:
        return ""
    return (f"Only {val_clips} validation clip{'s' * (val_clips != 1)}: accuracy can only take {val_clips + 1} values "
            f"(resolution 1/{val_clips} = {1 / val_clips:.2g}), so candidates often tie and small differences mean nothing.")


def suggested_clips_per_class(num_classes: int, val_fraction: float, val_clips: int = SUGGESTED_VAL_CLIPS) -> int:
    """Clips per class that give about ``val_clips`` validation clips (at least one per class)."""
    if num_classes < 1 or not 0 < val_fraction < 1:
        return 2
    return max(2, math.ceil(val_clips / (num_classes * val_fraction)))


def val_clips_for(num_classes: int, clips_per_class: int, val_fraction: float) -> int:
    """Validation clips a generated dataset gets (the cache's stratified split: at least one per class)."""
    per_class = int(round(clips_per_class * val_fraction))
    if val_fraction > 0 and clips_per_class >= 2:
        per_class = min(max(per_class, 1), clips_per_class - 1)
    return per_class * num_classes


def parallelism_note(requested: int, workers: int | None) -> str:
    """Why fewer candidates train at once than were asked for, or ''."""
    if workers is None or workers >= requested:
        return ""
    if workers == 0:
        return (f"{requested} candidate{'s' * (requested != 1)} at once requested, but no worker is running on the train "
                "queue: candidates wait until one starts.")
    return (f"{requested} candidates at once requested, {workers} worker{'s' * (workers != 1)} running: "
            f"only {workers} train{'s' * (workers == 1)} at a time.")
