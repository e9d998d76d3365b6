"""The review flow end to end: Daphne + headless Chromium (Debian's, driven by Playwright).

bob opens the leaderboard, filters it, opens a model, opens its diff to its parent, comments on an
edge of its drawing and requests a review; alice approves it; a viewer exports it to ONNX (a job,
its size shown before the download) and downloads it and its model card. Screenshots of each page go to REVIEW_SCREENSHOTS when set.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from browsing import expect_console, signed_in_page, wait_for_js

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(300)]
SHOTS = Path(os.environ["REVIEW_SCREENSHOTS"]) if os.environ.get("REVIEW_SCREENSHOTS") else None


def shot(page, name, tmp_path):
    folder = SHOTS or tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"review-{name}.png"), full_page=True)


@pytest.fixture
def site(trained, daphne):
    return {**trained, "base": daphne.base}


def test_review_flow_in_the_browser(site, browser, tmp_path):
    from webapp.studio.models import Candidate

    child = site["child"]
    # A real trade-off whatever the 2-step training scored and this machine's latency was: the child is
    # the more accurate, slower model (parent: 0.5 at 3 ms), so both are on the Pareto front.
    Candidate.objects.filter(pk=child.pk).update(accuracy=0.75, latency_ms=5.0)
    bob = signed_in_page(browser, site, "bob")
    bob.goto(site["base"] + "/leaderboard/")
    assert bob.locator("#leaderboard tbody tr").count() == 2
    bob.select_option("select[name=experiment]", str(site["experiment"].pk))
    bob.fill("input[name=min_accuracy]", "0.0")
    bob.select_option("select[name=sort]", "latency")
    bob.click("#apply-filters")
    bob.wait_for_url("**/leaderboard/?*")
    assert "sort=latency" in bob.url
    shot(bob, "leaderboard", tmp_path)
    bob.click("#pareto-link")
    wait_for_js(bob, "window.__studioTest.pareto && window.__studioTest.pareto.chart")
    box = bob.locator("#pareto-chart").bounding_box()
    point = bob.evaluate("(() => { const p = window.__studioTest.pareto.chart.getDatasetMeta(0).data[0]; return {x: p.x, y: p.y}; })()")
    bob.keyboard.down("Shift")
    bob.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    bob.keyboard.up("Shift")
    wait_for_js(bob, "window.__studioTest.pareto.compared.length === 1")
    assert bob.locator("#compare-ensemble").is_hidden()  # an ensemble needs two
    other = bob.evaluate("(() => { const p = window.__studioTest.pareto.chart.getDatasetMeta(0).data[1]; return {x: p.x, y: p.y}; })()")
    bob.keyboard.down("Shift")
    bob.mouse.click(box["x"] + other["x"], box["y"] + other["y"])
    bob.keyboard.up("Shift")
    wait_for_js(bob, "window.__studioTest.pareto.compared.length === 2")
    expect_console(bob, r"leaderboard/pareto/.*status of 400")  # the refusal below is a 400, on purpose
    bob.click("#compare-ensemble")  # the parent was never trained here: refused, and the page says why
    wait_for_js(bob, "document.getElementById('ensemble-status').textContent.includes('checkpoint')")
    shot(bob, "pareto", tmp_path)
    bob.go_back()
    bob.click(f"#leaderboard a[href='/models/candidate/{child.pk}/']")
    bob.wait_for_selector("#review-badge")
    wait_for_js(bob, "window.__studioTest.cy && window.__studioTest.cy.edges().length > 0")
    shot(bob, "model", tmp_path)

    bob.click("#diff-parent")
    wait_for_js(bob, "window.__studioTest.diffView && window.__studioTest.diffView.b.cy.nodes('.diff-changed').length > 0")
    changed = bob.evaluate("window.__studioTest.diffView.b.cy.nodes('.diff-changed').map((n) => n.id())")
    assert changed == [child.spec["nodes"][0]["id"]]
    assert "filters" in bob.locator("#changes").inner_text()
    shot(bob, "diff", tmp_path)

    bob.go_back()
    wait_for_js(bob, "window.__studioTest.cy && window.__studioTest.review")
    edge = child.spec["edges"][0]
    bob.evaluate(f"""() => {{ const e = window.__studioTest.cy.edges().filter((x) => x.data('source') === {edge['source']!r}
                                 && x.data('target') === {edge['target']!r}); e.select(); }}""")
    assert edge["source"] in bob.locator("#anchor-note").inner_text()
    bob.fill("#comment-body", "Is this edge needed?")
    bob.click("#comment-submit")
    bob.wait_for_selector("#threads article")
    assert "edge" in bob.locator("#threads article").first.inner_text()
    bob.click("#review-actions button[data-action=request]")
    wait_for_js(bob, "document.getElementById('review-badge').textContent.includes('In review')")
    assert bob.locator("#review-actions button[data-action=approve]").is_hidden()  # not for the requester
    shot(bob, "requested", tmp_path)

    alice = signed_in_page(browser, site, "alice")
    alice.goto(site["base"] + f"/models/candidate/{child.pk}/")
    alice.fill("#review-comment", "ship it")
    alice.click("#review-actions button[data-action=approve]")
    wait_for_js(alice, "document.getElementById('review-badge').textContent.includes('Approved')")
    assert "alice" in alice.locator("#review-state").inner_text()
    shot(alice, "approved", tmp_path)

    dave = signed_in_page(browser, site, "dave")
    dave.goto(site["base"] + f"/models/candidate/{child.pk}/")
    assert dave.locator("#review-actions button").count() == 0  # a viewer reads and comments
    # ONNX is a job: the viewer starts it, a worker runs it (here the task's body, in another thread of this
    # process, as a worker would: Playwright's event loop runs in this one), and the page follows it over
    # /ws/jobs/export/<id>/ until the file's size and its link show.
    from concurrent.futures import ThreadPoolExecutor

    from webapp.jobs.runner import run_job
    from webapp.review.export_jobs import human_size
    from webapp.review.models import Export

    dave.click("#onnx-start")
    wait_for_js(dave, "document.querySelector('#export-jobs-table tr[data-status=queued]') !== null")
    with ThreadPoolExecutor(1) as worker:
        assert worker.submit(run_job, "export", Export.objects.get(subject__candidate=child).pk, "browser-test:1").result() == "recorded"
    assert Export.objects.get(subject__candidate=child).status == "ready"
    wait_for_js(dave, "document.querySelector(\"#export-jobs-table a[data-export='ONNX']\") !== null", timeout=30)
    assert dave.evaluate("window.__studioTest.exportJobs.messages") >= 1  # followed over its socket, not by polling
    size = Export.objects.get(subject__candidate=child).size_bytes
    assert human_size(size) in dave.locator("#export-jobs-table").inner_text()  # the size, before the download
    shot(dave, "exports", tmp_path)
    for selector, suffix in (("#export-jobs-table a[data-export='ONNX']", ".onnx"),
                             ("#exports a[data-export='Model card (Markdown)']", ".md")):
        with dave.expect_download() as download:
            dave.click(selector)
        path = tmp_path / f"download{suffix}"
        download.value.save_as(path)
        assert path.stat().st_size > 0
    assert (tmp_path / "download.onnx").stat().st_size == size
    assert "approved" in (tmp_path / "download.md").read_text()

    from webapp.review.models import AuditEntry

    assert list(AuditEntry.objects.filter(subject__candidate=child).order_by("pk").values_list("action", flat=True)) == [
        "comment.added", "review.request", "review.approve", "export.requested", "export.ready"]
    alice.goto(site["base"] + f"/teams/{site['a'].pk}/")
    assert alice.locator("#members tr[data-user=dave]").count() == 1
    shot(alice, "team", tmp_path)
    for page in (bob, alice, dave):
        assert page.errors == []
