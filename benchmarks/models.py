"""Published presets: parameters and multiply-adds at native input; TVN-1/2 CPU latency."""
from __future__ import annotations

import statistics

import torch

from videomodels import analyze, build_model, with_input_size
from videomodels.presets import PUBLISHED_NAMES, get_preset
from videomodels.profile import example_inputs, measure_latency

from benchmarks.common import table

PUBLISHED_CPU_MS = {"tvn-1": 37.0, "tvn-2": 65.0}
THREADS = 2


def latency(spec, runs: int = 10) -> float:
    torch.manual_seed(0)
    model = build_model(spec)
    return statistics.median(measure_latency(model, example_inputs(spec), warmup=3, runs=runs, threads=THREADS))


def run(quick: bool = False) -> tuple[str, dict]:
    rows, data = [], {}
    for name in PUBLISHED_NAMES:
        spec = get_preset(name)
        analysis = analyze(spec)
        shape = ", ".join(f"{s.id} {s.frames}x{s.size}²" for s in spec.inputs)
        rows.append([name, shape, analysis.params, analysis.macs / 1e9])
        data[name] = {"params": analysis.params, "macs": analysis.macs}
    lines = ["## Published presets at native input", "",
             "Parameters and multiply-adds counted on the meta device (no weights allocated), classifier sizes as in the presets (EvaNet 400, AssembleNet/TVN 157 classes).", "",
             table(["preset", "input", "params", "GMACs"], rows), ""]

    # Latency: TVN-1/2 beside EvaNet-1 run at the same input, all in this process.
    rows = []
    for name in ("tvn-1", "tvn-2"):
        spec = get_preset(name)
        reference = with_input_size(get_preset("evanet-1"), frames=spec.inputs[0].frames, size=spec.inputs[0].size)
        ms = latency(spec, runs=5 if quick else 10)
        ref_ms = latency(reference, runs=3 if quick else 5)
        rows.append([name, f"{spec.inputs[0].frames}x{spec.inputs[0].size}²", ms, PUBLISHED_CPU_MS[name], ms / PUBLISHED_CPU_MS[name], ref_ms, ref_ms / ms])
        data[name]["latency_ms"] = ms
        data[name]["evanet1_same_input_ms"] = ref_ms
    lines += [f"## TVN CPU latency (batch 1, {THREADS} threads, warm-up 3, median)", "",
              "The published figures come from an unnamed CPU; the same-run baseline is EvaNet-1 fed the same clip.", "",
              table(["model", "input", "ms here", "published ms", "here / published", "EvaNet-1 same input ms", "EvaNet-1 / TVN"], rows), ""]
    return "\n".join(lines), data
