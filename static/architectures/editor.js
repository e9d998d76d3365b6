// The graph editor page: a command stack on the spec, one drawing, the server as the judge.
// Its state is exported as `editor` (the Evaluate panel reads the saved version and the drawing)
// and exposed, with the Cytoscape instance, to the end-to-end tests and the benchmarks.
import {busy} from "../common/busy.js";
import {$, download, h, readJSONScript} from "../common/dom.js";
import {HttpError, postJSON} from "../common/http.js";
import {exposeForTests} from "../common/testhook.js";
import {CommandStack, addBranch, addEdge, addInput, addNode, removeBranch, removeElements, setAttr, setBranch, setEdge, setInput} from "./commands.js";
import {createDrawing, drawable} from "./drawing.js";
import {renderPalette} from "./palette.js";
import {renderInspector, renderProblems, renderTotals} from "./panels.js";
import {createValidator} from "./validation.js";

const boot = readJSONScript("editor-boot");
boot.spec = drawable(boot.spec);
const family = boot.familySchema;
const editable = true;

const state = exposeForTests("editor", {
  boot, family, report: null, lastValid: null, located: {problems: [], warnings: []}, selection: null,
  architecture: boot.architecture, version: boot.version, versionNumber: boot.versionNumber,
  checks: 0, feedbackMs: [], timings: {}, saved: null, drawMode: false,
});
export {state as editor};

// ------------------------------------------------------------------ drawing
const drawing = state.drawing = createDrawing($("graph"), {spec: boot.spec, editable});
const cy = exposeForTests("cy", drawing.cy);
drawing.open();
cy.one("render", () => { state.timings.drawn = performance.now(); });
requestAnimationFrame(() => requestAnimationFrame(() => { state.timings.drawnFrame = performance.now(); }));

// ------------------------------------------------------------------ commands
const stack = state.stack = new CommandStack(boot.spec, (change) => {
  state.lastChange = change;
  drawing.update(stack.spec); // the last analysis stays on the labels until the server answers
  refreshButtons();
  renderSide();
  state.validator.schedule(stack.spec, performance.now());
});
state.run = (label, change) => stack.run(label, change);

function refreshButtons() {
  $("undo").disabled = !stack.canUndo;
  $("redo").disabled = !stack.canRedo;
  $("undo").title = stack.canUndo ? `Undo ${stack.done[stack.done.length - 1].label} (Ctrl+Z)` : "Nothing to undo";
  $("redo").title = stack.canRedo ? `Redo ${stack.undone[stack.undone.length - 1].label} (Ctrl+Shift+Z)` : "Nothing to redo";
  const report = state.report;
  const refused = $("save").dataset.refused;  // the server's reason when the user's role may not save here
  $("save").disabled = Boolean(refused) || !(report && report.valid && !state.validator.pending);
  $("save").title = refused || (report && !report.valid ? "Fix the problems first: an invalid architecture cannot be saved" : "Save a new version");
}

// ------------------------------------------------------------------ validation
state.validator = createValidator(boot.urls.analyze, (report, sentSpec, elapsed) => {
  state.report = report;
  state.checks += 1;
  if (report.valid) state.lastValid = report;
  drawing.update(stack.spec, report.valid ? report : null);
  state.located = drawing.markProblems(report.problems || [], report.warnings || [], sentSpec);
  renderProblems($("problems"), state.located, select);
  renderTotals($("totals"), report.valid ? report : {...report, totals: state.lastValid?.totals ?? null}, {stale: !report.valid});
  renderSide();
  refreshButtons();
  // Edit made -> feedback shown, after the browser has painted it.
  requestAnimationFrame(() => state.feedbackMs.push(elapsed));
}, {family: boot.family});

// ------------------------------------------------------------------ selection and panels
function selectionOf(el) {
  const kind = el.data("kind");
  if (kind === "node" || kind === "input") return {kind, id: el.id()};
  if (kind === "edge") return {kind, id: el.id(), index: el.data("index")};
  if (kind === "branch") return {kind, id: el.id(), block: el.data("block"), branch: el.data("branch")};
  return null;
}

// Picked from a list: centred. Just added: shown only if out of view, the zoom and the rest as they were.
function select(elementId, {center = true} = {}) {
  const el = cy.getElementById(elementId);
  if (el.empty()) return;
  cy.elements(":selected").unselect();
  el.select();
  if (center) cy.animate({center: {eles: el}, duration: 150});
  else drawing.reveal(el);
}

cy.on("select unselect", () => {
  const chosen = cy.elements(":selected");
  state.selection = chosen.nonempty() ? selectionOf(chosen.last()) : null;
  $("delete").disabled = chosen.empty();
  renderSide();
});

