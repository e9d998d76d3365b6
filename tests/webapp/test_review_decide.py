"""Deciding together: review status with its rules, tags and pointers moved only by members, anchored
comment threads (viewers comment too) that go outdated on later versions, an append-only audit."""
from __future__ import annotations

import json

import pytest
from review_world import small_spec

pytestmark = pytest.mark.django_db


def post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def test_request_then_approve_by_another_member_never_by_the_requester(world, client_for):
    url = f"/api/models/candidate/{world['child'].pk}/"
    bob, alice = client_for(world["bob"]), client_for(world["alice"])
    response = post(bob, url + "review/", {"action": "request", "comment": "best so far"})
    assert response.status_code == 200 and response.json()["status"] == "in_review"
    refused = post(bob, url + "review/", {"action": "approve"})
    assert refused.status_code == 403 and "another member" in refused.json()["action"][0]
    assert post(client_for(world["dave"]), url + "review/", {"action": "approve"}).status_code == 403  # viewer
    approved = post(alice, url + "review/", {"action": "approve", "comment": "ship it"})
    assert approved.status_code == 200
    data = approved.json()
    assert (data["status"], data["status_by"], data["requested_by"], data["status_comment"]) == ("approved", "alice", "bob", "ship it")
    assert post(alice, url + "review/", {"action": "approve"}).status_code == 400  # not in review any more
    assert post(alice, url + "review/", {"action": "explode"}).status_code == 400
    assert [a["action"] for a in data["audit"]] == ["review.approve", "review.request"]


def test_tags_and_pointers_move_only_by_members_with_history(world, client_for):
    from webapp.review.models import AuditEntry, Pointer

    parent, child = world["parent"].pk, world["child"].pk
    bob, dave = client_for(world["bob"]), client_for(world["dave"])
    assert post(dave, f"/api/models/candidate/{parent}/tags/", {"name": "paper"}).status_code == 403
    assert post(dave, f"/api/models/candidate/{parent}/pointers/", {"name": "production"}).status_code == 403
    assert post(bob, f"/api/models/candidate/{parent}/tags/", {"name": "Paper"}).json()["tags"] == ["paper"]
    assert post(bob, f"/api/models/candidate/{parent}/tags/", {"name": "bad tag!"}).status_code == 400
    assert post(bob, f"/api/models/candidate/{parent}/pointers/", {"name": "production"}).json()["pointers"] == ["production"]
    moved = post(bob, f"/api/models/candidate/{child}/pointers/", {"name": "production"}).json()
    assert moved["pointers"] == ["production"]
    assert bob.get(f"/api/models/candidate/{parent}/").json()["pointers"] == []  # one model at a time
    assert Pointer.objects.get(name="production").subject.candidate_id == child
    history = AuditEntry.objects.filter(action="pointer.moved").order_by("pk")
    assert [h.detail["old_subject"] is None for h in history] == [True, False]
    assert bob.delete(f"/api/models/candidate/{parent}/tags/paper/").json()["tags"] == []
    assert bob.delete(f"/api/models/candidate/{parent}/tags/paper/").status_code == 400


def test_viewers_comment_in_threads_anchored_to_nodes_and_edges(world, client_for):
    spec = world["child"].spec
    edge = spec["edges"][0]
    node = spec["nodes"][0]["id"]
    url = f"/api/models/candidate/{world['child'].pk}/comments/"
    dave, bob = client_for(world["dave"]), client_for(world["bob"])
    on_edge = post(dave, url, {"body": "why this skip?", "anchor": {"edge": [edge["source"], edge["target"]]}})
    assert on_edge.status_code == 201
    thread = on_edge.json()["id"]
    assert post(bob, url, {"body": "it helps", "parent": thread}).status_code == 201
    assert post(bob, url, {"body": "wide", "anchor": {"node": node}}).status_code == 201
    assert post(bob, url, {"body": "x", "anchor": {"node": "nope"}}).status_code == 400
    assert post(bob, url, {"body": "x", "anchor": {"edge": ["a"]}}).status_code == 400
    assert post(bob, url, {"body": ""}).status_code == 400
    assert post(bob, url, {"body": "x", "parent": 10**30}).status_code == 400
    threads = bob.get(url).json()["threads"]
    assert [t["anchor"] for t in threads] == [{"edge": [edge["source"], edge["target"]]}, {"node": node}]
    assert threads[0]["replies"][0]["body"] == "it helps" and threads[0]["author"] == "dave"
    assert threads[1]["snapshot"]["attrs"] == spec["nodes"][0]["attrs"]
    assert post(dave, f"/api/comments/{thread}/resolve/").status_code == 403  # resolving is a member's
    resolved = post(bob, f"/api/comments/{thread}/resolve/").json()["threads"]
    assert resolved[0]["resolved"] and resolved[0]["resolved_by"] == "bob"
    assert post(client_for(world["charlie"]), url, {"body": "hi"}).status_code == 404
    assert client_for(world["charlie"]).get(url).status_code == 404


def test_threads_on_a_version_go_outdated_when_their_element_changes_later(world, client_for):
    from webapp.architectures import services as arch

    v1 = world["v1"]
    spec = v1.spec
    changed_node, kept_node = spec["nodes"][0]["id"], spec["nodes"][-1]["id"]
    bob = client_for(world["bob"])
    for target in (changed_node, kept_node):
        assert post(bob, f"/api/models/version/{v1.pk}/comments/", {"body": f"on {target}", "anchor": {"node": target}}).status_code == 201
    edited = small_spec()
    edited["nodes"][0]["attrs"]["filters"] = 40
    v2 = arch.save_version(architecture=v1.architecture, user=world["bob"], spec=edited, message="wider")
    threads = bob.get(f"/api/models/version/{v2.pk}/comments/").json()["threads"]
    by_body = {t["body"]: t for t in threads}
    assert "changed" in by_body[f"on {changed_node}"]["outdated"]
    assert by_body[f"on {kept_node}"]["outdated"] == ""
    assert by_body[f"on {changed_node}"]["written_on"]["label"] == "v1"
    # On the version it was written on, nothing is outdated.
    assert all(t["outdated"] == "" for t in bob.get(f"/api/models/version/{v1.pk}/comments/").json()["threads"])


def test_the_audit_trail_is_append_only_and_the_feed_is_scoped(world, client_for):
    from webapp.review import services
    from webapp.review.models import AppendOnlyError, AuditEntry

    subject = services.subject_for_candidate(world["parent"])
    services.add_tag(subject, world["bob"], "paper")
    entry = AuditEntry.objects.get(action="tag.added")
    entry.action = "tag.forged"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    feed = client_for(world["dave"]).get(f"/api/teams/{world['a'].pk}/activity/").json()
    # Newest first: the tag, then the world's saved version and launched search (team B's nothing).
    assert [r["action"] for r in feed["results"]] == ["tag.added", "version.saved", "experiment.launched"]
    assert feed["can_change"] is False
    assert client_for(world["charlie"]).get(f"/api/teams/{world['a'].pk}/activity/").status_code == 404


def test_other_kinds_and_ids(world, client_for):
    bob = client_for(world["bob"])
    assert bob.get(f"/api/models/version/{world['v1'].pk}/").json()["kind"] == "version"
    assert bob.get("/api/models/spaceship/1/").status_code == 404
    assert bob.get(f"/api/models/candidate/{2**63 + 5}/").status_code == 404
    assert client_for(world["charlie"]).get(f"/api/models/version/{world['v1'].pk}/").status_code == 404
