"""The editor's CPU latency estimate: uncalibrated and labelled so until a calibration measured on a
machine is stored; then the calibrated figure with its error and where it comes from."""
from __future__ import annotations

import json
import random

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from archsearch.spaces import SpaceConfig, make_space
from videomodels.graph import analyze
from videomodels.latency_model import calibrate, features_of
from videomodels.presets import get_preset

pytestmark = pytest.mark.django_db


def analyzed(client, spec):
    response = client.post("/api/analyze/", json.dumps(spec.to_dict()), content_type="application/json")
    assert response.status_code == 200
    return response.json()["totals"]


def test_uncalibrated_then_calibrated_with_its_error_and_provenance(teams, client_for):
    from webapp.studio.services import latency_calibration as lc

    client = client_for(teams["charlie"])
    spec = get_preset("tvn-small")
    before = analyzed(client, spec)
    assert before["latency_calibrated"] is False and before["latency_error"] is None
    assert before["latency_note"].startswith("uncalibrated estimate")

    # Six TVNs "timed on this machine" at 10 ms + 1 ms per million multiply-adds.
    space = make_space("tvn", SpaceConfig(num_classes=10))
    rng = random.Random(1)
    specs = [spec, *(space.sample(rng) for _ in range(5))]
    samples = [(s, 10.0 + analyze(s).macs / 1e6) for s in specs]
    stored = lc.store(calibrate([(features_of(analyze(s)), ms) for s, ms in samples]), source="a test's measurements", threads=1)
    after = analyzed(client, spec)
    expected = 10.0 + analyze(spec).macs / 1e6
    assert after["latency_calibrated"] is True and after["latency_networks"] == 6
    assert after["latency_ms_estimate"] == pytest.approx(expected, rel=0.05)
    assert 0 <= after["latency_error"] < 0.1
    assert "calibrated on 6 measured networks (a test's measurements)" in after["latency_note"]
    assert stored.machine in after["latency_note"] and "thread" in stored.machine


def test_a_calibration_from_the_studios_measured_candidates(world):
    from webapp.studio.models import Candidate, LatencyCalibration

    spec = world["parent"].spec
    for index, latency in enumerate((4.0, 6.0, 8.0), start=2):
        Candidate.objects.create(experiment=world["experiment"], index=index, name=f"c{index:04d}", spec=spec, status="evaluated",
                                 latency_ms=latency)
    Candidate.objects.create(experiment=world["experiment"], index=9, name="c0009", spec=spec, status="evaluated",
                             latency_ms=50.0, latency_device="cuda")  # a GPU's figure does not calibrate the CPU
    call_command("calibrate_latency", "--candidates", stdout=open("/dev/null", "w"))
    row = LatencyCalibration.objects.get()
    assert row.fit["networks"] == 5 and "5 candidates' search measurements" in row.source


def test_the_command_says_what_it_needs(db):
    with pytest.raises(CommandError, match="--measure N"):
        call_command("calibrate_latency")
    with pytest.raises(CommandError, match="at least 4"):
        call_command("calibrate_latency", "--candidates")