function renderSide() {
  // Re-read the selection: an undo may have removed what was selected.
  if (state.selection && cy.getElementById(state.selection.id).empty()) state.selection = null;
  if (state.selection?.kind === "edge") state.selection.index = cy.getElementById(state.selection.id).data("index");
  const located = [...state.located.problems.map((p) => ({...p, severity: "error"})), ...state.located.warnings.map((w) => ({...w, severity: "warning"}))];
  renderInspector($("inspector"), {
    selection: state.selection, spec: stack.spec, analysis: state.report?.valid ? state.report : null, family, editable, located,
    onAttr: (id, key, value) => stack.run(`${id}.${key} = ${value}`, (s) => setAttr(s, id, key, value)),
    onEdge: (index, changes) => stack.run(`edge ${index} ${Object.keys(changes).join(",")}`, (s) => setEdge(s, index, changes)),
    onInput: (id, key, value) => stack.run(`${id}.${key} = ${value}`, (s) => setInput(s, id, key, value)),
    onBranch: (id, i, key, value) => stack.run(`${id} branch ${i + 1} ${key}`, (s) => setBranch(s, id, i, key, value)),
    onAddBranch: (id) => stack.run(`add branch to ${id}`, (s) => addBranch(s, id)),
    onRemoveBranch: (id, i) => stack.run(`remove branch ${i + 1} of ${id}`, (s) => removeBranch(s, id, i)),
    onSelectBranch: (id, i) => select(`${id}::b${i}`),
  });
}

// ------------------------------------------------------------------ edits from the drawing
function endpoint(node) {
  return node.data("kind") === "branch" ? node.parent() : node;
}

const handles = state.handles = cy.edgehandles({
  canConnect: (source, target) => {
    const [s, t] = [endpoint(source), endpoint(target)];
    return !s.same(t) && ["node", "input"].includes(s.data("kind")) && t.data("kind") === "node";
  },
  edgeParams: () => ({classes: "eh-temp"}),
  hoverDelay: 60, snap: true, snapThreshold: 20, noEdgeEventsInDraw: true, disableBrowserGestures: true,
});
cy.on("ehcomplete", (event, source, target, added) => {
  added.remove();
  const [s, t] = [endpoint(source).id(), endpoint(target).id()];
  stack.run(`connect ${s} → ${t}`, (spec) => addEdge(spec, s, t));
});

function setDrawMode(on) {
  state.drawMode = on;
  if (on) handles.enableDrawMode(); else handles.disableDrawMode();
  $("draw-mode").classList.toggle("active", on);
  $("draw-mode").setAttribute("aria-pressed", String(on));
}

function deleteSelection() {
  const chosen = cy.elements(":selected");
  if (chosen.empty()) return;
  const nodes = chosen.filter("[kind = 'node']").map((n) => n.id());
  const inputs = chosen.filter("[kind = 'input']").map((n) => n.id());
  const edges = chosen.filter("[kind = 'edge']").map((e) => e.data("index"));
  const branches = chosen.filter("[kind = 'branch']").map((b) => [b.data("block"), b.data("branch")]);
  stack.run(`delete ${nodes.length + inputs.length + edges.length + branches.length} element(s)`, (spec) => {
    // Branches first, highest index first, so the others keep their numbers.
    branches.sort((a, b) => b[1] - a[1]).forEach(([block, i]) => removeBranch(spec, block, i));
    removeElements(spec, {nodes, edges, inputs});
  });
}

// ------------------------------------------------------------------ toolbar
renderPalette($("palette"), family, {
  onAddNode: (type) => {
    let id;
    if (stack.run(`add ${type.name}`, (spec) => { id = addNode(spec, type); })) select(id, {center: false});
  },
  onAddInput: (modality) => {
    let id;
    if (stack.run(`add ${modality} input`, (spec) => { id = addInput(spec, modality); })) select(id, {center: false});
  },
});

