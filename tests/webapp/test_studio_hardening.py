"""Hostile and careless input, by class: every one is a 4xx that names the field (JSON on the
API), never a 500; a team's files are reachable by that team alone."""
from __future__ import annotations

import json
import os
import threading
import urllib.parse
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db


def post_json(client, url, body: str | dict, **extra):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data, content_type="application/json", **extra)


def assert_json_4xx(response, field: str | None = None, words: str | None = None):
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    if field is not None:
        assert field in body, body
    if words is not None:
        assert words.lower() in json.dumps(body).lower(), body
    return body


@pytest.fixture
def alice(teams, client_for):
    return client_for(teams["alice"])


@pytest.fixture
def dataset_root(studio_data_dir, tmp_path, settings):  # a fresh one per test
    """A folder users may register, outside the studio's own data folder."""
    root = tmp_path / "shared-videos"
    root.mkdir()
    settings.STUDIO_DATASET_ROOTS = [root]
    return root


def launch_body(dataset, **fields):
    return {"family": "tvn", "start": False, "dataset": dataset.pk, **fields}


# ---------------------------------------------------------------------- 1. the data leak
def test_the_studio_data_folder_cannot_be_registered_even_when_listed_as_a_root(teams, alice, studio_data_dir, tiny_cache,
                                                                               settings):
    settings.STUDIO_DATASET_ROOTS = [studio_data_dir.parent, studio_data_dir]
    for path in (tiny_cache.parent / "videos", studio_data_dir, studio_data_dir.parent):
        response = post_json(alice, "/api/datasets/", {"name": f"steal {path.name}", "kind": "folder", "source_path": str(path)})
        message = assert_json_4xx(response, "source_path")["source_path"][0]
        assert str(studio_data_dir) not in message.partition("shared folders are")[2], "the data folder is no shared folder"


def test_a_symlink_into_the_data_folder_is_refused(teams, alice, studio_data_dir, tiny_cache, dataset_root):
    (dataset_root / "sneaky").symlink_to(tiny_cache.parent / "videos")
    response = post_json(alice, "/api/datasets/", {"name": "sneaky", "kind": "folder", "source_path": str(dataset_root / "sneaky")})
    body = assert_json_4xx(response, "source_path")
    assert str(studio_data_dir) not in json.dumps(body), "the message must not tell where the link points"


def test_files_linked_out_of_the_allowed_roots_are_listed_as_bad_and_not_prepared(teams, studio_data_dir, tiny_cache,
                                                                                    dataset_root, tmp_path, prepare):
    from videomodels.data import synthesize
    from webapp.studio import services

    synthesize(dataset_root / "mine", clips_per_class=3, seed=1, frames=12, size=40, classes=("move_left", "move_right"))
    stolen = sorted((tiny_cache.parent / "videos" / "rotate_cw").iterdir())[0]
    outside = tmp_path / "elsewhere.mp4"
    outside.write_bytes(stolen.read_bytes())
    (dataset_root / "mine" / "move_left" / "linked_into_data.mp4").symlink_to(stolen)
    (dataset_root / "mine" / "move_right" / "linked_outside.mp4").symlink_to(outside)
    (dataset_root / "mine" / "move_right" / "loop.mp4").symlink_to(dataset_root / "mine" / "move_right" / "loop.mp4")
    dataset = services.register_dataset(team=teams["a"], user=teams["alice"], name="mine", kind="folder",
                                        source_path=str(dataset_root / "mine"))
    dataset = prepare(dataset)
    assert dataset.status == "ready", dataset.error
    bad = {Path(item["path"]).name: item["reason"] for item in dataset.report["bad_files"]}
    assert "linked_into_data.mp4" in bad and "linked_outside.mp4" in bad, bad
    assert dataset.report["num_prepared"] == 6
    assert all(str(studio_data_dir) not in reason and str(tmp_path / "elsewhere") not in reason for reason in bad.values())


