"""Outcomes a user can understand: a search that gave up says so and why, coarse accuracy is
flagged, the ensemble and Pareto front are shown, names are distinct, counts need no replay,
the worker count is known, and the API has a readable docs page.

Searches run inline (the driver tests' captured queue), on the real test database.
"""
from __future__ import annotations

import re
import threading

import pytest
from test_studio_driver import drain  # the captured task queue's inline runner (the queue fixture is in conftest)

pytestmark = pytest.mark.django_db(transaction=True)

TINY = {"population": 2, "rounds": 1, "low_steps": 2, "high_steps": 0, "batch_size": 8, "num_threads": 1, "latency_runs": 2}


# ---------------------------------------------------------------------- giving up
def test_a_search_whose_every_proposal_is_over_budget_gives_up_and_says_why(launch, queue, client_for, teams):
    from webapp.studio import services
    from webapp.studio.models import Experiment

    experiment = launch(latency_budget_ms=1e-6, max_rejections=3)
    drain(queue)
    experiment.refresh_from_db()
    assert experiment.status == "gave_up", (experiment.status, experiment.error)
    rejected = list(experiment.candidates.filter(status="rejected"))
    # The limit is 3 in a row; a candidate already in flight then is rejected too and counts.
    assert len(rejected) >= 3 and experiment.candidates.filter(status="evaluated").count() == 0
    fastest = min(c.latency_ms for c in rejected)
    assert experiment.outcome == (f"gave up after {len(rejected)} proposals over the 1e-06 ms budget: "
                                  f"the fastest was {fastest:.3g} ms")
    assert experiment.finished_at is not None and experiment.summary["gave_up"] is True
    last = experiment.events.filter(type="status").order_by("-seq").first()  # (the budget check's warning may come later)
    assert last.payload["status"] == "gave_up" and last.payload["outcome"] == experiment.outcome
    finished = experiment.events.get(type="run_finished")
    assert finished.payload["gave_up"] is True and finished.payload["outcome"] == experiment.outcome

    assert services.wait_for(lambda: Experiment.objects.get(pk=experiment.pk).warnings, timeout=120)  # the budget check

    client = client_for(teams["alice"])
    page = client.get(f"/experiments/{experiment.pk}/").content.decode()
    assert 'id="status">Gave up<' in page and "Finished" not in page
    reason = experiment.outcome[0].upper() + experiment.outcome[1:]  # pages start it with a capital
    assert reason in page
    listing = client.get("/").content.decode()
    assert "Gave up" in listing and reason in listing
    body = client.get(f"/api/experiments/{experiment.pk}/").json()
    assert body["status"] == "gave_up" and body["outcome"] == experiment.outcome
    # Nothing left to do with it but read it.
    assert client.post(f"/api/experiments/{experiment.pk}/resume/").status_code == 409
    assert client.post(f"/api/experiments/{experiment.pk}/cancel/").status_code == 409


