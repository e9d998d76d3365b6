"""From the editor, end to end: save an AssembleNet version, evaluate it on a dataset with a real
worker, and see progress, the result and the learned edge weights arrive on the drawing
(Daphne + Celery worker + headless Chromium)."""
from __future__ import annotations

import pytest
from browsing import EDITOR_SHOTS as SHOTS
from browsing import signed_in_page, wait_for_js
from waiting import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(300)]


def test_evaluate_a_saved_version_from_the_editor(site, browser, flow_dataset, worker, tmp_path):
    from webapp.architectures.evaluations import Evaluation

    page = signed_in_page(browser, site, "alice")
    page.goto(f"{site['base']}/architectures/editor/?preset=assemblenet-small")
    wait_for_js(page, "window.__studioTest.editor && window.__studioTest.editor.checks > 0 && !window.__studioTest.editor.validator.pending")
    # Before saving there is nothing to evaluate: the panel says so.
    page.click("#evaluate")
    assert "Save a version first" in page.text_content("#eval-status")
    page.fill("#name", "small asn")
    page.click("#save")
    page.wait_for_selector("#saved-link")
    wait_for_js(page, "document.querySelectorAll('#eval-dataset option').length > 0")
    page.fill("#eval-steps", "8")
    page.fill("#eval-batch", "4")
    page.click("#evaluate")
    wait_for_js(page, "['evaluated', 'failed'].includes(window.__studioTest.evaluation.status)", timeout=180)
    evaluation = Evaluation.objects.get()
    assert evaluation.status == "evaluated", (evaluation.reason, worker.output()[-3000:])
    assert page.evaluate("window.__studioTest.evaluation.weightUpdates") >= 1  # pushed live while it trained
    assert page.text_content("#eval-accuracy") == f"{100 * evaluation.accuracy:.1f} %"
    assert page.is_visible("#eval-result") and page.get_attribute("#eval-params", "title") == f"{evaluation.params:,}"  # shown as "568 k", exact in the tooltip
    # The drawing carries the final learned weights on its fused edges.
    drawn = page.evaluate("""() => __studioTest.cy.edges('.fused').map((e) => [e.data('source'), e.data('target'), e.data('weight')])""")
    learned = {(w["source"], w["target"]): w["weight"] for w in evaluation.edge_weights}
    assert drawn and all(abs(w - learned[(s, t)]) < 1e-9 for s, t, w in drawn if (s, t) in learned)
    assert {(s, t) for s, t, _ in drawn} <= set(learned)
    assert not page.errors
    page.screenshot(path=str((SHOTS or tmp_path) / "editor-evaluated.png"), full_page=True)
    # The version's page lists the evaluation and draws its learned weights.
    page.goto(f"{site['base']}{evaluation.version.get_absolute_url()}")
    wait_for_js(page, "window.__studioTest.viewer && window.__studioTest.viewer.analyzed && window.__studioTest.viewer.learnedWeights")
    assert page.locator(f"#evaluations tr[data-evaluation='{evaluation.pk}']").count() == 1
    drawn = page.evaluate("""() => __studioTest.cy.edges('.fused').map((e) => [e.data('source'), e.data('target'), e.data('weight')])""")
    assert drawn and all(abs(w - learned[(s, t)]) < 1e-9 for s, t, w in drawn if (s, t) in learned)
    assert not page.errors
    page.screenshot(path=str((SHOTS or tmp_path) / "version-evaluated.png"), full_page=True)


def test_candidate_page_follows_learned_weights_live_then_keeps_the_final_ones(site, browser, flow_dataset, worker, tmp_path):
    from archsearch.config import SearchConfig
    from webapp.studio import services
    from webapp.studio.models import Candidate

    experiment = services.create_experiment(
        team=site["a"], user=site["alice"], name="asn live", dataset=flow_dataset, parallelism=1,
        config=SearchConfig(family="assemblenet", population=2, rounds=0, low_steps=60, high_steps=0, batch_size=4,
                            num_threads=1, latency_runs=2))
    wait_until(lambda: Candidate.objects.filter(experiment=experiment, status="running").exists(), 120, "a candidate in training",
               [worker], interval=0.1)
    candidate = Candidate.objects.get(experiment=experiment, status="running")
    page = signed_in_page(browser, site, "bob")
    page.goto(f"{site['base']}/candidates/{candidate.pk}/")
    wait_for_js(page, "window.__studioTest.liveWeights && window.__studioTest.liveWeights.final", timeout=180)
    assert page.evaluate("window.__studioTest.liveWeights.updates") >= 1  # it moved while training
    candidate.refresh_from_db()
    assert candidate.status == "evaluated"
    learned = {(w["source"], w["target"]): w["weight"] for w in candidate.edge_weights}
    drawn = page.evaluate("""() => __studioTest.cy.edges('.fused').map((e) => [e.data('source'), e.data('target'), e.data('weight')])""")
    assert drawn and all(abs(w - learned[(s, t)]) < 1e-9 for s, t, w in drawn if (s, t) in learned)
    assert page.text_content("#live-weights") == "final learned weights"
    # Its status and scores as recorded, without a reload (the page once said "Training" long after).
    wait_for_js(page, "document.getElementById('candidate-status').textContent.trim() === 'Evaluated'")
    assert page.text_content("#accuracy") == f"{100 * candidate.accuracy:.1f} %"  # accuracies read as percentages
    assert not page.errors
    page.screenshot(path=str((SHOTS or tmp_path) / "candidate-live-weights.png"), full_page=True)
