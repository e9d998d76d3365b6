"""Latency measurement: runs counted, and the early give-up a search uses for models far over budget."""
import time

import torch

from videomodels.profile import measure_latency


class Sleepy(torch.nn.Module):
    """Takes at least ``ms`` per forward pass and counts its calls."""

    def __init__(self, ms: float):
        super().__init__()
        self.ms = ms
        self.calls = torch.nn.Parameter(torch.zeros(()), requires_grad=False)

    def forward(self, inputs):
        self.calls += 1
        time.sleep(self.ms / 1000)
        return inputs["rgb"].sum()


def test_every_timed_run_is_returned_after_the_warm_up():
    timings = measure_latency(Sleepy(1.0), {"rgb": torch.zeros(1, 3)}, warmup=2, runs=4, threads=1)
    assert len(timings) == 4 and min(timings) >= 1.0


def test_a_run_over_the_give_up_time_ends_the_measurement_with_its_time():
    timings = measure_latency(Sleepy(5.0), {"rgb": torch.zeros(1, 3)}, warmup=2, runs=10, threads=1, give_up_ms=1.0)
    assert len(timings) == 1 and timings[0] >= 5.0  # the first warm-up run was already over: nothing more ran
    generous = measure_latency(Sleepy(1.0), {"rgb": torch.zeros(1, 3)}, warmup=1, runs=3, threads=1, give_up_ms=10_000.0)
    assert len(generous) == 3
