"""The model card fills its fields from what was recorded and leaves out what was not: no "–", no
"? thread(s)", no "Train clips" missing beside "Validation clips"."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def rows_of(card: str) -> dict[str, str]:
    return {m.group(1).strip(): m.group(2).strip() for m in re.finditer(r"^\| ([^|]+) \| ([^|]*) \|$", card, re.M)}


def test_a_trained_candidates_card_has_its_clip_counts_threads_and_latency_spread(trained, client_for):
    child = trained["child"]
    child.latency_spread = {"ms": child.latency_ms, "p10": 0.9 * child.latency_ms, "p50": child.latency_ms,
                            "p90": 1.4 * child.latency_ms, "runs": 10, "rounds": 2}
    child.save()
    card = client_for(trained["dave"]).get(f"/models/candidate/{child.pk}/export/card/").content.decode()
    rows = rows_of(card)
    assert int(rows["Train clips"].replace(",", "")) > 0 and int(rows["Validation clips"].replace(",", "")) > 0
    assert re.search(r"batch 1, CPU, 1 thread, p10–p90 [\d.]+–[\d.]+ ms over 10 runs", rows["Latency"])
    assert all(value != "–" and "?" not in value for value in rows.values()), rows


def test_a_card_without_a_training_report_omits_what_nobody_recorded(world, client_for):
    parent = world["parent"]  # evaluated in the world's data, but no training report on disk
    card = client_for(world["bob"]).get(f"/models/candidate/{parent.pk}/export/card/").content.decode()
    rows = rows_of(card)
    assert "Train clips" not in rows and "thread(s)" not in card and "?" not in rows.get("Latency", "")
    assert rows["Latency"].startswith("3.00 ms (batch 1, CPU, 1 thread")
    assert all(value != "–" for value in rows.values()), rows
