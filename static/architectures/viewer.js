// Read-only drawing (an architecture's version, a candidate): the same drawing module as the
// editor, priced once by the server so nodes show their output shapes and costs.
import {createDrawing, drawable} from "./drawing.js";
import {renderInspector, renderProblems, renderTotals} from "./panels.js";
import {postJSON} from "./validation.js";

const $ = (id) => document.getElementById(id);
const boot = JSON.parse($("drawing-boot").textContent);
const state = window.viewer = {boot, report: null, selection: null, located: {problems: [], warnings: []}};

if (boot.spec && typeof boot.spec === "object" && Array.isArray(boot.spec.nodes)) {
  const drawing = state.drawing = createDrawing($("graph"), {spec: drawable(boot.spec)});
  const cy = window.cy = drawing.cy;
  drawing.fit();

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
  $("export-png")?.addEventListener("click", () => {
    const a = Object.assign(document.createElement("a"), {href: drawing.png(), download: `${boot.filename || "architecture"}.png`});
    document.body.append(a); a.click(); a.remove();
  });
  side();
  postJSON(boot.analyzeUrl, boot.spec).then(({data}) => {
    if (!data || !("valid" in data)) return;
    state.report = data;
    if (data.valid) drawing.update(drawing.spec, data);
    state.located = drawing.markProblems(data.problems || [], data.warnings || []);
    if ($("problems")) renderProblems($("problems"), state.located, (id) => cy.getElementById(id).select());
    if ($("totals")) renderTotals($("totals"), data);
    side();
    state.analyzed = true;
  });
} else {
  $("graph").replaceChildren(Object.assign(document.createElement("p"), {className: "muted", textContent: "This spec cannot be drawn (it is not an ArchSpec graph)."}));
  state.analyzed = true;
}