def test_a_budget_below_the_familys_fastest_network_is_warned_about_at_launch(ready_dataset, client_for, teams, monkeypatch):
    from webapp.studio import services
    from webapp.studio.models import Experiment
    from webapp.studio.services import estimates

    monkeypatch.setattr(estimates, "_floors", {})  # a fresh process: nothing timed yet
    client = client_for(teams["alice"])
    body = {"family": "tvn", "dataset": ready_dataset.pk, "population": 2, "rounds": 0, "low_steps": 1, "high_steps": 0,
            "latency_budget_ms": 1e-6, "start": False}
    # The first launch does not wait for the timing: the warning follows, stored and sent as an event.
    first = client.post("/api/experiments/", body, content_type="application/json")
    assert first.status_code == 201, first.content
    experiment = Experiment.objects.get(pk=first.json()["id"])
    assert services.wait_for(lambda: Experiment.objects.get(pk=experiment.pk).warnings, timeout=120)
    warning = Experiment.objects.get(pk=experiment.pk).warnings[0]
    assert "latency budget of 1e-06 ms is below" in warning
    assert experiment.events.get(type="warning").payload == {"message": warning}
    floor = float(re.search(r"took about ([0-9.e+-]+) ms", warning).group(1))
    assert floor > 1e-6
    # From then on the launch's own answer carries it.
    second = client.post("/api/experiments/", body, content_type="application/json")
    assert second.status_code == 201 and second.json()["warnings"] == [warning]
    # A budget well above it is not warned about; neither is no budget.
    relaxed = client.post("/api/experiments/", {**body, "latency_budget_ms": floor * 1000}, content_type="application/json")
    assert relaxed.status_code == 201 and relaxed.json()["warnings"] == []
    unbounded = client.post("/api/experiments/", {**body, "latency_budget_ms": None}, content_type="application/json")
    assert unbounded.status_code == 201 and unbounded.json()["warnings"] == []
    assert not Experiment.objects.get(pk=relaxed.json()["id"]).events.filter(type="warning").exists()
    # The page form: the warning shows on the experiment page it lands on.
    form = {"team": teams["a"].pk, "family": "tvn", "dataset": ready_dataset.pk, "population": 2, "rounds": 0, "seed": 0,
            "low_steps": 1, "high_steps": 0, "batch_size": 8, "parallelism": 1, "num_threads": 1, "latency_budget_ms": "0.000001"}
    response = client.post("/experiments/new/", form, follow=True)
    assert response.status_code == 200
    assert 'class="card notice launch-warning">The latency budget of 1e-06 ms is below' in response.content.decode()


# ---------------------------------------------------------------------- the end of a search
def test_a_finished_evanet_search_shows_its_pareto_front_ensemble_and_last_generation(ready_dataset, queue,
                                                                                      client_for, teams):
    from archsearch.config import SearchConfig
    from webapp.studio import services

    experiment = services.create_experiment(team=teams["a"], user=teams["alice"], name="", dataset=ready_dataset,
                                            config=SearchConfig(family="evanet", **TINY), parallelism=2)
    drain(queue)
    experiment.refresh_from_db()
    assert experiment.status == "finished", experiment.error
    ensemble = experiment.summary["ensemble"]
    assert ensemble and ensemble["members"] and "ensemble_accuracy" in ensemble, ensemble
    page = client_for(teams["alice"]).get(f"/experiments/{experiment.pk}/").content.decode()
    result = section(page, "search-result")
    assert "hidden" not in result.split(">", 1)[0]
    for name in experiment.summary["pareto_ids"]:
        assert f'<tr data-name="{name}">' in section(page, "pareto")
    assert f'{100 * ensemble["ensemble_accuracy"]:.1f} %' in section(page, 'ensemble-accuracy')
    members = section(page, "ensemble-members")
    assert all(f'<tr data-name="{name}">' in members for name in ensemble["members"])
    # Generations read from 1: the last of two is "2 of 2"; the counters are the server's, not 0.
    assert re.search(r'generation <strong id="generation">2</strong> of 2', page)
    assert 'id="count-evaluated">4<' in page
    last = experiment.candidates.order_by("-generation", "-index").first()
    assert "generation 2 of 2" in client_for(teams["alice"]).get(f"/candidates/{last.pk}/").content.decode()
    assert re.search(r'id="outcome"[^>]*hidden', page)  # it finished: no "why it stopped" banner


def test_the_result_section_stays_hidden_while_a_search_runs(launch, client_for, teams):
    experiment = launch(start=False)
    page = client_for(teams["alice"]).get(f"/experiments/{experiment.pk}/").content.decode()
    assert re.search(r'<section class="card" id="search-result"\s+hidden', page)
    assert re.search(r'generation <strong id="generation">1</strong> of 2', page)


def section(page: str, element_id: str) -> str:
    """The HTML from the element with this id to the end of the page (enough for 'in' checks)."""
    start = page.index(f'id="{element_id}"')
    return page[start:]


