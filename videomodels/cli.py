"""Command line: ``python -m videomodels {presets,describe,import,validate,node-types,diff,data,train,predict}``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from videomodels.archspec import ArchSpec, with_input_size
from videomodels.graph import Budget, DEFAULT_BUDGET, analyze
from videomodels.importers import IMPORTERS, ImportError_
from videomodels.presets import PRESETS, get_preset
from videomodels.validation import SpecError


class UserError(Exception):
    """A mistake in the command's input: reported in one clear message, exit code 2."""


def load_spec(name_or_path: str) -> ArchSpec:
    """A preset name or a spec JSON file."""
    if name_or_path.lower().replace("_", "-") in PRESETS:
        return get_preset(name_or_path)
    path = Path(name_or_path)
    if not path.exists():
        raise UserError(f"{name_or_path}: neither a preset ({', '.join(PRESETS)}) nor an existing spec file")
    try:
        return ArchSpec.from_json(path.read_text())
    except SpecError as error:
        raise UserError(f"{path}: {error}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a text (JSON) file") from None


def _budget(args) -> Budget:
    return Budget(
        max_params=args.max_params if args.max_params is not None else DEFAULT_BUDGET.max_params,
        max_macs=args.max_macs if args.max_macs is not None else DEFAULT_BUDGET.max_macs,
    )


def _add_budget(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-params", type=int, default=None, help=f"refuse specs above this (default {DEFAULT_BUDGET.max_params:,})")
    parser.add_argument("--max-macs", type=int, default=None, help=f"refuse specs above this many multiply-adds per clip (default {DEFAULT_BUDGET.max_macs:,})")


def cmd_presets(args) -> int:
    rows = [{"name": p.name, "family": p.family, "doc": p.doc} for p in PRESETS.values()]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        width = max(len(row["name"]) for row in rows)
        for row in rows:
            print(f"{row['name']:<{width}}  {row['family']:<12} {row['doc']}")
    return 0


def cmd_describe(args) -> int:
    from videomodels.profile import profile_spec

    spec = with_input_size(load_spec(args.spec), frames=args.frames, size=args.size)
    try:
        analyze(spec, num_classes=args.num_classes, budget=_budget(args))
        profile = profile_spec(spec, latency=args.latency, runs=args.runs, threads=args.threads, num_classes=args.num_classes)
    except SpecError as error:
        raise UserError(str(error)) from None
    data = profile.to_dict()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"{spec.name or args.spec} ({spec.family})")
    for stream_id, shape in data["inputs"].items():
        print(f"  input {stream_id:<10} {'x'.join(map(str, shape))}")
    print(f"  params       {data['params']:,}")
    print(f"  multiply-adds {data['macs']:,} ({data['macs'] / 1e9:.2f} G)")
    print(f"  output       {'x'.join(map(str, data['output_shape']))}")
    if data["latency_ms"] is not None:
        print(f"  CPU latency  {data['latency_ms']:.1f} ms (median of {data['latency_runs']}, batch 1, {data['threads']} threads)")
    return 0


def cmd_validate(args) -> int:
    spec = load_spec(args.spec)
    try:
        analysis = analyze(spec, budget=_budget(args))
    except SpecError as error:
        if args.json:
            print(json.dumps({"valid": False, "problems": [p.to_dict() for p in error.problems]}, indent=2))
            return 1
        print(error, file=sys.stderr)
        return 1
    result = {"valid": True, "hash": spec.content_hash(), "params": analysis.params, "macs": analysis.macs}
    print(json.dumps(result, indent=2) if args.json else f"valid: {result['params']:,} params, {result['macs']:,} multiply-adds, hash {result['hash']}")
    return 0


