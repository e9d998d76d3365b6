"""The latency model the editor prices specs with: the newest CPU calibration the studio stored
(webapp.studio.services.latency_calibration), or none (the uncalibrated estimate, labelled so)."""
from __future__ import annotations

from webapp.studio.services.latency_calibration import current

from .analysis import LatencyModel, latency_model_of


def editor_latency_model() -> LatencyModel | None:
    row = current()
    if row is None:
        return None
    try:
        return latency_model_of(row.fit, networks_source=row.source, machine=row.machine, when=f"{row.measured_at:%Y-%m-%d %H:%M} UTC")
    except (KeyError, TypeError, ValueError):  # a row written by another version: estimate uncalibrated rather than fail
        return None
