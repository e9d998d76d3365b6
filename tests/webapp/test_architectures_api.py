"""The architecture library's API for alice (owner, team A), bob (member, team A), charlie (team B)
and anonymous visitors: architectures, versions, import/export, presets, node types, analyze,
with bad input (a 4xx naming the location, never a 500)."""
from __future__ import annotations

import json

import pytest

from videomodels.presets import get_preset

pytestmark = pytest.mark.django_db


def small_spec(**changes) -> dict:
    spec = get_preset("tvn-small").to_dict()
    spec.update(changes)
    return spec


def post(client, url, body, **extra):
    return client.post(url, json.dumps(body) if not isinstance(body, (bytes, str)) else body, content_type="application/json", **extra)


@pytest.fixture
def library(teams, client_for):
    """Team A's architecture forked from a preset, with two versions."""
    from webapp.architectures import services

    first = services.create_architecture(user=teams["alice"], team=teams["a"], name="tiny tvn", spec=small_spec(),
                                         origin="preset", preset="tvn-small")
    edited = small_spec()
    edited["nodes"][0]["attrs"]["filters"] = 24
    second = services.save_version(architecture=first.architecture, user=teams["bob"], spec=edited, message="wider b0")
    return {**teams, "architecture": first.architecture, "v1": first, "v2": second}


def object_urls(w):
    a, v = w["architecture"].pk, w["v1"].pk
    return [f"/api/architectures/{a}/", f"/api/architectures/{a}/versions/", f"/api/versions/{v}/", f"/api/versions/{v}/export/"]


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_team_members_see_the_library(library, who, client_for):
    client = client_for(library[who])
    for url in object_urls(library):
        assert client.get(url).status_code == 200, url
    listed = client.get("/api/architectures/").json()
    assert [a["name"] for a in listed["results"]] == ["tiny tvn"]
    assert listed["results"][0]["latest"]["number"] == 2
    assert listed["results"][0]["origin_text"] == "preset tvn-small"
    versions = client.get(f"/api/architectures/{library['architecture'].pk}/versions/").json()
    assert [(v["number"], v["parent"], v["author"]) for v in versions] == [(2, library["v1"].pk, "bob"), (1, None, "alice")]
    detail = client.get(f"/api/versions/{library['v2'].pk}/").json()
    assert detail["spec"]["nodes"][0]["attrs"]["filters"] == 24
    assert detail["spec_hash"] != client.get(f"/api/versions/{library['v1'].pk}/").json()["spec_hash"]


def test_outsider_gets_404_and_empty_lists(library, client_for):
    client = client_for(library["charlie"])
    for url in object_urls(library):
        assert client.get(url).status_code == 404, url
    assert client.get("/api/architectures/").json()["count"] == 0
    assert client.get("/api/versions/").json()["count"] == 0
    # Cannot add a version to, or fork, another team's architecture.
    response = post(client, f"/api/architectures/{library['architecture'].pk}/versions/", {"spec": small_spec()})
    assert response.status_code == 404
    response = post(client, "/api/architectures/", {"version": library["v1"].pk})
    assert response.status_code == 400 and "version" in response.json()
    assert library["architecture"].versions.count() == 2


def test_anonymous_gets_401(library, client_for):
    client = client_for(None)
    for url in object_urls(library) + ["/api/architectures/", "/api/presets/", "/api/families/", "/api/families/tvn/"]:
        assert client.get(url).status_code == 401, url
    assert post(client, "/api/analyze/", small_spec()).status_code == 401
    assert post(client, "/api/architectures/", {"preset": "tvn-1"}).status_code == 401


