// The diff page: the editor's drawing module twice, side by side, with the diff's changes marked
// (removed on the left, added on the right, changed on both) and selection kept in step by node_map.
import {createDrawing, drawable} from "../architectures/drawing.js";
import {$, readJSONScript} from "../common/dom.js";
import {exposeForTests} from "../common/testhook.js";

const boot = readJSONScript("diff-boot");
const diff = boot.diff;
const DIFF_STYLES = [
  ["node.diff-removed", {"border-color": "#dc2626", "border-width": 5, "background-color": "#fee2e2"}],
  ["node.diff-added", {"border-color": "#16a34a", "border-width": 5, "background-color": "#dcfce7"}],
  ["node.diff-changed", {"border-color": "#d97706", "border-width": 5, "background-color": "#fef3c7"}],
  ["edge.diff-removed", {"line-color": "#dc2626", "target-arrow-color": "#dc2626", "width": 5}],
  ["edge.diff-added", {"line-color": "#16a34a", "target-arrow-color": "#16a34a", "width": 5}],
  ["edge.diff-changed", {"line-color": "#d97706", "target-arrow-color": "#d97706", "width": 5}],
];

function draw(container, spec) {
  const drawing = createDrawing(container, {spec: drawable(spec)});
  let style = drawing.cy.style();
  for (const [selector, css] of DIFF_STYLES) style = style.selector(selector).style(css);
  style.update();
  return drawing;
}

function edgeElements(cy, source, target) {
  return cy.edges().filter((e) => e.data("source") === source && e.data("target") === target);
}

const a = draw($("graph-a"), boot.a.spec);
const b = draw($("graph-b"), boot.b.spec);
exposeForTests("diffView", {a, b, diff});
for (const n of diff.nodes_removed) a.cy.getElementById(n.id).addClass("diff-removed");
for (const n of diff.nodes_added) b.cy.getElementById(n.id).addClass("diff-added");
for (const c of diff.nodes_changed) { a.cy.getElementById(c.id_a).addClass("diff-changed"); b.cy.getElementById(c.id_b).addClass("diff-changed"); }
for (const e of diff.edges_removed) edgeElements(a.cy, e.source, e.target).addClass("diff-removed");
for (const e of diff.edges_added) edgeElements(b.cy, e.source, e.target).addClass("diff-added");
for (const e of diff.edges_changed) {
  edgeElements(a.cy, e.source_a, e.target_a).addClass("diff-changed");
  edgeElements(b.cy, e.source_b, e.target_b).addClass("diff-changed");
}
a.fit(); b.fit();

// Selecting a node on one side selects its match on the other.
const reverse = Object.fromEntries(Object.entries(diff.node_map).map(([x, y]) => [y, x]));
function sync(from, to, map) {
  from.cy.on("tap", "node", (event) => {
    const other = map[event.target.id()];
    to.cy.elements(":selected").unselect();
    if (other) to.cy.getElementById(other).select();
  });
}
sync(a, b, diff.node_map);
sync(b, a, reverse);