$("undo").addEventListener("click", () => stack.undo());
$("redo").addEventListener("click", () => stack.redo());
$("delete").addEventListener("click", deleteSelection);
$("draw-mode").addEventListener("click", () => setDrawMode(!state.drawMode));
$("fit").addEventListener("click", () => drawing.fit());
$("relayout").addEventListener("click", () => drawing.relayout());
$("overlay").addEventListener("change", (e) => drawing.setOverlay(e.target.value));
$("peers")?.addEventListener("change", (e) => drawing.setShowPeers(e.target.checked));
$("search").addEventListener("input", (e) => {
  const hits = drawing.search(e.target.value);
  $("search-count").textContent = e.target.value ? `${hits.length} found` : "";
});
$("search").addEventListener("keydown", (e) => {
  if (e.key === "Enter") { const hits = cy.nodes(".match"); if (hits.nonempty()) cy.animate({fit: {eles: hits, padding: 60}, duration: 200}); }
});
$("export-png").addEventListener("click", () => download(drawing.png(), `${slug()}.png`));
$("export-json").addEventListener("click", () => {
  const url = URL.createObjectURL(new Blob([JSON.stringify(stack.spec, null, 2) + "\n"], {type: "application/json"}));
  download(url, `${slug()}.json`);
  setTimeout(() => URL.revokeObjectURL(url), 1000);
});

function slug() {
  return ($("name").value || boot.title || "architecture").replace(/[^A-Za-z0-9_-]+/g, "-").slice(0, 80);
}

document.addEventListener("keydown", (e) => {
  const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement?.tagName);
  const mod = e.ctrlKey || e.metaKey;
  if (mod && e.key.toLowerCase() === "z" && !typing) {
    e.preventDefault();
    if (e.shiftKey) stack.redo(); else stack.undo();
  } else if (mod && e.key.toLowerCase() === "y" && !typing) {
    e.preventDefault();
    stack.redo();
  } else if ((e.key === "Delete" || e.key === "Backspace") && !typing) {
    e.preventDefault();
    deleteSelection();
  } else if (e.key === "e" && !typing && !mod) {
    setDrawMode(!state.drawMode);
  }
});

// ------------------------------------------------------------------ save
$("save").addEventListener("click", async () => {
  const message = $("message").value.trim();
  const indicator = busy($("save"), "saving…", {status: $("save-status")});
  let version;
  const sent = JSON.stringify(stack.spec);  // an edit made while saving is still unsaved
  try {
    version = await saveVersion(message);
  } catch (error) {
    indicator.fail(`not saved: ${error.message}`);
    if (!(error instanceof HttpError)) throw error;
    const problems = error.data?.problems || [];
    if (problems.length) {
      state.located = drawing.markProblems(problems, [], stack.spec);
      renderProblems($("problems"), state.located, select);
    }
    refreshButtons();
    return;
  }
  indicator.done();
  state.architecture = version.architecture;
  state.version = version.id;
  state.versionNumber = version.number;
  state.saved = version;
  state.markSaved(sent);
  $("save-status").replaceChildren("Saved as ", h("a", {href: `/architectures/${version.architecture}/?version=${version.number}`,
                                                         text: `v${version.number}`, id: "saved-link"}));
  $("origin").textContent = `version ${version.number} of this architecture`;
  history.replaceState(null, "", `?version=${version.id}`);
  refreshButtons();
});

// A new version of the architecture being edited, or the first version of a new one.
function saveVersion(message) {
  if (state.architecture) {
    return postJSON(`${boot.urls.architectures}${state.architecture}/versions/`, {spec: stack.spec, message, parent: state.version});
  }
  const body = {spec: stack.spec, message, name: $("name").value.trim()};
  if (boot.preset) body.preset = boot.preset;
  if (boot.candidate) body.candidate = boot.candidate;
  if (boot.version) body.version = boot.version;
  const team = $("team");
  if (team && team.value) body.team = Number(team.value);
  return postJSON(boot.urls.architectures, body);
}

// ------------------------------------------------------------------ unsaved changes
// The spec as last saved (or as opened): leaving with anything else asks first, whether by a link
// in the page, a reload or closing the tab. Undoing back to it is "nothing changed".
let savedJSON = JSON.stringify(boot.spec);
let leaving = false;
state.unsaved = () => JSON.stringify(stack.spec) !== savedJSON;
state.markSaved = (json = JSON.stringify(stack.spec)) => { savedJSON = json; };

window.addEventListener("beforeunload", (event) => {
  if (leaving || !state.unsaved()) return;
  event.preventDefault();
  event.returnValue = "";  // older browsers need it set to show their own prompt
});

document.addEventListener("click", (event) => {
  const link = event.target.closest?.("a[href]");
  if (!link || event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
  if (link.target && link.target !== "_self") return;  // a new tab: this page stays
  if (link.hasAttribute("download") || link.getAttribute("href").startsWith("#")) return;
  if (!state.unsaved()) return;
  if (window.confirm("This architecture has unsaved changes. Leave without saving them?")) {
    leaving = true;  // asked once: the page's own beforeunload does not ask again
  } else {
    event.preventDefault();
  }
}, true);

// ------------------------------------------------------------------ start
refreshButtons();
renderSide();
state.validator.now(stack.spec, performance.now());
