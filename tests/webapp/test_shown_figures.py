"""Every place that shows a candidate says the same thing about it: its generation counted from 1 (the
first population is generation 1), its size as "567 k", its accuracy as a percentage, its name rather
than a database id. Pages, the JSON API and the model card are rendered for one candidate and compared."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def shown(world):
    child = world["child"]
    child.generation = 1  # the engine's second population: generation 2 for people
    child.params, child.macs, child.accuracy, child.latency_ms = 567_058, 138_674_688, 0.8125, 12.04
    child.save()
    return world


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_every_page_and_the_api_agree_on_generation_and_numbers(shown, client_for):
    child = shown["child"]
    client = client_for(shown["bob"])
    candidate_page = text_of(client.get(f"/candidates/{child.pk}/").content.decode())
    model_page = text_of(client.get(f"/models/candidate/{child.pk}/").content.decode())
    lineage_page = client.get(f"/lineage/{child.pk}/").content.decode()
    board = client.get("/leaderboard/").content.decode()
    row = text_of(re.search(rf'<tr data-id="{child.pk}">(.*?)</tr>', board, re.S).group(1))

    assert "generation 2 of 2" in candidate_page
    assert "Generation 2 " in model_page
    assert re.search(rf'data-id="{child.pk}">\s*<a[^>]*>c0001</a> <span class="muted">gen 2</span>', lineage_page)
    assert " 2 " in row.split("139 M")[1][:4]  # the Gen column right after MACs
    for text in (candidate_page, model_page, row):
        assert "567 k" in text and "139 M" in text and "81.3 %" in text and "12.0 ms" in text
        assert "567058" not in text and "138674688" not in text and "0.812" not in text

    assert client.get(f"/api/candidates/{child.pk}/").json()["generation"] == 2
    assert client.get(f"/api/candidates/{child.pk}/").json()["lineage"][0]["generation"] == 2
    assert {r["name"]: r["generation"] for r in client.get("/api/leaderboard/").json()["results"]}["c0001"] == 2
    progress = client.get(f"/api/experiments/{shown['experiment'].pk}/").json()["progress"]
    assert progress["generation"] == 2 and progress["generations"] == 2  # two evaluated of a population of two: the second


def test_the_leaderboard_shows_the_dataset_and_the_pareto_points_carry_names(shown, client_for):
    client = client_for(shown["bob"])
    board = client.get("/leaderboard/").content.decode()
    assert "<th>Dataset</th>" in board
    assert board.count(f'<td class="dataset">{shown["dataset"].name}</td>') == 2
    pareto = client.get("/api/leaderboard/pareto/").json()
    ids = [p[0] for p in pareto["front"] + pareto["others"]]
    assert ids and {pareto["labels"][str(i)]["name"] for i in ids} <= {"c0000", "c0001"}
    assert pareto["labels"][str(shown["child"].pk)] == {"name": "c0001", "experiment": "alpha", "family": "tvn",
                                                        "dataset": shown["dataset"].name}


def test_the_model_page_leaves_out_what_nobody_recorded(shown, client_for):
    parent = shown["parent"]
    parent.latency_ms = None
    parent.fidelity = ""
    parent.save()
    page = client_for(shown["bob"]).get(f"/models/candidate/{parent.pk}/").content.decode()
    facts = re.search(r'<dl class="facts" id="facts">(.*?)</dl>', page, re.S).group(1)
    assert "Latency" not in facts and "Fidelity" not in facts and "–" not in facts
    assert "Parameters" in facts