def test_a_manifest_naming_files_outside_the_roots_gets_them_refused(teams, tiny_cache, dataset_root, prepare):
    from videomodels.data import synthesize
    from webapp.studio import services

    synthesize(dataset_root / "clips", clips_per_class=3, seed=2, frames=12, size=40, classes=("move_left", "move_right"))
    own = sorted((dataset_root / "clips").rglob("*.mp4"))
    stolen = sorted((tiny_cache.parent / "videos").rglob("*.mp4"))[:2]
    rows = ["path,labels"] + [f"{p},{p.parent.name}" for p in own] + [f"{p},move_left" for p in stolen]
    (dataset_root / "list.csv").write_text("\n".join(rows) + "\n")
    dataset = services.register_dataset(team=teams["a"], user=teams["alice"], name="listed", kind="folder",
                                        source_path=str(dataset_root / "list.csv"))
    dataset = prepare(dataset)
    assert dataset.status == "ready", dataset.error
    refused = {item["path"] for item in dataset.report["bad_files"]}
    assert {str(p) for p in stolen} <= refused
    assert dataset.report["num_prepared"] == len(own)


def test_outside_paths_are_refused_without_revealing_what_exists(teams, alice, dataset_root):
    missing = post_json(alice, "/api/datasets/", {"name": "a", "kind": "folder", "source_path": "/etc/no-such-thing"})
    existing = post_json(alice, "/api/datasets/", {"name": "b", "kind": "folder", "source_path": "/etc"})
    one, two = assert_json_4xx(missing, "source_path"), assert_json_4xx(existing, "source_path")
    assert one["source_path"][0].replace("/etc/no-such-thing", "X") == two["source_path"][0].replace("/etc", "X")


# ---------------------------------------------------------------------- 2. no 500 for a user's mistake
def nested(depth: int, leaf="x") -> str:
    return '{"a": ' * depth + json.dumps(leaf) + "}" * depth


@pytest.mark.parametrize("url", ["/api/datasets/", "/api/experiments/"])
@pytest.mark.parametrize("depth", [200, 100_000])
def test_deeply_nested_bodies_are_a_400(teams, alice, url, depth):
    assert_json_4xx(post_json(alice, url, nested(depth)), words="nested")
    assert_json_4xx(post_json(alice, url, '[' * depth + ']' * depth), words="nested")


def test_deep_nesting_inside_settings_is_a_400(teams, alice, ready_dataset):
    body = json.dumps(launch_body(ready_dataset))[:-1] + ', "settings": ' + nested(5000) + "}"
    assert_json_4xx(post_json(alice, "/api/experiments/", body), words="nested")


