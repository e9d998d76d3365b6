"""Lists that grow: search by name, filters and pages on the server, in the pages and the API; a page past
the end or a malformed one is a clear message, never page 1 (issue 19, "manage and find")."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(world):
    """31 experiments of team A in all (30 more beside alpha), some finished, some on a second dataset."""
    from webapp.studio.models import Dataset, Experiment

    second = Dataset.objects.create(team=world["a"], name="second", kind=Dataset.Kind.SYNTHETIC, status=Dataset.Status.READY)
    config = world["experiment"].config
    Experiment.objects.bulk_create([
        Experiment(team=world["a"], name=f"run {i:02d}" + (" evanet" if i % 3 == 0 else ""), family="evanet" if i % 3 == 0 else "tvn",
                   dataset=second if i % 2 else world["dataset"], config=config,
                   status=Experiment.Status.FINISHED if i % 5 == 0 else Experiment.Status.QUEUED)
        for i in range(30)])
    return {**world, "second": second}


def names(html: str) -> list[str]:
    import re

    return re.findall(r'<td><a href="/experiments/\d+/">([^<]+)</a></td>', html)


def test_the_experiment_list_pages_on_the_server(many, client_for):
    client = client_for(many["bob"])
    first = client.get("/").content.decode()
    assert len(names(first)) == 25 and "Page 1 of 2" in first and "31 in all" in first
    second = client.get("/?page=2").content.decode()
    assert len(names(second)) == 6 and not set(names(first)) & set(names(second))


def test_a_page_past_the_end_says_so_with_a_link_and_a_malformed_one_too(many, client_for):
    client = client_for(many["bob"])
    past = client.get("/?page=9&q=run")
    assert past.status_code == 404
    html = past.content.decode()
    assert "Page 9 of 2 does not exist." in html and 'href="?q=run&amp;page=2"' in html and names(html) == []
    for raw in ("abc", "0", "-1", "1.5", "99999999999999999999999999", "\u200b", "%00"):
        response = client.get("/", {"page": raw})
        assert response.status_code == 400, raw
        assert "is not a page number" in response.content.decode()


def test_search_and_filters_of_the_experiment_list(many, client_for):
    client = client_for(many["bob"])
    found = names(client.get("/", {"q": "EVANET"}).content.decode())
    assert len(found) == 10 and all("evanet" in n for n in found)
    assert len(names(client.get("/", {"family": "evanet", "status": "finished"}).content.decode())) == 2  # 0, 15
    on_second = names(client.get("/", {"dataset": many["second"].pk}).content.decode())
    assert len(on_second) == 15 and "alpha" not in on_second
    assert "No experiment matches this search." in client.get("/", {"q": "nothing like it"}).content.decode()
    for query, message in (({"status": "bogus"}, "is not one of"), ({"dataset": "x1"}, "must be the id of one"),
                           ({"q": "x" * 201}, "at most 200 characters"), ({"q": "a\x00"}, "NUL")):
        response = client.get("/", query)
        assert response.status_code == 400 and message in response.content.decode(), query


def test_the_api_filters_and_refuses_an_offset_past_the_end(many, client_for):
    client = client_for(many["bob"])
    body = client.get("/api/experiments/", {"q": "run 1", "family": "tvn", "limit": 5}).json()
    assert body["count"] == 7 and len(body["results"]) == 5  # run 10..19 but the evanet ones (12, 15, 18)
    assert all(e["family"] == "tvn" and "run 1" in e["name"] for e in body["results"])
    assert client.get("/api/experiments/", {"dataset": many["second"].pk}).json()["count"] == 15
    past = client.get("/api/experiments/", {"offset": 40, "limit": 10})
    assert past.status_code == 404 and "Offset 40 is past the end: there are 31 results" in past.json()["detail"]
    assert client.get("/api/experiments/", {"offset": 30, "limit": 10}).status_code == 200
    bad = client.get("/api/experiments/", {"status": "bogus"})
    assert bad.status_code == 400 and "is not one of" in bad.json()["detail"]
    assert client.get("/api/datasets/", {"q": "SEC"}).json()["count"] == 1
    assert client.get("/api/datasets/", {"kind": "nope"}).status_code == 400
    assert client.get("/api/architectures/", {"family": "tvn", "q": "tiny"}).json()["count"] == 1
    assert client.get("/api/architectures/", {"family": "evanet"}).json()["count"] == 0


def test_the_library_and_dataset_lists_search_and_page(many, client_for):
    from webapp.architectures import services as arch

    client = client_for(many["bob"])
    for i in range(26):
        arch.create_architecture(user=many["bob"], team=many["a"], name=f"lib {i}", spec=many["v1"].spec)
    library = client.get("/architectures/").content.decode()
    assert "Page 1 of 2" in library and "27 in all" in library
    assert "Page 3 of 2 does not exist." in client.get("/architectures/?page=3").content.decode()
    assert client.get("/architectures/", {"family": "nope"}).status_code == 400
    found = client.get("/architectures/", {"q": "lib 2"}).content.decode()  # lib 2, lib 20..25
    assert found.count('href="/architectures/') - found.count('href="/architectures/editor') >= 7
    datasets = client.get("/datasets/", {"status": "ready", "q": "motion"}).content.decode()
    assert "motion-a" in datasets and ">second<" not in datasets
