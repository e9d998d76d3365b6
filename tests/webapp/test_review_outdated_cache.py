"""Reading a review does not diff every earlier anchored version again: each thread's fate on a spec
is worked out once and stored (specs never change), so a second read does no diff at all, and a
new version diffs only against the versions it has not met."""
from __future__ import annotations

import time

import pytest
from review_world import small_spec

pytestmark = pytest.mark.django_db
VERSIONS = 20


@pytest.fixture
def history(world):
    """20 versions of team A's architecture, each widening the first node; a thread anchored to it on each."""
    from webapp.architectures import services as arch
    from webapp.review import services

    versions = [world["v1"]]
    node = small_spec()["nodes"][0]["id"]
    for i in range(1, VERSIONS):
        spec = small_spec()
        spec["nodes"][0]["attrs"]["filters"] = 16 + 8 * i
        versions.append(arch.save_version(architecture=world["architecture"], user=world["bob"], spec=spec, message=f"v{i + 1}"))
    for version in versions[:-1]:
        services.add_comment(services.subject_for_version(version), world["dave"], f"about v{version.number}", anchor={"node": node})
    return {**world, "versions": versions, "node": node}


def test_a_second_read_diffs_nothing_and_the_fates_stay_right(history, client_for, monkeypatch):
    from webapp.review import outdated

    calls = []
    real = outdated.diff_specs
    monkeypatch.setattr(outdated, "diff_specs", lambda a, b, **kw: calls.append(1) or real(a, b, **kw))
    client = client_for(history["bob"])
    url = f"/api/models/version/{history['versions'][-1].pk}/"

    started = time.perf_counter()
    first = client.get(url).json()
    first_seconds = time.perf_counter() - started
    assert len(calls) == VERSIONS - 1  # one diff per earlier version, the first time only
    started = time.perf_counter()
    second = client.get(url).json()
    second_seconds = time.perf_counter() - started
    assert len(calls) == VERSIONS - 1  # none more
    print(f"review read with {VERSIONS} anchored versions: first {first_seconds:.2f} s, then {second_seconds:.3f} s")

    assert second["threads"] == first["threads"]
    reasons = {t["body"]: t["outdated"] for t in first["threads"]}
    assert len(reasons) == VERSIONS - 1 and all(f"node {history['node']} was changed" in r for r in reasons.values())

    # A viewer's read uses the same stored fates; a new version diffs only against what it has not met.
    client_for(history["dave"]).get(url)
    assert len(calls) == VERSIONS - 1
    from webapp.architectures import services as arch

    wider = small_spec()
    wider["nodes"][0]["attrs"]["filters"] = 512
    newest = arch.save_version(architecture=history["architecture"], user=history["bob"], spec=wider, message="wider")
    threads = client.get(f"/api/models/version/{newest.pk}/").json()["threads"]
    assert len(calls) == 2 * (VERSIONS - 1)
    assert {t["body"]: bool(t["outdated"]) for t in threads} == {body: True for body in reasons}
