"""Every page with a script, opened in headless Chromium: it finishes drawing and logs no error.

The pages share one front-end module (static/common); a broken import, a refused request or a
Content Security Policy violation shows as a console error or an uncaught exception here, on
whichever page it breaks. Screenshots go to FRONTEND_SCREENSHOTS when set.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from browsing import assert_clean_console, signed_in_page, wait_for_js

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(300)]
SHOTS = Path(os.environ["FRONTEND_SCREENSHOTS"]) if os.environ.get("FRONTEND_SCREENSHOTS") else None


@pytest.fixture
def site(world, daphne):
    from webapp.architectures.evaluations import Evaluation
    from webapp.review.models import Ensemble
    from webapp.review.services import subject_for_ensemble

    v1 = world["v1"]
    # Jobs nobody runs here (no worker): their pages show them queued and follow them.
    evaluation = Evaluation.objects.create(version=v1, dataset=world["dataset"], steps=4, batch_size=4, spec=v1.spec)
    ensemble = Ensemble.objects.create(team=world["a"], created_by=world["bob"], name="pair")
    subject_for_ensemble(ensemble)
    return {**world, "base": daphne.base, "evaluation": evaluation, "ensemble": ensemble}


def pages(site):
    """(name, path, the expression that is true once the page has drawn what it draws)."""
    parent, child, v1 = site["parent"], site["child"], site["v1"]
    return [
        ("experiment", f"/experiments/{site['experiment'].pk}/", "__studioTest.studio.caughtUp"),
        ("candidate", f"/candidates/{child.pk}/", "__studioTest.viewer.analyzed"),
        ("model", f"/models/candidate/{child.pk}/", "__studioTest.review && __studioTest.viewer.analyzed"),
        ("diff", f"/diff/?a=candidate:{parent.pk}&b=candidate:{child.pk}",
         "__studioTest.diffView.b.cy.nodes('.diff-changed').length > 0"),
        ("pareto", "/leaderboard/pareto/", "__studioTest.pareto.chart"),
        ("activity", f"/teams/{site['a'].pk}/activity/", "__studioTest.activity.live"),
        ("architecture", f"/architectures/{v1.architecture_id}/", "__studioTest.viewer.analyzed"),
        ("evaluation", f"/evaluations/{site['evaluation'].pk}/", "__studioTest.evaluationPage.reads >= 1 && __studioTest.viewer.analyzed"),
        ("ensemble", f"/models/ensemble/{site['ensemble'].pk}/", "__studioTest.job && __studioTest.job.reads >= 1"),
        ("editor", f"/architectures/editor/?version={v1.pk}", EDITED),
        # The rest of a day's flow: every page a person passes through, with or without a script of its own.
        ("dashboard", "/", LOADED),
        ("datasets", "/datasets/", LOADED),
        ("dataset", f"/datasets/{site['dataset'].pk}/", LOADED),
        ("experiment-new", "/experiments/new/", LOADED),
        ("workers", "/workers/", LOADED),
        ("library", "/architectures/", LOADED),
        ("editor-published", "/architectures/editor/?preset=assemblenet-101", EDITED),
        ("editor-new", "/architectures/editor/?new=evanet", EDITED),
        ("leaderboard", "/leaderboard/", LOADED),
        ("lineage", f"/lineage/{child.pk}/", LOADED),
        ("teams", "/teams/", LOADED),
        ("team", f"/teams/{site['a'].pk}/", LOADED),
        ("api-docs", "/api/docs/", LOADED),
        ("password", "/accounts/password/", LOADED),
    ]


EDITED = "__studioTest.editor.checks > 0 && !__studioTest.editor.validator.pending"
LOADED = "document.readyState === 'complete'"


def test_every_page_draws_without_console_errors(site, browser, tmp_path):
    page = signed_in_page(browser, site, "alice")
    folder = SHOTS or tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    for name, path, ready in pages(site):
        page.goto(site["base"] + path)
        wait_for_js(page, ready, timeout=30)
        page.screenshot(path=str(folder / f"page-{name}.png"), full_page=True)
        assert_clean_console(page)


def test_the_activity_feed_reads_what_it_missed_after_a_reconnect(site, browser):
    """An entry stored but never pushed (written while the socket was down) shows once the page reconnects."""
    from webapp.review.models import AuditEntry

    page = signed_in_page(browser, site, "alice")
    page.goto(site["base"] + f"/teams/{site['a'].pk}/activity/")
    wait_for_js(page, "__studioTest.activity.live")
    missed = AuditEntry.objects.create(team=site["a"], actor=site["bob"], action="tag", detail={"tag": "while-away"})
    page.evaluate("__studioTest.activity.connection.socket.close()")
    wait_for_js(page, f"__studioTest.activity.connection.connections >= 2 && document.querySelector('#feed li[data-id=\"{missed.pk}\"]')")
    assert "while-away" in page.text_content(f"#feed li[data-id='{missed.pk}']")
    # An entry without an actor (a search that ended on its own) starts with what happened, naming no one.
    ended = AuditEntry.objects.create(team=site["a"], actor=None, action="experiment.finished", detail={"model": "overnight", "url": "/"})
    page.evaluate("__studioTest.activity.connection.socket.close()")
    wait_for_js(page, f"document.querySelector('#feed li[data-id=\"{ended.pk}\"]')")
    assert page.text_content(f"#feed li[data-id='{ended.pk}'] .action") == "Search finished"
    assert page.locator(f"#feed li[data-id='{ended.pk}'] strong").count() == 0
    assert page.errors == []


def test_the_evaluation_page_reads_what_it_missed_after_a_reconnect(site, browser):
    """A change stored but never pushed (its message lost while the socket was down) shows once the page reconnects."""
    from webapp.architectures.evaluations import Evaluation

    evaluation = site["evaluation"]
    page = signed_in_page(browser, site, "bob")
    page.goto(site["base"] + f"/evaluations/{evaluation.pk}/")
    wait_for_js(page, "__studioTest.evaluationPage.reads >= 1")
    page.evaluate("window.__sameDocument = true")
    Evaluation.objects.filter(pk=evaluation.pk).update(status="failed", reason="lost while away", attempt=2)  # published to nobody
    page.evaluate("__studioTest.evaluationPage.socket.socket.close()")
    wait_for_js(page, "__studioTest.evaluationPage.socket.connections >= 2 && __studioTest.evaluationPage.status === 'failed'")
    assert page.text_content("#eval-reason") == "lost while away" and page.is_visible("#retry")
    assert page.evaluate("window.__sameDocument") is True and page.errors == []


def test_a_csp_violation_or_console_error_is_caught_on_any_page(site, browser):
    """The watcher every browser test runs under sees what the policy refuses and what a script logs as an error."""
    from browsing import console_problems, expect_console

    page = signed_in_page(browser, site, "alice")
    page.goto(site["base"] + "/architectures/")
    assert_clean_console(page)
    page.evaluate("document.body.setAttribute('style', 'color: red')")  # an inline style attribute: refused by style-src
    page.evaluate("console.error('broken on purpose')")
    wait_for_js(page, "true")
    problems = console_problems(page.context)
    assert any("CSP violation: style-src" in p for p in problems), problems
    assert any("broken on purpose" in p for p in problems), problems
    expect_console(page, r"CSP violation: style-src|inline style violates|broken on purpose")  # provoked here: not a failure
    assert console_problems(page.context) == []
