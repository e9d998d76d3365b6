"""``python -m archsearch run --family F --data DIR --population P --rounds R --out RUN`` / ``--resume RUN``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from videomodels.data import load_cache

from archsearch.config import FAMILIES, LATENCY_DEVICES, PRECISIONS, ConfigError, SearchConfig
from archsearch.events import Event
from archsearch.runner import RESULTS, RunError, SearchRun, ensure_cache
from archsearch.seeding import preset_seeds


class ProgressPrinter:
    """A tqdm bar on a terminal, one line per candidate otherwise."""

    def __init__(self, total: int, done: int = 0, latency_device: str = "cpu"):
        self.latency_device = latency_device
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, unit="cand", file=sys.stderr)

    def __call__(self, event: Event) -> None:
        if event.type == "candidate_evaluated":
            text = f"{event.candidate_id} gen {event.generation + 1}: acc {event.accuracy:.3f} ({event.fidelity}), {event.latency_ms:.1f} ms"
            text += f" ({self.latency_device})"
            if self.bar:
                self.bar.update(1)
                self.bar.set_postfix_str(text)
            else:
                print(text, file=sys.stderr)
        elif event.type == "candidate_rejected":
            (self.bar.write if self.bar else lambda m: print(m, file=sys.stderr))(f"{event.candidate_id} rejected: {event.reason}")
        elif event.type == "new_best" and not self.bar:
            print(f"  new best {event.candidate_id}: {event.accuracy:.3f}", file=sys.stderr)
        elif event.type == "run_finished" and self.bar:
            self.bar.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m archsearch", description="Evolutionary search of video architectures.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start (or --resume) a search")
    run.add_argument("--resume", metavar="RUN", help="continue the run in this folder")
    run.add_argument("--family", choices=FAMILIES)
    run.add_argument("--data", help="a video folder / CSV manifest (prepared into RUN/cache) or a prepared clip cache")
    run.add_argument("--out", help="run folder")
    run.add_argument("--population", type=int, default=8)
    run.add_argument("--rounds", type=int, default=3, help="generations after the initial population")
    run.add_argument("--tournament", type=int, default=3)
    run.add_argument("--elitism", type=int, default=1, help="most accurate members aging never evicts (0: plain aging)")
    run.add_argument("--latency-budget-ms", type=float)
    run.add_argument("--initial-population", type=int, default=0, help="random samples before mutation starts (0: half the population, at least 2)")
    run.add_argument("--proxy-samples", type=int, default=1, help="random samples screened by a training-free proxy per trained one")
    run.add_argument("--curve-stop", type=float, default=0.0,
                     help="early termination: at this fraction of --low-steps, stop a candidate whose training loss is above "
                          "the population's median (0: off)")
    run.add_argument("--seed-presets", action="store_true",
                     help="start the first generation with every preset of the family that fits the data and --max-params")
    run.add_argument("--objective", choices=("accuracy", "pareto"), default="accuracy")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--low-steps", type=int, default=40, help="training steps every candidate gets")
    run.add_argument("--high-steps", type=int, default=120, help="steps for promising candidates (0: single fidelity)")
    run.add_argument("--batch-size", type=int, default=16)
    run.add_argument("--lr", type=float, default=0.01)
    run.add_argument("--max-params", type=int, default=2_000_000)
    run.add_argument("--no-inherit", action="store_true", help="train every child from scratch")
    run.add_argument("--frames", type=int, default=8, help="frames per clip when preparing raw videos")
    run.add_argument("--size", type=int, default=32, help="resolution when preparing raw videos")
    run.add_argument("--device", default="auto", help="training device: auto (cuda when there is one), cpu, cuda, cuda:N")
    run.add_argument("--latency-device", choices=LATENCY_DEVICES, default="cpu",
                     help="where latency is measured and budgeted: cpu (default) or cuda (batch 1, synchronised, "
                          "the GPU alone while timing)")
    run.add_argument("--deterministic", action="store_true",
                     help="bit-for-bit repeatable CUDA training (cuDNN's deterministic algorithms, no autotuning; slower)")
    run.add_argument("--precision", choices=PRECISIONS, default="fp32",
                     help="fp32 (default), or bf16 / fp16 autocast (fp16 with a gradient scaler)")
    run.add_argument("--json", action="store_true", help="print the final summary as JSON")
    return parser


def check_hardware(config: SearchConfig) -> None:
    """Settings this machine cannot honour are a user error before anything runs."""
    if config.latency_device == "cuda" or config.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            flag = "--latency-device cuda" if config.latency_device == "cuda" else f"--device {config.device}"
            raise RunError(f"{flag}: this machine has no CUDA GPU (torch {torch.__version__}); "
                           "measure latency with --latency-device cpu and train with --device cpu or auto")


def seeded_from_presets(config: SearchConfig, args) -> tuple[Path, list]:
    """The prepared cache (presets are fitted to its classes, frames and size) and the seeds that fit."""
    if (Path(args.out) / RESULTS).exists():
        raise RunError(f"{args.out}: already holds a run; resume it with --resume {args.out} or choose another --out")
    cache_dir = ensure_cache(args.data, Path(args.out), family=config.family, frames=args.frames, size=args.size)
    meta = load_cache(cache_dir)
    seeds = preset_seeds(family=config.family, num_classes=meta.num_classes, frames=meta.frames, size=meta.size,
                         has_flow=meta.has_flow, max_params=config.max_params)
    if not seeds:
        raise RunError(f"--seed-presets: no {config.family} preset fits this data ({meta.frames} frames, {meta.size} px) "
                       f"within --max-params {config.max_params:,}")
    print(f"seeded with {len(seeds)} preset(s): {', '.join(s['mutation'].removeprefix('preset ') for s in seeds)}", file=sys.stderr)
    return cache_dir, seeds


def summary(state: dict) -> dict:
    best = state["best"]
    return {
        "family": state["family"],
        "evaluated": sum(1 for c in state["candidates"] if c["status"] == "evaluated"),
        "rejected": sum(1 for c in state["candidates"] if c["status"] == "rejected"),
        "best": {k: best.get(k) for k in ("id", "accuracy", "latency_ms")} if best else None,
        "latency_device": state["config"].get("latency_device", "cpu"),
        "pareto_front": state["pareto_front"],
        "ensemble": state["ensemble"],
        "gave_up": state["gave_up"],
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.resume:
            run = SearchRun.resume(args.resume)
            check_hardware(run.config)
            run.bus.listeners.append(ProgressPrinter(run.config.total_trained, len(run.engine.trained), run.config.latency_device))
        else:
            missing = [flag for flag, value in (("--family", args.family), ("--data", args.data), ("--out", args.out)) if not value]
            if missing:
                raise RunError(f"missing {', '.join(missing)} (or use --resume RUN)")
            config = SearchConfig(
                family=args.family, population=args.population, rounds=args.rounds, tournament_size=args.tournament, elitism=args.elitism,
                initial_population=args.initial_population, proxy_samples=args.proxy_samples, curve_stop=args.curve_stop,
                seed=args.seed, objective=args.objective, latency_budget_ms=args.latency_budget_ms,
                max_params=args.max_params, low_steps=args.low_steps, high_steps=args.high_steps,
                batch_size=args.batch_size, lr=args.lr, inherit_weights=not args.no_inherit, device=args.device,
                latency_device=args.latency_device, deterministic=args.deterministic, precision=args.precision,
            )
            check_hardware(config)
            data = args.data
            if args.seed_presets:
                data, config.seeds = seeded_from_presets(config.validate(), args)
            run = SearchRun.create(args.out, config, data, frames=args.frames, size=args.size,
                                   listeners=[ProgressPrinter(config.total_trained, latency_device=config.latency_device)])
        state = run.run()
    except (RunError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    result = summary(state)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        best = result["best"]
        print(f"evaluated {result['evaluated']} candidates ({result['rejected']} rejected)")
        if best:
            print(f"best {best['id']}: accuracy {best['accuracy']:.3f}, latency {best['latency_ms']:.1f} ms "
                  f"({result['latency_device']}, batch 1)")
        if result["ensemble"] and "ensemble_accuracy" in result["ensemble"]:
            e = result["ensemble"]
            print(f"ensemble of {len(e['members'])}: {e['ensemble_accuracy']:.3f} vs best single {e['best_single_accuracy']:.3f}")
    return 0
