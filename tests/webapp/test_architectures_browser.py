"""The graph editor end to end: Daphne + headless Chromium (Debian's, driven by Playwright).

Open AssembleNet-50, check that every node and edge of the spec is drawn and that edge widths
order like the weights; draw an edge by dragging; change a temporal dilation and the width of
a block and see the server's answer (labels, totals); make a cycle and see the error on that
edge; undo it; save two versions. Then edit an EvaNet block's branches, and screenshot the
three families.
"""
from __future__ import annotations

import re

import pytest
from browsing import EDITOR_SHOTS as SHOTS
from browsing import run_js, signed_in_page, wait_for_js

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(300)]


def wait_checked(page, after: int = 0):
    """Until the server has answered a check made after `after` answers, and nothing is pending."""
    wait_for_js(page, f"window.__studioTest.editor && window.__studioTest.editor.checks > {after} && !window.__studioTest.editor.validator.pending")


def drag(page, source: str, target: str):
    """Mouse-drag from one drawn node to another (in draw mode that draws an edge); Fit first when one is out of view
    (a large network opens at a readable zoom, part of it a pan away)."""
    box = page.locator("#graph").bounding_box()
    if not page.evaluate(f"""() => [{source!r}, {target!r}].every((id) => {{ const p = __studioTest.cy.getElementById(id).renderedPosition();
                                     return p.x > 0 && p.y > 0 && p.x < __studioTest.cy.width() && p.y < __studioTest.cy.height(); }})"""):
        page.click("#fit")
    points = page.evaluate(f"""() => [__studioTest.cy.getElementById({source!r}).renderedPosition(), __studioTest.cy.getElementById({target!r}).renderedPosition()]""")
    (x0, y0), (x1, y1) = [(box["x"] + p["x"], box["y"] + p["y"]) for p in points]
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=8)
    page.mouse.move(x1, y1, steps=8)
    page.wait_for_timeout(150)  # edgehandles' hover delay
    page.mouse.up()


