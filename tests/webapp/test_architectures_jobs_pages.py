"""Pages of the jobs: the launch form's seed versions, the running search's Inject button, the
editor's Evaluate panel and the candidate page's live-weights hook, for owner, member, outsider."""
from __future__ import annotations

import pytest

from videomodels.presets import get_preset

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(teams):
    from webapp.architectures import services

    return services.create_architecture(user=teams["bob"], team=teams["a"], name="mine", spec=get_preset("tvn-small").to_dict(),
                                        origin="preset", preset="tvn-small")


def launch_form(dataset, **changes):
    data = {"team": dataset.team_id, "name": "seeded", "family": "tvn", "dataset": dataset.pk, "population": 2, "rounds": 1,
            "latency_budget_ms": "", "seed": 0, "low_steps": 2, "high_steps": 0, "batch_size": 8, "parallelism": 1,
            "num_threads": 1}
    data.update(changes)
    return data


def test_launch_form_seeds_versions(teams, ready_dataset, version, client_for):
    from webapp.studio.models import Experiment

    page = client_for(teams["alice"]).get("/experiments/new/")
    assert b"Seed with saved versions" in page.content and b"mine v1" in page.content
    response = client_for(teams["alice"]).post("/experiments/new/", launch_form(ready_dataset, seed_versions=[version.pk]))
    assert response.status_code == 302, response.content.decode()[:3000]
    experiment = Experiment.objects.get(name="seeded")
    assert experiment.config["seeds"][0]["mutation"].startswith("hand-edited by bob from mine v1")
    # A version of another family: an error on the field, no search; another team's version is no choice at all.
    other_family = client_for(teams["alice"]).post("/experiments/new/", launch_form(ready_dataset, name="x", family="evanet",
                                                                                  seed_versions=[version.pk]))
    assert other_family.status_code == 400 and b"tvn architecture" in other_family.content
    assert not Experiment.objects.filter(name="x").exists()
    charlie = client_for(teams["charlie"]).get("/experiments/new/")
    assert b"mine v1" not in charlie.content


def test_inject_button_on_a_running_search(teams, version, launch, client_for):
    experiment = launch(parallelism=1)
    page = client_for(teams["bob"]).get(f"/experiments/{experiment.pk}/")
    assert b'id="inject-form"' in page.content and b"mine v1" in page.content
    response = client_for(teams["bob"]).post(f"/experiments/{experiment.pk}/inject/", {"version": version.pk})
    assert response.status_code == 302
    injected = experiment.candidates.order_by("-index").first()
    assert injected.mutation.startswith("hand-edited by bob from mine v1") and injected.mutation_details["injected"]
    assert client_for(teams["charlie"]).post(f"/experiments/{experiment.pk}/inject/", {"version": version.pk}).status_code == 404
    before = experiment.candidates.count()
    for bad in ("", "abc", str(2**80), "-1"):
        assert client_for(teams["alice"]).post(f"/experiments/{experiment.pk}/inject/", {"version": bad}).status_code == 302
    assert experiment.candidates.count() == before
    assert client_for(teams["alice"]).get(f"/experiments/{experiment.pk}/inject/").status_code == 405


def test_editor_has_the_evaluate_panel_and_candidate_page_the_live_hook(teams, version, launch, client_for):
    editor = client_for(teams["alice"]).get(f"/architectures/editor/?version={version.pk}")
    assert b'id="evaluate-panel"' in editor.content and b"architectures/evaluate.js" in editor.content
    from webapp.studio.models import Candidate

    experiment = launch(start=True, parallelism=1)
    candidate = Candidate.objects.create(experiment=experiment, index=0, name="c0000", spec=version.spec, status="running")
    page = client_for(teams["alice"]).get(f"/candidates/{candidate.pk}/")
    assert b'id="live-weights"' in page.content and f'data-candidate="{candidate.pk}"'.encode() in page.content
    assert b"<script>" not in page.content and b"<script>" not in editor.content  # no inline script (strict CSP)


@pytest.mark.parametrize("value", ["", "-1", "1e999", "nan", "99999999999999999999999999", "\u200b", "x" * 3000, "\x00", "0x10",
                                   "[]", "\ud800"])
def test_hostile_seed_versions_are_form_errors(teams, ready_dataset, version, client_for, value):
    import urllib.parse

    body = urllib.parse.urlencode({**launch_form(ready_dataset), "seed_versions": value}, errors="surrogatepass")
    response = client_for(teams["alice"]).post("/experiments/new/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (302, 400)
    if value == "\x00":  # no text the studio keeps may hold a NUL: refused before the form is read
        assert response.status_code == 400 and b"NUL character" in response.content
    elif value:
        assert response.status_code == 400 and b"Choose among the listed versions" in response.content


def test_hostile_inject_versions_are_refused_without_an_error_page(teams, version, launch, client_for):
    experiment = launch(parallelism=1)
    for value in ["1e999", "99999999999999999999999999", "\x00", "[]"]:
        assert client_for(teams["alice"]).post(f"/experiments/{experiment.pk}/inject/", {"version": value}).status_code == 302
