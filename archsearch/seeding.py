"""Hand-made candidates in a search: seeded into the initial population, or injected later.

A seed is ``{"spec": <ArchSpec JSON>, "mutation": "<lineage text>"}``. Seeds take the first
proposal indices (index ``i`` < number of seeds proposes seed ``i``), so a run with seeds is
as much a pure function of (config, history) as one without: replaying the history rebuilds
the same state and proposes the same next candidates. Injected candidates need nothing here:
the caller records them in the history at the next free index with no parent, and the engine
treats them like any other member of the population.
"""
from __future__ import annotations

from typing import Any

from videomodels import ArchSpec, Budget, SpecError, analyze
from videomodels.train import TrainError
from videomodels.train.specs import streams_for_spec

MAX_SEEDS = 64
MAX_LABEL = 500


class SeedError(ValueError):
    """A seed that cannot join this search; the message says why (and where)."""


def hand_edited(user: str, origin: str) -> str:
    """The lineage text of a hand-made candidate."""
    return f"hand-edited by {user} from {origin}"[:MAX_LABEL]


def seed_problems(seeds: Any) -> list[str]:
    """Shape checks for SearchConfig.validate (the spec itself is checked by ``fit_spec``)."""
    if not isinstance(seeds, list):
        return [f"seeds: must be a list, got {type(seeds).__name__}"]
    if len(seeds) > MAX_SEEDS:
        return [f"seeds: at most {MAX_SEEDS}, got {len(seeds)}"]
    problems = []
    for i, seed in enumerate(seeds):
        if not isinstance(seed, dict) or set(seed) != {"spec", "mutation"}:
            problems.append(f"seeds[{i}]: must be an object with exactly spec and mutation")
        elif not isinstance(seed["spec"], dict) or not isinstance(seed["mutation"], str) or len(seed["mutation"]) > MAX_LABEL:
            problems.append(f"seeds[{i}]: spec must be an object and mutation a text of at most {MAX_LABEL} characters")
    return problems


def fit_spec(spec: dict[str, Any], *, family: str, num_classes: int, frames: int, size: int, has_flow: bool,
             max_params: int | None = None) -> tuple[dict[str, Any], list[str]]:
    """``spec`` made to fit a dataset: (fitted spec JSON, notes on what was adapted).

    The classifier takes the data's class count; a stream that reads more frames or a larger
    picture than the data holds is shrunk to it. Anything else that does not fit (another
    family, optical flow the data lacks, a spec that is invalid once adapted, too many
    parameters) raises SeedError with a message that names it.
    """
    try:
        arch = ArchSpec.from_dict(spec)
    except (SpecError, TypeError, ValueError, KeyError) as error:
        raise SeedError(f"spec: not a readable ArchSpec ({error})") from None
    if arch.family != family:
        raise SeedError(f"spec: a {arch.family} architecture cannot join a {family} search")
    notes = []
    for stream in arch.inputs:
        if stream.modality == "flow" and not has_flow:
            raise SeedError(f"inputs[{stream.id}]: reads optical flow, but the dataset was prepared without it")
    try:  # inputs the data pipeline cannot deliver (segmentation maps, odd channel counts)
        streams_for_spec(arch)
    except TrainError as error:
        raise SeedError(f"inputs: {error}") from None
    fitted = arch.copy()
    for stream in fitted.inputs:
        if stream.frames * stream.frame_stride > frames:
            new = max(1, frames // max(1, stream.frame_stride))
            notes.append(f"stream {stream.id}: {stream.frames} frames -> {new} (the data has {frames})")
            stream.frames = new
        if stream.size > size:
            notes.append(f"stream {stream.id}: size {stream.size} -> {size} (the data's)")
            stream.size = size
    for node in fitted.nodes:
        if node.type == "classifier" and node.attrs.get("num_classes") != num_classes:
            notes.append(f"{node.id}: {node.attrs.get('num_classes')} classes -> {num_classes}")
            node.attrs["num_classes"] = num_classes
    try:
        analysis = analyze(fitted, num_classes=num_classes, budget=Budget())
    except SpecError as error:
        first = error.problems[0] if getattr(error, "problems", None) else error
        raise SeedError(f"does not fit the dataset once adapted: {first}") from None
    if max_params is not None and analysis.params > max_params:
        raise SeedError(f"params: {analysis.params:,} is over the search's max_params ({max_params:,})")
    return fitted.to_dict(), notes


def preset_seeds(*, family: str, num_classes: int, frames: int, size: int, has_flow: bool, max_params: int | None = None,
                 limit: int = MAX_SEEDS) -> list[dict[str, Any]]:
    """Every shipped preset of ``family`` that fits the dataset and budget, as seeds (sorted by name).

    Presets that cannot fit (too many parameters, a picture too small for their strides)
    are left out: a seeded first generation starts from what this search can train.
    """
    from videomodels.presets import get_preset, preset_names

    seeds = []
    for name in sorted(preset_names()):
        spec = get_preset(name)
        if spec.family != family:
            continue
        try:
            fitted, _ = fit_spec(spec.to_dict(), family=family, num_classes=num_classes, frames=frames, size=size,
                                 has_flow=has_flow, max_params=max_params)
        except SeedError:
            continue
        seeds.append({"spec": fitted, "mutation": f"preset {name}"})
    return seeds[:limit]


def seeded_proposal(seeds: list[dict[str, Any]], index: int) -> tuple[ArchSpec, str] | None:
    """(spec, lineage text) of the seed taking proposal ``index``, or None past the seeds."""
    if index < len(seeds):
        seed = seeds[index]
        return ArchSpec.from_dict(seed["spec"]), seed["mutation"]
    return None


__all__ = ["SeedError", "fit_spec", "hand_edited", "preset_seeds", "seed_problems", "seeded_proposal"]
