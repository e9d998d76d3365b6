"""EvaNet's last step: ensemble diverse top models and compare with the best single one."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch
from torch.utils.data import DataLoader

from videomodels import ArchSpec
from videomodels.data import ClipDataset
from videomodels.train import load_checkpoint, streams_for_spec


def choose_diverse(candidates: Sequence[dict], space, k: int, *, min_distance: float = 0.15) -> list[dict]:
    """Best first, then the next best that differs enough from every member chosen."""
    ranked = sorted(candidates, key=lambda c: (-c["accuracy"], c["index"]))
    chosen: list[dict] = []
    distance = getattr(space, "diversity", None)
    for candidate in ranked:
        if len(chosen) == k:
            break
        if any(c["spec_hash"] == candidate["spec_hash"] for c in chosen):
            continue
        if distance and chosen:
            spec = ArchSpec.from_dict(candidate["spec"])
            if min(distance(spec, ArchSpec.from_dict(c["spec"])) for c in chosen) < min_distance:
                continue
        chosen.append(candidate)
    return chosen


@torch.inference_mode()
def val_logits(checkpoint: str | Path, cache_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
    model, _ = load_checkpoint(checkpoint)
    model.eval()
    dataset = ClipDataset(cache_dir, "val", streams_for_spec(model.spec), train=False)
    logits, targets = [], []
    for inputs, target in DataLoader(dataset, batch_size=32):
        logits.append(model(inputs))
        targets.append(target)
    return torch.cat(logits), torch.cat(targets)


def evaluate_ensemble(candidates: Sequence[dict], space, cache_dir: Path, *, k: int = 3) -> dict[str, Any] | None:
    members = [c for c in choose_diverse(candidates, space, k) if c.get("checkpoint") and Path(c["checkpoint"]).exists()]
    if not members:
        return None
    outputs = [val_logits(member["checkpoint"], cache_dir) for member in members]
    targets = outputs[0][1]
    if targets.dim() > 1:
        return {"members": [m["id"] for m in members], "note": "multi-label data: ensemble accuracy not computed"}
    # As in the released EvaNet ensemble: mean of the logits, then softmax.
    mean_logits = torch.stack([logits for logits, _ in outputs]).mean(dim=0)
    single = [float((logits.argmax(1) == targets).float().mean()) for logits, _ in outputs]
    return {
        "members": [m["id"] for m in members],
        "member_accuracy": single,
        "best_single_accuracy": max(single),
        "ensemble_accuracy": float((mean_logits.softmax(1).argmax(1) == targets).float().mean()),
        "val_clips": int(targets.numel()),
    }
