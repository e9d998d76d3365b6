"""The team activity feed records what a team does: a search launched and ended, a version saved, an
evaluation queued and its result, an export asked for and its result, next to reviews. Each entry
names and links its model, and the feed's API hands them to the page; the page hints when it is empty."""
from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def entries(team, action):
    from webapp.review.models import AuditEntry

    return list(AuditEntry.objects.filter(team=team, action=action).select_related("actor"))


def test_a_launch_and_the_end_of_a_search_are_recorded_with_a_link(world):
    from django.db import transaction

    from webapp.studio.services.lifecycle import set_status

    launched, = entries(world["a"], "experiment.launched")
    assert launched.actor == world["alice"]
    assert launched.detail["model"] == "alpha"
    assert launched.detail["url"] == reverse("experiment-detail", args=[world["experiment"].pk])
    with transaction.atomic():
        set_status(world["experiment"], "running")
        set_status(world["experiment"], "finished")
    finished, = entries(world["a"], "experiment.finished")
    assert finished.actor is None and finished.detail["url"] == launched.detail["url"]
    assert not entries(world["a"], "experiment.running") and not entries(world["b"], "experiment.finished")


def test_a_saved_version_is_recorded_by_its_author(world):
    from webapp.architectures import services

    saved, = entries(world["a"], "version.saved")  # the world's first version
    assert saved.detail["model"] == "tiny tvn v1" and saved.actor == world["alice"]
    v2 = services.save_version(architecture=world["architecture"], user=world["bob"], spec=world["v1"].spec | {"name": "b"},
                               message="wider", parent=world["v1"])
    newest = entries(world["a"], "version.saved")[0]
    assert newest.actor == world["bob"] and newest.detail["message"] == "wider"
    assert newest.detail["url"] == reverse("model-page", args=["version", v2.pk])


def test_an_evaluation_is_recorded_when_queued_and_once_when_it_ends(world):
    from webapp.architectures.evaluation_job import EVALUATION
    from webapp.architectures.jobs import create_evaluation
    from webapp.jobs.claims import beat, claim, record

    evaluation = create_evaluation(user=world["bob"], version=world["v1"], dataset=world["dataset"], steps=2, batch_size=4)
    queued, = entries(world["a"], "evaluation.queued")
    assert queued.actor == world["bob"] and queued.detail["url"] == reverse("evaluation-page", args=[evaluation.pk])
    assert queued.detail["model"] == "tiny tvn v1"
    taken = claim(EVALUATION, evaluation.pk, "test:1")
    assert beat(EVALUATION, taken, {"stage": "training"})
    assert record(EVALUATION, taken, {"status": "evaluated", "accuracy": 0.5})
    assert not record(EVALUATION, taken, {"status": "evaluated", "accuracy": 0.5})
    done, = entries(world["a"], "evaluation.evaluated")
    assert done.detail["accuracy"] == 0.5 and done.detail["model"] == "tiny tvn v1"


def test_an_export_is_recorded_when_asked_for_and_when_it_ends(world):
    from webapp.jobs.claims import claim, record
    from webapp.review.export_jobs import EXPORT
    from webapp.review.models import Export
    from webapp.review.services import subject_for_candidate

    subject = subject_for_candidate(world["child"])
    export = Export.objects.create(subject=subject, created_by=world["dave"], stage="queued", filename="alpha.onnx")
    asked, = entries(world["a"], "export.requested")
    assert asked.actor == world["dave"] and asked.subject == subject
    assert asked.detail["model"] == "alpha · c0001"
    assert asked.detail["url"] == reverse("model-page", args=["candidate", world["child"].pk])
    taken = claim(EXPORT, export.pk, "test:1")
    assert record(EXPORT, taken, {"error": "the exporter crashed"})
    failed, = entries(world["a"], "export.failed")
    assert failed.actor is None and failed.detail["url"] == asked.detail["url"]


def test_reviews_name_their_model_and_the_feed_api_hands_it_over(world, client_for):
    from webapp.review import services

    subject = services.subject_for_candidate(world["parent"])
    services.change_status(subject, world["bob"], "request")
    data = client_for(world["dave"]).get(reverse("review-api:team-activity", args=[world["a"].pk])).json()
    newest = data["results"][0]
    assert newest["action"] == "review.request" and newest["actor"] == "bob"
    assert newest["detail"]["model"] == "alpha · c0000"
    assert newest["detail"]["url"] == reverse("model-page", args=["candidate", world["parent"].pk])
    assert {"experiment.launched", "version.saved"} <= {row["action"] for row in data["results"]}


def test_the_activity_page_hints_when_nothing_happened(teams, client_for):
    page = client_for(teams["charlie"]).get(reverse("activity", args=[teams["b"].pk]))
    assert page.status_code == 200
    assert b'id="feed-empty"' in page.content and b"Nothing has happened in this team yet" in page.content