def test_saving_adds_a_version_and_never_overwrites(library, client_for):
    from webapp.architectures.models import ArchitectureVersion, ImmutableError

    client = client_for(library["bob"])
    a = library["architecture"].pk
    spec = small_spec()
    spec["nodes"][0]["attrs"]["repeats"] = 2
    response = post(client, f"/api/architectures/{a}/versions/", {"spec": spec, "message": "two repeats", "parent": library["v1"].pk})
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["number"], data["parent"], data["message"], data["author"]) == (3, library["v1"].pk, "two repeats", "bob")
    assert data["params"] > 0
    assert ArchitectureVersion.objects.get(pk=library["v1"].pk).spec["nodes"][0]["attrs"]["repeats"] == 1
    with pytest.raises(ImmutableError):
        version = ArchitectureVersion.objects.get(pk=library["v1"].pk)
        version.message = "changed"
        version.save()
    # A parent from another architecture is refused.
    other = post(client, "/api/architectures/", {"preset": "tvn-small"}).json()
    response = post(client, f"/api/architectures/{a}/versions/", {"spec": spec, "parent": other["id"]})
    assert response.status_code == 400 and "parent" in response.json()


def test_invalid_specs_are_refused_for_saving_with_locations(library, client_for):
    client = client_for(library["alice"])
    a = library["architecture"].pk
    bad = small_spec()
    bad["nodes"][0]["attrs"]["temporal_kernel"] = "three"
    bad["edges"].append({"source": "b0", "target": "nowhere"})
    response = post(client, f"/api/architectures/{a}/versions/", {"spec": bad})
    assert response.status_code == 400
    locations = {p["location"] for p in response.json()["problems"]}
    assert "nodes[0].attrs.temporal_kernel" in locations
    assert f"edges[{len(bad['edges']) - 1}].target" in locations
    # Another family's spec cannot be a version of a TVN architecture.
    response = post(client, f"/api/architectures/{a}/versions/", {"spec": get_preset("assemblenet-small").to_dict()})
    assert response.status_code == 400
    assert [p["location"] for p in response.json()["problems"]] == ["family"]
    assert library["architecture"].versions.count() == 2


def test_fork_a_preset_a_candidate_and_a_version(library, ready_dataset, client_for):
    from archsearch.config import SearchConfig
    from webapp.studio import services as studio
    from webapp.studio.models import Candidate

    client = client_for(library["alice"])
    response = post(client, "/api/architectures/", {"preset": "assemblenet-small", "name": "my asn"})
    assert response.status_code == 201
    forked = client.get(f"/api/architectures/{response.json()['architecture']}/").json()
    assert (forked["name"], forked["origin"], forked["origin_preset"], forked["family"]) == ("my asn", "preset", "assemblenet-small", "assemblenet")

    experiment = studio.create_experiment(team=library["a"], user=library["alice"], name="alpha", dataset=ready_dataset,
                                          config=SearchConfig(family="tvn", population=2, rounds=1), start=False)
    candidate = Candidate.objects.create(experiment=experiment, index=0, name="c0000", spec=small_spec(name="cand"))
    edited = small_spec(name="cand")
    edited["nodes"][0]["attrs"]["skip"] = True
    response = post(client, "/api/architectures/", {"candidate": candidate.pk, "spec": edited, "message": "skip on"})
    assert response.status_code == 201
    forked = client.get(f"/api/architectures/{response.json()['architecture']}/").json()
    assert forked["origin"] == "candidate" and forked["origin_candidate"] == candidate.pk
    assert forked["origin_text"] == "candidate c0000 of alpha"
    assert response.json()["spec"]["nodes"][0]["attrs"]["skip"] is True
    # charlie cannot fork team A's candidate.
    response = post(client_for(library["charlie"]), "/api/architectures/", {"candidate": candidate.pk})
    assert response.status_code == 400 and "candidate" in response.json()

    response = post(client, "/api/architectures/", {"version": library["v2"].pk})
    assert response.status_code == 201
    forked = client.get(f"/api/architectures/{response.json()['architecture']}/").json()
    assert forked["origin"] == "version" and forked["origin_text"] == "tiny tvn v2"
    assert post(client, "/api/architectures/", {"preset": "no-such-preset"}).status_code == 400
    assert post(client, "/api/architectures/", {"preset": "tvn-1", "candidate": candidate.pk}).status_code == 400


