"""Review exports: structural diff speed and ONNX export of every preset at small input.

Diff: two AssembleNet-101-sized specs sharing no node or input id (every node
matched by structure), beside two baselines measured in the same run: a text diff of
the two JSON files (what a registry without structure offers) and networkx's graph
edit distance under a time limit (the exponential search the diff avoids).
ONNX: each preset at 32 px and the fewest frames it accepts (4, 8 or 16), exported
and verified in onnxruntime at batch 1 and 2; onnxruntime latency stands beside
PyTorch's on the same clip.
"""
from __future__ import annotations

import difflib
import statistics
import os
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.common import table
from benchmarks.parallel import job, run_jobs, worker_count
from videomodels import ArchSpec, Edge, Node, SpecError, analyze, build_model, with_input_size
from videomodels.diff import diff_specs
from videomodels.export import ExportRefused, export_onnx
from videomodels.presets import PRESETS, get_preset
from videomodels.profile import example_inputs

# One thread: on a shared small machine a second OpenMP thread waits at barriers for a
# descheduled peer and timings swing tenfold.
THREADS = 1
FRAMES, SIZE = 4, 32
GED_TIMEOUT_S = 2.0
QUICK_PRESETS = ("tvn-small", "baseline-r3d", "assemblenet-small", "tvn-1")
# The two largest AssembleNets take minutes each to export and use only the ops of assemblenet-50,
# which is exported; BENCH_ONNX_ALL=1 includes them (make bench must fit 45 minutes on 2 cores).
SLOW_TO_EXPORT = ("assemblenet-101", "assemblenet-plus")


def _renamed(spec: ArchSpec, prefix: str) -> ArchSpec:
    names = {n.id: f"{prefix}{i}" for i, n in enumerate(spec.nodes)} | {s.id: f"{prefix}in{i}" for i, s in enumerate(spec.inputs)}
    out = spec.copy()
    for item in [*out.nodes, *out.inputs]:
        item.id = names[item.id]
    for edge in out.edges:
        edge.source, edge.target = names[edge.source], names[edge.target]
    return out


def _child(spec: ArchSpec) -> ArchSpec:
    """A plausible evolved child: a few attributes, weights and one edge changed."""
    child = spec.copy()
    blocks = [n for n in child.nodes if n.type == "asn_block"]
    blocks[1].attrs["filters"] = blocks[1].attrs.get("filters", 64) * 2
    blocks[4].attrs["temporal_dilation"] = 8
    for edge in child.edges[::5]:
        edge.weight = 0.42
    child.edges.pop(7)
    return child


def _expanded(spec: ArchSpec) -> ArchSpec:
    """Every asn_block unrolled into a chain of its num_modules (83 nodes): the size of the
    graph if each residual module of AssembleNet-101 were its own node."""
    nodes, edges, tail = [], [], {}
    for node in spec.nodes:
        repeats = int(node.attrs.get("num_modules", 1)) if node.type == "asn_block" else 1
        chain = [node.id] + [f"{node.id}_m{i}" for i in range(1, repeats)]
        for index, node_id in enumerate(chain):
            attrs = dict(node.attrs, num_modules=1) if repeats > 1 else dict(node.attrs)
            if index:
                attrs["spatial_stride"] = 1  # only a block's first module downsamples
            nodes.append(Node(node_id, node.type, attrs))
            if index:
                edges.append(Edge(chain[index - 1], node_id))
        tail[node.id] = chain[-1]
    edges += [Edge(tail.get(e.source, e.source), e.target, e.weight, e.learnable) for e in spec.edges]
    return ArchSpec(spec.family, list(spec.inputs), nodes, edges, spec.name + "-expanded", {})