def cmd_import(args) -> int:
    path = Path(args.file)
    if not path.exists():
        raise UserError(f"{path}: no such file")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: not valid JSON ({error})") from None
    options: dict = {"name": args.name or path.stem}
    if args.num_classes is not None:
        options["num_classes"] = args.num_classes
    if args.source == "assemblenet":
        options.update(depth=args.depth, flow=args.flow, attention=args.attention, learnable_weights=args.learnable_weights)
    if args.source in ("assemblenet", "evanet"):
        options.update(frames=args.frames or 32, size=args.size or 224)
    if args.source == "evanet":
        options.update(modality=args.modality)
    try:
        spec = IMPORTERS[args.source](config, **options)
        if args.source == "tvn":
            spec = with_input_size(spec, frames=args.frames, size=args.size)
        analyze(spec)
    except ImportError_ as error:
        raise UserError(f"{path}: {error}") from None
    except SpecError as error:
        raise UserError(f"{path}: imported, but the result is invalid: {error}") from None
    text = spec.to_json() + "\n"
    if args.output:
        Path(args.output).write_text(text)
        print(f"wrote {args.output} ({len(spec.nodes)} nodes, {len(spec.edges)} edges, hash {spec.content_hash()})", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_node_types(args) -> int:
    from videomodels.schema import load_families

    families = load_families()
    data = {name: [t.describe() for t in family.node_types.values()] for name, family in families.items() if not args.family or name == args.family}
    print(json.dumps(data, indent=2))
    return 0


def cmd_diff(args) -> int:
    from videomodels.diff import diff_specs

    a, b = load_spec(args.a), load_spec(args.b)
    try:
        result = diff_specs(a, b, match_ids=not args.ignore_ids)
    except SpecError as error:
        raise UserError(str(error)) from None
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print("\n".join(result.lines()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m videomodels", description="Video architecture library: specs, presets, profiling, data and training.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("presets", help="list the published networks")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_presets)

    p = sub.add_parser("describe", help="params, multiply-adds, output shape and CPU latency of a preset or spec file")
    p.add_argument("spec", metavar="NAME_OR_SPEC_FILE")
    p.add_argument("--frames", type=int, help="override every input stream's frame count")
    p.add_argument("--size", type=int, help="override every input stream's resolution")
    p.add_argument("--num-classes", type=int)
    p.add_argument("--latency", action="store_true", help="measure CPU latency (batch 1, fixed threads, warm-up, median)")
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--threads", type=int, help="CPU threads for the latency run (default min(4, cores))")
    p.add_argument("--json", action="store_true")
    _add_budget(p)
    p.set_defaults(func=cmd_describe)

    p = sub.add_parser("validate", help="check a spec file; lists every problem with its location")
    p.add_argument("spec", metavar="NAME_OR_SPEC_FILE")
    p.add_argument("--json", action="store_true")
    _add_budget(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("import", help="convert an original EvaNet/AssembleNet/TVN config into a spec")
    p.add_argument("file")
    p.add_argument("--from", dest="source", required=True, choices=sorted(IMPORTERS))
    p.add_argument("-o", "--output", help="write the spec here (default: stdout)")
    p.add_argument("--name")
    p.add_argument("--num-classes", type=int)
    p.add_argument("--depth", type=int, default=50, help="AssembleNet depth: 26, 38, 50, 68, 77 or 101")
    p.add_argument("--flow", choices=("repflow", "input"), default="repflow", help="AssembleNet flow: computed in-network or a flow input stream")
    p.add_argument("--attention", choices=("none", "peer"), default="none", help="AssembleNet++ peer-attention")
    p.add_argument("--learnable-weights", action="store_true",
                   help="AssembleNet: start from the given edge weights but keep learning them (default: frozen)")
    p.add_argument("--modality", choices=("rgb", "flow"), default="rgb", help="EvaNet input stream")
    p.add_argument("--frames", type=int)
    p.add_argument("--size", type=int)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("node-types", help="the node types of each family and their attributes, as JSON")
    p.add_argument("--family")
    p.set_defaults(func=cmd_node_types)

    p = sub.add_parser("diff", help="structural diff of two specs (nodes, attributes, edges and weights, inputs)")
    p.add_argument("a", metavar="A", help="preset name or spec JSON file")
    p.add_argument("b", metavar="B", help="preset name or spec JSON file")
    p.add_argument("--ignore-ids", action="store_true", help="match nodes by structure only, not by their ids")
    p.add_argument("--json", action="store_true", help="the diff as JSON (node_map, changes, summary)")
    p.set_defaults(func=cmd_diff)

    for module in ("videomodels.data.cli", "videomodels.train.cli", "videomodels.predict"):
        try:
            __import__(module, fromlist=["register"]).register(sub)
        except ImportError:
            pass
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
