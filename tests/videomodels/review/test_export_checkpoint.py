"""Self-describing checkpoints: what `train` writes, exports, reloads, and the recipe replays training's clips."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from videomodels import build_model
from videomodels.data import ClipDataset, StreamRequest, load_cache
from videomodels.export import ExportError, export_checkpoint, load_exported
from videomodels.preprocessing import PreprocessingError, check_preprocessing, clips_from_video, preprocessing_for
from videomodels.train.checkpoint import load_checkpoint, save_checkpoint

from review_helpers import CLASSES, micro_spec


def test_train_checkpoint_carries_what_predict_needs(trained_run):
    payload = torch.load(trained_run / "checkpoint.pt", map_location="cpu", weights_only=True)
    assert payload["class_names"] == sorted(CLASSES)
    recipe = payload["preprocessing"]
    cache = load_cache(trained_run / "cache")
    # The decode settings are the cache's, whatever the spec alone would suggest.
    assert (recipe["decode"]["frames"], recipe["decode"]["size"]) == (cache.frames, cache.size)
    frames, size, streams = check_preprocessing(recipe)
    assert streams == [StreamRequest("rgb", "rgb", 4, 2, 16)]
    assert recipe["flow"] is None and recipe["normalisation"]["rgb"]["std"] > 0


def _val_clips(cache_dir, streams):
    dataset = ClipDataset(load_cache(cache_dir), "val", streams, train=False, seed=0)
    sources = [dataset.cache.items[int(i)]["path"] for i in dataset.item_indices]
    return dataset, sources


@pytest.mark.parametrize("flow", [False, True])
def test_recipe_replays_exactly_the_validation_clips(flow, request):
    """predict's decoding of a file gives the very tensors validation fed the model."""
    run = request.getfixturevalue("trained_flow_run" if flow else "trained_run")
    cache_dir = request.getfixturevalue("flow_cache") if flow else run / "cache"
    recipe = load_exported(run / "checkpoint.pt").preprocessing
    _, _, streams = check_preprocessing(recipe)
    assert [s.modality for s in streams] == (["flow"] if flow else ["rgb"])
    dataset, sources = _val_clips(cache_dir, streams)
    assert len(dataset) >= 3
    for index, source in enumerate(sources):
        expected, _ = dataset[index]
        got = clips_from_video(source, recipe)
        assert got.keys() == expected.keys()
        for key in expected:
            torch.testing.assert_close(got[key], expected[key], rtol=0, atol=0)


def test_export_from_training_checkpoint_reloads_with_equal_outputs(trained_run, tmp_path):
    original, _ = load_checkpoint(trained_run / "checkpoint.pt")
    path = export_checkpoint(trained_run / "checkpoint.pt", tmp_path / "model.pt", metadata={"model_id": 7, "status": "approved"})
    payload = torch.load(path, map_location="cpu", weights_only=True)
    assert payload["metadata"] == {"model_id": 7, "status": "approved"}
    loaded = load_exported(path)
    assert loaded.class_names == sorted(CLASSES)
    assert loaded.preprocessing == torch.load(trained_run / "checkpoint.pt", weights_only=True)["preprocessing"]
    clip = {"rgb": torch.randn(3, 3, 4, 16, 16, generator=torch.Generator().manual_seed(1))}
    with torch.no_grad():
        assert torch.equal(original(clip), loaded.model(clip))


def test_export_from_a_model_fills_in_the_recipe(tmp_path):
    torch.manual_seed(0)
    model = build_model(micro_spec(), num_classes=3).eval()
    path = export_checkpoint(model, tmp_path / "m.pt", class_names=["a", "b", "c"])
    loaded = load_exported(path)
    assert loaded.class_names == ["a", "b", "c"]
    assert loaded.preprocessing == preprocessing_for(model.spec)
    clip = {"rgb": torch.randn(2, 3, 4, 16, 16)}
    with torch.no_grad():
        assert torch.equal(model(clip), loaded.model(clip))


def test_export_refuses_bad_arguments(tmp_path):
    model = build_model(micro_spec(), num_classes=3)
    with pytest.raises(ExportError, match="class_names has 2 entries but the model predicts 3"):
        export_checkpoint(model, tmp_path / "m.pt", class_names=["a", "b"])
    with pytest.raises(ExportError, match="JSON-able"):
        export_checkpoint(model, tmp_path / "m.pt", metadata={"when": object()})
    with pytest.raises(ExportError, match="does not exist"):
        export_checkpoint(tmp_path / "nothing.pt", tmp_path / "m.pt")


def test_checkpoint_from_before_preprocessing_gets_it_derived(tmp_path):
    model = build_model(micro_spec(), num_classes=3)
    save_checkpoint(tmp_path / "old.pt", model, num_classes=3, class_names=["a", "b", "c"], multilabel=False, metrics={})
    assert "preprocessing" not in torch.load(tmp_path / "old.pt", weights_only=True)
    assert load_exported(tmp_path / "old.pt").preprocessing == preprocessing_for(model.spec)


class Payload:  # an arbitrary class: loading it would need pickle to run code
    def __reduce__(self):
        return (print, ("pickle ran",))


def test_pickled_objects_are_never_loaded(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    torch.save({"format": "videomodels-checkpoint/1", "state_dict": {}, "spec": "{}", "hook": Payload()}, path)
    with pytest.raises(ExportError, match="not a loadable checkpoint"):
        load_exported(path)
    assert "pickle ran" not in capsys.readouterr().out


def test_hostile_recipes_are_refused():
    recipe = preprocessing_for(micro_spec())
    recipe["decode"]["frames"] = 4096
    recipe["decode"]["size"] = 4096
    with pytest.raises(PreprocessingError, match="pixels per video"):
        check_preprocessing(recipe)
    recipe = preprocessing_for(micro_spec())
    recipe["streams"][0]["frames"] = 10**30
    with pytest.raises(PreprocessingError, match=r"streams\[0\]\.frames"):
        check_preprocessing(recipe)
    recipe = preprocessing_for(micro_spec())
    recipe["streams"][0]["modality"] = "segmentation"
    with pytest.raises(PreprocessingError, match="rgb or flow"):
        check_preprocessing(recipe)
    assert np.isfinite(preprocessing_for(micro_spec())["normalisation"]["rgb"]["mean"])
