"""One reviewable model as the pages see it: what to draw, metrics, curves, lineage, the diff to another.

A candidate's full evaluation (loss curve, per-epoch history, per-class accuracy, confusion
matrix) is in the metrics.json its training wrote beside its checkpoint; its row keeps the
scalars. Read only from inside the studio's data folder, and only a bounded file.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from webapp.architectures.evaluation_job import trained_checkpoint
from webapp.architectures.evaluations import Evaluation
from webapp.architectures.services import with_learned_weights
from webapp.studio import figures
from webapp.studio.models import Candidate

from .models import Subject
from .services import subject_for_candidate, subject_for_version

MAX_METRICS_BYTES = 4 * 1024 * 1024


@dataclass
class ModelView:
    subject: Subject
    title: str
    family: str
    spec: dict | None
    spec_drawn: dict | None
    url: str
    parent: Subject | None
    facts: list[tuple[str, object]]
    evaluation: dict

    def __post_init__(self):
        # A fact nobody recorded is left out rather than shown as "–".
        self.facts = [(label, value) for label, value in self.facts if value is not None and value != ""]

    @property
    def ref(self) -> str:
        return f"{self.subject.kind}:{self.subject.target_id}"


def ref_url(subject: Subject) -> str:
    """A model's page: an evaluation has a page of its own (its live training, then its results)."""
    if subject.kind == Subject.Kind.EVALUATION:
        return reverse("evaluation-page", args=[subject.evaluation_id])
    return reverse("model-page", args=[subject.kind, subject.target_id])


def evaluation_file(candidate: Candidate) -> dict:
    """The candidate's metrics.json (curves, per-class, confusion), or {} when absent or outside the data folder."""
    return report_beside(candidate.checkpoint)


def report_beside(checkpoint) -> dict:
    """The metrics.json a training wrote beside ``checkpoint``, or {} when absent, too large or outside the data folder."""
    if not checkpoint:
        return {}
    try:
        root = Path(settings.STUDIO_DATA_DIR).resolve()
        path = (Path(checkpoint).parent / "metrics.json").resolve()
        if not path.is_relative_to(root) or not path.is_file() or path.stat().st_size > MAX_METRICS_BYTES:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def candidate_evaluation(candidate: Candidate, class_names: list[str]) -> dict:
    return training_charts(evaluation_file(candidate), candidate.metrics or {}, class_names)


def training_charts(report: dict, row_metrics: dict, class_names: list[str], losses: list | None = None) -> dict:
    """What the curves, per-class chart and confusion matrix draw: from a training's metrics.json, else from the
    scalars its row kept (``losses``: the per-step losses a job recorded while it trained)."""
    metrics = {**(report.get("metrics") or {}), **{k: v for k, v in row_metrics.items() if k not in ("history",)}}
    history = report.get("history") or row_metrics.get("history") or []
    loss_curve = report.get("loss_curve") or row_metrics.get("loss_curve") or losses or []
    per_class = metrics.get("per_class_accuracy") or {}
    return {
        "loss_curve": [p for p in loss_curve if isinstance(p, list) and len(p) == 2][:5000],
        "epochs": [{"epoch": h.get("epoch"), "train_loss": h.get("train_loss"), "train_top1": h.get("train_top1"),
                    "val_loss": (h.get("val") or {}).get("loss"), "val_top1": (h.get("val") or {}).get("top1")}
                   for h in history if isinstance(h, dict)][:1000],
        "per_class": per_class if isinstance(per_class, dict) else {},
        "confusion": metrics.get("confusion_matrix") if isinstance(metrics.get("confusion_matrix"), list) else None,
        "class_names": report.get("class_names") or class_names,
        "scalars": {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)},
        "training": report.get("config") or {},
    }


def _shown(formatter, value):
    """``value`` as the page prints it, or None (the fact is left out) when nobody measured it."""
    return None if value is None else formatter(value)


def latency_text(candidate: Candidate) -> str:
    """'12.3 ms (p10–p90 11.9–14.0 ms)': the figure decisions used and how much it moved between runs."""
    spread = candidate.latency_spread_text
    return f"{figures.ms(candidate.latency_ms)} ({spread})" if spread else figures.ms(candidate.latency_ms)


def _rounded(value, digits: int):
    return round(value, digits) if isinstance(value, float) else value


def evaluation_title(evaluation: Evaluation) -> str:
    v = evaluation.version
    return f"{v.architecture.name} v{v.number} on {evaluation.dataset.name}"


def evaluation_facts(evaluation: Evaluation) -> list[tuple[str, object]]:
    e, v = evaluation, evaluation.version
    facts = [("Status", e.get_status_display()), ("Architecture", f"{v.architecture.name} v{v.number}"),
             ("Family", v.architecture.family), ("Dataset", e.dataset.name), ("Steps", f"{e.step} of {e.steps}"),
             ("Batch size", e.batch_size), ("Seed", e.seed), ("Attempt", e.attempt),
             ("Accuracy", _rounded(e.accuracy, 4)), ("Latency (ms, batch 1)", _rounded(e.latency_ms, 2)),
             ("Parameters", e.params), ("Multiply-adds", e.macs), ("Training seconds", _rounded(e.seconds, 1)),
             ("Started by", e.created_by.username if e.created_by else None)]
    if e.reason:
        facts.append(("Failed because" if e.status == Evaluation.Status.FAILED else "Note", e.reason))
    return facts


