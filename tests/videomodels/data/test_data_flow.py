from __future__ import annotations

import numpy as np
import pytest

from videomodels.data import FLOW_CLIP_PX, compute_flow
from videomodels.data.flow import normalize_flow


@pytest.mark.parametrize("dx,dy", [(2, 0), (-3, 0), (0, 2), (0, -2), (2, 2)])
def test_translation_gives_flow_with_the_right_sign(vt, dx: int, dy: int) -> None:
    frames = vt.translating_frames(6, 48, dx, dy)
    flow = compute_flow(frames)
    assert flow.shape == (6, 48, 48, 2) and flow.dtype == np.float32
    inner = flow[:-1, 8:-8, 8:-8]  # borders see content entering the frame
    u, v = inner[..., 0].mean() * FLOW_CLIP_PX, inner[..., 1].mean() * FLOW_CLIP_PX
    assert u == pytest.approx(dx, abs=0.3)
    assert v == pytest.approx(dy, abs=0.3)


def test_last_flow_frame_duplicates_previous_and_values_are_bounded(vt) -> None:
    flow = compute_flow(vt.translating_frames(3, 32, 12, 0))
    np.testing.assert_array_equal(flow[-1], flow[-2])
    assert np.abs(flow).max() <= 1.0
    clipped = normalize_flow(np.array([-45.0, -10.0, 0.0, 30.0], np.float32))
    np.testing.assert_allclose(clipped, [-1.0, -0.5, 0.0, 1.0])


def test_single_frame_has_zero_flow(vt) -> None:
    flow = compute_flow(vt.translating_frames(1, 16, 1, 0))
    assert flow.shape == (1, 16, 16, 2) and not flow.any()


def test_rejects_wrong_input() -> None:
    with pytest.raises(ValueError, match="uint8"):
        compute_flow(np.zeros((3, 8, 8, 3), np.float32))
