"""The pure parts of the benchmark harness: how runs are scheduled on workers and spread over processes."""
import os

import pytest

from benchmarks.parallel import job, run_jobs, worker_count
from benchmarks.search import makespan


def test_one_worker_runs_everything_back_to_back():
    assert makespan([1.0, 2.0, 3.0], 1) == pytest.approx(6.0)
    assert makespan([1.0, 2.0, 3.0], 1, barrier_every=2) == pytest.approx(6.0)


def test_a_generation_barrier_makes_workers_wait_for_the_slowest_candidate():
    durations = [5.0, 1.0, 1.0, 1.0]  # generations of two: (5, 1) then (1, 1)
    # Generational: the second generation starts at 5 (the slow one), ends at 6.
    assert makespan(durations, 2, barrier_every=2) == pytest.approx(6.0)
    # Asynchronous: worker 2 takes candidates 2, 3 and 4 while worker 1 trains the slow one.
    assert makespan(durations, 2) == pytest.approx(5.0)


def test_asynchronous_never_takes_longer_than_generational():
    import random

    rng = random.Random(3)
    for _ in range(50):
        durations = [rng.uniform(0.1, 10.0) for _ in range(rng.randint(1, 30))]
        workers, population = rng.randint(1, 8), rng.randint(2, 8)
        assert makespan(durations, workers) <= makespan(durations, workers, barrier_every=population) + 1e-9
        assert makespan(durations, workers) >= sum(durations) / workers - 1e-9


def _square_and_pid(value):
    return value * value, os.getpid()


def test_jobs_come_back_in_order_from_worker_processes(monkeypatch):
    monkeypatch.setenv("BENCH_WORKERS", "2")
    assert worker_count() == 2
    results = run_jobs([job(_square_and_pid, value) for value in range(5)])
    assert [square for square, _ in results] == [0, 1, 4, 9, 16]
    assert os.getpid() not in {pid for _, pid in results}  # they ran in workers, not here
    monkeypatch.setenv("BENCH_WORKERS", "1")
    assert {pid for _, pid in run_jobs([job(_square_and_pid, 2)])} == {os.getpid()}
