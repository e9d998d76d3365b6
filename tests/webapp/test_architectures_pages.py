"""The library, architecture and editor pages for alice and bob (team A), charlie (team B) and
anonymous visitors, the import form, and the candidate page's drawing."""
from __future__ import annotations

import json
import re

import pytest

from videomodels.presets import get_preset

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(teams, ready_dataset):
    from archsearch.config import SearchConfig
    from webapp.architectures import services
    from webapp.studio.models import Candidate

    version = services.create_architecture(user=teams["alice"], team=teams["a"], name="small asn",
                                           spec=get_preset("assemblenet-small").to_dict(), origin="preset", preset="assemblenet-small")
    from webapp.studio.models import Experiment

    # A row, not a launch: the fixture data has no optical flow, and nothing here trains.
    experiment = Experiment.objects.create(team=teams["a"], name="alpha", family="assemblenet", dataset=ready_dataset,
                                           config=SearchConfig(family="assemblenet", population=2, rounds=1).to_dict())
    spec = get_preset("assemblenet-small").to_dict()
    fused = next(e for e in spec["edges"] if sum(1 for x in spec["edges"] if x["target"] == e["target"]) > 1)
    candidate = Candidate.objects.create(experiment=experiment, index=0, name="c0000", spec=spec,
                                         edge_weights=[{"source": fused["source"], "target": fused["target"], "weight": 0.875}])
    return {**teams, "version": version, "architecture": version.architecture, "candidate": candidate, "fused": fused}


def boot(response, element_id):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', response.content.decode(), re.S)
    assert match, f"no #{element_id}"
    return json.loads(match.group(1))


def pages(w):
    return ["/architectures/", f"/architectures/{w['architecture'].pk}/", f"/architectures/{w['architecture'].pk}/?version=1",
            "/architectures/editor/?preset=assemblenet-50", f"/architectures/editor/?candidate={w['candidate'].pk}",
            f"/architectures/editor/?version={w['version'].pk}", "/architectures/editor/?new=evanet"]


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_members_see_every_page(world, who, client_for):
    client = client_for(world[who])
    for url in pages(world):
        assert client.get(url).status_code == 200, url
    assert "small asn" in client.get("/architectures/").content.decode()
    editor = boot(client.get(f"/architectures/editor/?version={world['version'].pk}"), "editor-boot")
    assert editor["architecture"] == world["architecture"].pk and editor["versionNumber"] == 1
    assert editor["spec"]["family"] == "assemblenet" and editor["familySchema"]["name"] == "assemblenet"
    forked = boot(client.get(f"/architectures/editor/?candidate={world['candidate'].pk}"), "editor-boot")
    assert (forked["origin"], forked["candidate"], forked["architecture"]) == ("candidate", world["candidate"].pk, None)
    preset = boot(client.get("/architectures/editor/?preset=assemblenet-50"), "editor-boot")
    assert preset["preset"] == "assemblenet-50" and len(preset["spec"]["nodes"]) == 17


def test_outsider_gets_404_and_sees_nothing(world, client_for):
    client = client_for(world["charlie"])
    for url in pages(world)[1:3] + pages(world)[4:6]:
        assert client.get(url).status_code == 404, url
    assert "small asn" not in client.get("/architectures/").content.decode()
    assert client.get("/architectures/editor/?preset=assemblenet-50").status_code == 200  # presets are everyone's
    for url in ("/architectures/editor/?preset=nope", "/architectures/editor/?version=x", "/architectures/editor/?new=nope",
                f"/architectures/{world['architecture'].pk}/?version=99", "/architectures/editor/?candidate=99999999999999999999"):
        assert client.get(url).status_code == 404, url


def test_anonymous_is_sent_to_login(world, client_for):
    for url in pages(world):
        response = client_for(None).get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


def test_import_form_pastes_a_config_and_shows_located_errors(teams, client_for):
    from webapp.architectures.models import Architecture

    client = client_for(teams["bob"])
    config = json.dumps(json.loads(open("videomodels/presets/published/tvn2.json").read()))
    response = client.post("/architectures/", {"name": "pasted tvn", "format": "auto", "config": config})
    assert response.status_code == 302
    architecture = Architecture.objects.get(name="pasted tvn")
    assert (architecture.origin, architecture.family, architecture.team) == ("imported", "tvn", teams["a"])
    assert response["Location"] == architecture.get_absolute_url()
    response = client.post("/architectures/", {"format": "tvn", "config": '{"meta": {"num_frames": 2, "image_size": 64, "frame_stride": 1}, "blocks": [{"warp": 1}]}'})
    assert response.status_code == 400
    assert "blocks[0].warp: unknown TVN block field" in response.content.decode()
    response = client.post("/architectures/", {"format": "auto", "config": "{oops"})
    assert response.status_code == 400 and "not valid JSON" in response.content.decode()


def test_candidate_page_draws_the_spec_with_learned_weights(world, client_for):
    response = client_for(world["bob"]).get(f"/candidates/{world['candidate'].pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f'href="/architectures/editor/?candidate={world["candidate"].pk}"' in page
    drawing = boot(response, "drawing-boot")
    edge = next(e for e in drawing["spec"]["edges"] if (e["source"], e["target"]) == (world["fused"]["source"], world["fused"]["target"]))
    assert edge["weight"] == 0.875
    assert "<script>" not in page.replace('<script id="drawing-boot" type="application/json">', "")  # no inline scripts