def test_a_body_over_the_size_limit_is_a_json_413(teams, alice, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = post_json(alice, "/api/datasets/", {"name": "x" * 20_000, "kind": "folder"})
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_non_finite_numbers_are_refused_anywhere(teams, alice, ready_dataset, raw):
    base = json.dumps(launch_body(ready_dataset))[:-1]
    assert_json_4xx(post_json(alice, "/api/experiments/", base + f', "latency_budget_ms": {raw}}}'), "latency_budget_ms")
    response = post_json(alice, "/api/experiments/", base + f', "settings": {{"lr": {raw}}}}}')
    assert_json_4xx(response)
    assert "lr" in json.dumps(response.json())


@pytest.mark.parametrize("settings_value, field", [
    ({"lr": "fast"}, "lr"),
    ({"lr": "nan"}, "lr"),
    ({"promote_fraction": "half"}, "promote_fraction"),
    ({"promote_fraction": [0.5]}, "promote_fraction"),
    ({"max_params": 1e30}, "max_params"),
    ({"tournament_size": True}, "tournament_size"),
    ({"inherit_weights": "yes"}, "inherit_weights"),
    ({"objective": {"a": 1}}, "objective"),
    ({"device": "quantum"}, "device"),
    ({"min_params": 3_000_000, "max_params": 2_000_000}, "min_params"),
    ({"min_params": -1}, "min_params"),
    ({"max_rejections": -3}, "max_rejections"),
    ({"latency_runs": -1}, "latency_runs"),
    ({"ensemble_size": 10**30}, "ensemble_size"),
])
def test_settings_that_mean_nothing_are_refused_with_the_field(teams, alice, ready_dataset, settings_value, field):
    response = post_json(alice, "/api/experiments/", launch_body(ready_dataset, settings=settings_value))
    assert_json_4xx(response)
    assert field in json.dumps(response.json()), response.json()


@pytest.mark.parametrize("seed", [2**64, -1, 10**40])
def test_seeds_outside_64_bits_are_refused(teams, alice, ready_dataset, seed):
    assert_json_4xx(post_json(alice, "/api/experiments/", launch_body(ready_dataset, seed=seed)), "seed")


@pytest.mark.parametrize("fields, field", [
    ({"population": 10**30}, "population"),
    ({"parallelism": 10**30}, "parallelism"),
    ({"parallelism": -1}, "parallelism"),
    ({"low_steps": 2**70}, "low_steps"),
])
def test_huge_and_negative_counts_are_refused(teams, alice, ready_dataset, fields, field):
    assert_json_4xx(post_json(alice, "/api/experiments/", launch_body(ready_dataset, **fields)), field)


@pytest.mark.parametrize("name", ["\u200b\u200b", " \u2060\ufeff ", "\u00ad", "\t\n"])
def test_names_that_are_empty_once_invisible_characters_go_are_refused(teams, alice, ready_dataset, name):
    body = assert_json_4xx(post_json(alice, "/api/datasets/", {"name": name, "kind": "synthetic", "clips_per_class": 4}), "name")
    assert "name" in body
    response = post_json(alice, "/api/experiments/", launch_body(ready_dataset, name=name))
    assert response.status_code == 201  # an experiment name is optional: it gets a default, not the blank
    assert response.json()["name"].strip("\u200b\u2060\ufeff\u00ad \t\n")


@pytest.mark.parametrize("path_of", [
    lambda root: "/" + "a" * 5000,
    lambda root: str(root / ("b" * 300)),
    lambda root: str(root / "loop"),
    lambda root: str(root / "x\u0000y"),
    lambda root: str(root) + "/\ud800",
    lambda root: "relative/path",
    lambda root: str(root / ".." / ".." / "etc"),
])
def test_unresolvable_paths_are_a_400_on_the_source_path(teams, alice, dataset_root, path_of):
    os.symlink(dataset_root / "loop", dataset_root / "loop") if not (dataset_root / "loop").is_symlink() else None
    response = post_json(alice, "/api/datasets/", {"name": "p", "kind": "folder", "source_path": path_of(dataset_root)})
    assert_json_4xx(response, "source_path")


def test_unresolvable_paths_on_the_page_form_are_a_form_error(teams, client_for, dataset_root):
    client = client_for(teams["alice"])
    os.symlink(dataset_root / "loop2", dataset_root / "loop2")
    for path in (str(dataset_root / "loop2"), "/" + "c" * 5000, str(dataset_root / "x\x00")):
        response = client.post("/datasets/", {"folder-team": teams["a"].pk, "folder-name": "f", "folder-source_path": path,
                                              "folder-frames": 8, "folder-size": 32})
        assert response.status_code in (200, 400), response.status_code
        assert b'class="error"' in response.content, response.content.decode()[-3000:]


@pytest.mark.parametrize("url", [
    "/api/experiments/99999999999999999999999999/",
    "/api/datasets/-99999999999999999999999999/",
    "/api/candidates/18446744073709551616/",
    "/api/experiments/1e5/",
])
def test_ids_beyond_the_integer_range_are_404(teams, alice, url):
    response = alice.get(url)
    assert response.status_code == 404, response.content[:300]


@pytest.mark.parametrize("query", [
    "experiment=99999999999999999999999",
    "limit=99999999999999999999999",
    "offset=99999999999999999999999",
    "offset=-5",
    "limit=-1",
    "limit=abc",
])
def test_paging_and_filters_beyond_range_are_answered(teams, alice, ready_dataset, query):
    for base in ("/api/candidates/", "/api/experiments/", "/api/datasets/"):
        response = alice.get(f"{base}?{query}")
        assert response.status_code in (200, 400), (base, query, response.status_code, response.content[:300])
        assert response["Content-Type"].startswith("application/json")


def test_events_after_beyond_range_is_answered(teams, alice, launch):
    experiment = launch(start=False)
    for after in ("99999999999999999999999", "-1", "x"):
        response = alice.get(f"/api/events/?experiment={experiment.pk}&after={after}")
        assert response.status_code in (200, 400), response.content[:300]


def test_pagination_has_a_maximum(teams, alice, launch):
    from webapp.studio.models import Event

    experiment = launch(start=False)
    Event.objects.bulk_create([Event(experiment=experiment, seq=seq, type="status", payload={}) for seq in range(2, 1300)])
    body = alice.get(f"/api/events/?experiment={experiment.pk}&limit=100000").json()
    assert body["count"] == 1299 and len(body["results"]) == 1000
    assert "limit=1000" in body["next"]


@pytest.mark.django_db(transaction=True)
def test_racing_requests_for_the_same_dataset_name_one_wins(teams, studio_data_dir, redis_server):
    from django.db import connections
    from django.test import Client

    from webapp.studio.models import Dataset

    results: list[int] = []
    for attempt in range(4):
        barrier = threading.Barrier(6)

        def register():
            client = Client(raise_request_exception=False)
            client.force_login(teams["bob"])
            barrier.wait()
            try:
                response = post_json(client, "/api/datasets/", {"name": f"same-{attempt}", "kind": "synthetic",
                                                                "clips_per_class": 4})
                results.append(response.status_code)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=register) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert Dataset.objects.filter(name=f"same-{attempt}").count() == 1
    assert results.count(201) == 4, results
    assert set(results) <= {201, 400, 409}, results


