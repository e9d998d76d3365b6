"""The cost walk's multiply-add counter agrees with torch's FlopCounterMode, faster."""
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from videomodels.macs import MacCounter
from videomodels.ops.repflow import RepresentationFlow


def blocks():
    return {
        "conv3d + bn + relu": (lambda: nn.Sequential(nn.Conv3d(3, 8, (3, 3, 3), padding=1), nn.BatchNorm3d(8), nn.ReLU()), (1, 3, 4, 16, 16)),
        "(2+1)d, strided": (lambda: nn.Sequential(nn.Conv3d(4, 6, (1, 3, 3), stride=(1, 2, 2)), nn.Conv3d(6, 6, (3, 1, 1))), (1, 4, 4, 9, 9)),
        "linear on pooled": (lambda: nn.Sequential(nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(5, 11)), (1, 5, 2, 3, 3)),
        "grouped conv2d": (lambda: nn.Conv2d(8, 8, 3, groups=4), (2, 8, 7, 7)),
        "representation flow": (lambda: RepresentationFlow(iterations=3), (1, 3, 4, 12, 12)),
    }


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize("name", sorted(blocks()))
def test_same_multiply_adds_and_shapes_as_torchs_flop_counter(name, training):
    make, shape = blocks()[name]
    with torch.device("meta"):
        reference = make().train(training)
        with FlopCounterMode(display=False) as torch_counter:
            expected = reference(torch.empty(shape))
    with MacCounter() as counter, torch.device("meta"):
        out = make().train(training)(torch.empty(shape))
    assert counter.macs == torch_counter.get_total_flops() // 2
    assert out.shape == expected.shape and out.is_meta
    if name != "representation flow":
        assert counter.macs > 0


def test_initialisers_are_skipped_on_meta_only():
    with MacCounter(), torch.device("meta"):
        meta = nn.Linear(4, 4)
    assert meta.weight.is_meta
    with MacCounter():
        real = nn.Linear(64, 64)
        nn.init.normal_(real.bias, 5.0, 0.01)
    assert real.weight.abs().sum() > 0 and real.weight.std() > 0  # still initialised randomly
    assert 4.9 < real.bias.mean() < 5.1


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_batch_norm_still_checks_its_input(training):
    with MacCounter(), torch.device("meta"):
        norm = nn.BatchNorm3d(4).train(training)
        with pytest.raises(RuntimeError):
            norm(torch.empty(1, 5, 2, 3, 3))  # 5 channels into a norm of 4
