"""Model cards: YAML front matter a hub understands, every section, hostile text kept inert."""
from __future__ import annotations

from videomodels.export import front_matter, model_card, parse_front_matter

FULL = {
    "name": "tvn-evolved-42",
    "description": "Best candidate of experiment 3.",
    "license": "apache-2.0",
    "family": "tvn",
    "tags": ["evolved", "tvn"],
    "base_model": "tvn-1",
    "architecture": {"params": 123456, "macs": 7890000, "nodes": 5, "edges": 5, "spec_hash": "abc123",
                     "inputs": [{"id": "rgb", "modality": "rgb", "frames": 8, "frame_stride": 2, "size": 32}]},
    "latency": {"ms": 3.25, "device": "cpu", "threads": 2, "batch": 1},
    "dataset": {"name": "motion-synth", "num_train": 200, "num_val": 50},
    "training": {"epochs": 10, "lr": 0.001, "optimizer": "adamw", "seed": 0},
    "metrics": {"top1": 0.8125, "top5": 1.0, "loss": 0.52, "num_samples": 50,
                "per_class_accuracy": {"move_left": 0.9, "move_right": float("nan")}},
    "preprocessing": "decode 16 frames",
    "lineage": [{"id": "1", "name": "seed", "score": 0.5}, {"id": "7", "mutation": "b2 temporal kernel 3->5", "score": 0.8125, "hand_edited": True}],
    "review_history": [{"status": "in review", "by": "alice", "at": "2026-12-01T09:00Z"},
                       {"status": "approved", "by": "bob", "at": "2026-12-01T10:00Z", "comment": "ship | it\n<script>x</script>"}],
    "exports": [{"format": "onnx", "file": "model.onnx", "opset": 20, "max_abs_diff": 1.2e-7}],
    "citation": "@misc{x}",
}


def test_front_matter_has_the_conventional_keys():
    header = parse_front_matter(model_card(FULL))
    assert header["license"] == "apache-2.0" and header["library_name"] == "pytorch"
    assert {"video-classification", "tvn", "evolved"} <= set(header["tags"]) and header["tags"].count("tvn") == 1
    assert header["datasets"] == ["motion-synth"] and header["base_model"] == "tvn-1"
    [entry] = header["model-index"]
    assert entry["name"] == "tvn-evolved-42"
    [result] = entry["results"]
    assert result["dataset"]["name"] == "motion-synth"
    assert {m["type"]: m["value"] for m in result["metrics"]} == {"accuracy": 0.8125, "top-5-accuracy": 1.0}
    assert header["metrics"] == ["accuracy", "top-5-accuracy"]
    assert front_matter(FULL) == header


def test_every_section_is_written_with_the_data():
    text = model_card(FULL)
    for heading in ("## Model details", "## Uses", "## Limitations", "## Training", "## Evaluation", "## Lineage", "## Review history", "## Files", "## Citation"):
        assert heading in text
    assert "| Parameters | 123,456 |" in text and "3.25 ms" in text
    assert "| Top-1 accuracy | 81.2% |" in text and "| move_right | – |" in text
    assert "b2 temporal kernel 3-&gt;5" in text and "| yes |" in text
    assert "| approved | bob |" in text


def test_user_text_cannot_break_the_table_or_inject_html():
    text = model_card(FULL)
    assert "<script>" not in text and "&lt;script&gt;" in text
    line = next(line for line in text.splitlines() if "| approved |" in line)
    assert "ship \\| it" in line  # the pipe is escaped and the newline folded into the same row
    hostile = model_card({"name": "x\n---\nlicense: mit", "metrics": {"top1": float("inf")}})
    header = parse_front_matter(hostile)
    assert header["license"] == "other" and header["model-index"][0]["name"] == "x\n---\nlicense: mit"


def test_a_minimal_card_still_has_every_section():
    text = model_card({})
    header = parse_front_matter(text)
    assert header["model-index"] == [{"name": "model", "results": []}]
    assert text.count("_Not recorded._") == 2  # training and evaluation
    assert "Not reviewed." in text and "No recorded ancestors" in text


def test_card_from_a_real_training_run(trained_run):
    import json

    from videomodels.export import card_from_training

    result = json.loads((trained_run / "metrics.json").read_text())
    card = card_from_training(result, license="mit", review_history=[{"status": "approved", "by": "bob"}])
    assert card["architecture"]["params"] == result["params"] and card["dataset"]["name"] == "videos"
    text = model_card(card)
    header = parse_front_matter(text)
    assert header["license"] == "mit" and header["datasets"] == ["videos"]
    [metric] = [m for m in header["model-index"][0]["results"][0]["metrics"] if m["type"] == "accuracy"]
    assert metric["value"] == result["metrics"]["top1"]
    assert f"| Parameters | {result['params']:,} |" in text and "| approved | bob |" in text


def test_user_text_is_never_a_live_link_image_autolink_or_html():
    import re

    hostile = ["[click](https://evil.example/x)", "![px](http://evil.example/p.png)", "<img src=x onerror=alert(1)>",
               "see www.evil.example", "mail me: a@evil.example", "[ref]: javascript:alert(1)", "<https://evil.example>"]
    card = model_card({"name": hostile[0], "description": hostile[1], "limitations": hostile,
                       "dataset": {"name": hostile[3]}, "training": {"note": hostile[2]},
                       "metrics": {"top1": 0.5, "per_class_accuracy": {h: 0.5 for h in hostile}},
                       "lineage": [{"name": hostile[4], "mutation": hostile[5], "score": 0.5}],
                       "review_history": [{"status": "approved", "by": hostile[6], "comment": hostile[0]}]})
    body = card.split("\n---\n", 1)[1]
    assert not re.search(r"(?<!\\)\]\(", body) and not re.search(r"(?<!\\)\]:", body)  # no inline link, image or definition
    for live in ("![", "<img", "<https", "http://", "https://", "javascript:", "www.evil", "a@evil"):
        assert live not in body, live
    assert "\\[click\\](https\\://evil.example/x)" in body  # what was written, readable