def test_edit_assemblenet_in_the_browser(site, browser, tmp_path):
    from videomodels.presets import get_preset
    from webapp.architectures.models import Architecture

    page = signed_in_page(browser, site, "alice")
    try:
        page.goto(f"{site['base']}/architectures/editor/?preset=assemblenet-50")
        wait_checked(page)
        spec = get_preset("assemblenet-50").to_dict()
        drawn = page.evaluate("""() => ({
            nodes: __studioTest.cy.nodes('.spec-node').map(n => n.id()).sort(),
            inputs: __studioTest.cy.nodes('.input').map(n => n.id()),
            edges: __studioTest.cy.edges('.spec-edge').map(e => [e.data('source'), e.data('target')]),
            fused: __studioTest.cy.edges('.spec-edge.fused').map(e => [e.data('weight'), e.numericStyle('width'), e.hasClass('frozen')]),
            valid: __studioTest.editor.report.valid, params: document.querySelector('[data-total=params]').textContent,
        })""")
        assert drawn["nodes"] == sorted(n["id"] for n in spec["nodes"])
        assert drawn["inputs"] == [s["id"] for s in spec["inputs"]]
        assert sorted(map(tuple, drawn["edges"])) == sorted((e["source"], e["target"]) for e in spec["edges"])
        assert drawn["valid"] and drawn["params"] == "36.9 M"
        # Wider is stronger: widths sort exactly like the weights (frozen published weights, drawn solid).
        fused = sorted(drawn["fused"])
        assert len(fused) == sum(1 for e in spec["edges"] if e["weight"] is not None) > 20
        assert all(frozen for _, _, frozen in fused)
        assert all(a[1] < b[1] for a, b in zip(fused, fused[1:]) if a[0] < b[0])

        # Draw an edge by dragging from stem n0 to the level-2 block n13; nothing else moves (stable layout).
        where = "() => Object.fromEntries(__studioTest.cy.nodes('.spec-node, .input').map(n => [n.id(), n.position()]))"
        before = page.evaluate(where)
        checks = page.evaluate("__studioTest.editor.checks")
        page.click("#draw-mode")
        drag(page, "n0", "n13")
        wait_for_js(page, "__studioTest.cy.getElementById('e:n0->n13').nonempty()")
        wait_checked(page, checks)
        assert page.evaluate("__studioTest.editor.stack.spec.edges.some(e => e.source === 'n0' && e.target === 'n13')")
        assert page.evaluate("__studioTest.editor.report.valid")
        assert page.evaluate(where) == before
        page.click("#draw-mode")  # back to moving and selecting

        # A temporal dilation: the server's answer relabels the node; dilation costs nothing, so the totals stay.
        macs_before = page.text_content("[data-total=macs]")
        run_js(page, "__studioTest.cy.getElementById('n5').select()")
        checks = page.evaluate("__studioTest.editor.checks")
        page.fill("#attr-temporal_dilation", "2")
        page.press("#attr-temporal_dilation", "Tab")
        wait_checked(page, checks)
        assert "d2" in page.evaluate("__studioTest.cy.getElementById('n5').data('label')")
        assert page.text_content("[data-total=macs]") == macs_before
        # Its width does cost: parameters and multiply-adds update, and so does the side panel.
        params_before = page.text_content("[data-total=params]")
        checks = page.evaluate("__studioTest.editor.checks")
        page.fill("#attr-filters", "64")
        page.press("#attr-filters", "Tab")
        wait_checked(page, checks)
        assert page.text_content("[data-total=params]") != params_before
        assert page.text_content("[data-total=macs]") != macs_before
        assert page.text_content(".out-shape") == "256×32×56²"

        # A cycle: level-3 n14 back into n4. The error sits on that edge and in the list.
        checks = page.evaluate("__studioTest.editor.checks")
        page.click("#draw-mode")
        drag(page, "n14", "n4")
        page.click("#draw-mode")
        wait_checked(page, checks)
        state = page.evaluate("""() => ({valid: __studioTest.editor.report.valid, onEdge: __studioTest.cy.getElementById('e:n14->n4').hasClass('problem'),
                                         listed: [...document.querySelectorAll('#problem-list li')].map(li => li.textContent),
                                         save: document.getElementById('save').disabled})""")
        assert not state["valid"] and state["onEdge"] and state["save"]
        assert any("n14->n4 closes a cycle" in text for text in state["listed"])

        # Undo (Ctrl+Z): the edge is gone, and with it the error.
        checks = page.evaluate("__studioTest.editor.checks")
        page.locator("#graph").click(position={"x": 5, "y": 5})
        page.keyboard.press("Control+z")
        wait_checked(page, checks)
        assert page.evaluate("__studioTest.cy.getElementById('e:n14->n4').empty() && __studioTest.cy.elements('.problem').empty() && __studioTest.editor.report.valid")
        # Redo and undo again via the buttons.
        page.click("#redo")
        wait_for_js(page, "__studioTest.cy.getElementById('e:n14->n4').nonempty()")
        page.click("#undo")
        wait_for_js(page, "__studioTest.cy.getElementById('e:n14->n4').empty()")
        wait_checked(page, page.evaluate("__studioTest.editor.checks") - 1)

        # Save: the preset forks into the team's library, then a second save is version 2.
        page.fill("#name", "my assemblenet")
        page.fill("#message", "n0 feeds n13; n5 dilated")
        page.click("#save")
        page.wait_for_selector("#saved-link")
        architecture = Architecture.objects.get(name="my assemblenet")
        assert (architecture.origin, architecture.origin_preset, architecture.team) == ("preset", "assemblenet-50", site["a"])
        first = architecture.versions.get()
        assert first.message == "n0 feeds n13; n5 dilated"
        assert any(e["source"] == "n0" and e["target"] == "n13" for e in first.spec["edges"])
        assert next(n for n in first.spec["nodes"] if n["id"] == "n5")["attrs"]["temporal_dilation"] == 2
        run_js(page, "__studioTest.cy.getElementById('e:n0->n13').select()")
        page.fill("#edge-weight", "0.9")
        page.press("#edge-weight", "Tab")
        page.uncheck("#edge-learnable")
        wait_checked(page, page.evaluate("__studioTest.editor.checks"))
        page.fill("#message", "strong frozen n0->n13")
        page.click("#save")
        wait_for_js(page, "document.getElementById('saved-link')?.textContent === 'v2'")
        second = architecture.versions.get(number=2)
        assert second.parent == first
        edge = next(e for e in second.spec["edges"] if (e["source"], e["target"]) == ("n0", "n13"))
        assert (edge["weight"], edge["learnable"]) == (0.9, False)
        png = page.evaluate("__studioTest.editor.drawing.png()")
        assert png.startswith("data:image/png;base64,") and len(png) > 10_000
        assert page.errors == []
        page.screenshot(path=str((SHOTS or tmp_path) / "editor-assemblenet-50.png"))
    except Exception:
        page.screenshot(path=str(tmp_path / "failure.png"))
        print(f"screenshot: {tmp_path / 'failure.png'}\n----- daphne -----\n{site['daphne'].output()[-3000:]}")
        raise


