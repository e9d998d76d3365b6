"""Rename and delete datasets, experiments and architectures (and a version's message): the rules users
expect, through the API, the pages and the services (issue 19, "manage and find")."""
from __future__ import annotations

import json
import shutil
import threading

import pytest

pytestmark = pytest.mark.django_db


def patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


def fresh(folder):
    """A folder of the session's data folder as a new row with a reused id finds it: empty (the files of a
    test whose transaction rolled back stay, as their rows never went)."""
    shutil.rmtree(folder, ignore_errors=True)
    return folder


_before_test = {"last": 0}


@pytest.fixture(autouse=True)
def _audit_from_here(request, db):
    """Entries the fixtures wrote (the world's launch, its saved versions) are not what a test did."""
    from webapp.review.models import AuditEntry

    for name in request.fixturenames:  # set up the test's other fixtures first: their entries come before the mark
        if name != "_audit_from_here":
            request.getfixturevalue(name)
    _before_test["last"] = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def audit_actions(team):
    """What the test itself put in the team's audit trail, oldest first."""
    from webapp.review.models import AuditEntry

    return list(AuditEntry.objects.filter(team=team, pk__gt=_before_test["last"]).order_by("pk").values_list("action", "detail"))


# ---------------------------------------------------------------------- rename
def test_a_member_renames_an_experiment_and_the_audit_trail_says_from_what_to_what(world, client_for):
    response = patch(client_for(world["bob"]), f"/api/experiments/{world['experiment'].pk}/", {"name": "  beta\u200b run "})
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "beta run"
    world["experiment"].refresh_from_db()
    assert world["experiment"].name == "beta run"
    assert ("experiment.renamed", {"experiment": world["experiment"].pk, "old": "alpha", "new": "beta run"}) in audit_actions(world["a"])


def test_a_viewer_is_refused_with_the_reason_and_an_outsider_sees_nothing(world, client_for):
    for url in (f"/api/experiments/{world['experiment'].pk}/", f"/api/datasets/{world['dataset'].pk}/",
                f"/api/architectures/{world['architecture'].pk}/"):
        refused = patch(client_for(world["dave"]), url, {"name": "mine now"})
        assert refused.status_code == 403 and "Viewers read and comment only" in refused.json()["detail"]
        assert client_for(world["dave"]).delete(url).status_code == 403
        assert patch(client_for(world["charlie"]), url, {"name": "mine now"}).status_code == 404
        assert client_for(world["charlie"]).delete(url).status_code == 404
    assert audit_actions(world["a"]) == []


def test_dataset_names_stay_unique_in_the_team_and_bad_names_are_400s(world, client_for):
    from webapp.studio.models import Dataset

    Dataset.objects.create(team=world["a"], name="taken", kind=Dataset.Kind.SYNTHETIC)
    Dataset.objects.create(team=world["b"], name="elsewhere", kind=Dataset.Kind.SYNTHETIC)
    client, url = client_for(world["bob"]), f"/api/datasets/{world['dataset'].pk}/"
    taken = patch(client, url, {"name": "taken"})
    assert taken.status_code == 400 and "already has a dataset called 'taken'" in taken.json()["name"][0]
    assert patch(client, url, {"name": "elsewhere"}).status_code == 200  # another team's name is free here
    for bad in ("", "\u200b\u200b", "x" * 201, None, ["a"], {"a": 1}, "a\x00b"):
        response = patch(client, url, {"name": bad})
        assert response.status_code == 400, (bad, response.content)
    other = patch(client, url, {"name": "ok", "kind": "folder"})
    assert other.status_code == 400 and "Only name can be changed" in other.json()["kind"][0]
    assert patch(client, url, ["name"]).status_code == 400
    assert client.put(url, json.dumps({"name": "x"}), content_type="application/json").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_two_racing_renames_to_the_same_name_one_wins_the_other_is_told(teams, studio_data_dir):
    from django.db import connections

    from webapp.studio import services
    from webapp.studio.models import Dataset

    for attempt in range(3):
        datasets = [Dataset.objects.create(team=teams["a"], name=f"d{attempt}-{i}", kind=Dataset.Kind.SYNTHETIC) for i in range(4)]
        barrier, outcomes = threading.Barrier(len(datasets)), []

        def rename(dataset):
            barrier.wait()
            try:
                services.rename_dataset(user=teams["bob"], dataset=dataset, name=f"same-{attempt}")
                outcomes.append("renamed")
            except services.StudioError as error:
                outcomes.append(error.status)
                assert f"same-{attempt}" in str(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=rename, args=(d,)) for d in datasets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert outcomes.count("renamed") == 1, outcomes
        assert set(outcomes) <= {"renamed", 400, 409}, outcomes
        assert Dataset.objects.filter(team=teams["a"], name=f"same-{attempt}").count() == 1


