"""The pages offer a write control only where the server would accept it, by the same decision
(webapp.teams.roles.decide, through the ``roles`` template tags): a viewer sees no launch form, no
dataset forms, no import form and no enabled Save or Evaluate, each with the server's reason; a member
sees them all. A refusal that happens anyway is a page in the studio's style with the server's reason,
and the log gets one line for it, no traceback."""
from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from webapp.teams.roles import READ_ONLY_MESSAGE

pytestmark = pytest.mark.django_db


def html(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def test_a_viewer_is_offered_no_form_that_creates_something(world, client_for):
    dave, bob = client_for(world["dave"]), client_for(world["bob"])
    new_search = f'href="{reverse("experiment-new")}"'
    for url in (reverse("dashboard"), reverse("datasets")):
        assert new_search not in html(dave, url)
        assert new_search in html(bob, url)
    launch = html(dave, reverse("experiment-new"))
    assert 'id="experiment-form"' not in launch and READ_ONLY_MESSAGE in launch
    assert 'id="experiment-form"' in html(bob, reverse("experiment-new"))
    datasets = html(dave, reverse("datasets"))
    assert 'id="synthetic-form"' not in datasets and 'id="folder-form"' not in datasets and READ_ONLY_MESSAGE in datasets
    assert 'id="synthetic-form"' in html(bob, reverse("datasets"))
    library = html(dave, reverse("architecture-library"))
    assert 'id="import-form"' not in library and READ_ONLY_MESSAGE in library
    assert 'id="import-form"' in html(bob, reverse("architecture-library"))
    assert 'id="new-architecture"' not in library and "?new=" not in library
    assert 'id="new-architecture"' in html(bob, reverse("architecture-library"))
    pareto = html(dave, reverse("pareto-page")).replace("&#x27;", "'")
    assert f'id="compare-ensemble" disabled title="{READ_ONLY_MESSAGE}"' in pareto
    assert 'id="compare-ensemble">' in html(bob, reverse("pareto-page"))
    detail = reverse("dataset-detail", args=[world["dataset"].pk])
    assert "Launch a search on it" not in html(dave, detail) and "Launch a search on it" in html(bob, detail)


def test_the_editor_disables_save_and_evaluate_for_a_viewer_with_the_reason(world, client_for):
    url = reverse("architecture-editor") + f"?version={world['v1'].pk}"
    viewer = html(client_for(world["dave"]), url)
    assert f'id="save" disabled data-refused="{READ_ONLY_MESSAGE}" title="{READ_ONLY_MESSAGE}"' in viewer.replace("&#x27;", "'")
    assert 'id="evaluate" disabled title=' in viewer
    member = html(client_for(world["bob"]), url)
    assert 'id="save">' in member and 'id="evaluate">' in member


def test_a_refused_form_is_a_studio_page_with_the_reason_and_no_traceback_in_the_log(world, client_for, caplog):
    caplog.set_level(logging.INFO)
    response = client_for(world["dave"]).post(reverse("experiment-new"), {"name": "x"})
    assert response.status_code == 403
    page = response.content.decode()
    assert 'class="topbar"' in page and 'id="refusal"' in page and READ_ONLY_MESSAGE in page.replace("&#x27;", "'")
    refusals = [r for r in caplog.records if r.name == "django.request" and r.levelno == logging.WARNING]
    assert refusals and all(r.exc_info is None for r in refusals)
    assert "Traceback" not in caplog.text and "PermissionDenied" not in caplog.text


def test_a_server_error_keeps_its_traceback(caplog):
    from webapp.security import RefusalsWithoutTraceback

    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        failed = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Server error", (), (type(error), error, None))
        refused = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Forbidden", (), (type(error), error, None))
    failed.status_code, refused.status_code = 500, 403
    RefusalsWithoutTraceback().filter(failed)
    RefusalsWithoutTraceback().filter(refused)
    assert failed.exc_info is not None and refused.exc_info is None


def test_a_conflict_on_a_page_is_a_page_and_json_for_a_script(world, client_for):
    from webapp.review.models import Ensemble

    ensemble = Ensemble.objects.create(team=world["a"], created_by=world["bob"], name="pair")  # queued: nothing to retry
    bob = client_for(world["bob"])
    page = bob.post(reverse("ensemble-retry", args=[ensemble.pk]))
    assert page.status_code == 409 and page["Content-Type"].startswith("text/html")
    text = page.content.decode()
    assert 'class="topbar"' in text and "Only a failed ensemble runs again; this one is queued." in text
    script = bob.post(reverse("ensemble-retry", args=[ensemble.pk]), HTTP_ACCEPT="application/json")
    assert script.status_code == 409 and script.json() == {"detail": "Only a failed ensemble runs again; this one is queued."}


def test_a_missing_page_is_a_studio_page(world, client_for):
    response = client_for(world["dave"]).get(reverse("experiment-detail", args=[world["experiment"].pk + 999]))
    assert response.status_code == 404
    assert 'id="refusal"' in response.content.decode() and 'class="topbar"' in response.content.decode()