def test_rename_an_architecture(library, client_for):
    a = library["architecture"].pk
    response = client_for(library["bob"]).patch(f"/api/architectures/{a}/", json.dumps({"name": "renamed"}), content_type="application/json")
    assert response.status_code == 200 and response.json()["name"] == "renamed"
    response = client_for(library["charlie"]).patch(f"/api/architectures/{a}/", json.dumps({"name": "mine"}), content_type="application/json")
    assert response.status_code == 404
    assert client_for(library["charlie"]).delete(f"/api/architectures/{a}/").status_code == 404  # not their team's
    assert client_for(library["bob"]).get(f"/api/architectures/{a}/").status_code == 200  # the outsider changed nothing


def test_export_downloads_the_spec(library, client_for):
    response = client_for(library["alice"]).get(f"/api/versions/{library['v2'].pk}/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="tiny-tvn-v2.json"'
    assert json.loads(response.content) == library["v2"].spec


def test_import_every_published_format(teams, client_for):
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "videomodels" / "presets" / "published"
    client = client_for(teams["alice"])
    cases = [("assemblenet_50.json", "assemblenet", {"depth": 50}), ("evanet_net_1.json", "evanet", {"modality": "flow"}),
             ("tvn1.json", "tvn", {"frames": 4})]
    for name, family, options in cases:
        config = json.loads((folder / name).read_text())
        response = post(client, "/api/architectures/import/", {"config": config, "name": name, **options})
        assert response.status_code == 201, response.json()
        version = response.json()
        architecture = client.get(f"/api/architectures/{version['architecture']}/").json()
        assert (architecture["family"], architecture["origin"]) == (family, "imported")
        assert version["spec"]["family"] == family
    evanet = client.get("/api/versions/").json()["results"]
    flows = [v for v in evanet if v["message"] == "imported (evanet)"]
    assert client.get(f"/api/versions/{flows[0]['id']}/").json()["spec"]["inputs"][0]["modality"] == "flow"
    # An uploaded ArchSpec file, converted without saving.
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("spec.json", json.dumps(small_spec()).encode(), content_type="application/json")
    response = client.post("/api/architectures/import/", {"file": upload, "save": "false"})
    assert response.status_code == 200
    assert response.json()["format"] == "archspec" and response.json()["spec"]["family"] == "tvn"


def test_import_refuses_bad_configs_with_locations(teams, client_for):
    client = client_for(teams["alice"])
    response = post(client, "/api/architectures/import/", {"config": {"structure": [[-1, 4], [0, [7], 32, 1, 1, 0]]}})
    assert response.status_code == 400
    assert response.json()["problems"][0]["location"] == "config"
    response = post(client, "/api/architectures/import/", {"config": {"whatever": 1}})
    assert response.status_code == 400 and "cannot tell the format" in response.json()["problems"][0]["message"]
    response = post(client, "/api/architectures/import/", {"config": {"meta": {}, "blocks": [{"filters": "x"}]}, "format": "tvn"})
    assert response.status_code == 400
    response = post(client, "/api/architectures/import/", {"format": "tvn"})
    assert response.status_code == 400 and "config" in response.json()
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post("/api/architectures/import/", {"file": SimpleUploadedFile("x.json", b"{not json")})
    assert response.status_code == 400 and response.json()["problems"][0]["location"] == "file"


def test_presets_and_node_types(teams, client_for):
    client = client_for(teams["bob"])
    presets = client.get("/api/presets/").json()
    assert {"assemblenet-50", "evanet-1", "tvn-1"} <= {p["name"] for p in presets}
    preset = client.get("/api/presets/assemblenet-50/").json()
    assert preset["family"] == "assemblenet" and len(preset["spec"]["nodes"]) == 17
    assert client.get("/api/presets/nope/").status_code == 404
    families = {f["name"]: f for f in client.get("/api/families/").json()}
    assert set(families) == {"assemblenet", "evanet", "tvn"}
    evanet = client.get("/api/families/evanet/").json()
    block = next(t for t in evanet["node_types"] if t["name"] == "evanet_block")
    assert block["attrs"]["branches"]["kind"] == "list"
    assert block["attrs"]["branches"]["item"]["temporal_kernel"]["odd"] is True
    asn = next(t for t in families["assemblenet"]["node_types"] if t["name"] == "asn_block")
    assert asn["attrs"]["level"] == {**asn["attrs"]["level"], "min": 0, "max": 3, "required": True}
    assert families["tvn"]["search_space"]["filters"] == [8, 16, 24, 32, 48, 64]
    assert client.get("/api/families/nope/").status_code == 404


def test_schema_lists_the_library_api(teams, client_for):
    response = client_for(teams["alice"]).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/architectures/", "/api/architectures/{id}/versions/", "/api/architectures/import/", "/api/versions/{id}/export/",
                 "/api/presets/", "/api/families/{id}/", "/api/analyze/"):
        assert path in paths, path


