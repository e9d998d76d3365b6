"""Run a search headless in a run folder: evaluate, save after every candidate, resume.

The folder holds ``results.json`` (config, every candidate with spec, metrics,
latency, parent, mutation and generation; best; Pareto front; ensemble) and one
sub-folder per candidate with its checkpoints. The file is replaced atomically
after each candidate, so a kill at any moment loses at most the one in flight,
which ``resume`` evaluates again.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from videomodels.data import load_cache, prepare_cache

from archsearch.config import ConfigError, SearchConfig
from archsearch.engine import Evolution
from archsearch.evaluate import EvalBudget, evaluate_candidate
from archsearch.events import EventBus, RunFinished, RunStarted, CandidateSampled, GenerationStarted
from archsearch.spaces import SpaceConfig, make_space

RESULTS = "results.json"
FORMAT = "archsearch-run/1"


class RunError(ValueError):
    """A run folder or data problem the user can fix; the message says which."""


def write_json_atomic(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def space_config_for(config: SearchConfig, cache_dir: Path) -> SpaceConfig:
    cache = load_cache(cache_dir)
    if config.family == "assemblenet" and not cache.has_flow:
        raise RunError(f"{cache_dir}: AssembleNet searches need optical flow; prepare the data with --flow")
    return SpaceConfig(num_classes=cache.num_classes, frames=cache.frames, size=cache.size,
                       max_params=config.max_params, min_params=config.min_params)


def ensure_cache(data: str | Path, out_dir: Path, *, family: str, frames: int, size: int) -> Path:
    """A prepared clip cache: ``data`` itself, or one prepared from raw videos into the run folder."""
    data = Path(data)
    if not data.exists():
        raise RunError(f"{data}: no such data folder, CSV manifest or cache")
    if (data / "index.json").exists():
        return data
    cache_dir = out_dir / "cache"
    prepare_cache(data, cache_dir, frames=frames, size=size, flow=family == "assemblenet", progress=False)
    return cache_dir


class SearchRun:
    """One search in one folder; ``step()`` evaluates one candidate."""

    def __init__(self, out_dir: str | Path, config: SearchConfig, cache_dir: Path, *, history: Iterable[dict] = (),
                 listeners: Iterable[Callable] = (), evaluate: Callable = evaluate_candidate, started_at: float | None = None):
        self.out_dir = Path(out_dir)
        self.config = config.validate()
        self.cache_dir = Path(cache_dir)
        self.space = make_space(config.family, space_config_for(config, self.cache_dir))
        self.engine = Evolution(config, self.space, history)
        self.bus = EventBus(listeners)
        self.evaluate = evaluate
        self.budget = EvalBudget.from_config(config)
        self.started_at = started_at or time.time()
        self.ensemble: dict[str, Any] | None = None

    # -- creation --------------------------------------------------------------
    @classmethod
    def create(cls, out_dir: str | Path, config: SearchConfig, data: str | Path, *, frames: int = 8, size: int = 32, **kwargs) -> "SearchRun":
        out = Path(out_dir)
        if (out / RESULTS).exists():
            raise RunError(f"{out}: already holds a run; resume it with --resume {out} or choose another --out")
        config.validate()
        cache_dir = ensure_cache(data, out, family=config.family, frames=frames, size=size)
        run = cls(out, config, cache_dir, **kwargs)
        run.save()
        run.bus.emit(RunStarted(config.family, config.to_dict(), 0))
        run.bus.emit(GenerationStarted(0, 0))
        return run

    @classmethod
    def resume(cls, out_dir: str | Path, **kwargs) -> "SearchRun":
        out = Path(out_dir)
        path = out / RESULTS
        if not path.exists():
            raise RunError(f"{out}: no {RESULTS} here; nothing to resume")
        try:
            state = json.loads(path.read_text())
            config = SearchConfig.from_dict(state["config"])
        except (json.JSONDecodeError, KeyError, TypeError, ConfigError) as error:
            raise RunError(f"{path}: not a readable run file ({error})") from None
        run = cls(out, config, Path(state["cache"]), history=state.get("candidates", []), started_at=state.get("started_at"), **kwargs)
        run.bus.emit(RunStarted(config.family, config.to_dict(), len(state.get("candidates", []))))
        return run

    # -- the loop --------------------------------------------------------------
    def step(self) -> dict[str, Any]:
        """Propose, evaluate and record one candidate; saves before returning."""
        engine = self.engine
        proposal = engine.propose()
        self.bus.emit(CandidateSampled(proposal["id"], proposal["index"], proposal["generation"], proposal["parent_id"],
                                       proposal["mutation"], proposal["params"], proposal["macs"]))
        parent = engine.by_id.get(proposal["parent_id"]) if proposal["parent_id"] else None
        init = parent.get("checkpoint") if parent and self.config.inherit_weights else None
        result = self.evaluate(proposal["spec"], str(self.cache_dir), self.budget, self.config.seed,
                               out_dir=self.out_dir / "candidates" / proposal["id"], init_checkpoint=init,
                               promote_threshold=engine.promote_threshold(), curve_threshold=engine.curve_threshold())
        events = engine.record(proposal, result)
        self.save()
        for event in events:
            self.bus.emit(event)
        return engine.candidates[-1]

    def run(self) -> dict[str, Any]:
        while not self.engine.done:
            self.step()
        return self.finish()

    def finish(self) -> dict[str, Any]:
        if self.config.family == "evanet" and self.engine.trained and self.ensemble is None:
            from archsearch.ensemble import evaluate_ensemble

            self.ensemble = evaluate_ensemble(self.engine.trained, self.space, self.cache_dir, k=self.config.ensemble_size)
        state = self.save(finished=True)
        best = self.engine.best
        self.bus.emit(RunFinished(best["id"] if best else None, best["accuracy"] if best else None, len(self.engine.trained),
                                  sum(1 for c in self.engine.candidates if c["status"] != "evaluated"),
                                  state["pareto_front"], self.ensemble))
        return state

    # -- persistence -------------------------------------------------------------
    def state(self, *, finished: bool = False) -> dict[str, Any]:
        engine = self.engine
        best = engine.best
        return {
            "format": FORMAT,
            "family": self.config.family,
            "config": self.config.to_dict(),
            "cache": str(self.cache_dir),
            "started_at": self.started_at,
            "updated_at": time.time(),
            "status": "finished" if finished else "running",
            "latency_device": self.config.latency_device,  # every candidate's latency_ms was measured there
            "gave_up": engine.gave_up,
            "candidates": engine.candidates,
            "population": list(engine.population),
            "best": {"id": best["id"], "accuracy": best["accuracy"], "latency_ms": best.get("latency_ms"), "spec": best["spec"]} if best else None,
            "pareto_front": [c["id"] for c in engine.pareto()],
            "ensemble": self.ensemble,
        }

    def save(self, *, finished: bool = False) -> dict[str, Any]:
        state = self.state(finished=finished)
        write_json_atomic(self.out_dir / RESULTS, state)
        if state["best"]:
            write_json_atomic(self.out_dir / "best_spec.json", state["best"]["spec"])
        return state