def _median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _ged_ms(a: ArchSpec, b: ArchSpec) -> tuple[float | None, str]:
    try:
        import networkx as nx
    except ImportError:
        return None, "networkx not installed"

    def graph(spec):
        g = nx.DiGraph()
        for s in spec.inputs:
            g.add_node(s.id, label=("input", s.modality))
        for n in spec.nodes:
            g.add_node(n.id, label=(n.type, str(sorted(n.attrs.items()))))
        g.add_edges_from((e.source, e.target) for e in spec.edges)
        return g

    started = time.perf_counter()
    result = nx.graph_edit_distance(graph(a), graph(b), node_match=lambda x, y: x["label"] == y["label"], timeout=GED_TIMEOUT_S)
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, ("finished" if elapsed < GED_TIMEOUT_S * 1000 * 0.95 else f"stopped at the {GED_TIMEOUT_S:.0f} s limit, best cost {result}")


def diff_benchmark(quick: bool) -> tuple[str, dict]:
    base = get_preset("assemblenet-101")
    runs = 5 if quick else 30
    rows, data = [], {}
    for label, spec in (("AssembleNet-101 spec", base), ("AssembleNet-101, modules unrolled", _expanded(base))):
        a, b = _renamed(spec, "a"), _renamed(_child(spec), "b")
        result = diff_specs(a, b)
        ms = _median_ms(lambda: diff_specs(a, b), runs)
        text_a, text_b = a.to_json().splitlines(), b.to_json().splitlines()
        text_ms = _median_ms(lambda: list(difflib.unified_diff(text_a, text_b)), runs)
        ged_ms, ged_note = _ged_ms(a, b) if not quick or len(spec.nodes) < 30 else (None, "skipped in quick mode")
        how = {k: sum(1 for v in result.matched_by.values() if v == k) for k in ("id", "structure", "similarity")}
        rows.append([label, len(spec.nodes), len(spec.edges), ms, "yes" if ms < 100 else "NO", text_ms, ms / text_ms,
                     ged_ms, ged_note, f"{how['structure']} / {how['similarity']} / {len(result.nodes_added)}", result.summary()])
        data[label] = {"nodes": len(spec.nodes), "edges": len(spec.edges), "diff_ms": ms, "text_diff_ms": text_ms,
                       "ratio_to_text_diff": ms / text_ms, "ged_ms": ged_ms, "ged": ged_note, "matched": how,
                       "unmatched_b": len(result.nodes_added), "summary": result.summary()}
    lines = [
        "## Structural diff (no shared ids)", "",
        f"Two specs with every node and input renamed (nothing matches by id) and a child's edits (2 attributes, "
        f"edge weights, one edge dropped); median of {runs} runs. Baselines in the same run: a line diff of the two JSON "
        f"texts, and networkx graph edit distance limited to {GED_TIMEOUT_S:.0f} s. Goal: under 100 ms.", "",
        table(["specs", "nodes", "edges", "diff ms", "< 100 ms", "text diff ms", "diff / text diff", "networkx GED ms", "GED",
               "matched by structure / similarity / unmatched", "result"], rows), "",
    ]
    return "\n".join(lines), data


def _interleaved_ms(model, inputs, session, feeds, *, rounds: int = 2, runs: int = 4) -> tuple[float, float]:
    """Median ms of PyTorch eager and onnxruntime, measured in alternating blocks (ABAB, one
    warm-up run per block) so both see the same machine load; BatchNorm is unfolded in both
    (the exported graph is the eager one)."""
    times: dict[str, list[float]] = {"torch": [], "ort": []}
    runners = {"torch": lambda: model(inputs), "ort": lambda: session.run(["logits"], feeds)}
    with torch.inference_mode():
        for _ in range(rounds):
            for key, runner in runners.items():
                runner()
                for _ in range(runs):
                    started = time.perf_counter()
                    runner()
                    times[key].append((time.perf_counter() - started) * 1000)
    return statistics.median(times["torch"]), statistics.median(times["ort"])


