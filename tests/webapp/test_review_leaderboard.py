"""Leaderboards and the Pareto front: server-side filters, sorts and pages over a team's candidates,
scoped to the user's teams; hostile parameters are 400s naming the parameter."""
from __future__ import annotations

import random

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(world):
    """30 more evaluated candidates of team A's search with spread metrics, a few failed, one of team B."""
    from archsearch.config import SearchConfig
    from webapp.studio.models import Candidate

    rng = random.Random(3)
    rows = [Candidate(experiment=world["experiment"], index=10 + i, name=f"c{10 + i:04d}", spec={}, generation=i % 4,
                      status=Candidate.Status.EVALUATED, accuracy=round(rng.random(), 3), latency_ms=round(rng.uniform(1, 50), 2),
                      params=rng.randint(10**3, 10**6), macs=rng.randint(10**5, 10**9)) for i in range(30)]
    rows += [Candidate(experiment=world["experiment"], index=50 + i, name=f"f{i}", spec={}, status=Candidate.Status.FAILED)
             for i in range(3)]
    Candidate.objects.bulk_create(rows)
    from webapp.studio.models import Experiment

    other = Experiment.objects.create(team=world["b"], name="beta", family="tvn", dataset=world["other_dataset"],
                                      config=SearchConfig(family="tvn", population=2, rounds=1).to_dict())
    Candidate.objects.create(experiment=other, index=0, name="c0000", spec={}, status="evaluated", accuracy=0.99, latency_ms=1.0)
    return world


def names(response):
    return [r["name"] for r in response.json()["results"]]


def test_sorted_filtered_paged_and_scoped(board, client_for):
    from webapp.studio.models import Candidate

    client = client_for(board["dave"])  # a viewer reads the leaderboard
    first = client.get("/api/leaderboard/?limit=10")
    assert first.status_code == 200
    data = first.json()
    mine = Candidate.objects.filter(experiment=board["experiment"], accuracy__isnull=False)
    assert data["count"] == mine.count()  # team B's 0.99 is not there; failed ones have no accuracy to rank
    expected = list(mine.order_by("-accuracy", "-pk").values_list("name", flat=True))
    assert names(first) == expected[:10]
    second = client.get(data["next"].replace("http://testserver", ""))
    assert names(second) == expected[10:20]
    fast = client.get("/api/leaderboard/?sort=latency&max_latency=20&min_accuracy=0.3&status=evaluated")
    rows = fast.json()["results"]
    assert rows and all(r["latency_ms"] <= 20 and r["accuracy"] >= 0.3 for r in rows)
    assert [r["latency_ms"] for r in rows] == sorted(r["latency_ms"] for r in rows)
    by_index = client.get("/api/leaderboard/?sort=index&status=failed").json()
    assert [r["name"] for r in by_index["results"]] == ["f0", "f1", "f2"]
    assert client.get(f"/api/leaderboard/?experiment={board['experiment'].pk}&family=evanet").json()["count"] == 0


def test_review_status_and_tag_filters(board, client_for):
    from webapp.review import services
    from webapp.studio.models import Candidate

    alice = board["alice"]
    top = Candidate.objects.filter(experiment=board["experiment"]).exclude(accuracy=None).order_by("-accuracy").first()
    subject = services.subject_for_candidate(top)
    services.add_tag(subject, alice, "Shortlist")
    services.change_status(subject, alice, "request")
    client = client_for(board["bob"])
    assert names(client.get("/api/leaderboard/?tag=shortlist")) == [top.name]
    assert names(client.get("/api/leaderboard/?review=in_review")) == [top.name]
    drafts = client.get("/api/leaderboard/?review=draft&limit=1000").json()
    assert drafts["count"] == client.get("/api/leaderboard/").json()["count"] - 1 and top.name not in names_of(drafts)
    row = client.get("/api/leaderboard/?limit=1").json()["results"][0]
    assert row["tags"] == ["shortlist"] and row["review_status"] == "in_review"


def names_of(data):
    return [r["name"] for r in data["results"]]


def test_other_teams_ids_select_nothing(board, client_for):
    client = client_for(board["charlie"])
    assert client.get(f"/api/leaderboard/?experiment={board['experiment'].pk}").json()["count"] == 0
    assert client.get(f"/api/leaderboard/?team={board['a'].pk}").json()["count"] == 0
    assert client.get("/api/leaderboard/").json()["count"] == 1
    assert client_for(None).get("/api/leaderboard/").status_code == 401


@pytest.mark.parametrize("query,field", [("sort=password", "sort"), ("min_accuracy=nan", "min_accuracy"),
                                         ("max_latency=1e999", "max_latency"), ("experiment=" + "9" * 30, "experiment"),
                                         ("status=lost", "status"), ("review=maybe", "review"), ("family=resnet", "family"),
                                         ("limit=-1", "limit"), ("offset=1x", "offset"), ("tag=" + "t" * 60, "tag")])
