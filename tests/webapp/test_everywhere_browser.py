"""The studio as a daily tool, in headless Chromium: a viewer's pages offer no enabled write control;
every main page fits a 390 px phone without sideways scrolling; the system's dark mode changes the
page; a slow action shows it is busy and comes back with the server's message when refused.

Screenshots (desktop and 390 px, light and dark) go to EVERYWHERE_SCREENSHOTS when set."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from browsing import expect_console, wait_for_js

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(600)]
SHOTS = Path(os.environ["EVERYWHERE_SCREENSHOTS"]) if os.environ.get("EVERYWHERE_SCREENSHOTS") else None
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}
LOADED = "document.readyState === 'complete'"


@pytest.fixture
def site(world, daphne):
    from webapp.architectures.evaluations import Evaluation
    from webapp.review import services

    v1 = world["v1"]
    evaluation = Evaluation.objects.create(version=v1, dataset=world["dataset"], steps=4, batch_size=4, spec=v1.spec)
    services.change_status(services.subject_for_candidate(world["child"]), world["bob"], "request")  # something in the feed
    return {**world, "base": daphne.base, "evaluation": evaluation}


def open_page(browser, site, user, *, viewport=DESKTOP, scheme="light"):
    from django.test import Client

    client = Client()
    client.force_login(site[user])
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": site["base"]}])
    page = context.new_page()
    # These tests open refusal pages (404, 409) and provoke refusals (400) on purpose: not faults.
    expect_console(page, r"Failed to load resource: the server responded with a status of 4[0-9][0-9]")
    page.set_default_timeout(30_000)
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


def visit(page, site, path, ready=LOADED):
    page.goto(site["base"] + path)
    wait_for_js(page, ready, timeout=30)


def main_pages(site):
    """(name, path, true once the page has drawn what it draws)."""
    parent, child, v1 = site["parent"], site["child"], site["v1"]
    return [
        ("experiments", "/", LOADED),
        ("experiment", f"/experiments/{site['experiment'].pk}/", "__studioTest.studio.caughtUp"),
        ("new-search", "/experiments/new/", LOADED),
        ("datasets", "/datasets/", LOADED),
        ("dataset", f"/datasets/{site['dataset'].pk}/", LOADED),
        ("candidate", f"/candidates/{child.pk}/", "__studioTest.viewer.analyzed"),
        ("library", "/architectures/", LOADED),
        ("architecture", f"/architectures/{v1.architecture_id}/", "__studioTest.viewer.analyzed"),
        ("editor", f"/architectures/editor/?version={v1.pk}", "__studioTest.editor.checks > 0 && !__studioTest.editor.validator.pending"),
        ("leaderboard", "/leaderboard/", LOADED),
        ("pareto", "/leaderboard/pareto/", "__studioTest.pareto.chart"),
        ("model", f"/models/candidate/{child.pk}/", "__studioTest.review && __studioTest.viewer.analyzed"),
        ("diff", f"/diff/?a=candidate:{parent.pk}&b=candidate:{child.pk}", "__studioTest.diffView.b.cy.nodes('.diff-changed').length > 0"),
        ("lineage", f"/lineage/{child.pk}/", LOADED),
        ("evaluation", f"/evaluations/{site['evaluation'].pk}/", "__studioTest.evaluationPage.reads >= 1"),
        ("workers", "/workers/", LOADED),
        ("team", f"/teams/{site['a'].pk}/", LOADED),
        ("activity", f"/teams/{site['a'].pk}/activity/", "__studioTest.activity.live"),
        ("refused", f"/models/candidate/{child.pk}/export/onnx/", LOADED),  # a 409: no ONNX export is ready
        ("missing", f"/experiments/{10**9}/", LOADED),
    ]


# Write controls, page by page: a viewer must see none of them enabled.
WRITE_CONTROLS = "#experiment-form, #synthetic-form, #folder-form, #import-form, #inject-form, #nav-new-search, " \
                 "a[href='/experiments/new/'], #actions button, #save, #evaluate, #review-actions button, #tag-form, " \
                 "#pointer-form, a[href*='/experiments/new/?dataset=']"

ENABLED_WRITE_CONTROLS = f"""Array.from(document.querySelectorAll("{WRITE_CONTROLS}"))
  .filter((el) => el.offsetParent !== null && !el.disabled)
  .map((el) => el.id || el.getAttribute('href') || el.tagName)"""

DISABLED_WITHOUT_REASON = f"""Array.from(document.querySelectorAll("{WRITE_CONTROLS}"))
  .filter((el) => el.offsetParent !== null && el.disabled && !el.title)
  .map((el) => el.id || el.tagName)"""


def test_a_viewers_pages_show_no_enabled_write_control(site, browser, tmp_path):
    child, v1 = site["child"], site["v1"]
    viewer_pages = [
        ("experiments", "/", LOADED),
        ("experiment", f"/experiments/{site['experiment'].pk}/", "__studioTest.studio.caughtUp"),
        ("editor", f"/architectures/editor/?version={v1.pk}", "__studioTest.editor.checks > 0 && !__studioTest.editor.validator.pending"),
        ("datasets", "/datasets/", LOADED),
        ("dataset", f"/datasets/{site['dataset'].pk}/", LOADED),
        ("new-search", "/experiments/new/", LOADED),
        ("library", "/architectures/", LOADED),
        ("model", f"/models/candidate/{child.pk}/", "__studioTest.review && __studioTest.viewer.analyzed"),
    ]
    dave, bob = open_page(browser, site, "dave"), open_page(browser, site, "bob")
    for name, path, ready in viewer_pages:
        visit(dave, site, path, ready)
        assert dave.evaluate(ENABLED_WRITE_CONTROLS) == [], name
        assert dave.evaluate(DISABLED_WITHOUT_REASON) == [], name
        (SHOTS or tmp_path).mkdir(parents=True, exist_ok=True)
        dave.screenshot(path=str((SHOTS or tmp_path) / f"viewer-{name}.png"), full_page=True)
        if name == "editor":  # disabled, and saying why: the server's own reason
            assert "member role" in dave.get_attribute("#save", "title") and dave.is_disabled("#evaluate")
    # The same check finds a member's controls (it is not blind).
    for path, ready in (("/", LOADED), (f"/architectures/editor/?version={v1.pk}", viewer_pages[2][2]), ("/datasets/", LOADED)):
        visit(bob, site, path, ready)
        assert bob.evaluate(ENABLED_WRITE_CONTROLS) != [], path
    assert dave.errors == [] and bob.errors == []


def test_every_main_page_fits_a_phone_and_follows_dark_mode(site, browser, tmp_path):
    folder = SHOTS or tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    pages = {(width, scheme): open_page(browser, site, "alice", viewport=view, scheme=scheme)
             for width, view in (("390", PHONE), ("desktop", DESKTOP)) for scheme in ("light", "dark")}
    for name, path, ready in main_pages(site):
        backgrounds = {}
        for (width, scheme), page in pages.items():
            visit(page, site, path, ready)
            if width == "390":
                scroll = page.evaluate("document.scrollingElement.scrollWidth")
                assert scroll <= 390, (name, scheme, scroll)
            backgrounds[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
            page.screenshot(path=str(folder / f"{name}-{width}-{scheme}.png"), full_page=True)
        assert backgrounds["light"] != backgrounds["dark"], name
    dark = pages[("desktop", "dark")].evaluate("getComputedStyle(document.body).backgroundColor")
    assert sum(int(x) for x in dark[dark.index("(") + 1:-1].split(",")[:3]) < 120, dark  # a dark colour, not just another
    for page in pages.values():
        assert page.errors == []


def test_a_slow_action_shows_it_is_busy_and_comes_back_with_the_servers_reason(site, browser, studio_data_dir):
    # Its checkpoint is there when the page opens (so it offers the export) and gone by the click: the server refuses.
    child = site["child"]
    checkpoint = studio_data_dir / "experiments" / "busy-test" / "model.pt"
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    checkpoint.write_bytes(b"not read before the click")
    child.checkpoint = str(checkpoint)
    child.save(update_fields=["checkpoint"])
    page = open_page(browser, site, "bob")
    visit(page, site, f"/models/candidate/{child.pk}/", "__studioTest.review && __studioTest.viewer.analyzed")
    checkpoint.unlink()
    during = page.evaluate("""() => {
      const button = document.getElementById('onnx-start');
      button.click();  // the submit handler marks it busy before its request goes out
      const status = button.nextElementSibling;
      return {disabled: button.disabled, busy: button.getAttribute('aria-busy'), text: status.textContent,
              spinner: Boolean(status.querySelector('.spinner'))};
    }""")
    assert during == {"disabled": True, "busy": "true", "text": " Queueing the export…", "spinner": True}
    wait_for_js(page, "!document.getElementById('onnx-start').disabled")
    status = page.locator("#onnx-start + .busy-status")
    assert "checkpoint is not on the server" in status.inner_text() and "error" in status.get_attribute("class")
    assert page.get_attribute("#onnx-start", "aria-busy") is None and page.errors == []
