// Read-only drawing (an architecture's version, a candidate, a model's review page): the same
// drawing module as the editor, priced once by the server so nodes show their output shapes and
// costs. Other modules of the page import `viewer` to reach its drawing (null on a page without one).
import {$, download, h, readJSONScript} from "../common/dom.js";
import {postJSON} from "../common/http.js";
import {exposeForTests} from "../common/testhook.js";
import {createDrawing, drawable} from "./drawing.js";
import {renderInspector, renderProblems, renderTotals} from "./panels.js";

const boot = readJSONScript("drawing-boot");
export const viewer = exposeForTests("viewer", {boot, drawing: null, report: null, selection: null, located: {problems: [], warnings: []}});

function draw(state) {
  const drawing = state.drawing = createDrawing($("graph"), {spec: drawable(boot.spec)});
  const cy = exposeForTests("cy", drawing.cy);
  drawing.open();

  const side = () => renderInspector($("inspector"), {selection: state.selection, spec: drawing.spec, analysis: state.report?.valid ? state.report : null,
                                                      family: boot.familySchema, editable: false,
                                                      located: state.located.problems.map((p) => ({...p, severity: "error"}))});
  cy.on("select unselect", () => {
    const el = cy.elements(":selected").last();
    const kind = el.nonempty() ? el.data("kind") : null;
    state.selection = kind ? {kind, id: el.id(), index: el.data("index"), block: el.data("block"), branch: el.data("branch")} : null;
    side();
  });
  $("overlay")?.addEventListener("change", (e) => drawing.setOverlay(e.target.value));
  $("fit")?.addEventListener("click", () => drawing.fit());
  $("search")?.addEventListener("input", (e) => drawing.search(e.target.value));
  $("export-png")?.addEventListener("click", () => download(drawing.png(), `${boot.filename || "architecture"}.png`));
  side();
  postJSON(boot.analyzeUrl, boot.spec).then((data) => {
    if (!data || !("valid" in data)) return;
    state.report = data;
    if (data.valid) drawing.update(drawing.spec, data);
    state.located = drawing.markProblems(data.problems || [], data.warnings || []);
    if ($("problems")) renderProblems($("problems"), state.located, (id) => cy.getElementById(id).select());
    if ($("totals")) renderTotals($("totals"), data);
    side();
  }).catch(() => {}).finally(() => { state.analyzed = true; });  // unpriced, the drawing still stands
}

if (boot?.spec && typeof boot.spec === "object" && Array.isArray(boot.spec.nodes)) {
  draw(viewer);
} else if (boot) {
  $("graph").replaceChildren(h("p", {class: "muted", text: "This spec cannot be drawn (it is not an ArchSpec graph)."}));
  viewer.analyzed = true;
}
