"""The editor's calibrated latency model: fitted to measured networks, its error measured on networks it did not see."""
from __future__ import annotations

import pytest

from videomodels.graph import analyze
from videomodels.latency_model import Calibration, calibrate, features_of, fit_coefficients, predict
from videomodels.presets import get_preset


def synthetic(n=8):
    """Networks whose time is 0.2 ms + 0.05 ms a block + 1 ms per 10 M MACs, exactly."""
    samples = []
    for i in range(n):
        f = {"base": 1.0, "type:block": float(3 + 2 * i), "macs": float(1e6 * (1 + 7 * i % 11)), "elements": float(1e4 * (i % 3 + 1))}
        samples.append((f, 0.2 + 0.05 * f["type:block"] + f["macs"] / 1e7))
    return samples


def test_the_fit_recovers_the_coefficients_of_networks_that_follow_them():
    coefficients = fit_coefficients(synthetic())
    assert coefficients["base"] == pytest.approx(0.2, rel=1e-3) and coefficients["type:block"] == pytest.approx(0.05, rel=1e-3)
    assert coefficients["macs"] == pytest.approx(1e-7, rel=1e-3) and coefficients.get("elements", 0.0) == pytest.approx(0.0, abs=1e-9)


def test_the_error_comes_from_networks_left_out_and_grows_with_noise():
    clean = calibrate(synthetic())
    assert clean.networks == 8 and clean.error < 1e-3
    noisy = [(f, ms * (1.5 if i % 2 else 0.7)) for i, (f, ms) in enumerate(synthetic())]
    rough = calibrate(noisy)
    assert rough.error > 0.2 and len(rough.errors) == 8
    assert Calibration.from_dict(rough.to_dict()) == rough


def test_coefficients_are_never_negative_and_too_few_networks_are_refused():
    samples = [({"base": 1.0, "type:block": 1.0, "macs": m, "elements": 0.0}, 5.0 - m / 1e6) for m in (1e6, 2e6, 3e6, 4e6)]
    assert all(c >= 0 for c in fit_coefficients(samples).values())
    with pytest.raises(ValueError, match="at least 4"):
        calibrate(synthetic(3))


def test_features_of_a_real_network():
    analysis = analyze(get_preset("tvn-small"))
    features = features_of(analysis)
    types = {name: count for name, count in features.items() if name.startswith("type:")}
    assert sum(types.values()) == len(analysis.nodes) and features["macs"] == analysis.macs and features["elements"] > 0
    assert predict({"base": 1.0}, features) == 1.0
