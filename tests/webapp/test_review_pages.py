"""The review pages for every role: leaderboard (filters, sorting, paging links), Pareto chart, model
page (drawing boot, evaluation, review boot), lineage, diff, activity; other teams' ids are 404;
exports (spec, model card, checkpoint loadable with weights_only; ONNX is a job: test_export_jobs)."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db


def boot(response, name):
    html = response.content.decode()
    start = html.index(f'id="{name}"')
    start = html.index(">", start) + 1
    return json.loads(html[start:html.index("</script>", start)])


def page_urls(w):
    c, p, v = w["child"].pk, w["parent"].pk, w["v1"].pk
    return ["/leaderboard/", f"/leaderboard/?experiment={w['experiment'].pk}&sort=latency", "/leaderboard/pareto/",
            f"/models/candidate/{c}/", f"/models/version/{v}/", f"/lineage/{c}/",
            f"/diff/?a=candidate:{p}&b=candidate:{c}", f"/teams/{w['a'].pk}/activity/",
            f"/models/candidate/{c}/export/spec/", f"/models/candidate/{c}/export/card/"]


@pytest.mark.parametrize("who", ["alice", "bob", "dave"])
def test_every_role_sees_the_review_pages(world, who, client_for):
    client = client_for(world[who])
    for url in page_urls(world):
        assert client.get(url).status_code == 200, url


def test_outsiders_get_404_and_anonymous_the_login(world, client_for):
    outsider, anonymous = client_for(world["charlie"]), client_for(None)
    for url in page_urls(world)[3:]:
        assert outsider.get(url).status_code == 404, url
        response = anonymous.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    assert world["child"].name not in outsider.get("/leaderboard/").content.decode()


def test_leaderboard_page_sorts_filters_and_links_pages(world, client_for):
    from webapp.studio.models import Candidate

    Candidate.objects.bulk_create([Candidate(experiment=world["experiment"], index=100 + i, name=f"x{i:03d}", spec={},
                                             status="evaluated", accuracy=i / 100, latency_ms=100 - i) for i in range(60)])
    client = client_for(world["bob"])
    html = client.get("/leaderboard/").content.decode()
    assert "1–50 of 62" in html and 'id="next-page"' in html and "x059" in html and "x005" not in html
    second = client.get("/leaderboard/?offset=50").content.decode()
    assert "51–62 of 62" in second and "x005" in second and 'id="prev-page"' in second
    fast = client.get("/leaderboard/?sort=latency&max_latency=45").content.decode()
    assert fast.index("x059") < fast.index("x058") and "x054" not in fast
    bad = client.get("/leaderboard/?min_accuracy=abc")
    assert bad.status_code == 400 and "min_accuracy" in bad.content.decode()


def test_model_page_boots_the_drawing_and_the_review(world, client_for):
    response = client_for(world["dave"]).get(f"/models/candidate/{world['child'].pk}/")
    drawing, review = boot(response, "drawing-boot"), boot(response, "review-boot")
    assert drawing["spec"]["nodes"][0]["attrs"]["filters"] == 24 and drawing["family"] == "tvn"
    assert review["summary"]["status"] == "draft" and review["summary"]["can_change"] is False
    html = response.content.decode()
    assert 'id="diff-parent"' in html and "architectures/viewer.js" in html
    assert "<script>" not in html  # CSP: no inline script


def test_lineage_of_a_search(world, client_for):
    from webapp.studio.models import Candidate

    grandchild = Candidate.objects.create(experiment=world["experiment"], index=2, name="c0002", spec={}, parent=world["child"],
                                          mutation="b0 skip on->off", mutation_details={"hand_edited": True}, accuracy=0.8)
    html = client_for(world["bob"]).get(f"/lineage/{world['child'].pk}/").content.decode()
    ancestors = html[html.index('id="ancestors"'):html.index('id="descendants"')]
    assert ancestors.index("c0000") < ancestors.index("c0001") and "b0 filters 16-&gt;24" in ancestors
    descendants = html[html.index('id="descendants"'):]
    assert "c0002" in descendants and "hand-edited" in descendants and str(grandchild.pk) in descendants


def test_lineage_of_a_500_candidate_search_is_complete_and_cheap(world, client_for, django_assert_max_num_queries):
    """Every descendant of the first sample listed once, in a bounded number of queries."""
    import random

    from webapp.studio.models import Candidate

    rng = random.Random(5)
    experiment, root = world["experiment"], world["parent"]
    rows = [root]
    for index in range(10, 510):  # each a child of an earlier one: a random tree
        parent = rng.choice(rows[-60:])
        rows.append(Candidate.objects.create(experiment=experiment, index=index, name=f"c{index:04d}", spec={}, parent=parent,
                                             generation=index // 50, mutation=f"m{index}", accuracy=rng.random()))
    descendants = {c.name for c in rows[1:]} | {world["child"].name}
    with django_assert_max_num_queries(30):  # a constant (session, scoping, the tree in two), not one per candidate
        html = client_for(world["bob"]).get(f"/lineage/{root.pk}/").content.decode()
    listed = html[html.index('id="descendants"'):]
    assert all(f">{name}<" in listed for name in descendants), "every descendant is listed"
    assert listed.count('href="/models/candidate/') >= len(descendants)


def test_diff_page_lists_the_change_and_boots_both_drawings(world, client_for):
    client = client_for(world["bob"])
    response = client.get(f"/diff/?a=candidate:{world['parent'].pk}&b=candidate:{world['child'].pk}")
    data = boot(response, "diff-boot")
    changed = data["diff"]["nodes_changed"]
    assert [c["id_a"] for c in changed] == [world["parent"].spec["nodes"][0]["id"]]
    assert "filters" in response.content.decode()
    assert data["a"]["spec"] and data["b"]["spec"]
    assert client.get("/diff/?a=candidate:x&b=1").status_code == 400
    assert client.get(f"/diff/?a=candidate:{world['parent'].pk}&b=version:{world['v1'].pk}").status_code == 200


# transactional: the job's heartbeat writes on its own connection, which a test's open transaction would hold off for SQLite's 30 s
@pytest.mark.django_db(transaction=True)
def test_exports_round_trip(trained, client_for, tmp_path):
    """Spec and card download at once; the checkpoint is an export job (ONNX too: test_export_jobs), and its old
    direct address leads to the ready file."""
    import torch

    from videomodels.export import load_exported, parse_front_matter
    from webapp.jobs.runner import run_job

    client = client_for(trained["dave"])  # reading is enough to export
    base = f"/models/candidate/{trained['child'].pk}/export/"
    assert json.loads(client.get(base + "spec/").content) == trained["child"].spec
    card = client.get(base + "card/").content.decode()
    front = parse_front_matter(card)
    assert "video-classification" in front["tags"] and "c0000" in card  # lineage names the parent
    not_yet = client.get(base + "checkpoint/")
    assert not_yet.status_code == 409 and "export job" in not_yet.json()["detail"]
    started = client.post(f"/api/models/candidate/{trained['child'].pk}/exports/", {"format": "checkpoint"},
                          content_type="application/json")
    assert started.status_code == 202 and started.json()["filename"].endswith(".pt")
    assert run_job("export", started.json()["id"], worker="test:1") == "recorded"
    moved = client.get(base + "checkpoint/")
    assert moved.status_code == 302 and moved["Location"] == f"/exports/{started.json()['id']}/download/"
    checkpoint = client.get(moved["Location"])
    assert checkpoint.status_code == 200 and checkpoint["X-Checkpoint-Verified"] == "torch.load(weights_only=True)"
    path = tmp_path / "model.pt"
    path.write_bytes(b"".join(checkpoint.streaming_content))
    torch.load(path, weights_only=True)  # no pickle of arbitrary objects needed
    loaded = load_exported(path)
    assert loaded.class_names and loaded.model is not None


def test_exports_refuse_what_cannot_be_exported(world, client_for):
    client = client_for(world["bob"])
    assert client.get(f"/models/candidate/{world['child'].pk}/export/onnx/").status_code == 409  # no checkpoint on disk
    assert client.get(f"/models/candidate/{world['child'].pk}/export/pickle/").status_code == 404
    assert client_for(world["charlie"]).get(f"/models/candidate/{world['child'].pk}/export/spec/").status_code == 404
