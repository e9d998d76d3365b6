import math

import pytest
import torch
import torch.nn.functional as F

from videomodels.ops import (
    Conv2Plus1d,
    Conv3dSame,
    ITGMConv3d,
    Pool3dSame,
    RepresentationFlow,
    SqueezeExcite,
    WeightedFusion,
)
from videomodels.ops.padding import same_pads


@pytest.mark.parametrize("size,kernel,stride", [(224, 4, 2), (7, 2, 2), (5, 3, 1), (8, 5, 3), (2, 2, 2), (1, 3, 2)])
def test_same_padding_gives_ceil_division_like_tensorflow(size, kernel, stride):
    before, after = same_pads(size, kernel, stride)
    assert after - before in (0, 1)  # TF puts the extra pixel at the end
    x = torch.randn(1, 2, 1, size, size)
    conv = Conv3dSame(2, 3, (1, kernel, kernel), (1, stride, stride))
    assert conv(x).shape[-1] == math.ceil(size / stride)


def test_avg_pool_same_ignores_padding():
    x = torch.ones(1, 1, 1, 3, 3)
    out = Pool3dSame("avg", (1, 2, 2), (1, 2, 2))(x)
    assert torch.allclose(out, torch.ones_like(out))  # zero padding would pull borders below 1


def test_max_pool_same_never_picks_padding():
    x = -torch.ones(1, 1, 1, 3, 3)
    out = Pool3dSame("max", (1, 2, 2), (1, 2, 2))(x)
    assert torch.all(out == -1)


def test_itgm_parameter_count_and_reduction_to_2d():
    conv = ITGMConv3d(4, 6, temporal_length=5, spatial_kernel=3)
    assert sum(p.numel() for p in conv.parameters()) == 9 * 4 * 6 + 4 * 6 * 4 + 8
    kernel = conv.temporal_kernel()
    assert kernel.shape == (6, 4, 5)
    assert torch.allclose(kernel.sum(dim=2), torch.ones(6, 4), atol=1e-5)
    # Length 1: a plain 2D conv applied frame by frame.
    flat = ITGMConv3d(4, 6, temporal_length=1, spatial_kernel=3)
    x = torch.randn(2, 4, 3, 8, 8)
    expected = F.conv2d(x.transpose(1, 2).reshape(6, 4, 8, 8), flat.weight, padding=1)
    got = flat(x).transpose(1, 2).reshape(6, 6, 8, 8)
    assert torch.allclose(got, expected, atol=1e-5)


def test_itgm_temporal_kernel_learns():
    conv = ITGMConv3d(2, 2, temporal_length=7, spatial_kernel=1)
    conv(torch.randn(1, 2, 9, 4, 4)).pow(2).sum().backward()
    assert conv.centers.grad.abs().sum() > 0 and conv.widths.grad.abs().sum() > 0


def test_2plus1d_is_temporal_first_with_half_width_middle():
    conv = Conv2Plus1d(8, 16, temporal_kernel=3, spatial_kernel=3, stride=(2, 2, 2))
    first = conv.temporal[0].conv
    assert first.kernel_size == (3, 1, 1) and first.out_channels == 8
    assert conv.spatial.conv.kernel_size == (1, 3, 3)
    assert conv(torch.randn(1, 8, 8, 16, 16)).shape == (1, 16, 4, 8, 8)


def test_squeeze_excite_width_uses_int_not_round():
    se = SqueezeExcite(2048, 0.7265534208526172)
    assert se.reduce.out_features == 1487
    assert SqueezeExcite(16, 0.01).reduce.out_features == 8


def test_fusion_pools_to_smallest_weights_and_matches_channels():
    fusion = WeightedFusion([4, 8, 8], [0.9, 0.2, None], [False, False, True])
    a, b, c = torch.randn(1, 4, 2, 8, 8), torch.randn(1, 8, 2, 4, 4), torch.randn(1, 8, 2, 4, 4)
    out = fusion([a, b, c])
    assert out.shape == (1, 8, 2, 4, 4)
    assert fusion.edge_weights() == pytest.approx([0.9, 0.2, 0.5], abs=1e-6)
    assert fusion.learned_logits.numel() == 1  # only the learnable edge is a parameter
    expected = 0.2 * b + 0.5 * c + fusion.match["4"](0.9 * F.max_pool3d(a, (1, 2, 2)))
    assert torch.allclose(out, expected, atol=1e-5)


def test_representation_flow_sees_motion_direction():
    # A bright square moving right by 1 px per frame: u (x-flow) should be positive.
    frames = torch.zeros(1, 3, 4, 24, 24)
    for t in range(4):
        frames[:, :, t, 8:14, 6 + t:12 + t] = 1.0
    flow = RepresentationFlow(iterations=20)(frames)
    assert flow.shape == (1, 2, 4, 24, 24)
    region = flow[0, :, :3, 8:14, 6:15]
    assert region[0].mean() > 0.05
    assert abs(region[1].mean()) < region[0].mean()
    moved_left = RepresentationFlow(iterations=20)(frames.flip(-1))
    assert moved_left[0, 0, :3, 8:14, 9:18].mean() < -0.05


@pytest.mark.parametrize("name", ["tvn-small", "baseline-r2plus1d", "assemblenet-small", "tvn-mobile-1"])
def test_folding_batchnorm_keeps_outputs(name):
    from videomodels import build_model, with_input_size
    from videomodels.inference import fold_batchnorm
    from videomodels.presets import get_preset
    from videomodels.profile import example_inputs

    spec = with_input_size(get_preset(name), frames=4, size=32)
    torch.manual_seed(0)
    model = build_model(spec)
    with torch.no_grad():  # give BatchNorm non-trivial running statistics
        model(example_inputs(spec, batch=4))
    model.eval()
    folded = fold_batchnorm(model)
    assert not any(isinstance(m, torch.nn.BatchNorm3d) for m in folded.modules())
    assert any(isinstance(m, torch.nn.BatchNorm3d) for m in model.modules())  # the original is untouched
    x = example_inputs(spec)
    with torch.no_grad():
        assert torch.allclose(model(x), folded(x), atol=1e-5, rtol=1e-4)
