"""Every page with a script, opened in headless Chromium: it finishes drawing and logs no error.

The pages share one front-end module (static/common); a broken import, a refused request or a
Content Security Policy violation shows as a console error or an uncaught exception here, on
whichever page it breaks. Screenshots go to FRONTEND_SCREENSHOTS when set.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from review_world import world  # noqa: F401 - fixture
from browsing import wait_for_js
from test_architectures_browser import signed_in_page

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(300)]
SHOTS = Path(os.environ["FRONTEND_SCREENSHOTS"]) if os.environ.get("FRONTEND_SCREENSHOTS") else None


@pytest.fixture
def site(world, redis_server, studio_data_dir, processes):  # noqa: F811 - the world fixture
    daphne, base = processes.daphne(redis_server.url, studio_data_dir)
    return {**world, "base": base}


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
        ("editor", f"/architectures/editor/?version={v1.pk}",
         "__studioTest.editor.checks > 0 && !__studioTest.editor.validator.pending"),
    ]


def test_every_page_draws_without_console_errors(site, browser, tmp_path):
    page = signed_in_page(browser, site, "alice")
    console = []
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    folder = SHOTS or tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    for name, path, ready in pages(site):
        page.goto(site["base"] + path)
        wait_for_js(page, ready, timeout=30)
        page.screenshot(path=str(folder / f"page-{name}.png"), full_page=True)
        assert (console, page.errors) == ([], []), name


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
    assert page.errors == []
