"""A dataset's preparation as a job of webapp.jobs: generate the motion benchmark (synthetic
datasets), decode the videos into a clip cache, record what was prepared and which files were bad.
Claiming, heartbeats, hand-back, recording once and recovery are the runtime's; here is only what
to run, how to record it, and how the dataset's own status follows the job.

Stage and progress go to the reporter after every clip (the heartbeat writes the latest once per
beat), and every clip asks the runtime whether to stop: a worker shutting down hands the
preparation back, and prepare_cache leaves no half-written cache behind.
"""
from __future__ import annotations

import shutil
from typing import Any

from django.utils import timezone

from webapp.jobs.kinds import JobKind, Shown
from webapp.jobs.reporting import Reporter

from .models import Dataset, DatasetPreparation
from .services.datasets import PREPARATION_KIND, check_source_path, data_dir, refusal

Status = DatasetPreparation.Status
# What the dataset's status is while its preparation has the job's status.
DATASET_STATUS = {Status.QUEUED: Dataset.Status.PENDING, Status.RUNNING: Dataset.Status.PREPARING,
                  Status.READY: Dataset.Status.READY, Status.FAILED: Dataset.Status.FAILED}
GENERATING_SHARE = 0.5  # of a synthetic dataset's progress bar; decoding takes the rest


def _reporting(reporter: Reporter, stage: str, start: float, share: float):
    """A per-clip callback: stage and progress to the reporter, and stop when the runtime says so."""
    def on_clip(done: int, total: int) -> None:
        reporter.report(stage=stage, progress=round(start + share * done / max(total, 1), 4))
        reporter.check()
    return on_clip


class DatasetPreparationKind(JobKind):
    name = PREPARATION_KIND
    model = DatasetPreparation
    queue = "default"  # decoding needs no GPU: training workers keep the train queue to themselves

    def shown(self, job: DatasetPreparation) -> Shown:
        dataset = job.dataset
        return Shown(f"preparing dataset {dataset.name}", dataset.get_absolute_url(), dataset.team_id)

    def claimed(self, job: DatasetPreparation) -> None:
        Dataset.objects.filter(pk=job.dataset_id).update(error="", updated=timezone.now())

    def changed(self, job: DatasetPreparation) -> None:
        status = DATASET_STATUS[job.status]
        Dataset.objects.filter(pk=job.dataset_id).exclude(status=status).update(status=status, updated=timezone.now())

    def run(self, job: DatasetPreparation, reporter: Reporter) -> dict[str, Any]:
        """{"status": "ready", what the cache holds} or {"status": "failed", "reason", maybe "report"}."""
        from videomodels.data import CacheError, DataError, NothingPreparedError, prepare_cache, synthesize

        dataset = job.dataset
        root = data_dir() / "datasets" / str(dataset.pk)
        decoding_start = 0.0
        try:
            refuse = None
            if dataset.kind == Dataset.Kind.FOLDER:
                # Checked again now: the folder may have become a link since it was registered.
                source, refuse = check_source_path(dataset.source_path), refusal
            else:
                source = root / "videos"
                shutil.rmtree(source, ignore_errors=True)  # a killed earlier attempt may have left half of it
                synthesize(source, clips_per_class=dataset.clips_per_class, seed=dataset.seed, frames=max(16, dataset.frames * 2),
                           size=max(48, dataset.size + 16), classes=tuple(dataset.synthetic_classes),
                           on_clip=_reporting(reporter, "generating videos", 0.0, GENERATING_SHARE))
                decoding_start = GENERATING_SHARE
            report = prepare_cache(source, root / "cache", frames=dataset.frames, size=dataset.size, flow=dataset.flow,
                                   progress=False, refuse=refuse,
                                   on_video=_reporting(reporter, "decoding videos", decoding_start, 1.0 - decoding_start))
        except NothingPreparedError as error:
            return {"status": "failed", "reason": str(error), "report": error.report.to_dict()}
        except (DataError, CacheError, OSError, ValueError) as error:  # StudioError too: the folder is no longer allowed
            return {"status": "failed", "reason": str(error)}
        return {"status": "ready", "report": report.to_dict(), "cache_path": str(report.cache_dir), "has_flow": report.has_flow,
                "class_names": list(report.class_names)}

    def record(self, job: DatasetPreparation, result: dict[str, Any]) -> None:
        """The findings go on the dataset; the job keeps its status and reason."""
        if result["status"] == "ready":
            job.status, job.stage, job.progress, job.reason = Status.READY, "ready", 1.0, ""
            fields = {"status": Dataset.Status.READY, "report": result["report"], "cache_path": result["cache_path"],
                      "has_flow": result["has_flow"], "class_names": result["class_names"],
                      "num_classes": len(result["class_names"]), "error": ""}
        else:
            job.status, job.stage, job.reason = Status.FAILED, "failed", result.get("reason", "")
            fields = {"status": Dataset.Status.FAILED, "error": job.reason}
            if "report" in result:
                fields["report"] = result["report"]
        Dataset.objects.filter(pk=job.dataset_id).update(updated=timezone.now(), **fields)


PREPARATION = DatasetPreparationKind()
