"""Model cards: Markdown with the conventional YAML front matter, from plain dicts.

The caller (the review app, or a script) passes what it knows; every section is
written, saying "not recorded" where data is missing rather than dropping the
heading. Text from users (names, class names, comments, mutations) is escaped, since
cards get rendered: no raw HTML (< > & as entities), no Markdown link, image or link
definition (brackets escaped), no autolinked address (the colon of a scheme, the dot of
www. and the @ of an address escaped). Table cells are kept on one line.
"""
from __future__ import annotations

import html
import math
import re
from pathlib import PurePath
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

NOT_RECORDED = "_Not recorded._"
DEFAULT_LIMITATIONS = [
    "Trained and evaluated on the dataset named above only; accuracy on other footage, cameras or label sets is unknown.",
    "Architecture found by automatic search: its validation score was used to select it, so that score is optimistic; "
    "check it on held-out data before relying on it.",
    "Latency was measured on one machine at batch 1; other hardware and batch sizes differ.",
]


_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,20}):(?=/|[^\s]*@)|\b(mailto|xmpp|javascript|data|file):")
_WWW = re.compile(r"(?i)\bwww\.")


def _text(value: Any) -> str:
    """User text made inert in Markdown: what it says, shown as written, never a link, image or HTML."""
    text = html.escape(str(value), quote=False).replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    text = _SCHEME.sub(lambda m: (m.group(1) or m.group(2)) + "\\:", text)
    return _WWW.sub(lambda m: m.group(0)[:3] + "\\.", text).replace("@", "\\@")


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else "–"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return _text(value).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _known(rows: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
    """The rows of a two-column table whose value was recorded: a card leaves a field out rather than print "–"."""
    return [row for row in rows if row[1] is not None and row[1] != "" and not (isinstance(row[1], float) and not math.isfinite(row[1]))]


def latency_text(latency: Mapping[str, Any]) -> str:
    """'12.34 ms (batch 1, cpu, 1 thread, p10–p90 11.9–13.1 ms over 30 runs)', with only the parts recorded."""
    where = [f"batch {latency.get('batch', 1)}", str(latency.get("device") or "cpu")]
    threads = latency.get("threads")
    if isinstance(threads, int) and threads > 0:
        where.append(f"{threads} thread{'s' if threads != 1 else ''}")
    spread = latency.get("spread") or {}
    if spread.get("p10") is not None and spread.get("p90") is not None:
        runs = f" over {latency['runs']} runs" if latency.get("runs") else ""
        where.append(f"p10–p90 {spread['p10']:.3g}–{spread['p90']:.3g} ms{runs}")
    return f"{latency['ms']:.2f} ms ({', '.join(where)})"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _percent(value: Any) -> str:
    return f"{100 * value:.1f}%" if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) else "–"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def front_matter(card: Mapping[str, Any]) -> dict[str, Any]:
    """The YAML header (Hugging Face conventions: license, library_name, tags, datasets,
    metrics, base_model, model-index)."""
    name = str(card.get("name") or "model")
    metrics = card.get("metrics") or {}
    dataset = card.get("dataset") or {}
    dataset_name = str(dataset.get("name") or "unknown") if isinstance(dataset, Mapping) else str(dataset)
    tags = ["video-classification", "pytorch", "videomodels"]
    if card.get("family"):
        tags.append(str(card["family"]))
    tags += [str(t) for t in card.get("tags") or [] if str(t) not in tags]
    results = []
    metric_names = {"top1": ("accuracy", "Top-1 accuracy"), "top5": ("top-5-accuracy", "Top-5 accuracy"),
                    "mAP": ("mean-average-precision", "mAP")}
    entries = [{"type": kind, "name": label, "value": _finite(metrics[key])}
               for key, (kind, label) in metric_names.items()
               if isinstance(metrics.get(key), (int, float)) and not isinstance(metrics.get(key), bool)]
    if entries:
        results.append({"task": {"type": "video-classification", "name": "Video Classification"},
                        "dataset": {"name": dataset_name, "type": dataset_name}, "metrics": entries})
    header: dict[str, Any] = {
        "license": str(card.get("license") or "other"),
        "library_name": str(card.get("library_name") or "pytorch"),
        "pipeline_tag": "video-classification",
        "tags": tags,
        "datasets": [dataset_name] if dataset_name != "unknown" else [],
        "metrics": [e["type"] for e in entries],
    }
    if card.get("base_model"):
        header["base_model"] = str(card["base_model"])
    header["model-index"] = [{"name": name, "results": results}]
    return header