def test_edit_evanet_branches_and_draw_every_family(site, browser, tmp_path):
    page = signed_in_page(browser, site, "bob")
    page.goto(f"{site['base']}/architectures/editor/?preset=evanet-1")
    wait_checked(page)
    assert page.evaluate("__studioTest.cy.getElementById('res2').isParent() && __studioTest.cy.getElementById('res2').children().length") == 2
    colours = page.evaluate("[__studioTest.cy.getElementById('res4::b2').data('colour'), __studioTest.cy.getElementById('res4::b0').data('colour')]")
    assert colours[0] != colours[1]  # iTGM and max pooling are told apart
    run_js(page, "__studioTest.cy.getElementById('res2').select()")
    params = page.text_content("[data-total=params]")
    checks = page.evaluate("__studioTest.editor.checks")
    page.click("#add-branch")
    wait_checked(page, checks)
    assert page.evaluate("__studioTest.cy.getElementById('res2').children().length") == 3
    assert page.text_content("[data-total=params]") != params
    run_js(page, "__studioTest.cy.getElementById('res2::b2').select()")
    checks = page.evaluate("__studioTest.editor.checks")
    page.select_option("#attr-kind", "conv")
    page.fill("#attr-temporal_kernel", "4")  # even: EvaNet temporal sizes are odd
    page.press("#attr-temporal_kernel", "Tab")
    wait_for_js(page, "__studioTest.editor.report && !__studioTest.editor.report.valid && !__studioTest.editor.validator.pending")
    assert page.evaluate("__studioTest.cy.getElementById('res2::b2').hasClass('problem')")
    assert "res2.attrs.branches[2].temporal_kernel" in page.text_content("#problem-list")  # named by id, not index
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    wait_for_js(page, "__studioTest.cy.getElementById('res2').children().length === 2")
    wait_checked(page, page.evaluate("__studioTest.editor.checks") - 1)
    assert page.evaluate("__studioTest.editor.report.valid") and page.text_content("[data-total=params]") == params

    page.screenshot(path=str((SHOTS or tmp_path) / "editor-evanet-1.png"))
    assert page.errors == []
    page.context.close()

    # A node from the palette: unconnected, so the server flags it; Delete removes it.
    page = signed_in_page(browser, site, "bob")  # fresh pages: long-lived ones crashed under heavy machine load
    page.goto(f"{site['base']}/architectures/editor/?preset=evanet-1")
    wait_checked(page)
    checks = page.evaluate("__studioTest.editor.checks")
    page.click(".palette-item[data-type=pool3d]")
    wait_checked(page, checks)
    assert page.evaluate("__studioTest.cy.getElementById('pool5').hasClass('problem') && !__studioTest.editor.report.valid")
    # Placed where it overlaps nothing already drawn.
    assert page.evaluate("""() => { const p = __studioTest.cy.getElementById('pool5').position();
        return __studioTest.cy.nodes('.spec-node').every(n => n.id() === 'pool5' || n.isParent() || Math.hypot(n.position().x - p.x, n.position().y - p.y) > 60); }""")
    page.locator("#graph").click(position={"x": 5, "y": 5})
    run_js(page, "__studioTest.cy.getElementById('pool5').select()")
    checks = page.evaluate("__studioTest.editor.checks")
    page.keyboard.press("Delete")
    wait_checked(page, checks)
    assert page.evaluate("__studioTest.cy.getElementById('pool5').empty() && __studioTest.editor.report.valid")
    # The input stream's fields: more frames cost more multiply-adds.
    macs = page.text_content("[data-total=macs]")
    run_js(page, "__studioTest.cy.elements(':selected').unselect(); __studioTest.cy.getElementById('rgb').select()")
    checks = page.evaluate("__studioTest.editor.checks")
    page.fill("#attr-frames", "64")
    page.press("#attr-frames", "Tab")
    wait_checked(page, checks)
    assert page.text_content("[data-total=macs]") != macs
    # Colour by multiply-adds; search by name.
    page.select_option("#overlay", "macs")
    overlay = page.evaluate("__studioTest.cy.nodes('.spec-node.overlay').map(n => n.data('ov'))")
    assert len(overlay) == 10 and max(overlay) == 1 and min(overlay) < 0.1
    page.fill("#search", "^res")
    assert page.evaluate("__studioTest.cy.nodes('.spec-node.match').map(n => n.id()).sort()") == ["res2", "res3", "res4", "res5"]
    assert page.errors == []
    page.context.close()
    for preset in ("assemblenet-plus", "tvn-1"):
        page = signed_in_page(browser, site, "bob")  # a fresh page each: long-lived pages grow heavy under load
        page.goto(f"{site['base']}/architectures/editor/?preset={preset}")
        wait_checked(page)
        assert page.evaluate("__studioTest.editor.report.valid"), preset
        if preset == "assemblenet-plus":
            assert page.evaluate("__studioTest.cy.edges('.peer').length") > 0
        page.screenshot(path=str((SHOTS or tmp_path) / f"editor-{preset}.png"))
        assert page.errors == []
        page.context.close()


def test_candidate_page_draws_and_opens_the_editor(site, browser, ready_dataset):
    from archsearch.config import SearchConfig
    from videomodels.presets import get_preset
    from webapp.studio.models import Candidate, Experiment

    experiment = Experiment.objects.create(team=site["a"], name="alpha", family="tvn", dataset=ready_dataset,
                                           config=SearchConfig(family="tvn", population=2, rounds=1).to_dict())
    candidate = Candidate.objects.create(experiment=experiment, index=0, name="c0000", spec=get_preset("tvn-small").to_dict())
    page = signed_in_page(browser, site, "bob")
    page.goto(f"{site['base']}/candidates/{candidate.pk}/")
    wait_for_js(page, "window.__studioTest.viewer && window.__studioTest.viewer.analyzed")
    assert page.evaluate("__studioTest.cy.nodes('.spec-node').length") == len(candidate.spec["nodes"])
    assert re.search(r"\d", page.text_content("[data-total=params]"))
    page.click("#open-editor")
    wait_checked(page)
    assert page.evaluate("__studioTest.editor.boot.candidate") == candidate.pk
    assert page.errors == []