# ---------------------------------------------------------------------- analyze
def test_analyze_answers_shapes_costs_totals_and_warnings(teams, client_for):
    from videomodels.graph import analyze

    client = client_for(teams["charlie"])  # any signed-in user may analyze a spec
    spec = get_preset("assemblenet-50")
    response = post(client, "/api/analyze/", spec.to_dict())
    assert response.status_code == 200
    report = response.json()
    truth = analyze(spec)
    assert report["valid"] and report["problems"] == []
    assert report["totals"]["params"] == truth.params and report["totals"]["macs"] == truth.macs
    for node_id, cost in truth.nodes.items():
        assert tuple(report["nodes"][node_id]["output_shape"]) == cost.output_shape
        assert report["nodes"][node_id]["params"] == cost.params and report["nodes"][node_id]["macs"] == cost.macs
    assert report["totals"]["latency_ms_estimate"] > 0 and "estimate" in report["totals"]["latency_note"]
    # The published network is the full-size scale of the search space: not flagged for being published.
    assert report["warnings"] == []
    assert report["spec_hash"] == truth.spec.content_hash()  # of the spec with every default filled in, as saved


def test_analyze_locates_problems(teams, client_for):
    client = client_for(teams["alice"])
    spec = get_preset("assemblenet-50").to_dict()
    spec["edges"].append({"source": "n14", "target": "n4", "weight": 0.5, "learnable": True})  # a cycle
    response = post(client, "/api/analyze/", spec)
    assert response.status_code == 200  # an edit in progress is an answer, not an HTTP error (the console stays clean)
    report = response.json()
    assert report["valid"] is False
    locations = [p["location"] for p in report["problems"]]
    assert f"edges[{len(spec['edges']) - 1}]" in locations
    assert any(loc.startswith("nodes[") for loc in locations)
    assert report["totals"] is None

    spec = get_preset("tvn-1").to_dict()
    spec["nodes"][0]["type"] = "warp_drive"
    spec["nodes"][1]["attrs"]["colour"] = "blue"
    spec["edges"][2]["target"] = "missing"
    response = post(client, "/api/analyze/", spec)
    assert response.status_code == 200 and response.json()["valid"] is False
    locations = {p["location"] for p in response.json()["problems"]}
    assert {"nodes[0].type", "nodes[1].attrs.colour", "edges[2].target"} <= locations
    response = post(client, "/api/analyze/?family=evanet", get_preset("tvn-1").to_dict())
    assert response.status_code == 200 and [p["location"] for p in response.json()["problems"]] == ["family"]
    assert post(client, "/api/analyze/?family=nope", get_preset("tvn-1").to_dict()).status_code == 400


# A spec that parses but asks for too much is refused by analyze as an invalid answer (200, valid false), by import as a 4xx.
PARSES = ("million_channels", "over_budget")


