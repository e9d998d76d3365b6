"""Training learns motion: on the synthetic motion benchmark a model that sees time
beats chance by a wide margin while a single-frame model stays near chance.

Settings (found by trying, all seeds fixed): 6 classes (4 directions, shake, still),
24 clips of 16 frames at 16x16 per class, a quarter held out (36 val clips); 120 AdamW
steps. Tiny RGB networks trained from scratch need thousands of steps to discover
direction-selective filters, so the motion model computes TV-L1 representation flow
in the network (from the same RGB input) before two TVN blocks with temporal 1-D
convolutions. Observed on a 2-core machine over training seeds 0-3 and two benchmark
seeds: motion model 0.64-0.81 top-1, single-frame model 0.06-0.28 (chance 0.17); this
test (both seeds 0): 0.69 vs 0.11, 10-20 s depending on machine load.
"""
import pytest

from videomodels.archspec import ArchSpec
from videomodels.data import prepare_cache, synthesize
from videomodels.train import train_and_evaluate

from conftest import fast_config

CLASSES = ("move_left", "move_right", "move_up", "move_down", "shake", "still")
CHANCE = 1 / len(CLASSES)


def _block(block_id, filters, temporal_stride):
    return {"id": block_id, "type": "tvn_block", "attrs": {
        "spatial_type": "std", "spatial_kernel": 3, "spatial_stride": 2,
        "temporal_type": "1d", "temporal_kernel": 3, "temporal_stride": temporal_stride,
        "filters": filters, "expand": 2, "repeats": 1}}


def motion_spec() -> ArchSpec:
    """8 frames, 2 apart: RGB -> representation flow -> 2 TVN blocks -> classifier."""
    return ArchSpec.from_dict({
        "format": "archspec/1", "family": "tvn", "name": "motion",
        "inputs": [{"id": "rgb", "modality": "rgb", "channels": 3, "frames": 8, "frame_stride": 2, "size": 16}],
        "nodes": [{"id": "flow", "type": "representation_flow", "attrs": {"iterations": 10}},
                  _block("b0", 8, 1), _block("b1", 16, 2),
                  {"id": "head", "type": "classifier", "attrs": {"num_classes": len(CLASSES), "dropout": 0.0}}],
        "edges": [{"source": "rgb", "target": "flow"}, {"source": "flow", "target": "b0"},
                  {"source": "b0", "target": "b1"}, {"source": "b1", "target": "head"}],
    })


def single_frame_spec() -> ArchSpec:
    """The same blocks on one RGB frame (flow of one frame would be all zeros)."""
    return ArchSpec.from_dict({
        "format": "archspec/1", "family": "tvn", "name": "single-frame",
        "inputs": [{"id": "rgb", "modality": "rgb", "channels": 3, "frames": 1, "frame_stride": 1, "size": 16}],
        "nodes": [_block("b0", 8, 1), _block("b1", 16, 2),
                  {"id": "head", "type": "classifier", "attrs": {"num_classes": len(CLASSES), "dropout": 0.0}}],
        "edges": [{"source": "rgb", "target": "b0"}, {"source": "b0", "target": "b1"}, {"source": "b1", "target": "head"}],
    })


@pytest.fixture(scope="module")
def motion_cache(tmp_path_factory):
    root = tmp_path_factory.mktemp("motion-benchmark")
    synthesize(root / "videos", clips_per_class=24, frames=16, size=16, classes=CLASSES, seed=0)
    report = prepare_cache(root / "videos", root / "cache", frames=16, size=16, flow=False, val_fraction=0.25,
                           seed=0, progress=False)
    return report.cache_dir


def test_motion_model_beats_chance_single_frame_does_not(motion_cache):
    config = dict(epochs=20, batch_size=16, lr=1e-2, eval_every_epoch=False, latency_device=None)
    motion = train_and_evaluate(motion_spec(), motion_cache, fast_config(**config))
    single = train_and_evaluate(single_frame_spec(), motion_cache, fast_config(**config))
    assert motion.metrics["num_samples"] == single.metrics["num_samples"] == 36
    print(f"val top-1: motion {motion.score:.3f}, single frame {single.score:.3f}, chance {CHANCE:.3f}")
    assert motion.score >= 3 * CHANCE, motion.history
    assert single.score <= CHANCE + 0.15, single.history
    assert motion.score - single.score >= 0.3
    # The motion model fits its training data too (it is not a lucky val split).
    assert motion.history[-1]["train_top1"] >= 0.5