def evaluation_charts(evaluation: Evaluation) -> dict:
    """Its curves, per-class accuracy and confusion matrix: from the metrics.json its training wrote, else its row."""
    return training_charts(report_beside(trained_checkpoint(evaluation)), evaluation.metrics or {},
                           list(evaluation.dataset.class_names or []), losses=evaluation.losses)


def model_view(subject: Subject) -> ModelView:
    if subject.kind == Subject.Kind.CANDIDATE:
        c = subject.candidate
        experiment = c.experiment
        parent = None
        if c.parent_id:
            parent = subject_for_candidate(c.parent)
        facts = [("Experiment", experiment.name), ("Family", experiment.family), ("Dataset", experiment.dataset.name),
                 ("Status", c.get_status_display()), ("Generation", figures.generation(c.generation)),
                 ("Mutation", c.mutation or "sampled"), ("Accuracy", _shown(figures.accuracy, c.accuracy)),
                 (f"Latency ({c.latency_label}, batch 1)", latency_text(c) if c.latency_ms is not None else None),
                 ("Parameters", _shown(figures.count, c.params)), ("Multiply-adds", _shown(figures.count, c.macs)),
                 ("Fidelity", c.fidelity or None), ("Training time", _shown(lambda s: f"{figures.fixed(s, 1)} s", c.seconds))]
        training = {k: experiment.config.get(k) for k in ("low_steps", "high_steps", "batch_size", "lr", "seed") if k in experiment.config}
        evaluation = candidate_evaluation(c, list(experiment.dataset.class_names or []))
        evaluation["training"] = evaluation["training"] or training
        return ModelView(subject, f"{experiment.name} · {c.name}", experiment.family, c.spec,
                         with_learned_weights(c.spec, c.edge_weights), c.get_absolute_url(), parent, facts, evaluation)
    if subject.kind == Subject.Kind.VERSION:
        v = subject.version
        parent = None
        if v.parent_id:
            parent = subject_for_version(v.parent)
        facts = [("Architecture", v.architecture.name), ("Family", v.architecture.family), ("Version", v.number),
                 ("Message", v.message), ("Author", v.author.username if v.author else None),
                 ("Parameters", _shown(figures.count, v.params)), ("Multiply-adds", _shown(figures.count, v.macs))]
        return ModelView(subject, f"{v.architecture.name} v{v.number}", v.architecture.family, v.spec, v.spec,
                         v.get_absolute_url(), parent, facts, {})
    if subject.kind == Subject.Kind.EVALUATION:
        e = subject.evaluation
        weights = e.edge_weights if e.status == Evaluation.Status.EVALUATED else []
        return ModelView(subject, evaluation_title(e), e.version.architecture.family, e.spec, with_learned_weights(e.spec, weights),
                         ref_url(subject), subject_for_version(e.version), evaluation_facts(e), evaluation_charts(e))
    e = subject.ensemble
    same_clips = e.member_accuracy or {}
    facts = [("Status", e.get_status_display()), ("Ensemble accuracy (averaged logits)", _rounded(e.accuracy, 4)),
             *((f"Member {m.experiment.name}/{m.name}", f"{_rounded(same_clips.get(str(m.pk)), 4)} on the same clips")
               for m in e.members.select_related("experiment").order_by("pk"))]
    if e.reason:
        facts.append(("Error", e.reason))
    return ModelView(subject, f"Ensemble {e.name}", "", None, None, "", None, facts, {})


def lineage_tree(candidate: Candidate, limit: int = 2000) -> dict:
    """Ancestors (root first) and the descendants' tree of ``candidate`` within its experiment, in two queries."""
    rows = list(Candidate.objects.filter(experiment_id=candidate.experiment_id).values(
        "pk", "name", "parent_id", "mutation", "mutation_details", "accuracy", "generation", "status")[:limit])
    by_id = {r["pk"]: r for r in rows}
    children: dict[int | None, list[dict]] = {}
    for r in rows:
        children.setdefault(r["parent_id"], []).append(r)
    ancestors, node, seen = [], by_id.get(candidate.pk), set()
    while node is not None and node["pk"] not in seen:
        seen.add(node["pk"])
        ancestors.append(node)
        node = by_id.get(node["parent_id"])
    ancestors.reverse()

    def hand_edited(r) -> bool:
        details = r.get("mutation_details") or {}
        return bool(details.get("hand_edited") or details.get("source") in ("editor", "seed") or details.get("seeded_from"))

    def entry(r, depth):
        return {"id": r["pk"], "name": r["name"], "mutation": r["mutation"] or ("sampled" if r["parent_id"] is None else ""),
                "accuracy": r["accuracy"], "generation": figures.generation(r["generation"]), "status": r["status"], "depth": depth,
                "hand_edited": hand_edited(r), "current": r["pk"] == candidate.pk,
                "url": reverse("model-page", args=["candidate", r["pk"]])}

    flat = [entry(r, i) for i, r in enumerate(ancestors)]
    base = len(ancestors) - 1
    stack = [(child, base + 1) for child in reversed(children.get(candidate.pk, []))]
    descendants, visited = [], {candidate.pk}
    while stack:
        r, depth = stack.pop()
        if r["pk"] in visited:
            continue
        visited.add(r["pk"])
        descendants.append(entry(r, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(r["pk"], [])))
    return {"ancestors": flat, "descendants": descendants, "truncated": len(rows) >= limit}