def _small_spec(name: str) -> tuple[ArchSpec | None, str]:
    """The preset at SIZE px and the fewest frames (4, 8 or 16) its temporal kernels accept."""
    problem = ""
    for frames in (FRAMES, 2 * FRAMES, 4 * FRAMES):
        spec = with_input_size(get_preset(name), frames=frames, size=SIZE)
        try:
            analyze(spec)
            return spec, ""
        except SpecError as error:
            problem = str(error.problems[0])
    return None, problem


def export_one(name: str, folder: Path) -> tuple[list, dict]:
    """One preset exported, verified and timed (a job: presets go side by side in worker processes)."""
    import onnxruntime

    spec, problem = _small_spec(name)
    if spec is None:
        return [name, "–", "not built", "–", None, None, None, None, None, None, problem[:160]], {"status": "not built", "reason": problem}
    shape = "+".join(f"{s.frames}x{s.size}²" for s in spec.inputs)
    previous = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        torch.manual_seed(0)
        model = build_model(spec).eval()
        path = Path(folder) / f"{name}.onnx"
        try:
            report = export_onnx(model, path, batch_sizes=(1, 2))
        except ExportRefused as refused:
            return ([name, shape, "refused", refused.op or "–", None, None, None, None, None, None, refused.reason[:160]],
                    {"status": "refused", "input": shape, **refused.to_dict()})
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = THREADS
        # Idle onnxruntime threads spin by default and would steal the cores PyTorch runs on.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        inputs = example_inputs(spec)
        torch_ms, ort_ms = _interleaved_ms(model, inputs, session, {k: v.numpy() for k, v in inputs.items()})
        del session
        path.unlink()
    finally:
        torch.set_num_threads(previous)
    return ([name, shape, "exported", report.opset, report.max_abs_diff, report.max_rel_diff, report.export_seconds, torch_ms, ort_ms,
             ort_ms / torch_ms, f"{report.file_bytes / 1e6:.1f} MB"],
            {"status": "exported", "input": shape, **report.to_dict(), "torch_ms": torch_ms, "onnxruntime_ms": ort_ms})


def onnx_benchmark(quick: bool) -> tuple[str, dict]:
    everything = os.environ.get("BENCH_ONNX_ALL") == "1"
    names = QUICK_PRESETS if quick else tuple(p for p in PRESETS if everything or p not in SLOW_TO_EXPORT)
    with tempfile.TemporaryDirectory(prefix="bench-onnx-") as folder:
        results = run_jobs([job(export_one, name, Path(folder)) for name in names])
    rows = [row for row, _ in results]
    data = {name: entry for name, (_, entry) in zip(names, results)}
    exported = sum(1 for v in data.values() if v["status"] == "exported")
    lines = [
        f"## ONNX export of the presets at small input ({SIZE} px, {FRAMES} frames or the fewest the preset accepts)", "",
        f"torch.onnx (dynamo exporter, onnxscript), checked in onnxruntime at batch 1 and 2 on seeded clips (tolerance atol 1e-5 "
        f"+ rtol 1e-3 x the largest |logit|); random weights, so EvaNet's logits reach the hundreds and its absolute "
        f"differences are larger. Latency: batch 1, {THREADS} thread, median of 8 runs in alternating "
        f"blocks of PyTorch eager (the same-run baseline) and onnxruntime; presets are exported side by side in "
        f"{worker_count()} worker processes, so both latencies share the machine with one other export. "
        f"{exported} of {len(data)} presets exported.", "",
        table(["preset", "input", "status", "opset / op", "max abs diff", "max diff / max logit", "export s", "PyTorch ms", "onnxruntime ms", "ORT / PyTorch",
               "file / reason"], rows), "",
    ]
    return "\n".join(lines), data


def run(quick: bool = False) -> tuple[str, dict]:
    diff_text, diff_data = diff_benchmark(quick)
    onnx_text, onnx_data = onnx_benchmark(quick)
    return diff_text + "\n" + onnx_text, {"diff": diff_data, "onnx": onnx_data}
