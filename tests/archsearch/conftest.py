from pathlib import Path

import pytest

from videomodels.data import prepare_cache, synthesize

CLASSES = ("move_left", "move_right", "rotate_cw", "zoom_in")


@pytest.fixture(scope="session")
def motion_cache(tmp_path_factory) -> Path:
    """A tiny prepared motion benchmark (4 classes x 8 clips, 8 frames at 32 px, with flow)."""
    root = tmp_path_factory.mktemp("motion")
    synthesize(root / "videos", clips_per_class=8, seed=0, frames=16, size=48, classes=CLASSES)
    prepare_cache(root / "videos", root / "cache", frames=8, size=32, flow=True, val_fraction=0.25, seed=0, progress=False)
    return root / "cache"