# ---------------------------------------------------------------------- names and order
def test_unnamed_experiments_launched_at_once_get_distinct_names(ready_dataset, teams):
    from django.db import connection

    from archsearch.config import SearchConfig
    from webapp.studio import services

    names, errors = [], []
    barrier = threading.Barrier(4)

    def launch_one():
        try:
            barrier.wait(timeout=10)
            names.append(services.create_experiment(team=teams["a"], user=teams["alice"], name="  ", dataset=ready_dataset,
                                                    config=SearchConfig(family="tvn", **TINY), start=False).name)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=launch_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(names) == [f"tvn on motion-a #{n}" for n in (1, 2, 3, 4)]
    # A user's own name that looks like the next number is skipped, not repeated.
    services.create_experiment(team=teams["a"], user=teams["alice"], name="tvn on motion-a #6", dataset=ready_dataset,
                               config=SearchConfig(family="tvn", **TINY), start=False)
    named = [services.create_experiment(team=teams["a"], user=teams["alice"], name="", dataset=ready_dataset,
                                        config=SearchConfig(family="tvn", **TINY), start=False).name for _ in range(2)]
    assert named == ["tvn on motion-a #7", "tvn on motion-a #8"]


def test_the_experiment_list_is_newest_first_even_within_one_clock_tick(launch, client_for, teams):
    from webapp.studio.models import Experiment

    made = [launch(start=False) for _ in range(3)]
    Experiment.objects.filter(pk__in=[e.pk for e in made]).update(created=made[0].created)  # one tick for all
    Experiment.objects.filter(pk=made[1].pk).update(name="middle")
    client = client_for(teams["alice"])
    page = client.get("/").content.decode()
    listed = re.findall(r'<a href="/experiments/(\d+)/">', page)
    assert listed == [str(e.pk) for e in reversed(made)]
    api = client.get("/api/experiments/").json()["results"]
    assert [e["id"] for e in api] == [e.pk for e in reversed(made)]


# ---------------------------------------------------------------------- coarse accuracy
def test_a_tiny_validation_split_is_flagged_on_the_dataset_and_experiment_pages(launch, ready_dataset, client_for, teams):
    client = client_for(teams["alice"])
    assert ready_dataset.split_counts["val"] == 5
    page = client.get(f"/datasets/{ready_dataset.pk}/").content.decode()
    assert 'id="accuracy-note"' in page and "accuracy can only take 6 values (resolution 1/5 = 0.2)" in page
    assert "about 63 clips per class" in page  # 4 classes, 1 in 5 for validation: ~50 validation clips
    assert 'id="accuracy-resolution">1/5<' in page
    experiment = launch(start=False)
    page = client.get(f"/experiments/{experiment.pk}/").content.decode()
    assert "resolution 1/5" in page
    # A split large enough says nothing.
    ready_dataset.report = {**ready_dataset.report, "split_counts": {"train": 160, "val": 40}}
    ready_dataset.save()
    assert "accuracy-note" not in client.get(f"/datasets/{ready_dataset.pk}/").content.decode()
    assert "accuracy-note" not in client.get(f"/experiments/{experiment.pk}/").content.decode()


def test_the_dataset_form_says_how_many_validation_clips_a_size_gives_and_suggests_one(teams, client_for):
    page = client_for(teams["alice"]).get("/datasets/").content.decode()
    hint = section(page, "field-synthetic-clips_per_class")
    assert "6 per class with 4 classes gives 4 validation clips" in hint and "use about 63 per class" in hint


def test_outcome_wording_is_general():
    from webapp.studio.outcomes import accuracy_note, give_up_reason, parallelism_note, suggested_clips_per_class, val_clips_for

    records = [{"status": "evaluated", "latency_ms": 2.0}, {"status": "rejected", "latency_ms": 12.5, "reason": "slow"},
               {"status": "rejected", "latency_ms": 9.87, "reason": "slow"}]
    assert give_up_reason(records, 5.0) == ("gave up after 2 proposals over the 5 ms budget: the fastest was 9.87 ms; "
                                            "1 trained before that")
    mixed = records + [{"status": "failed", "reason": "RuntimeError: boom"}]
    assert give_up_reason(mixed, 5.0) == ("gave up after 3 proposals in a row were rejected or failed "
                                          "(the last: RuntimeError: boom); 1 trained before that")
    assert accuracy_note(100) == "" and "resolution 1/4 = 0.25" in accuracy_note(4)
    for classes in (2, 4, 10, 101):
        suggested = suggested_clips_per_class(classes, 0.2)
        assert val_clips_for(classes, suggested, 0.2) >= 50 > val_clips_for(classes, max(2, suggested - 6), 0.2) - classes
    assert parallelism_note(2, 1) == "2 candidates at once requested, 1 worker running: only 1 trains at a time."
    assert parallelism_note(2, 2) == "" and "no worker is running" in parallelism_note(3, 0)


