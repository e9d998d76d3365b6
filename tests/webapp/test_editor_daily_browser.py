"""The editor as a daily tool, in headless Chromium: leaving with unsaved edits asks first (and only
then); a node added from the palette lands in its level's column with the view left where it was;
a large published network opens readable, and Fit shows all of it. Screenshots go to
EDITOR_SCREENSHOTS when set."""
from __future__ import annotations

import pytest
from browsing import EDITOR_SHOTS as SHOTS
from browsing import assert_clean_console, run_js, signed_in_page, wait_for_js

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(300)]

READY = "window.__studioTest.editor && __studioTest.editor.checks > {after} && !__studioTest.editor.validator.pending"


def wait_checked(page, after: int = 0):
    wait_for_js(page, READY.format(after=after))


def open_editor(browser, site, query: str):
    page = signed_in_page(browser, site, "alice")
    dialogs = []

    def answer(dialog):  # record every prompt the page raises, and stay on the page
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", answer)
    page.goto(f"{site['base']}/architectures/editor/?{query}")
    wait_checked(page)
    return page, dialogs


def edit_frames(page, frames: str):
    """A valid edit: the RGB input's frame count, through the inspector."""
    checks = page.evaluate("__studioTest.editor.checks")
    run_js(page, "__studioTest.cy.elements(':selected').unselect(); __studioTest.cy.getElementById('rgb').select()")
    page.fill("#attr-frames", frames)
    page.press("#attr-frames", "Tab")
    wait_checked(page, checks)


def test_leaving_with_unsaved_edits_asks_first_and_only_then(site, browser):
    page, dialogs = open_editor(browser, site, "preset=tvn-small")
    library = "header a[href='/architectures/']"
    # Nothing changed: a link leaves at once.
    assert page.evaluate("__studioTest.editor.unsaved()") is False
    page.click(library)
    wait_for_js(page, "location.pathname === '/architectures/'")
    assert dialogs == []

    page.go_back()
    wait_checked(page)
    edit_frames(page, "6")
    assert page.evaluate("__studioTest.editor.unsaved()") is True
    # A link in the page asks; dismissed, the editor and the edit stay.
    page.click(library)
    assert dialogs == ["confirm"]
    assert page.evaluate("location.pathname") == "/architectures/editor/" and page.evaluate("__studioTest.editor.unsaved()")
    # Closing the tab (or reloading) asks through beforeunload; dismissed, the page stays open.
    page.close(run_before_unload=True)
    wait_for_js(page, "true")
    assert dialogs == ["confirm", "beforeunload"] and not page.is_closed()
    # Undo back to what was opened: nothing to lose, no prompt.
    page.locator("#graph").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+z")
    wait_for_js(page, "!__studioTest.editor.unsaved()")

    # Saved: leaving asks nothing.
    edit_frames(page, "6")
    page.fill("#message", "fewer frames")
    page.click("#save")
    wait_for_js(page, "__studioTest.editor.saved && document.getElementById('saved-link')")
    assert page.evaluate("__studioTest.editor.unsaved()") is False
    page.click(library)
    wait_for_js(page, "location.pathname === '/architectures/'")
    assert dialogs == ["confirm", "beforeunload"]
    assert_clean_console(page)