def test_a_version_message_can_be_corrected_but_its_spec_never_changes(world, client_for):
    from webapp.architectures.models import ArchitectureVersion

    url = f"/api/versions/{world['v1'].pk}/"
    response = patch(client_for(world["bob"]), url, {"message": "the small one, checked"})
    assert response.status_code == 200 and response.json()["message"] == "the small one, checked"
    version = ArchitectureVersion.objects.get(pk=world["v1"].pk)
    assert version.message == "the small one, checked" and version.spec == world["v1"].spec
    assert patch(client_for(world["bob"]), url, {"spec": {}}).status_code == 400
    assert patch(client_for(world["dave"]), url, {"message": "x"}).status_code == 403
    assert [a for a, _ in audit_actions(world["a"])] == ["version.message"]


# ---------------------------------------------------------------------- what goes, what blocks
def test_the_removal_preview_counts_what_goes_and_names_what_blocks(world, client_for, studio_data_dir):
    from webapp.studio.models import Experiment

    folder = fresh(studio_data_dir / "experiments" / str(world["experiment"].pk)) / "c0000"
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text("{}")
    client = client_for(world["dave"])  # a viewer may see what a deletion would take
    plan = client.get(f"/api/experiments/{world['experiment'].pk}/removal/").json()
    assert plan["counts"]["candidates"] == 2 and plan["files"] == 1 and plan["blockers"] == []
    Experiment.objects.filter(pk=world["experiment"].pk).update(status=Experiment.Status.RUNNING)
    plan = client.get(f"/api/experiments/{world['experiment'].pk}/removal/").json()
    assert plan["blockers"] == ["It is running: cancel it first, then delete it."]
    dataset_plan = client.get(f"/api/datasets/{world['dataset'].pk}/removal/").json()
    assert dataset_plan["counts"] == {"experiments": 1}
    assert any("A running search uses it (alpha)" in b for b in dataset_plan["blockers"])


# ---------------------------------------------------------------------- delete
def test_a_running_experiment_is_cancelled_before_it_can_be_deleted(world, client_for, studio_data_dir):
    from webapp.studio.models import Candidate, Experiment

    experiment = world["experiment"]
    Experiment.objects.filter(pk=experiment.pk).update(status=Experiment.Status.RUNNING)
    client = client_for(world["bob"])
    refused = client.delete(f"/api/experiments/{experiment.pk}/")
    assert refused.status_code == 409 and "cancel it first" in refused.json()["detail"]
    assert Experiment.objects.filter(pk=experiment.pk).exists()

    Experiment.objects.filter(pk=experiment.pk).update(status=Experiment.Status.CANCELLED)
    folder = fresh(studio_data_dir / "experiments" / str(experiment.pk))
    (folder / "c0001" / "attempt1").mkdir(parents=True)
    (folder / "c0001" / "attempt1" / "checkpoint.pt").write_bytes(b"weights")
    response = client.delete(f"/api/experiments/{experiment.pk}/")
    assert response.status_code == 200 and response.json()["counts"]["candidates"] == 2
    assert not Experiment.objects.filter(pk=experiment.pk).exists()
    assert not Candidate.objects.filter(experiment_id=experiment.pk).exists()
    actions = dict(audit_actions(world["a"]))
    assert actions["experiment.deleted"]["name"] == "alpha" and actions["experiment.deleted"]["candidates"] == 2
    assert actions["experiment.deleted"]["files"] == 1


@pytest.mark.django_db(transaction=True)
def test_deleting_removes_the_studios_files_and_never_a_source_folder(teams, studio_data_dir, shared_videos):
    from webapp.studio import services
    from webapp.studio.models import Dataset

    source = shared_videos / "keep-me"
    source.mkdir(exist_ok=True)
    (source / "clip.mp4").write_bytes(b"video")
    dataset = Dataset.objects.create(team=teams["a"], name="folder one", kind=Dataset.Kind.FOLDER, source_path=str(source),
                                     status=Dataset.Status.READY)
    cache = fresh(studio_data_dir / "datasets" / str(dataset.pk)) / "cache"
    cache.mkdir(parents=True)
    (cache / "clips.npy").write_bytes(b"clips")
    Dataset.objects.filter(pk=dataset.pk).update(cache_path=str(cache))
    plan = services.delete_dataset(user=teams["bob"], dataset=dataset)
    assert plan.files == 1
    assert not (studio_data_dir / "datasets" / str(dataset.pk)).exists()
    assert (source / "clip.mp4").read_bytes() == b"video"
    assert studio_data_dir.is_dir()


def test_a_dataset_used_by_an_experiment_or_an_evaluation_is_refused_with_the_reason(world, client_for, tiny_cache):
    from webapp.architectures import jobs
    from webapp.studio.models import Dataset, Experiment

    client = client_for(world["bob"])
    refused = client.delete(f"/api/datasets/{world['dataset'].pk}/")
    assert refused.status_code == 409 and "1 experiment(s) use it (alpha): delete them first." in refused.json()["detail"]
    assert client.delete(f"/api/experiments/{world['experiment'].pk}/").status_code == 200
    jobs.create_evaluation(user=world["bob"], version=world["v1"], dataset=world["dataset"], steps=2, batch_size=4)
    refused = client.delete(f"/api/datasets/{world['dataset'].pk}/")
    assert refused.status_code == 409 and "evaluation(s) in the architecture library were trained on it" in refused.json()["detail"]
    assert Dataset.objects.filter(pk=world["dataset"].pk).exists() and not Experiment.objects.exists()
    assert tiny_cache.is_dir()  # a cache outside the dataset's own folder is never removed


