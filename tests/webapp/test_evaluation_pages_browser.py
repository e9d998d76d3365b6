"""Job pages in a browser (Daphne + a real worker + headless Chromium): an evaluation's page opened while
it is queued follows it to the end without a reload (its loss curve, then what a model page shows and its
exports: a checkpoint export job started there, followed over its socket to its download); an ensemble's page goes from Queued to Evaluated the moment its job is recorded."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from browsing import wait_for_js

from browsing import EDITOR_SHOTS as SHOTS, signed_in_page
from test_architectures_jobs_workers import save

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(300)]


def test_an_evaluation_page_follows_it_to_the_end_without_a_reload(site, browser, flow_dataset, redis_server, studio_data_dir,
                                                                    processes, tmp_path):
    from webapp.architectures import jobs
    from webapp.architectures.evaluations import Evaluation

    version = save(site, "assemblenet-small", "small asn")
    evaluation = jobs.create_evaluation(user=site["bob"], version=version, dataset=flow_dataset, steps=12, batch_size=4)
    page = signed_in_page(browser, site, "alice")
    page.goto(f"{site['base']}/evaluations/{evaluation.pk}/")
    wait_for_js(page, "window.__studioTest.evaluationPage && window.__studioTest.evaluationPage.reads >= 1")
    assert page.get_attribute("#eval-status", "data-status") == "queued"
    page.evaluate("window.__sameDocument = true")  # gone if the page reloaded
    worker = processes.worker("w1", redis_server.url, studio_data_dir)
    wait_for_js(page, "window.__studioTest.evaluationPage.curve.length >= 1", timeout=120)
    wait_for_js(page, "['evaluated', 'failed'].includes(window.__studioTest.evaluationPage.status)", timeout=180)
    evaluation = Evaluation.objects.get(pk=evaluation.pk)
    assert evaluation.status == "evaluated", (evaluation.reason, worker.output()[-3000:])
    wait_for_js(page, "window.__studioTest.evaluationPage.report.state.status === 'evaluated'")
    assert page.evaluate("window.__sameDocument") is True
    assert page.text_content("#eval-status") == "Evaluated"
    assert page.is_visible("#checkpoint-start") and page.is_visible("#onnx-start")
    assert f"{round(evaluation.accuracy, 4)}" in page.text_content("#facts")
    assert page.evaluate("window.__studioTest.evaluationPage.report.evaluation.confusion.length") == 4
    assert not page.errors
    page.screenshot(path=str((SHOTS or tmp_path) / "evaluation-page-evaluated.png"), full_page=True)
    # Its trained weights export as a candidate's do: a job, run by the same worker, followed to its download.
    page.click("#checkpoint-start")
    wait_for_js(page, "document.querySelector(\"#export-jobs-table a[data-export='PyTorch checkpoint']\") !== null", timeout=120)
    assert page.evaluate("window.__studioTest.exportJobs.messages") >= 1  # followed over /ws/jobs/export/<id>/
    assert "weights_only=True" in page.text_content("#export-jobs-table") and page.evaluate("window.__sameDocument") is True
    page.screenshot(path=str((SHOTS or tmp_path) / "evaluation-page-exported.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#export-jobs-table a[data-export='PyTorch checkpoint']")
    assert download.value.suggested_filename.endswith(".pt")
    assert not page.errors


def test_a_failed_evaluation_offers_a_retry_to_members(site, browser, flow_dataset, tmp_path):
    from webapp.architectures.evaluations import Evaluation

    version = save(site, "tvn-small", "tiny tvn")
    failed = Evaluation.objects.create(version=version, dataset=flow_dataset, steps=4, batch_size=4, spec=version.spec, attempt=2,
                                       status="failed", reason="its worker w1 stopped reporting; tried 2 times, not run again")
    page = signed_in_page(browser, site, "bob")
    page.goto(f"{site['base']}/evaluations/{failed.pk}/")
    wait_for_js(page, "window.__studioTest.evaluationPage && window.__studioTest.evaluationPage.reads >= 1")
    assert page.is_visible("#retry") and "tried 2 times" in page.text_content("#eval-reason")
    assert not page.errors
    page.screenshot(path=str((SHOTS or tmp_path) / "evaluation-page-failed.png"), full_page=True)
    page.click("#retry")
    wait_for_js(page, "window.__studioTest.evaluationPage && window.__studioTest.evaluationPage.status === 'queued'")
    assert page.url.endswith(f"/evaluations/{failed.pk}/") and not page.is_visible("#retry")


def test_an_ensemble_page_shows_its_job_finish_without_a_reload(site, browser, tmp_path):
    from webapp.jobs.claims import claim, record
    from webapp.review.ensembles import ENSEMBLE
    from webapp.review.models import Ensemble
    from webapp.review.services import subject_for_ensemble

    ensemble = Ensemble.objects.create(team=site["a"], created_by=site["bob"], name="pair")
    subject_for_ensemble(ensemble)
    page = signed_in_page(browser, site, "alice")
    page.goto(f"{site['base']}/models/ensemble/{ensemble.pk}/")
    wait_for_js(page, "window.__studioTest.job && window.__studioTest.job.reads >= 1")
    assert page.get_attribute("#job-status", "data-status") == "queued"
    page.evaluate("window.__sameDocument = true")
    # What its worker does, here: claim it, then record its result (1.3 s of work in real life). In another
    # thread, as a worker would be: Playwright's event loop runs in this one, and publishing needs its own.
    with ThreadPoolExecutor(1) as worker:
        taken = worker.submit(claim, ENSEMBLE, ensemble.pk, "test:1").result()
        wait_for_js(page, "window.__studioTest.job.status === 'running'")
        assert worker.submit(record, ENSEMBLE, taken, {"status": "evaluated", "accuracy": 0.625, "member_accuracy": {}}).result()
    wait_for_js(page, "window.__studioTest.job.status === 'evaluated' && window.__studioTest.job.reads >= 2")
    assert "0.625" in page.text_content("#facts") and page.text_content("#job-status") == "Evaluated"
    assert page.evaluate("window.__sameDocument") is True
    assert not page.errors
    page.screenshot(path=str((SHOTS or tmp_path) / "ensemble-page-evaluated.png"), full_page=True)
