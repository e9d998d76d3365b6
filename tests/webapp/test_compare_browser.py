"""Compare in a real browser (Daphne + headless Chromium): two searches picked on the experiment list open
side by side with both curves drawn. Screenshots: $STUDIO_SCREENSHOTS (or tmp)."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from browsing import signed_in_page, wait_for_js

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(300)]


def test_pick_two_searches_and_compare_them(world, daphne, browser, tmp_path):
    from playwright.sync_api import expect

    from django.utils import timezone

    from webapp.studio.models import Candidate, Experiment

    shots = Path(os.environ.get("STUDIO_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    start = timezone.now() - timedelta(minutes=5)
    for experiment, accuracies in ((world["experiment"], None), (None, [0.25, 0.5, 0.4, 0.8])):
        if experiment is None:
            experiment = Experiment.objects.create(team=world["a"], name="beta", family="tvn", dataset=world["dataset"],
                                                   config=world["experiment"].config, status="finished", started_at=start)
            for i, accuracy in enumerate(accuracies):
                Candidate.objects.create(experiment=experiment, index=i, name=f"c{i:04d}", spec={}, status="evaluated",
                                         accuracy=accuracy, latency_ms=2.0 + i, completion_order=i + 1,
                                         finished_at=start + timedelta(seconds=40 * (i + 1)))
        else:
            Experiment.objects.filter(pk=experiment.pk).update(started_at=start, status="finished")
            for i, c in enumerate((world["parent"], world["child"])):
                Candidate.objects.filter(pk=c.pk).update(finished_at=start + timedelta(seconds=60 * (i + 1)))

    page = signed_in_page(browser, {**world, "base": daphne.base}, "dave")  # a viewer compares too
    page.goto(f"{daphne.base}/")
    page.check("input[aria-label='Compare alpha']")
    page.check("input[aria-label='Compare beta']")
    page.click("#compare-button")
    expect(page.locator("#compare thead")).to_contain_text("alpha")
    expect(page.locator("#compare thead")).to_contain_text("beta")
    wait_for_js(page, "window.__studioTest.compare.charts === 2")
    points = page.evaluate("() => Chart.getChart('chart-candidates').data.datasets.map(d => d.data.map(p => p.y))")
    assert sorted(points) == sorted([[0.5, 0.75], [0.25, 0.5, 0.5, 0.8]])
    expect(page.locator("#compare-csv")).to_have_attribute("href", f"/experiments/compare.csv?ids={sorted_ids(page)}")
    page.screenshot(path=str(shots / "compare.png"), full_page=True)
    assert page.errors == []


def sorted_ids(page) -> str:
    """The ids in the order the list offered them (newest first), as the page's CSV link carries them."""
    return "&ids=".join(page.url.split("?")[1].replace("ids=", "").split("&"))