def test_an_architecture_goes_with_its_versions_but_not_while_one_trains(world, client_for):
    from webapp.architectures import jobs
    from webapp.architectures.models import Architecture, ArchitectureVersion

    client = client_for(world["bob"])
    evaluation = jobs.create_evaluation(user=world["bob"], version=world["v1"], dataset=world["dataset"], steps=2, batch_size=4)
    refused = client.delete(f"/api/architectures/{world['architecture'].pk}/")
    assert refused.status_code == 409 and "being evaluated" in refused.json()["detail"]
    type(evaluation).objects.filter(pk=evaluation.pk).update(status="failed")
    assert client.delete(f"/api/architectures/{world['architecture'].pk}/").status_code == 200
    assert not Architecture.objects.filter(pk=world["architecture"].pk).exists()
    assert not ArchitectureVersion.objects.filter(pk=world["v1"].pk).exists()
    detail = dict(audit_actions(world["a"]))["architecture.deleted"]
    assert detail["name"] == "tiny tvn" and detail["versions"] == 1 and detail["evaluations"] == 1


# ---------------------------------------------------------------------- pages
def test_the_confirmation_page_says_what_goes_and_deletes_only_on_its_post(world, client_for):
    from webapp.studio.models import Experiment

    client, url = client_for(world["bob"]), f"/experiments/{world['experiment'].pk}/delete/"
    page = client.get(url).content.decode()
    assert "Delete the experiment “alpha”?" in page and "<strong>2</strong> candidates" in page and "Delete for good" in page
    assert Experiment.objects.filter(pk=world["experiment"].pk).exists()
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == "/"
    assert not Experiment.objects.filter(pk=world["experiment"].pk).exists()


def test_pages_refuse_a_viewer_with_the_reason_and_a_blocked_deletion_with_its_own(world, client_for):
    viewer = client_for(world["dave"])
    page = viewer.get(f"/datasets/{world['dataset'].pk}/delete/").content.decode()
    assert "Viewers read and comment only" in page and "Delete for good" not in page
    refused = viewer.post(f"/experiments/{world['experiment'].pk}/rename/", {"name": "mine"})
    assert refused.status_code == 403 and "Viewers read and comment only" in refused.content.decode()
    member = client_for(world["bob"])
    page = member.get(f"/datasets/{world['dataset'].pk}/delete/").content.decode()
    assert "1 experiment(s) use it (alpha): delete them first." in page and "Delete for good" not in page
    response = member.post(f"/datasets/{world['dataset'].pk}/delete/", follow=True)
    assert "cannot be deleted yet" in response.content.decode()


def test_rename_forms_on_the_pages(world, client_for):
    from webapp.architectures.models import Architecture, ArchitectureVersion
    from webapp.studio.models import Dataset

    client = client_for(world["bob"])
    response = client.post(f"/datasets/{world['dataset'].pk}/rename/", {"name": "motion renamed"}, follow=True)
    assert "Renamed." in response.content.decode() and Dataset.objects.get(pk=world["dataset"].pk).name == "motion renamed"
    response = client.post(f"/architectures/{world['architecture'].pk}/rename/", {"name": ""}, follow=True)
    assert "Give a name" in response.content.decode() and Architecture.objects.get(pk=world["architecture"].pk).name == "tiny tvn"
    client.post(f"/architectures/{world['architecture'].pk}/versions/1/message/", {"message": "first, reviewed"})
    assert ArchitectureVersion.objects.get(pk=world["v1"].pk).message == "first, reviewed"
    big = client.post(f"/architectures/{world['architecture'].pk}/versions/99999999999999999999/message/", {"message": "x"})
    assert big.status_code == 404


def test_ids_beyond_64_bits_are_404s_on_every_new_route(world, client_for):
    client, big = client_for(world["bob"]), "9" * 30
    for url in (f"/experiments/{big}/delete/", f"/datasets/{big}/delete/", f"/architectures/{big}/delete/",
                f"/experiments/{big}/candidates.csv", f"/api/experiments/{big}/removal/", f"/api/datasets/{big}/removal/"):
        assert client.get(url).status_code == 404, url
    for url in (f"/experiments/{big}/rename/", f"/datasets/{big}/rename/", f"/architectures/{big}/rename/",
                f"/architectures/{big}/versions/1/message/", f"/experiments/{big}/delete/"):
        assert client.post(url, {"name": "x", "message": "x"}).status_code == 404, url
    assert client.delete(f"/api/datasets/{big}/").status_code == 404
    assert patch(client, f"/api/versions/{big}/", {"message": "x"}).status_code == 404