def test_hostile_parameters_are_400s_naming_them(board, client_for, query, field):
    response = client_for(board["alice"]).get(f"/api/leaderboard/?{query}")
    assert response.status_code == 400 and field in response.json()


def test_pareto_front_matches_the_pairwise_definition(board, client_for):
    from archsearch.selection import dominates
    from webapp.studio.models import Candidate

    # Ties the database's window must treat like the pairwise definition: exact duplicates (both stay
    # on the front or both off), equal cost with lower accuracy (dominated), equal accuracy at more cost.
    best = Candidate.objects.filter(experiment=board["experiment"]).exclude(accuracy=None).order_by("latency_ms").first()
    ties = [(best.accuracy, best.latency_ms), (best.accuracy - 0.01, best.latency_ms), (best.accuracy, best.latency_ms + 0.5),
            (0.999, 60.0), (0.999, 60.0)]
    Candidate.objects.bulk_create([Candidate(experiment=board["experiment"], index=900 + i, name=f"t{i}", spec={}, status="evaluated",
                                             accuracy=a, latency_ms=c) for i, (a, c) in enumerate(ties)])
    response = client_for(board["bob"]).get("/api/leaderboard/pareto/?cost=latency")
    assert response.status_code == 200
    data = response.json()
    pool = [{"id": c.pk, "accuracy": c.accuracy, "latency_ms": c.latency_ms}
            for c in Candidate.objects.filter(experiment=board["experiment"]).exclude(accuracy=None).exclude(latency_ms=None)]
    expected = {c["id"] for c in first_of_duplicates(pool) if not any(dominates(o, c) for o in pool if o is not c)}
    assert {p[0] for p in data["front"]} == expected
    assert data["count"] == len(pool)
    assert [p[2] for p in data["front"]] == sorted(p[2] for p in data["front"])
    assert not {p[0] for p in data["others"]} & expected
    assert client_for(board["bob"]).get("/api/leaderboard/pareto/?cost=beauty").status_code == 400
    macs = client_for(board["bob"]).get("/api/leaderboard/pareto/?cost=macs").json()
    with_macs = Candidate.objects.filter(experiment=board["experiment"]).exclude(accuracy=None).exclude(macs=None)
    assert macs["front"] and macs["front"][-1][1] == max(with_macs.values_list("accuracy", flat=True))


def first_of_duplicates(pool):
    """The pairwise definition keeps every exact duplicate on the front; the fast one keeps the lowest id."""
    seen, kept = set(), []
    for c in sorted(pool, key=lambda c: c["id"]):
        if (c["accuracy"], c["latency_ms"]) not in seen:
            seen.add((c["accuracy"], c["latency_ms"]))
            kept.append(c)
    return kept


def test_fast_front_equals_the_quadratic_one_on_random_points():
    from archsearch.selection import pareto_front as quadratic
    from webapp.review.pareto import pareto_front

    rng = random.Random(11)
    for trial in range(30):
        pts = [(i, rng.choice([0.1, 0.2, 0.5, 0.7, rng.random()]), rng.choice([1.0, 2.0, 3.0, rng.uniform(0, 5)]))
               for i in range(rng.randint(0, 60))]
        dicts = [{"id": i, "accuracy": a, "latency_ms": c} for i, a, c in pts]
        kept = {c["id"] for c in first_of_duplicates(dicts)}
        slow = {c["id"] for c in quadratic(dicts)} & kept
        assert {p[0] for p in pareto_front(pts)} == slow, trial


def test_counts_stop_at_the_cap(board, client_for, monkeypatch):
    from webapp.review import leaderboard

    monkeypatch.setattr(leaderboard, "COUNT_CAP", 10)
    client = client_for(board["bob"])
    data = client.get("/api/leaderboard/?limit=5").json()
    assert data["count"] == 11 and data["count_capped"] is True and data["next"]
    assert "of more than 10 models" in client.get("/leaderboard/").content.decode()
    assert client.get("/api/leaderboard/?tag=none-such").json()["count_capped"] is False


@pytest.mark.parametrize("prefix", [1, 3, 8])
def test_pruned_front_equals_the_full_one(board, client_for, monkeypatch, prefix):
    """With a short cheap prefix, the rows read past it are only those above its best accuracy; the front is the same."""
    from webapp.review import leaderboard

    full = client_for(board["bob"]).get("/api/leaderboard/pareto/?cost=macs").json()["front"]
    monkeypatch.setattr(leaderboard, "PARETO_PREFIX", prefix)
    for cost in ("macs", "latency"):
        pruned = client_for(board["bob"]).get(f"/api/leaderboard/pareto/?cost={cost}").json()["front"]
        monkeypatch.setattr(leaderboard, "PARETO_PREFIX", 10**6)
        reference = client_for(board["bob"]).get(f"/api/leaderboard/pareto/?cost={cost}").json()["front"]
        monkeypatch.setattr(leaderboard, "PARETO_PREFIX", prefix)
        assert pruned == reference, cost
    assert full