def test_only_a_body_that_is_not_a_spec_is_an_analyze_error(teams, client_for):
    """Unparseable input is a 400 with located problems; wrong shapes inside an object too (a list where nodes go)."""
    client = client_for(teams["alice"])
    spec = get_preset("tvn-1").to_dict()
    for body, where in ((b"[1, 2]", "$"), (json.dumps({**spec, "nodes": {"a": 1}}).encode(), "nodes"),
                        (json.dumps({**spec, "edges": [{"source": 3, "target": "x"}]}).encode(), "edges[0].source")):
        response = client.post("/api/analyze/", body, content_type="application/json")
        assert response.status_code == 400, body[:60]
        assert response.json()["problems"][0]["location"] == where
    spec["nodes"][0]["attrs"]["filters"] = -3  # a value being typed: parses, invalid
    response = client.post("/api/analyze/", json.dumps(spec), content_type="application/json")
    assert response.status_code == 200 and response.json()["valid"] is False
    assert response.json()["problems"][0]["location"] == "nodes[0].attrs.filters"
    spec = get_preset("tvn-1").to_dict()
    for attr, typed in (("frames", 0), ("size", 3), ("frames", "8x"), ("modality", "thermal")):
        edited = {**spec, "inputs": [{**spec["inputs"][0], attr: typed}, *spec["inputs"][1:]]}  # the editor's input fields
        response = client.post("/api/analyze/", json.dumps(edited), content_type="application/json")
        assert response.status_code == 200 and response.json()["valid"] is False, (attr, typed, response.status_code)
        assert [p["location"] for p in response.json()["problems"]] == [f"inputs[0].{attr}"]
    for extra in ({"colour": "blue"}, {"id": "not an id"}):  # not a field the editor has: a body that is not a spec
        edited = {**spec, "inputs": [{**spec["inputs"][0], **extra}]}
        assert client.post("/api/analyze/", json.dumps(edited), content_type="application/json").status_code == 400, extra


@pytest.mark.parametrize("case", ["malformed", "not_object", "nan", "deep", "huge_int", "big_body", "many_nodes", "million_channels",
                                  "over_budget", "not_utf8"])
def test_hostile_input_is_a_located_4xx(case, teams, client_for):
    client = client_for(teams["alice"])
    spec = get_preset("tvn-1").to_dict()
    if case == "malformed":
        body = b'{"family": "tvn", "nodes": ['
    elif case == "not_object":
        body = b"[1, 2, 3]"
    elif case == "nan":
        body = json.dumps(spec).replace('"squeeze": 0.0', '"squeeze": NaN', 1).encode()
    elif case == "deep":
        body = b'{"meta": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    elif case == "huge_int":
        body = json.dumps(spec).replace('"filters": 64', '"filters": ' + "9" * 5000, 1).encode()
    elif case == "big_body":
        body = json.dumps({**spec, "meta": {"padding": "x" * 5_000_000}}).encode()
    elif case == "many_nodes":
        spec["nodes"] = [{"id": f"n{i}", "type": "tvn_block", "attrs": {"filters": 8}} for i in range(10_000)]
        body = json.dumps(spec).encode()
    elif case == "million_channels":
        spec["nodes"][0]["attrs"]["filters"] = 1_000_000
        body = json.dumps(spec).encode()
    elif case == "over_budget":
        spec["inputs"][0]["size"] = 4096
        spec["inputs"][0]["frames"] = 4096
        body = json.dumps(spec).encode()
    else:
        body = b'{"family": "\xff\xfe"}'
    for url in ("/api/analyze/", "/api/architectures/import/"):
        payload = body if url == "/api/analyze/" else (b'{"config": ' + body + b"}" if case not in ("malformed", "not_utf8") else body)
        response = client.post(url, payload, content_type="application/json")
        if case in PARSES and url == "/api/analyze/":
            assert response.status_code == 200 and response.json()["valid"] is False, (case, response.status_code)
        else:
            assert 400 <= response.status_code < 500, (case, url, response.status_code)
        data = response.json()
        problems = data.get("problems") or []
        assert problems and all(p["location"] and p["message"] for p in problems), (case, url, data)
    expected = {"malformed": "$", "nan": "nodes[0].attrs.squeeze", "deep": "$", "huge_int": "$", "big_body": "$", "many_nodes": "nodes",
                "million_channels": "nodes[0].attrs.filters", "not_object": "$", "not_utf8": "$"}
    report = client.post("/api/analyze/", body, content_type="application/json").json()
    if case in expected:
        assert report["problems"][0]["location"] == expected[case], report
    else:
        assert "budget exceeded" in report["problems"][0]["message"]
