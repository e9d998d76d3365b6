"""Dataset preparation as a job of webapp.jobs, without a worker: registering queues one preparation,
running it reports its stage and progress and writes the findings on the dataset once; the dataset's
status follows the job (pending, preparing, ready or failed); a worker shutting down hands it back,
and the next run starts clean. The kill test with real workers is in test_jobs_workers."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def synthetic(teams, name="synth"):
    from webapp.studio import services

    return services.register_dataset(team=teams["a"], user=teams["alice"], name=name, kind="synthetic", clips_per_class=3,
                                     classes=["move_left", "move_right"], frames=4, size=16)


def test_registering_queues_one_preparation_and_running_it_records_the_findings(teams, studio_data_dir, prepare):
    from webapp.jobs.runner import run_job

    dataset = synthetic(teams)
    job = dataset.preparations.get()
    assert (dataset.status, job.status, job.attempt) == ("pending", "queued", 0)
    dataset = prepare(dataset)
    job.refresh_from_db()
    assert dataset.status == "ready" and dataset.report["num_prepared"] == 6 and dataset.class_names == ["move_left", "move_right"]
    assert (job.status, job.stage, job.progress, job.attempt, job.claimed_by) == ("ready", "ready", 1.0, 1, "")
    assert run_job("dataset-preparation", job.pk, worker="test:2") == "skipped"  # a second delivery does nothing


def test_the_run_reports_each_stage_and_its_progress(teams, studio_data_dir):
    from webapp.jobs.reporting import Reporter
    from webapp.studio.preparation_job import PREPARATION

    job = synthetic(teams).preparations.get()
    seen = []

    class Watching(Reporter):
        def report(self, **fields):
            seen.append((fields["stage"], fields["progress"]))
            super().report(**fields)

    result = PREPARATION.run(job, Watching())
    assert result["status"] == "ready"
    stages = [stage for stage, _ in seen]
    assert stages == ["generating videos"] * 6 + ["decoding videos"] * 6
    progress = [p for _, p in seen]
    assert progress == sorted(progress) and progress[5] == 0.5 and progress[-1] == 1.0


def test_a_worker_shutting_down_hands_it_back_and_the_next_run_starts_clean(teams, studio_data_dir, prepare):
    from webapp.jobs.reporting import worker_shutting_down
    from webapp.jobs.runner import run_job

    dataset = synthetic(teams)
    job = dataset.preparations.get()
    worker_shutting_down.set()
    try:
        assert run_job("dataset-preparation", job.pk, worker="test:1", beat_seconds=3600) == "interrupted"
    finally:
        worker_shutting_down.clear()
    job.refresh_from_db()
    dataset.refresh_from_db()
    assert (job.status, job.attempt, job.reason, dataset.status) == ("queued", 1, "worker shutting down", "pending")
    folder = studio_data_dir / "datasets" / str(dataset.pk)
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # no half-written cache
    dataset = prepare(dataset)
    job.refresh_from_db()
    assert (dataset.status, job.status, job.attempt) == ("ready", "ready", 2)
    assert dataset.report["num_prepared"] == 6


def test_a_folder_with_no_usable_video_fails_with_the_reason_on_the_dataset(teams, studio_data_dir, shared_videos, prepare):
    from webapp.studio import services

    empty = shared_videos / "nothing-here"
    (empty / "move_left").mkdir(parents=True)
    (empty / "move_left" / "broken.mp4").write_bytes(b"not a video")
    dataset = services.register_dataset(team=teams["a"], user=teams["alice"], name="broken", kind="folder", source_path=str(empty))
    dataset = prepare(dataset)
    job = dataset.preparations.get()
    assert dataset.status == "failed" and dataset.error and job.status == "failed" and job.reason == dataset.error
    assert [b["path"].endswith("broken.mp4") for b in dataset.bad_files] == [True]


def test_the_page_and_the_api_show_the_preparation_under_way(teams, studio_data_dir, client_for):
    from webapp.studio.models import DatasetPreparation

    dataset = synthetic(teams)
    DatasetPreparation.objects.filter(dataset=dataset).update(status="running", stage="decoding videos", progress=0.75, attempt=1)
    client = client_for(teams["bob"])
    body = client.get(f"/api/datasets/{dataset.pk}/").json()
    assert body["status"] == "pending"  # the dataset's own status changes only with the runtime's updates
    assert body["preparation"] == {"status": "running", "stage": "decoding videos", "progress": 0.75, "attempt": 1, "reason": ""}
    html = client.get(f"/datasets/{dataset.pk}/").content.decode()
    assert "Decoding videos" in html and 'value="0.750"' in html
    outsider = client_for(teams["charlie"]).get(f"/api/datasets/{dataset.pk}/")
    assert outsider.status_code == 404
