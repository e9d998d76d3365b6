"""Rename and delete in a real browser (Daphne + headless Chromium): a member renames a search, is told a
dataset still in use cannot go, cancels only after saying yes, deletes after the confirmation page; a
viewer is refused with the reason. Screenshots go to $STUDIO_SCREENSHOTS (or tmp)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from browsing import signed_in_page

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(300)]


def shots_dir(tmp_path) -> Path:
    shots = Path(os.environ.get("STUDIO_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    return shots


def test_rename_cancel_and_delete_with_their_refusals(world, daphne, browser, tmp_path):
    from playwright.sync_api import expect

    from webapp.studio.models import Experiment

    shots, base = shots_dir(tmp_path), daphne.base
    site = {**world, "base": base}
    experiment, dataset = world["experiment"], world["dataset"]

    viewer = signed_in_page(browser, site, "dave")
    viewer.goto(f"{base}/experiments/{experiment.pk}/")
    expect(viewer.locator("#rename")).to_have_count(0)  # a viewer is offered no rename form
    viewer.click("#delete-link")
    expect(viewer.locator("#delete-refusal")).to_contain_text("Viewers read and comment only")
    expect(viewer.locator("#confirm-delete-button")).to_have_count(0)
    viewer.screenshot(path=str(shots / "manage-viewer-refused.png"), full_page=True)

    page = signed_in_page(browser, site, "bob")
    page.goto(f"{base}/experiments/{experiment.pk}/")
    page.click("#rename summary")
    page.fill("#rename input[name=name]", "alpha, renamed")
    page.screenshot(path=str(shots / "manage-rename-form.png"))
    page.click("#rename button[type=submit]")
    expect(page.locator("h1")).to_contain_text("alpha, renamed")
    expect(page.locator(".messages")).to_contain_text("Renamed.")

    # The dataset is in use: its confirmation names the search and offers no delete button.
    page.goto(f"{base}/datasets/?q=motion&status=ready")
    expect(page.locator("#datasets tbody tr")).to_have_count(1)
    page.screenshot(path=str(shots / "manage-datasets-list.png"))
    page.goto(f"{base}/datasets/{dataset.pk}/")
    page.click("#delete-link")
    expect(page.locator("#delete-blockers")).to_contain_text("1 experiment(s) use it (alpha, renamed): delete them first.")
    expect(page.locator("#confirm-delete-button")).to_have_count(0)
    page.screenshot(path=str(shots / "manage-dataset-in-use.png"), full_page=True)

    # Cancel asks first: "no" leaves the search as it was, "yes" cancels it.
    page.goto(f"{base}/experiments/{experiment.pk}/")
    answers = iter([False, True])
    questions = []

    def answer(dialog):
        questions.append(dialog.message)
        dialog.accept() if next(answers) else dialog.dismiss()

    page.on("dialog", answer)
    page.click("button[data-action=cancel]")
    expect(page.locator("#status")).to_have_text("Queued")
    assert Experiment.objects.get(pk=experiment.pk).status == "queued"
    page.click("button[data-action=cancel]")
    expect(page.locator("#status")).to_have_text("Cancelled")
    assert questions and "Cancel this search for good?" in questions[0]

    # Delete: the confirmation counts what goes, then the list says so.
    page.click("#delete-link")
    expect(page.locator("#what-goes")).to_contain_text("2 candidates")
    page.screenshot(path=str(shots / "manage-confirm-delete.png"), full_page=True)
    page.click("#confirm-delete-button")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator(".messages")).to_contain_text("Deleted the experiment 'alpha, renamed'.")
    assert not Experiment.objects.filter(pk=experiment.pk).exists()

    # Now nothing uses the dataset: it goes too.
    page.goto(f"{base}/datasets/{dataset.pk}/delete/")
    page.click("#confirm-delete-button")
    expect(page.locator(".messages")).to_contain_text("Deleted the dataset 'motion-a'.")

    # The library: rename an architecture and correct its version's message from its page.
    page.goto(f"{base}/architectures/{world['architecture'].pk}/")
    page.click("#rename summary")
    page.fill("#rename input[name=name]", "tiny tvn, kept")
    page.click("#rename button[type=submit]")
    expect(page.locator("h1")).to_contain_text("tiny tvn, kept")
    page.click("#edit-message summary")
    page.fill("#edit-message input[name=message]", "the first one, checked")
    page.click("#edit-message button[type=submit]")
    expect(page.locator("#versions")).to_contain_text("the first one, checked")
    page.screenshot(path=str(shots / "manage-architecture.png"))
    assert page.errors == [] and viewer.errors == []