# ---------------------------------------------------------------------- workers
def test_candidates_at_once_defaults_to_the_train_workers_running(teams, ready_dataset, client_for, redis_server, studio_data_dir,
                                                                   processes):
    from django.core.cache import cache

    from archsearch.config import SearchConfig
    from webapp.studio import services

    client = client_for(teams["alice"])
    cache.clear()
    assert services.train_workers() is None  # nobody on the private broker yet
    page = client.get("/experiments/new/").content.decode()
    assert re.search(r'name="parallelism" value="1"', page) and "No worker on the train queue answered" in page

    processes.worker("w1", redis_server.url, studio_data_dir)
    processes.worker("d1", redis_server.url, studio_data_dir, queues="default")  # not a training worker
    cache.clear()
    assert services.train_workers() == 1
    page = client.get("/experiments/new/").content.decode()
    assert re.search(r'name="parallelism" value="1"', page) and "1 worker on the train queue now" in page

    experiment = services.create_experiment(team=teams["a"], user=teams["alice"], name="", dataset=ready_dataset,
                                            config=SearchConfig(family="tvn", **TINY),
                                            parallelism=2, start=False)
    page = client.get(f"/experiments/{experiment.pk}/").content.decode()
    assert "2 candidates at once requested, 1 worker running: only 1 trains at a time." in page
    experiment.parallelism = 1
    experiment.save()
    page = client.get(f"/experiments/{experiment.pk}/").content.decode()
    assert re.search(r'id="parallelism-note"\s+hidden>\s*<', page)


# ---------------------------------------------------------------------- pages: docs, favicon, no inline script
def test_the_api_has_a_docs_page_from_packaged_files_linked_from_the_nav(teams, client_for):
    client = client_for(teams["alice"])
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="swagger-ui" data-schema-url="/api/schema/"' in html
    assert re.search(r'<nav>.*href="/api/docs/"', client.get("/").content.decode(), re.S)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets) and any(a.endswith("swagger-ui.css") for a in assets)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        response.close()
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)  # nothing from another host
    assert client_for(None).get("/api/docs/").status_code == 302  # signed-in users only, like the schema


def test_a_favicon_is_linked_and_served(teams, client_for):
    client = client_for(teams["alice"])
    icon = re.search(r'<link rel="icon" href="([^"]+)"', client.get("/").content.decode()).group(1)
    response = client.get(icon)
    body = b"".join(response.streaming_content) if response.streaming else response.content  # WhiteNoise streams files
    assert response.status_code == 200 and b"<svg" in body
    assert client.get("/favicon.ico").headers["Location"] == icon


def test_no_page_has_an_inline_script(launch, ready_dataset, teams, client_for):
    from webapp.studio.models import Dataset

    experiment = launch(start=False)
    pending = Dataset.objects.create(team=teams["a"], name="pending", kind=Dataset.Kind.SYNTHETIC, clips_per_class=2)
    client = client_for(teams["alice"])
    pages = ["/", "/datasets/", f"/datasets/{ready_dataset.pk}/", f"/datasets/{pending.pk}/", "/experiments/new/",
             f"/experiments/{experiment.pk}/", "/api/docs/"]
    for url in pages:
        html = client.get(url).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, f"{url}: inline script {tag}"
        assert not re.search(r"<[a-z]+[^>]*\sstyle=", html), f"{url}: inline style attribute"  # style-src 'self' too
    assert 'data-poll-url="/api/datasets/' in client.get(f"/datasets/{pending.pk}/").content.decode()
