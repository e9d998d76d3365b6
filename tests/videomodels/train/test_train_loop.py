"""train_and_evaluate on tiny real data: determinism, outputs, callbacks, weight inheritance."""
import json
from pathlib import Path

import pytest
import torch

from videomodels.archspec import ArchSpec
from videomodels.graph import build_model
from videomodels.train import (
    TrainCallback,
    TrainError,
    inherit_weights,
    load_checkpoint,
    train_and_evaluate,
)

from conftest import fast_config


def _comparable(result) -> dict:
    """Everything a run reports except timings."""
    data = result.to_dict()
    for key in ("wall_time_s", "train_time_s", "latency", "files"):
        data.pop(key)
    for record in data["history"]:
        record.pop("seconds")
    return data


def test_same_seed_same_numbers_different_seed_differs(micro_spec, tiny_cache):
    first = train_and_evaluate(micro_spec, tiny_cache, fast_config(seed=3))
    second = train_and_evaluate(micro_spec, tiny_cache, fast_config(seed=3))
    other = train_and_evaluate(micro_spec, tiny_cache, fast_config(seed=4))
    assert len(first.loss_curve) == first.steps == 6  # 12 train clips / batch 4 x 2 epochs
    assert _comparable(first) == _comparable(second)
    assert [loss for _, loss in first.loss_curve] != [loss for _, loss in other.loss_curve]


def test_outputs_and_checkpoint_round_trip(micro_spec, tiny_cache, tmp_path):
    result = train_and_evaluate(micro_spec, tiny_cache, fast_config(epochs=1), out_dir=tmp_path / "run")
    run = tmp_path / "run"

    payload = torch.load(run / "checkpoint.pt", weights_only=True)
    assert set(payload) >= {"state_dict", "spec", "num_classes", "class_names", "metrics"}
    assert payload["num_classes"] == 4 and payload["class_names"] == sorted(("move_left", "move_right", "zoom_in", "still"))
    assert all(isinstance(t, torch.Tensor) for t in payload["state_dict"].values())
    assert result.spec["hash"] == micro_spec.content_hash()
    assert ArchSpec.from_json(payload["spec"]).to_dict() == result.spec["json"]

    model, meta = load_checkpoint(run / "checkpoint.pt")
    assert meta["metrics"]["top1"] == result.metrics["top1"]
    clip = {"rgb": torch.randn(2, 3, 4, 16, 16, generator=torch.Generator().manual_seed(0))}
    with torch.no_grad():
        assert torch.equal(model(clip), result.model(clip))

    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["metrics"]["confusion_matrix"] and len(metrics["metrics"]["confusion_matrix"]) == 4
    assert set(metrics["metrics"]["per_class_accuracy"]) == set(payload["class_names"])
    assert metrics["latency"]["ms"] > 0 and metrics["latency"]["batch"] == 1 and metrics["latency"]["device"] == "cpu"
    assert metrics["params"] > 0 and metrics["macs"] > 0 and metrics["seed"] == 0 and metrics["device"] == "cpu"
    assert metrics["wall_time_s"] > 0
    assert metrics["history"][0]["val"]["top1"] == pytest.approx(result.metrics["top1"])
    assert [step for step, _ in metrics["loss_curve"]] == [1, 2, 3]
    assert ArchSpec.from_json((run / "spec.json").read_text()).to_dict() == result.spec["json"]


class Recorder(TrainCallback):
    def __init__(self, stop_at_step=None, use_attribute=False):
        self.events = []
        self.stop_at_step = stop_at_step
        self.use_attribute = use_attribute

    def on_train_start(self, info):
        self.events.append(("train_start", info["total_steps"]))
        json.dumps(info)  # callbacks must get JSON-able values

    def on_epoch_start(self, epoch):
        self.events.append(("epoch_start", epoch))

    def on_step(self, step, epoch, loss, lr):
        assert isinstance(loss, float) and isinstance(lr, float)
        self.events.append(("step", step, epoch))
        if step == self.stop_at_step:
            if self.use_attribute:
                self.should_stop = True
            else:
                return True
        return None

    def on_epoch_end(self, epoch, metrics):
        json.dumps(metrics)
        self.events.append(("epoch_end", epoch, metrics["val"] is not None))

    def on_train_end(self, result):
        json.dumps(result)
        self.events.append(("train_end", result["steps"]))


def test_callbacks_see_every_event_in_order(micro_spec, tiny_cache):
    recorder = Recorder()
    train_and_evaluate(micro_spec, tiny_cache, fast_config(batch_size=6), callbacks=[recorder])
    assert recorder.events == [
        ("train_start", 4),
        ("epoch_start", 1), ("step", 1, 1), ("step", 2, 1), ("epoch_end", 1, True),
        ("epoch_start", 2), ("step", 3, 2), ("step", 4, 2), ("epoch_end", 2, True),
        ("train_end", 4),
    ]


@pytest.mark.parametrize("use_attribute", [False, True])
def test_callback_can_stop_training_early(micro_spec, tiny_cache, use_attribute):
    recorder = Recorder(stop_at_step=2, use_attribute=use_attribute)
    result = train_and_evaluate(micro_spec, tiny_cache, fast_config(epochs=5), callbacks=[recorder])
    assert result.steps == 2 and result.epochs_completed == 1
    assert "Recorder" in result.stop_reason
    assert recorder.events[-2:] == [("epoch_end", 1, True), ("train_end", 2)]
    assert result.metrics["num_samples"] == 8  # the stopped model was still evaluated


