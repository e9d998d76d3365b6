"""Hand-made candidates in the engine: seeds take the first indices, injected records replay exactly."""
import random

import pytest

from archsearch.config import ConfigError, SearchConfig
from archsearch.engine import Evolution
from archsearch.seeding import SeedError, fit_spec, hand_edited
from archsearch.spaces import SpaceConfig, make_space

SPACE = SpaceConfig(num_classes=4, frames=8, size=32, max_params=500_000)


def fake_result(proposal):
    filters = sum(n["attrs"].get("filters", 0) for n in proposal["spec"]["nodes"])
    return {"status": "evaluated", "accuracy": filters / 1000.0, "low_accuracy": filters / 1000.0, "latency_ms": 1.0,
            "fidelity": "low"}


def hand_spec(seed=99):
    return make_space("tvn", SPACE).sample(random.Random(seed)).to_dict()


def test_seeds_are_the_first_proposals_then_the_search_goes_on():
    seed = {"spec": hand_spec(), "mutation": hand_edited("alice", "mine v2")}
    engine = Evolution(SearchConfig(family="tvn", population=3, rounds=2, seed=1, seeds=[seed], initial_population=3),
                       make_space("tvn", SPACE))
    while not engine.done:
        proposal = engine.propose()
        engine.record(proposal, fake_result(proposal))
    first = engine.candidates[0]
    assert first["spec"] == seed["spec"] and first["mutation"] == "hand-edited by alice from mine v2"
    assert first["parent_id"] is None and first["mutation_details"] == {"seeded": True}
    assert all(c["mutation"] is None for c in engine.candidates[1:3])  # the rest of the population is sampled
    assert len(engine.trained) == 9


def test_an_injected_record_replays_to_the_same_next_proposals():
    config = SearchConfig(family="tvn", population=3, rounds=3, seed=4)
    engine = Evolution(config, make_space("tvn", SPACE))
    for _ in range(4):
        proposal = engine.propose()
        engine.record(proposal, fake_result(proposal), in_order=False)
    spec = hand_spec(7)
    injected = {"id": "c0004", "index": 4, "generation": engine.generation, "parent_id": None,
                "mutation": hand_edited("bob", "preset x"), "mutation_details": {"injected": True}, "spec": spec,
                "spec_hash": "h", "params": 1, "macs": 1, "status": "proposed"}
    engine.record(injected, fake_result(injected), in_order=False)
    nexts = [engine.propose(index=i) for i in (5, 6, 7)]
    replayed = Evolution(config, make_space("tvn", SPACE), [dict(c) for c in engine.candidates])
    assert [replayed.propose(index=i) for i in (5, 6, 7)] == nexts
    assert "c0004" in replayed.population  # a member like any other: it can be chosen as a parent


def test_bad_seeds_are_refused_by_name():
    with pytest.raises(ConfigError, match=r"seeds\[0\]"):
        SearchConfig(family="tvn", seeds=[{"spec": 3, "mutation": "x"}]).validate()
    with pytest.raises(ConfigError, match="seeds: must be a list"):
        SearchConfig(family="tvn", seeds="nope").validate()


def test_fit_spec_adapts_classes_frames_and_size_and_refuses_what_cannot_fit():
    spec = make_space("tvn", SpaceConfig(num_classes=10, frames=16, size=64)).sample(random.Random(3)).to_dict()
    spec["inputs"][0].update(frames=16, frame_stride=1, size=64)
    fitted, notes = fit_spec(spec, family="tvn", num_classes=4, frames=8, size=32, has_flow=False)
    assert fitted["inputs"][0]["frames"] == 8 and fitted["inputs"][0]["size"] == 32
    head = next(n for n in fitted["nodes"] if n["type"] == "classifier")
    assert head["attrs"]["num_classes"] == 4 and any("classes" in n for n in notes)
    with pytest.raises(SeedError, match="a tvn architecture cannot join a evanet search"):
        fit_spec(spec, family="evanet", num_classes=4, frames=8, size=32, has_flow=False)
    with pytest.raises(SeedError, match="max_params"):
        fit_spec(spec, family="tvn", num_classes=4, frames=8, size=32, has_flow=False, max_params=1000)


def test_preset_seeds_keep_the_presets_that_fit_and_drop_the_rest():
    from archsearch.seeding import preset_seeds
    from videomodels import ArchSpec, analyze

    small = preset_seeds(family="tvn", num_classes=5, frames=8, size=32, has_flow=False, max_params=300_000)
    assert small and all(seed["mutation"].startswith("preset ") for seed in small)
    for seed in small:
        arch = ArchSpec.from_dict(seed["spec"])
        assert arch.family == "tvn" and analyze(arch, num_classes=5).params <= 300_000
        assert all(stream.frames * stream.frame_stride <= 8 and stream.size <= 32 for stream in arch.inputs)
    roomy = preset_seeds(family="tvn", num_classes=5, frames=8, size=32, has_flow=False, max_params=10**9)
    assert len(roomy) >= len(small)  # a bigger budget never fits fewer presets
    assert preset_seeds(family="tvn", num_classes=5, frames=8, size=32, has_flow=False, max_params=1000) == []
    without_flow = preset_seeds(family="assemblenet", num_classes=5, frames=8, size=32, has_flow=False, max_params=10**9)
    assert all(stream.modality != "flow" for seed in without_flow for stream in ArchSpec.from_dict(seed["spec"]).inputs)
    with_flow = preset_seeds(family="assemblenet", num_classes=5, frames=8, size=32, has_flow=True, max_params=10**9)
    assert "preset assemblenet-plus" not in {seed["mutation"] for seed in with_flow}  # no data set has segmentation maps