PAGE_HOSTILE = ["", "-1", "1e999", "nan", "inf", "99999999999999999999999999", "\u200b", "x" * 3000, "\x00", "../../etc",
                "0x10", "1.5", "[]", "\ud800"]


def test_hostile_values_in_every_page_form_field_are_form_errors(teams, ready_dataset, client_for):
    """The launch and dataset forms of the pages: every field, every hostile value, never a 500."""
    client = client_for(teams["alice"])
    forms = {
        "/experiments/new/": {"team": teams["a"].pk, "family": "tvn", "dataset": ready_dataset.pk, "population": 2,
                              "rounds": 1, "seed": 0, "low_steps": 2, "high_steps": 0, "batch_size": 8, "parallelism": 1,
                              "num_threads": 1, "name": "f"},
        "/datasets/": {"synthetic-team": teams["a"].pk, "synthetic-name": "s", "synthetic-clips_per_class": 4,
                       "synthetic-classes": "move_left", "synthetic-frames": 8, "synthetic-size": 32, "synthetic-seed": 0},
    }
    tried = 0
    for url, valid in forms.items():
        for field in valid:
            for value in PAGE_HOSTILE:
                body = urllib.parse.urlencode({**valid, field: value}, errors="surrogatepass")
                response = client.post(url, body, content_type="application/x-www-form-urlencoded")
                tried += 1
                assert response.status_code in (200, 302, 400), (url, field, value, response.status_code)
    assert tried == sum(len(v) for v in forms.values()) * len(PAGE_HOSTILE)


PAGE_URLS = ["/", "/datasets/", "/experiments/new/", "/architectures/", "/architectures/editor/", "/leaderboard/",
             "/leaderboard/pareto/", "/diff/", "/teams/", "/join/x/"]
HUGE_IDS = ["/datasets/{}/", "/experiments/{}/", "/candidates/{}/", "/architectures/{}/", "/models/candidate/{}/",
            "/models/version/{}/", "/lineage/{}/", "/teams/{}/", "/models/candidate/{}/export/onnx/"]


def test_hostile_query_parameters_and_ids_on_every_page(teams, ready_dataset, launch, client_for):
    """Every page with every hostile value in its usual parameters, and ids past 64 bits: never a 500."""
    from django.test import Client

    launch(start=False)
    client = Client(raise_request_exception=False)
    client.force_login(teams["alice"])
    params = ("sort", "family", "status", "experiment", "dataset", "min_accuracy", "max_latency", "tag", "page", "limit",
              "offset", "cost", "a", "b", "preset", "candidate", "version", "new", "review_status")
    failures = []
    for url in PAGE_URLS:
        for name in params:
            for value in PAGE_HOSTILE + ["candidate:99999999999999999999", "version:-1", "ensemble:0"]:
                query = f"{name}={urllib.parse.quote(value, errors='surrogatepass')}"
                response = client.get(url, QUERY_STRING=query)
                if response.status_code >= 500:
                    failures.append((url, name, value, response.status_code))
    for pattern in HUGE_IDS:
        for pk in ("99999999999999999999999", "9223372036854775808", "0"):
            response = client.get(pattern.format(pk))
            if response.status_code >= 500 or response.status_code == 200 and pk != "0":
                failures.append((pattern, pk, response.status_code))
    assert failures == [], failures[:20]