def model_card(card: Mapping[str, Any]) -> str:
    """Markdown model card from a plain dict. Recognised keys (all optional):

    name, description, license, library_name, tags, base_model, family,
    architecture {params, macs, inputs: [{id, modality, frames, frame_stride, size}], nodes, edges, spec_hash},
    latency {ms, device, threads, batch, runs}, dataset {name, num_train, num_val, classes},
    class_names, training {epochs, steps, batch_size, lr, optimizer, seed, device, ...},
    metrics {top1, top5, mAP, loss, per_class_accuracy, num_samples},
    uses (str), out_of_scope (str), limitations [str], preprocessing (str),
    lineage [{id, name, mutation, score, hand_edited}] (oldest first),
    review_history [{status, by, at, comment}], exports [{format, file, opset, max_abs_diff}],
    citation (str).
    """
    name = _text(card.get("name") or "model")
    out = ["---", yaml.safe_dump(front_matter(card), sort_keys=False, allow_unicode=True).strip(), "---", "", f"# {name}", ""]
    if card.get("description"):
        out += [_text(card["description"]), ""]

    out += ["## Model details", ""]
    arch = card.get("architecture") or {}
    nodes_edges = f"{arch['nodes']} / {arch['edges']}" if arch.get("nodes") is not None and arch.get("edges") is not None else None
    rows = [["Family", card.get("family")], ["Parameters", arch.get("params")],
            ["Multiply-adds per clip", arch.get("macs")], ["Nodes / edges", nodes_edges],
            ["Spec hash", arch.get("spec_hash")], ["Base model", card.get("base_model")], ["Licence", card.get("license") or "other"]]
    latency = card.get("latency") or {}
    if latency.get("ms") is not None:
        rows.append(["Latency", latency_text(latency)])
    out += [_table(["", ""], _known(rows)), ""]
    inputs = arch.get("inputs") or []
    if inputs:
        out += ["Inputs:", "", _table(["stream", "modality", "frames", "frame stride", "size"],
                                      [[s.get("id"), s.get("modality"), s.get("frames"), s.get("frame_stride"), s.get("size")] for s in inputs]), ""]
    if card.get("preprocessing"):
        out += [f"Preprocessing: {_text(card['preprocessing'])}", ""]

    out += ["## Uses", "", _text(card.get("uses") or "Classifying short video clips into the classes listed under Evaluation, "
                                 "for research on video architectures."), ""]
    if card.get("out_of_scope"):
        out += ["Out of scope: " + _text(card["out_of_scope"]), ""]

    out += ["## Limitations", ""]
    out += [f"- {_text(item)}" for item in (card.get("limitations") or DEFAULT_LIMITATIONS)] + [""]

    out += ["## Training", ""]
    dataset = card.get("dataset") or {}
    training = card.get("training") or {}
    if dataset or training:
        rows = [["Dataset", dataset.get("name") if isinstance(dataset, Mapping) else dataset]]
        if isinstance(dataset, Mapping):
            rows += [["Train clips", dataset.get("num_train")], ["Validation clips", dataset.get("num_val")]]
        rows += [[key.replace("_", " "), value] for key, value in training.items() if not isinstance(value, (dict, list))]
        rows = _known(rows)
        out += [_table(["setting", "value"], rows) if rows else NOT_RECORDED, ""]
    else:
        out += [NOT_RECORDED, ""]

    out += ["## Evaluation", ""]
    metrics = card.get("metrics") or {}
    if metrics:
        rows = [[label, _percent(metrics.get(key))] for key, label in (("top1", "Top-1 accuracy"), ("top5", "Top-5 accuracy"), ("mAP", "mAP"))
                if metrics.get(key) is not None]
        if metrics.get("loss") is not None:
            rows.append(["Loss", _cell(metrics["loss"])])
        if metrics.get("num_samples") is not None:
            rows.append(["Validation clips", metrics["num_samples"]])
        out += [_table(["metric", "value"], rows), ""]
        per_class = metrics.get("per_class_accuracy") or metrics.get("per_class_ap") or {}
        if isinstance(per_class, Mapping) and per_class:
            out += ["Per class:", "", _table(["class", "score"], [[k, _percent(v)] for k, v in per_class.items()]), ""]
    else:
        out += [NOT_RECORDED, ""]

    out += ["## Lineage", ""]
    lineage = card.get("lineage") or []
    if lineage:
        out += [_table(["step", "model", "mutation", "score", "hand-edited"],
                       [[i, step.get("name") or step.get("id"), step.get("mutation") or "(seed)", _percent(step.get("score")),
                         "yes" if step.get("hand_edited") else ""] for i, step in enumerate(lineage)]), ""]
    else:
        out += ["No recorded ancestors (a seed architecture or an imported model).", ""]

    out += ["## Review history", ""]
    history = card.get("review_history") or []
    if history:
        out += [_table(["when", "status", "by", "comment"],
                       [[h.get("at"), h.get("status"), h.get("by"), h.get("comment") or ""] for h in history]), ""]
    else:
        out += ["Not reviewed.", ""]

    exports = card.get("exports") or []
    if exports:
        out += ["## Files", "", _table(["format", "file", "ONNX opset", "max |diff| vs PyTorch"],
                                       [[e.get("format"), e.get("file"), e.get("opset"), e.get("max_abs_diff")] for e in exports]), ""]
    if card.get("citation"):
        out += ["## Citation", "", "```", str(card["citation"]).replace("```", "'''"), "```", ""]
    return "\n".join(out)