def test_max_steps_caps_training_and_epochs_follow(micro_spec, tiny_cache):
    result = train_and_evaluate(micro_spec, tiny_cache, fast_config(epochs=None, max_steps=4, eval_every_epoch=False))
    assert result.steps == 4 and result.epochs_completed == 2 and result.stop_reason is None
    assert result.history[0]["val"] is None and result.history[1]["val"] is not None


def test_inherit_weights_matches_names_and_shapes(micro_spec, micro_spec_dict):
    torch.manual_seed(0)
    parent = build_model(micro_spec, num_classes=4)
    same = build_model(micro_spec, num_classes=4)
    report = inherit_weights(same, parent.state_dict())
    assert report["inherited"] == report["total"] == len(parent.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(same.state_dict().values(), parent.state_dict().values()))

    micro_spec_dict["nodes"][1]["attrs"]["filters"] = 12  # b1 and the head change shape, b0 does not
    child = build_model(ArchSpec.from_dict(micro_spec_dict), num_classes=4)
    report = inherit_weights(child, {"state_dict": parent.state_dict()})
    b0_keys = [k for k in parent.state_dict() if k.startswith("blocks.b0.")]
    assert 0 < len(b0_keys) <= report["inherited"] < report["total"]
    assert report["shape_mismatch"] > 0
    for key in b0_keys:
        assert torch.equal(child.state_dict()[key], parent.state_dict()[key])
    assert child.state_dict()["blocks.head.fc.weight"].shape != parent.state_dict()["blocks.head.fc.weight"].shape


def test_warm_start_reports_inherited_counts(micro_spec, micro_spec_dict, tiny_cache):
    parent = train_and_evaluate(micro_spec, tiny_cache, fast_config(epochs=1))
    state = parent.model.state_dict()
    same = train_and_evaluate(micro_spec, tiny_cache, fast_config(max_steps=1), init_state_dict=state)
    assert same.inherited["inherited"] == same.inherited["total"] == len(state)

    micro_spec_dict["nodes"][1]["attrs"]["filters"] = 12
    child = train_and_evaluate(ArchSpec.from_dict(micro_spec_dict), tiny_cache, fast_config(max_steps=1), init_state_dict=state)
    assert 0 < child.inherited["inherited"] < child.inherited["total"]


def test_segmentation_inputs_are_refused_clearly(micro_spec_dict, tiny_cache):
    micro_spec_dict["inputs"][0].update(modality="segmentation", channels=151)
    with pytest.raises(TrainError, match="segmentation"):
        train_and_evaluate(ArchSpec.from_dict(micro_spec_dict), tiny_cache, fast_config())


def test_missing_data_path_is_a_train_error(micro_spec, tmp_path):
    with pytest.raises(TrainError, match="does-not-exist"):
        train_and_evaluate(micro_spec, tmp_path / "does-not-exist", fast_config())


def test_multilabel_uses_map(micro_spec, tmp_path):
    from videomodels.data import prepare_cache, synthesize

    synthesize(tmp_path / "videos", clips_per_class=4, frames=8, size=32, multilabel=True,
               classes=("move_left", "move_right", "zoom_in", "still"))
    prepare_cache(tmp_path / "videos", tmp_path / "cache", frames=8, size=32, flow=False, val_fraction=0.4, progress=False)
    result = train_and_evaluate(micro_spec, tmp_path / "cache", fast_config(epochs=1))
    assert result.multilabel and result.primary_metric == "mAP"
    assert 0.0 < result.score <= 1.0
    assert set(result.metrics["per_class_ap"]) == {"move_left", "move_right", "zoom_in", "still"}
    assert "top1" not in result.metrics


def _two_stream(spec_dict):
    """RGB and flow inputs feeding one classifier (AssembleNet-style late fusion)."""
    spec_dict["inputs"].append({"id": "flow", "modality": "flow", "channels": 2, "frames": 4, "frame_stride": 1, "size": 16})
    flow_block = json.loads(json.dumps(spec_dict["nodes"][1]))
    flow_block["id"] = "f1"
    spec_dict["nodes"].insert(2, flow_block)
    spec_dict["edges"] += [{"source": "flow", "target": "f1"}, {"source": "f1", "target": "head"}]
    return ArchSpec.from_dict(spec_dict)


def test_flow_stream_is_fed_from_a_flow_cache(micro_spec_dict, tiny_flow_cache):
    result = train_and_evaluate(_two_stream(micro_spec_dict), tiny_flow_cache, fast_config(epochs=1))
    assert result.metrics["num_samples"] == 8 and result.steps == 3
    assert result.latency["inputs"]["flow"] == [1, 2, 4, 16, 16]


def test_flow_stream_without_flow_in_cache_is_a_clear_error(micro_spec_dict, tiny_cache):
    from videomodels.data import DataError

    with pytest.raises(DataError, match="flow"):
        train_and_evaluate(_two_stream(micro_spec_dict), tiny_cache, fast_config(epochs=1))


def test_worker_processes_give_the_same_numbers(micro_spec, tiny_cache):
    in_process = train_and_evaluate(micro_spec, tiny_cache, fast_config(epochs=1))
    with_workers = train_and_evaluate(micro_spec, tiny_cache, fast_config(epochs=1, num_workers=2))
    assert with_workers.loss_curve == in_process.loss_curve
    assert with_workers.metrics == in_process.metrics


def test_raw_source_without_out_dir_uses_a_temporary_cache(micro_spec, tiny_videos):
    threads = torch.get_num_threads()
    result = train_and_evaluate(micro_spec, tiny_videos, fast_config(max_steps=1))
    assert result.data["prepared"]["frames"] == 4 and result.data["prepared"]["size"] == 16  # frames x stride, size
    assert not Path(result.data["cache_dir"]).exists()  # removed after the run
    assert torch.get_num_threads() == threads  # the run's thread count was restored