def test_an_added_node_lands_in_its_level_column_and_the_view_stays(site, browser, tmp_path):
    page, _ = open_editor(browser, site, "preset=assemblenet-50")
    before = page.evaluate("""() => ({zoom: __studioTest.cy.zoom(), pan: __studioTest.cy.pan(),
        positions: Object.fromEntries(__studioTest.cy.nodes('.spec-node, .input').map(n => [n.id(), n.position()]))})""")
    checks = page.evaluate("__studioTest.editor.checks")
    page.click(".palette-item[data-type=asn_block]")
    wait_checked(page, checks)
    after = page.evaluate("""() => {
        const cy = __studioTest.cy, id = __studioTest.editor.selection.id, node = cy.getElementById(id);
        const level = node.data('level');
        const column = cy.nodes('.asn_block').filter(n => n.id() !== id && n.data('level') === level).map(n => n.position());
        const others = cy.nodes('.asn_block').filter(n => n.data('level') !== level).map(n => n.position().x);
        const headings = cy.nodes('.heading').map(h => h.boundingBox());
        return {id, level, x: node.position().x, y: node.position().y, column, others, zoom: cy.zoom(), pan: cy.pan(), headings,
                positions: Object.fromEntries(cy.nodes('.spec-node, .input').filter(n => n.id() !== id).map(n => [n.id(), n.position()]))};
    }""")
    assert after["column"], after
    assert after["x"] in {p["x"] for p in after["column"]}  # in its own level's column...
    assert after["x"] not in set(after["others"])  # ...not in another level's
    assert after["y"] > max(p["y"] for p in after["column"] if p["x"] == after["x"])  # below the column's nodes
    assert after["positions"] == before["positions"]  # nothing else moved
    assert after["zoom"] == before["zoom"]  # no zoom reset
    # Level headings never overlap.
    boxes = after["headings"]
    assert len(boxes) >= 4
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a["x2"] <= b["x1"] or b["x2"] <= a["x1"] or a["y2"] <= b["y1"] or b["y2"] <= a["y1"], (a, b)
    page.screenshot(path=str((SHOTS or tmp_path) / "editor-added-node.png"))
    assert_clean_console(page)


def test_a_large_published_network_opens_readable_and_fit_shows_it_all(site, browser, tmp_path):
    page, _ = open_editor(browser, site, "preset=assemblenet-101")
    opened = page.evaluate("""() => { const cy = __studioTest.cy;
        const label = cy.nodes('.spec-node').first();
        return {zoom: cy.zoom(), px: parseFloat(label.style('font-size')) * cy.zoom(), nodes: cy.nodes('.spec-node').length}; }""")
    assert opened["nodes"] == 17
    assert opened["px"] >= 8.5, opened  # labels render at a readable size
    page.screenshot(path=str((SHOTS or tmp_path) / "editor-assemblenet-101-open.png"))
    page.click("#fit")
    shown = page.evaluate("""() => { const cy = __studioTest.cy, box = cy.elements(':visible').renderedBoundingBox();
        return {box, w: cy.width(), h: cy.height(), zoom: cy.zoom()}; }""")
    box = shown["box"]
    assert box["x1"] >= 0 and box["y1"] >= 0 and box["x2"] <= shown["w"] and box["y2"] <= shown["h"], shown  # everything in view
    page.screenshot(path=str((SHOTS or tmp_path) / "editor-assemblenet-101-fit.png"))
    assert_clean_console(page)


def test_the_running_search_offers_only_versions_that_fit(site, browser, launch, tmp_path):
    """The Inject form on a running search lists the versions it can take, not the one over its parameter budget."""
    from videomodels.presets import get_preset
    from webapp.architectures import services

    experiment = launch(parallelism=1)
    fits = services.create_architecture(user=site["bob"], team=site["a"], name="fits", spec=get_preset("tvn-small").to_dict())
    services.create_architecture(user=site["bob"], team=site["a"], name="too big", spec=get_preset("tvn-1").to_dict())
    page = signed_in_page(browser, site, "bob")
    page.goto(f"{site['base']}/experiments/{experiment.pk}/")
    wait_for_js(page, "document.getElementById('inject-version')")
    options = page.evaluate("[...document.querySelectorAll('#inject-version option')].map(o => [o.value, o.textContent])")
    assert options == [[str(fits.pk), "fits v1"]]
    page.locator("#inject-form").scroll_into_view_if_needed()
    page.screenshot(path=str((SHOTS or tmp_path) / "experiment-inject.png"), full_page=True)
    assert_clean_console(page)
    # Once it is in, nothing else fits: the section says why for each saved version instead of vanishing.
    page.click("#inject")
    wait_for_js(page, "document.getElementById('inject-none')")
    reasons = page.text_content("#inject-refused")
    assert "fits v1 is an exact copy of" in reasons and "too big v1" in reasons and "max_params" in reasons
    page.locator("#inject-none").scroll_into_view_if_needed()
    page.screenshot(path=str((SHOTS or tmp_path) / "experiment-inject-none.png"), full_page=True)
    assert_clean_console(page)
