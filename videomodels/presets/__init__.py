"""Named presets: the published networks, imported from their original config files.

The files under ``published/`` are the seed systems' configs as data (see
``published/SOURCES.md``); every preset goes through the same general importer a
user's own config would.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from videomodels.archspec import ArchSpec
from videomodels.importers import import_assemblenet, import_evanet, import_tvn

PUBLISHED = Path(__file__).with_name("published")
BASELINES = Path(__file__).with_name("baselines")


@dataclass(frozen=True)
class Preset:
    name: str
    family: str
    source: str  # file under published/
    importer: Callable[..., ArchSpec]
    options: dict[str, Any] = field(default_factory=dict)
    doc: str = ""
    folder: Path = PUBLISHED

    def load(self) -> ArchSpec:
        config = json.loads((self.folder / self.source).read_text())
        spec = self.importer(config, name=self.name, **self.options)
        spec.meta.update({"preset": self.name, "source": self.source, "doc": self.doc})
        return spec


PRESETS: dict[str, Preset] = {}


def _add(preset: Preset) -> None:
    PRESETS[preset.name] = preset


for number in (1, 2):
    _add(Preset(f"evanet-{number}", "evanet", f"evanet_net_{number}.json", import_evanet, {"modality": "rgb"},
                f"EvaNet net {number} (Kinetics-400 ensemble member), RGB, 32x224x224"))
    _add(Preset(f"evanet-{number}-flow", "evanet", f"evanet_net_{number}.json", import_evanet, {"modality": "flow"},
                f"EvaNet net {number} on optical flow (2 channels), 32x224x224"))
_add(Preset("assemblenet-50", "assemblenet", "assemblenet_50.json", import_assemblenet, {"depth": 50},
            "AssembleNet-50 (Moments-in-Time search), learned edge weights frozen, flow by representation flow"))
_add(Preset("assemblenet-101", "assemblenet", "assemblenet_50.json", import_assemblenet, {"depth": 101},
            "AssembleNet-101: the AssembleNet-50 graph with [3,4,23,3] modules per level"))
_add(Preset("assemblenet-plus", "assemblenet", "assemblenet_plus.json", import_assemblenet, {"depth": 50, "attention": "peer"},
            "AssembleNet++ (Charades): object-segmentation stream (151 classes) and peer-attention"))
for number in (1, 2, 3, 4):
    _add(Preset(f"tvn-{number}", "tvn", f"tvn{number}.json", import_tvn, {}, f"Tiny Video Network {number}"))
for number in (1, 2):
    _add(Preset(f"tvn-mobile-{number}", "tvn", f"tvn_mobile_{number}.json", import_tvn, {}, f"TVN-Mobile-{number} (inverted bottlenecks, h-swish)"))
PUBLISHED_NAMES = tuple(PRESETS)


def _spec_file(config: dict, *, name: str) -> ArchSpec:
    spec = ArchSpec.from_dict(config)
    spec.name = name
    return spec


# Small hand-designed baselines for CPU experiments (8x32x32 clips): what a search must beat.
for path in sorted(BASELINES.glob("*.json")):
    doc = json.loads(path.read_text()).get("meta", {}).get("doc", "")
    family = json.loads(path.read_text())["family"]
    _add(Preset(path.stem, family, path.name, _spec_file, {}, doc, BASELINES))


def preset_names() -> list[str]:
    return list(PRESETS)


def get_preset(name: str) -> ArchSpec:
    key = name.lower().replace("_", "-")
    if key not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; available: {', '.join(PRESETS)}")
    return PRESETS[key].load()
