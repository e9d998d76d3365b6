"""From an architecture spec to what the data pipeline must deliver."""
from __future__ import annotations

from pathlib import Path

from videomodels.archspec import ArchSpec
from videomodels.data import StreamRequest
from videomodels.presets import get_preset, preset_names

from .errors import TrainError

# Channels each data modality delivers (see videomodels.data.sampling).
MODALITY_CHANNELS = {"rgb": 3, "flow": 2}


def resolve_spec(spec_or_name: ArchSpec | str | Path) -> ArchSpec:
    """An ArchSpec as is, a preset name, or the path of a spec JSON file.

    Raises TrainError for an unknown name or unreadable file and SpecError (with every
    problem listed) for a file that is not a valid spec.
    """
    if isinstance(spec_or_name, ArchSpec):
        return spec_or_name
    text = str(spec_or_name)
    if text.lower().replace("_", "-") in preset_names():
        return get_preset(text)
    path = Path(text).expanduser()
    if not path.exists():
        raise TrainError(f"{text}: neither a preset name ({', '.join(preset_names())}) nor an existing spec file")
    if path.is_dir():
        raise TrainError(f"{text}: is a folder, expected a preset name or a spec JSON file")
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TrainError(f"{path}: not a text (JSON) spec file") from None
    except OSError as exc:
        raise TrainError(f"{path}: cannot read spec file ({exc.strerror or exc})") from None
    return ArchSpec.from_json(content)


def streams_for_spec(spec: ArchSpec) -> list[StreamRequest]:
    """One data stream per network input, named after the input id."""
    problems = []
    for stream in spec.inputs:
        if stream.modality == "segmentation":
            problems.append(f"input {stream.id!r} needs object segmentation maps, which the data pipeline does not "
                            "provide; train a spec without segmentation inputs")
        elif stream.channels != MODALITY_CHANNELS.get(stream.modality):
            problems.append(f"input {stream.id!r} ({stream.modality}) has {stream.channels} channels, but the data "
                            f"pipeline delivers {MODALITY_CHANNELS[stream.modality]} for {stream.modality}")
    if problems:
        raise TrainError(f"spec {spec.name or '(unnamed)'} cannot be trained: " + "; ".join(problems))
    try:
        return [StreamRequest(s.id, "flow" if s.modality == "flow" else "rgb", s.frames, s.frame_stride, s.size) for s in spec.inputs]
    except ValueError as exc:
        raise TrainError(f"spec {spec.name or '(unnamed)'}: {exc}") from None


def cache_shape_for_spec(spec: ArchSpec) -> dict[str, object]:
    """frames/size/flow a clip cache needs for this spec.

    frames = the largest frames x frame_stride of any input: enough stored frames for
    every stream's window with room left for random temporal crops; size = the
    largest input size.
    """
    return {
        "frames": max(s.frames * s.frame_stride for s in spec.inputs),
        "size": max(s.size for s in spec.inputs),
        "flow": any(s.modality == "flow" for s in spec.inputs),
    }


def spec_summary(spec: ArchSpec) -> dict[str, object]:
    return {"name": spec.name, "family": spec.family, "hash": spec.content_hash(), "inputs": [s.to_dict() for s in spec.inputs]}
