"""Lists in a real browser (Daphne + headless Chromium): a page number past the end says so with a link to the
last page, and an experiment page shows its candidates a page at a time. Screenshots: $STUDIO_SCREENSHOTS (or tmp)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from browsing import expect_console, signed_in_page

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(300)]


def test_an_out_of_range_page_and_a_paged_candidate_table(world, daphne, browser, tmp_path):
    from playwright.sync_api import expect

    from webapp.studio.models import Candidate, Event, Experiment

    shots = Path(os.environ.get("STUDIO_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    base = daphne.base
    experiment = world["experiment"]
    Experiment.objects.bulk_create([Experiment(team=world["a"], name=f"run {i:02d}", family="tvn", dataset=world["dataset"],
                                               config=experiment.config) for i in range(30)])
    # 60 sampled candidates, as the event stream tells the page about them.
    Candidate.objects.bulk_create([Candidate(experiment=experiment, index=i, name=f"c{i:04d}", spec={}, generation=i // 20)
                                   for i in range(2, 60)])
    first = experiment.last_seq + 1
    events = [Event(experiment=experiment, seq=first + i, type="candidate_sampled",
                    payload={"candidate_id": c.name, "candidate": c.pk, "generation": c.generation, "mutation": None})
              for i, c in enumerate(Candidate.objects.filter(experiment=experiment).order_by("index"))]
    Event.objects.bulk_create(events)
    Experiment.objects.filter(pk=experiment.pk).update(last_seq=events[-1].seq)

    page = signed_in_page(browser, {**world, "base": base}, "bob")
    expect_console(page, r"\?page=9&q=run: Failed to load resource: .*404")  # the page past the end is a 404, on purpose
    page.goto(f"{base}/?page=9&q=run")
    expect(page.locator("#list-problem")).to_contain_text("Page 9 of 2 does not exist.")
    expect(page.locator("#experiments")).to_have_count(0)  # not page 1 in disguise
    page.screenshot(path=str(shots / "lists-out-of-range.png"), full_page=True)
    page.click("#list-problem-link")
    expect(page.locator("#pager-position")).to_have_text("Page 2 of 2")
    expect(page.locator("#experiments tbody tr")).to_have_count(5)
    expect(page.locator("#list-filters input[name=q]")).to_have_value("run")
    page.screenshot(path=str(shots / "lists-page-2.png"), full_page=True)

    page.goto(f"{base}/experiments/{experiment.pk}/")
    expect(page.locator("#feed-position")).to_have_text("Page 1 of 3 · 60 candidates")
    expect(page.locator("#feed tbody tr")).to_have_count(25)
    expect(page.locator("#feed tbody tr").first).to_have_attribute("data-name", "c0059")
    page.click("#feed-older")
    page.click("#feed-older")
    expect(page.locator("#feed-position")).to_have_text("Page 3 of 3 · 60 candidates")
    expect(page.locator("#feed tbody tr")).to_have_count(10)
    expect(page.locator("#feed tbody tr").last).to_have_attribute("data-name", "c0000")
    expect(page.locator("#feed-older")).to_be_disabled()
    page.screenshot(path=str(shots / "lists-candidates-page-3.png"), full_page=True)
    assert page.errors == []
