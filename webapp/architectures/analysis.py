"""Validate and price a whole spec for the editor, fast enough to run on every edit.

The answer is the validator's located problems (``nodes[3].attrs.x``, ``edges[5]``), each
node's output shape, parameters and multiply-adds, the totals, an estimated CPU latency
and search-space warnings. Nothing here imports Django (it could move to videomodels).

Costs come from ``videomodels.graph.analyze``, the one cost walk: it reuses the cost of
every node whose attributes and inputs an edit left alone, so an edit re-costs only the
edited node and the nodes downstream whose input shapes it changed.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from videomodels.archspec import ArchSpec
from videomodels.graph import DEFAULT_BUDGET, Budget, analyze
from videomodels.graphindex import cycle_closing_edges
from videomodels.latency_model import Calibration, features_of
from videomodels.validation import INPUT_SCHEMA, Problem, SpecError, check_structure, parse_spec

from .searchspace import space_warnings

# Hard limits on what the editor may send (checked on the raw JSON before any parsing work).
MAX_NODES = 1_000
MAX_EDGES = 4_000
MAX_INPUTS = 16
# Uncalibrated, and labelled so: multiply-adds at the throughput measured for the published presets
# on this project's 2-core benchmark machine (docs/BENCHMARKS.md: ~30 GMAC/s). Blind to each
# operator's fixed cost, it reads small networks 4-12x under their measured latency.
ESTIMATE_GMACS_PER_S = 30.0
ESTIMATE_LABEL = (f"uncalibrated estimate: multiply-adds at {ESTIMATE_GMACS_PER_S:g} GMAC/s (CPU, batch 1), blind to per-operator "
                  "overhead (small networks measure several times slower); calibrate it with manage.py calibrate_latency")


@dataclass(frozen=True)
class LatencyModel:
    """A calibration (videomodels.latency_model) and where it comes from, in words: 'calibrated on 14
    measured networks on vm: Intel Xeon (2 cores), 1 thread, torch 2.x, 2026-12-05'."""

    calibration: Calibration
    where: str

    def totals(self, analysis) -> dict[str, Any]:
        error = self.calibration.error
        return {"latency_ms_estimate": round(self.calibration.estimate(features_of(analysis)), 3), "latency_error": round(error, 3),
                "latency_calibrated": True, "latency_networks": self.calibration.networks,
                "latency_note": f"estimate ± {100 * error:.0f} % (the error on 80 % of networks left out of the fit), {self.where}"}


def latency_model_of(fit: dict, *, networks_source: str, machine: str, when: str) -> LatencyModel:
    """A stored calibration (LatencyCalibration.fit and its provenance) as the editor's latency model."""
    calibration = Calibration.from_dict(fit)
    return LatencyModel(calibration, f"calibrated on {calibration.networks} measured networks ({networks_source}) on {machine}, {when}")


def uncalibrated_totals(macs: int) -> dict[str, Any]:
    return {"latency_ms_estimate": round(macs / (ESTIMATE_GMACS_PER_S * 1e9) * 1000.0, 3), "latency_error": None,
            "latency_calibrated": False, "latency_networks": 0, "latency_note": ESTIMATE_LABEL}

Shape = tuple[int, ...]


@dataclass
class Report:
    valid: bool
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    totals: dict[str, Any] | None = None
    spec: ArchSpec | None = None  # parsed (defaults filled) when it parsed
    shaped: bool = False  # a spec's shape whose only problems are values the editor lets a user type

    @property
    def parsed(self) -> bool:
        """The body had a spec's shape: its problems, if any, are an edit in progress, not a bad request."""
        return self.spec is not None or self.shaped

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "problems": [problem.to_dict() for problem in self.problems],
            "warnings": [warning.to_dict() for warning in self.warnings],
            "nodes": self.nodes,
            "totals": self.totals,
            "spec_hash": self.spec.content_hash() if self.spec is not None and self.valid else None,
        }


def check_size(data: Any) -> list[Problem]:
    """Refuse oversized specs before any parsing work (a request's cost stays bounded)."""
    if not isinstance(data, dict):
        return []
    problems = []
    for key, limit in (("nodes", MAX_NODES), ("edges", MAX_EDGES), ("inputs", MAX_INPUTS)):
        value = data.get(key)
        if isinstance(value, list) and len(value) > limit:
            problems.append(Problem(key, f"too many {key}: {len(value):,} (the editor takes at most {limit:,})"))
    return problems


def analyze_data(data: Any, *, family: str | None = None, budget: Budget = DEFAULT_BUDGET,
                 latency_model: LatencyModel | None = None) -> Report:
    """The editor's whole answer for one spec given as JSON data; the latency from ``latency_model``
    (calibrated on this machine) when there is one, else the uncalibrated estimate, labelled so."""
    problems = check_size(data)
    if problems:
        return Report(False, problems)
    try:
        spec = parse_spec(data)
    except SpecError as error:
        # An input stream's frames or size typed out of range is an edit in progress, like a node's attribute;
        # anything else the parser refuses is not a spec's shape: the one case the API refuses.
        return Report(False, error.problems, shaped=all(is_input_value(p.location) for p in error.problems))
    if family is not None and spec.family != family:
        return Report(False, [Problem("family", f"this architecture is {family!r}; a {spec.family!r} spec cannot be one of its versions")], spec=spec)
    clean, problems = check_structure_located(spec)
    if problems:
        return Report(False, problems, spec=spec)
    try:
        analysis = analyze(clean, budget=budget)
    except SpecError as error:
        return Report(False, error.problems, spec=clean)
    nodes = {node_id: {"type": cost.type, "input_shapes": [list(s) for s in cost.input_shapes],
                       "output_shape": list(cost.output_shape), "params": cost.params, "macs": cost.macs}
             for node_id, cost in analysis.nodes.items()}
    params, macs = analysis.params, analysis.macs
    totals = {
        "params": params,
        "macs": macs,
        "output_shape": list(analysis.output_shape),
        **(latency_model.totals(analysis) if latency_model is not None else uncalibrated_totals(macs)),
    }
    for node in nodes.values():
        node["share"] = {"params": node["params"] / params if params else 0.0, "macs": node["macs"] / macs if macs else 0.0}
    return Report(True, [], space_warnings(clean), nodes, totals, clean)


_INPUT_VALUE = re.compile(r"inputs\[\d+\]\.(?P<attr>\w+)")


def is_input_value(location: str) -> bool:
    """``inputs[2].frames``: the value of an input stream's attribute the editor has a field for."""
    match = _INPUT_VALUE.fullmatch(location)
    return match is not None and match["attr"] in INPUT_SCHEMA and match["attr"] != "id"


def check_structure_located(spec: ArchSpec):
    """``check_structure``, plus the edge that closes each cycle, located as sent."""
    clean, problems = check_structure(spec)
    for i in cycle_closing_edges([node.id for node in spec.nodes], spec.edges):
        edge = spec.edges[i]
        problems.append(Problem(f"edges[{i}]", f"{edge.source}->{edge.target} closes a cycle (a path leads from {edge.target!r} back to {edge.source!r})"))
    return clean, problems


def finite_json(value: Any) -> bool:
    """True when ``value`` holds no NaN or infinity anywhere (json.dumps would write invalid JSON)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(finite_json(v) for v in value.values())
    if isinstance(value, list):
        return all(finite_json(v) for v in value)
    return True