def card_from_training(result: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """Card fields from a training result (``metrics.json`` / ``TrainResult.to_dict()``);
    ``extra`` (name, dataset, lineage, review_history, license, ...) overrides them."""
    spec = result.get("spec") or {}
    graph = spec.get("json") or {}
    config = result.get("config") or {}
    data = result.get("data") or {}
    card: dict[str, Any] = {
        "name": spec.get("name") or "model",
        "family": spec.get("family"),
        "architecture": {"params": result.get("params"), "macs": result.get("macs"), "spec_hash": spec.get("hash"),
                         "inputs": spec.get("inputs") or [], "nodes": len(graph.get("nodes") or []) or None,
                         "edges": len(graph.get("edges") or []) or None},
        "latency": result.get("latency") or {},
        "dataset": {"name": data.get("name") or _dataset_name(data), "num_train": data.get("num_train"),
                    "num_val": data.get("num_val")},
        "training": {"epochs": result.get("epochs_completed"), "steps": result.get("steps"),
                     **{k: config.get(k) for k in ("batch_size", "lr", "optimizer", "weight_decay", "label_smoothing", "seed")},
                     "device": result.get("device")},
        "metrics": result.get("metrics") or {},
        "class_names": result.get("class_names") or [],
    }
    card.update(extra)
    return card


def _dataset_name(data: Mapping[str, Any]) -> str | None:
    """The video folder a run prepared its cache from, else the cache folder's name."""
    source = (data.get("prepared") or {}).get("source") or data.get("cache_dir")
    return PurePath(str(source)).name or None if source else None


def parse_front_matter(markdown: str) -> dict[str, Any]:
    """The YAML header of a card written by ``model_card`` (for tests and round trips)."""
    if not markdown.startswith("---\n"):
        raise ValueError("no front matter")
    end = markdown.index("\n---\n", 4)
    return yaml.safe_load(markdown[4:end])
