"""A CPU latency estimate calibrated on measured networks, with its error.

Multiply-adds alone put small video networks 4-12x under their measured latency: at batch 1 a
tiny network's time is mostly the fixed cost of each operator (dispatch, memory allocation) and
moving activations, not arithmetic. The model here is

    ms = base + sum over node types of (per-type cost x nodes of that type)
            + macs / throughput + per_element x activation elements written

with non-negative coefficients fitted to measured networks by least squares on the *relative*
error (a 1 ms network counts as much as a 100 ms one). Its error is measured by leaving each
network out in turn: the 80th percentile of |estimate - measured| / measured on networks the fit
did not see. Pure Python over ``videomodels.graph`` analyses; callers store the calibration
(coefficients, error, how many networks, when and where) and pass it back in.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

BASE_FEATURES = ("base", "macs", "elements")
MIN_NETWORKS = 4
ERROR_PERCENTILE = 80


def features_of(analysis) -> dict[str, float]:
    """The latency model's inputs from one ``videomodels.graph.analyze`` result: a constant, the
    multiply-adds, the activation elements written, and how many nodes of each type (a
    representation-flow layer counted once per iteration: each is a round of small operators)."""
    features = {"base": 1.0, "macs": float(analysis.macs),
                "elements": float(sum(math.prod(cost.output_shape) for cost in analysis.nodes.values()))}
    attrs = {node.id: node.attrs for node in analysis.spec.nodes} if getattr(analysis, "spec", None) is not None else {}
    for node_id, cost in analysis.nodes.items():
        iterations = attrs.get(node_id, {}).get("iterations") if cost.type == "representation_flow" else None
        weight = float(iterations) if isinstance(iterations, (int, float)) and iterations > 0 else 1.0
        features[f"type:{cost.type}"] = features.get(f"type:{cost.type}", 0.0) + weight
    return features


def predict(coefficients: Mapping[str, float], features: Mapping[str, float]) -> float:
    return sum(value * features.get(name, 0.0) for name, value in coefficients.items())


def _nonnegative_least_squares(rows: list[list[float]], targets: list[float], sweeps: int = 3000) -> list[float]:
    """min ||rows x - targets||^2 over x >= 0 by cyclic coordinate descent (convex: it converges;
    a handful of columns and at most a few hundred rows, so a few milliseconds)."""
    n = len(rows[0])
    x = [0.0] * n
    residual = [-t for t in targets]  # rows x - targets, kept up to date
    norms = [sum(r[j] * r[j] for r in rows) for j in range(n)]
    for _ in range(sweeps):
        moved = 0.0
        for j in range(n):
            if norms[j] <= 0:
                continue
            gradient = sum(r[j] * e for r, e in zip(rows, residual))
            new = max(0.0, x[j] - gradient / norms[j])
            step = new - x[j]
            if step:
                residual = [e + step * r[j] for r, e in zip(rows, residual)]
                x[j] = new
                moved = max(moved, abs(step))
        if moved < 1e-10:
            break
    return x


def fit_coefficients(samples: Sequence[tuple[Mapping[str, float], float]]) -> dict[str, float]:
    """Non-negative coefficients minimising the squared relative error of the estimates."""
    names = sorted({name for f, _ in samples for name in f}, key=lambda n: (n not in BASE_FEATURES, n))
    # Columns scaled to at most 1 (MACs run to 1e10, the base is 1) keep the descent well conditioned.
    scale = {name: max(f.get(name, 0.0) for f, _ in samples) or 1.0 for name in names}
    # Each row divided by its measured time: the squared error becomes a relative one.
    rows = [[f.get(name, 0.0) / scale[name] / measured for name in names] for f, measured in samples]
    solution = _nonnegative_least_squares(rows, [1.0] * len(samples))
    return {name: c / scale[name] for name, c in zip(names, solution) if c > 0}


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Calibration:
    coefficients: dict[str, float]
    networks: int
    error: float  # leave-one-out relative error at ERROR_PERCENTILE (0.3 = ±30 %)
    errors: list[float] = field(default_factory=list)  # each network's leave-one-out relative error

    def estimate(self, features: Mapping[str, float]) -> float:
        return predict(self.coefficients, features)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> Calibration:
        return cls(dict(data["coefficients"]), int(data["networks"]), float(data["error"]), list(data.get("errors") or []))


def calibrate(samples: Sequence[tuple[Mapping[str, float], float]]) -> Calibration:
    """Fit on every measured network (features, measured ms); the error from leaving each out."""
    samples = [(f, m) for f, m in samples if m and m > 0]
    if len(samples) < MIN_NETWORKS:
        raise ValueError(f"calibrating needs at least {MIN_NETWORKS} measured networks, got {len(samples)}")
    errors = []
    for i, (held_features, held_ms) in enumerate(samples):
        coefficients = fit_coefficients(samples[:i] + samples[i + 1:])
        errors.append(abs(predict(coefficients, held_features) - held_ms) / held_ms)
    return Calibration(fit_coefficients(samples), len(samples), _percentile(errors, ERROR_PERCENTILE), [round(e, 4) for e in errors])
