// The one drawing of an ArchSpec, used by the editor, the read-only pages and (later) both
// panes of a diff. It turns a spec (+ the server's analysis) into Cytoscape elements and keeps
// them in sync by id; it never judges validity (the server does) and never edits the spec.
import {fixed, tensorShape} from "../common/format.js";
import {branchId, layout} from "./layout.js";

const STREAM_COLOURS = {rgb: "#fde2e2", flow: "#dbeafe", object: "#dcfce7", segmentation: "#dcfce7"};
const STREAM_INK = {rgb: "#b91c1c", flow: "#1d4ed8", object: "#15803d", segmentation: "#15803d"};
// EvaNet layer types, as in the seed's figure.
const LAYER_COLOURS = {conv3d: "#93c5fd", conv2p1: "#86efac", itgm: "#fdba74", maxpool: "#fca5a5", avgpool: "#d8b4fe", "1x1": "#e5e7eb"};
const TYPE_COLOURS = {classifier: "#fef3c7", representation_flow: "#e0e7ff", pool3d: "#fca5a5", tvn_block: "#e0f2fe",
                      asn_block: "#f1f5f9", evanet_block: "#f8fafc", evanet_stem: "#f1f5f9", asn_stem: "#f1f5f9"};

export function edgeId(edge, index, seen) {
  const base = `e:${edge.source}->${edge.target}`;
  const count = seen.get(base) || 0;
  seen.set(base, count + 1);
  return count ? `${base}#${count}` : base;
}

export function edgeIds(spec) {
  const seen = new Map();
  return spec.edges.map((e, i) => edgeId(e, i, seen));
}

function branchLabel(branch) {
  const t = branch.temporal_kernel ?? 1;
  const names = {conv3d: "3D", conv2p1: "(2+1)D", itgm: "iTGM"};
  if (branch.kind === "1x1") return "1×1×1";
  if (branch.kind === "maxpool_conv") return `maxpool t${t} → 1×1`;
  if (branch.kind === "conv") return `${names[branch.conv_type] || branch.conv_type} t${t}`;
  if (branch.kind === "conv2") return `${names[branch.conv_type] || branch.conv_type} t${t} → ${names[branch.conv_type2] || branch.conv_type2} t${branch.temporal_kernel2 ?? 1}`;
  return String(branch.kind);
}

function branchColour(branch) {
  if (branch.kind === "1x1") return LAYER_COLOURS["1x1"];
  if (branch.kind === "maxpool_conv") return LAYER_COLOURS.maxpool;
  return LAYER_COLOURS[branch.conv_type] || "#e5e7eb";
}

function nodeLabel(node, cost) {
  const a = node.attrs || {};
  const shape = cost ? tensorShape(cost.output_shape) : "";
  const lines = [];
  switch (node.type) {
    case "asn_stem":
      lines.push(`${node.id} · ${a.modality || "rgb"} stem`, `d${a.temporal_dilation ?? 1} · ${a.filters ?? "?"} ch`);
      break;
    case "asn_block":
      lines.push(`${node.id} · L${a.level}${a.attention === "peer" ? " · peer-att" : ""}`,
                 `d${a.temporal_dilation ?? 1} · ${(a.filters ?? 0) * 4} ch · ×${a.num_modules ?? 3}`);
      break;
    case "evanet_block":
      return `${node.id} ×${a.repeats ?? 1} · ${a.filters ?? "?"} ch${shape ? " · " + shape : ""}`;
    case "evanet_stem":
      lines.push(`${node.id} · ${a.conv_type || "conv2p1"} stem`, `t${a.temporal_kernel ?? 3} · ${a.filters ?? 64} ch`);
      break;
    case "pool3d":
      lines.push(`${node.id} · ${a.kind || "max"}pool`, `${a.temporal_kernel ?? 1}×${a.spatial_kernel ?? 3}² /${a.temporal_stride ?? 1},${a.spatial_stride ?? 2}`);
      break;
    case "tvn_block": {
      const extras = [a.squeeze ? `SE ${Number(a.squeeze).toPrecision(2)}` : null, a.context_gate ? "CG" : null, a.skip ? "skip" : null,
                      a.inv_bottleneck ? "inv-bottle" : null].filter(Boolean);
      lines.push(`${node.id} ×${a.repeats ?? 1} · ${a.filters ?? "?"} ch`,
                 `${a.spatial_type} ${a.spatial_kernel}² /${a.spatial_stride} · ${a.temporal_type} t${a.temporal_kernel} /${a.temporal_stride}`);
      if (extras.length) lines.push(extras.join(" · "));
      break;
    }
    case "classifier":
      lines.push(`${node.id} · classifier`, `${a.num_classes ?? "?"} classes`);
      break;
    case "representation_flow":
      lines.push(`${node.id} · rep. flow`, `${a.iterations ?? 40} iterations`);
      break;
    default:
      lines.push(`${node.id} · ${node.type}`);
  }
  if (shape) lines.push(shape);
  return lines.join("\n");
}

function nodeColour(node) {
  if (node.type === "asn_stem") return STREAM_COLOURS[node.attrs?.modality] || STREAM_COLOURS.rgb;
  if (node.type === "evanet_stem") return LAYER_COLOURS[node.attrs?.conv_type] || TYPE_COLOURS.evanet_stem;
  if (node.type === "pool3d") return node.attrs?.kind === "avg" ? LAYER_COLOURS.avgpool : LAYER_COLOURS.maxpool;
  return TYPE_COLOURS[node.type] || "#f1f5f9";
}

// Nodes read implicitly by peer-attention (AssembleNet++): every stem/block below the fusing level.
function peerEdges(spec) {
  const level = (n) => (n.type === "asn_stem" ? -1 : n.type === "asn_block" ? Number(n.attrs?.level) : null);
  const fanIn = new Map();
  for (const e of spec.edges) fanIn.set(e.target, (fanIn.get(e.target) || 0) + 1);
  const out = [];
  for (const target of spec.nodes) {
    if (target.type !== "asn_block" || target.attrs?.attention !== "peer" || (fanIn.get(target.id) || 0) < 2) continue;
    for (const peer of spec.nodes) {
      const l = level(peer);
      if (l !== null && l < Number(target.attrs.level)) out.push({source: peer.id, target: target.id});
    }
  }
  return out;
}

export function elementsFor(spec, analysis, positions, branches, bands, headings = []) {
  const costs = analysis?.nodes || {};
  const elements = [];
  headings.forEach((heading) => elements.push({group: "nodes", classes: "heading", selectable: false, grabbable: false,
    data: {id: `heading:${heading.label}`, label: heading.label, colour: "#ffffff"}, position: {x: heading.x, y: heading.y}}));
  bands.forEach((band, i) => elements.push({
    group: "nodes", classes: "band",
    data: {id: `band:${band.stream}:${i}`, label: `${band.stream} stream`, colour: STREAM_COLOURS[band.stream] || "#f3f4f6",
           ink: STREAM_INK[band.stream] || "#374151", w: band.x2 - band.x1, h: band.y2 - band.y1},
    position: {x: (band.x1 + band.x2) / 2, y: (band.y1 + band.y2) / 2}, selectable: false, grabbable: false,
  }));
  // Invalid specs are drawn too: a duplicate id is drawn once, an edge to a missing node not at all
  // (the validator's problems say so).
  const drawn = new Set();
  for (const stream of spec.inputs) {
    if (drawn.has(stream.id)) continue;
    drawn.add(stream.id);
    const ink = STREAM_INK[stream.modality] || "#374151";
    elements.push({group: "nodes", classes: "input", position: positions.get(stream.id) || {x: 0, y: 0},
      data: {id: stream.id, kind: "input", type: "input", label: `${stream.id} · ${stream.modality} input\n${stream.channels}×${stream.frames}×${stream.size}² /${stream.frame_stride}`,
             colour: STREAM_COLOURS[stream.modality] || "#f3f4f6", ink}});
  }
  const fanIn = new Map();
  for (const e of spec.edges) fanIn.set(e.target, (fanIn.get(e.target) || 0) + 1);
  spec.nodes.forEach((node, index) => {
    if (drawn.has(node.id)) return;
    drawn.add(node.id);
    const cost = costs[node.id];
    const compound = node.type === "evanet_block";
    elements.push({group: "nodes", classes: `spec-node ${node.type}${compound ? " block" : ""}`,
      position: compound ? undefined : positions.get(node.id) || {x: 0, y: 0},
      data: {id: node.id, kind: "node", index, type: node.type, label: nodeLabel(node, cost), colour: nodeColour(node),
             params: cost?.params ?? null, macs: cost?.macs ?? null, level: node.attrs?.level ?? null,
             attention: node.attrs?.attention === "peer"}});
    if (compound) {
      const list = Array.isArray(node.attrs?.branches) ? node.attrs.branches : [];
      list.forEach((branch, j) => elements.push({group: "nodes", classes: "branch",
        position: branches.get(branchId(node.id, j)) || positions.get(node.id),
        data: {id: branchId(node.id, j), parent: node.id, kind: "branch", block: node.id, branch: j, type: "branch",
               label: branchLabel(branch || {}), colour: branchColour(branch || {})}}));
    }
  });
  const ids = edgeIds(spec);
  spec.edges.forEach((edge, index) => {
    if (!drawn.has(edge.source) || !drawn.has(edge.target)) return;
    const single = (fanIn.get(edge.target) || 0) < 2;
    const weight = edge.weight === null || edge.weight === undefined ? null : Number(edge.weight);
    const classes = ["spec-edge", single ? "single" : "fused", edge.learnable === false ? "frozen" : "learnable"];
    if (!single && weight === null) classes.push("unweighted");
    elements.push({group: "edges", classes: classes.join(" "),
      data: {id: ids[index], kind: "edge", index, source: edge.source, target: edge.target,
             w: weight ?? 0.5, weight, learnable: edge.learnable !== false,
             label: !single && weight !== null ? fixed(weight, 2) : ""}});
  });
  peerEdges(spec).forEach((p) => elements.push({group: "edges", classes: "peer",
    data: {id: `peer:${p.source}->${p.target}`, kind: "peer", source: p.source, target: p.target}, selectable: false}));
  return elements;
}

export function styles() {
  return [
    {selector: "node", style: {
      "shape": "round-rectangle", "background-color": "data(colour)", "border-width": 1, "border-color": "#94a3b8",
      "label": "data(label)", "text-wrap": "wrap", "text-valign": "center", "text-halign": "center", "font-size": 11,
      "font-family": "system-ui, sans-serif", "color": "#111827", "width": 146, "height": 58, "text-max-width": 142}},
    {selector: "node.input", style: {"shape": "tag", "border-color": "data(ink)", "border-width": 2, "width": 140}},
    {selector: "node.classifier", style: {"shape": "round-hexagon", "width": 130}},
    {selector: "node.tvn_block", style: {"width": 190, "height": 62, "text-max-width": 186}},
    {selector: "node.asn_stem", style: {"border-width": 2}},
    {selector: "node[?attention]", style: {"border-color": "#7c3aed", "border-width": 2, "border-style": "double"}},
    {selector: "node.block", style: {
      "shape": "round-rectangle", "background-color": "#f8fafc", "background-opacity": 0.9, "border-color": "#64748b",
      "text-valign": "top", "text-halign": "center", "text-margin-y": -3, "font-weight": 600, "padding": 10, "font-size": 11,
      "text-wrap": "none"}},
    {selector: "node.branch", style: {"width": 150, "height": 32, "font-size": 10, "border-color": "#64748b"}},
    {selector: "node.band", style: {
      "shape": "round-rectangle", "width": "data(w)", "height": "data(h)", "background-color": "data(colour)", "background-opacity": 0.45,
      "border-width": 0, "label": "data(label)", "text-valign": "top", "text-halign": "center", "color": "data(ink)",
      "font-size": 11, "font-weight": 600, "text-margin-y": 14, "z-index": 0, "events": "no"}},
    {selector: "node.heading", style: {
      "shape": "rectangle", "background-opacity": 0, "border-width": 0, "width": 120, "height": 20, "font-size": 13,
      "font-weight": 600, "color": "#475569", "events": "no", "text-transform": "uppercase"}},
    {selector: "edge", style: {
      "curve-style": "bezier", "target-arrow-shape": "triangle", "arrow-scale": 0.8, "width": 1.5, "line-color": "#9ca3af",
      "target-arrow-color": "#9ca3af", "font-size": 9, "text-background-color": "#fff", "text-background-opacity": 0.85,
      "text-background-padding": 1, "color": "#374151", "label": "data(label)", "text-rotation": "autorotate",
      "min-zoomed-font-size": 7}},
    // Darker and wider is stronger (the seed's figures); learnable weights are dashed, frozen ones solid.
    {selector: "edge.fused", style: {
      "width": "mapData(w, 0, 1, 0.6, 9)", "line-color": "mapData(w, 0, 1, #dbe2ea, #0f172a)",
      "target-arrow-color": "mapData(w, 0, 1, #dbe2ea, #0f172a)"}},
    {selector: "edge.fused.learnable", style: {"line-style": "dashed", "line-dash-pattern": [7, 4]}},
    {selector: "edge.unweighted", style: {"line-color": "#94a3b8", "target-arrow-color": "#94a3b8"}},
    {selector: "edge.peer", style: {
      "line-style": "dotted", "line-color": "#8b5cf6", "target-arrow-shape": "none", "width": 1, "opacity": 0.35,
      "curve-style": "unbundled-bezier", "control-point-distances": 40, "events": "no", "label": ""}},
    {selector: "edge.peer.hidden", style: {"display": "none"}},
    {selector: "node.overlay", style: {"background-color": "mapData(ov, 0, 1, #f1f5f9, #dc2626)"}},
    // Search-space warnings are many on published networks: marked only while asked for.
    {selector: "node.warning.flagged", style: {"border-color": "#d97706", "border-width": 3}},
    {selector: "node.problem", style: {"border-color": "#dc2626", "border-width": 4, "border-style": "solid"}},
    {selector: "edge.problem", style: {"line-color": "#dc2626", "target-arrow-color": "#dc2626", "width": 4, "line-style": "solid"}},
    {selector: ":selected", style: {"overlay-color": "#2563eb", "overlay-opacity": 0.18, "overlay-padding": 4}},
    {selector: "node.faded, edge.faded", style: {"opacity": 0.22}},
    {selector: "node.match", style: {"border-color": "#2563eb", "border-width": 4}},
    {selector: ".eh-preview, .eh-ghost-edge", style: {"line-color": "#2563eb", "target-arrow-color": "#2563eb", "width": 2, "line-style": "solid"}},
    {selector: ".eh-ghost-node", style: {"opacity": 0, "width": 1, "height": 1}},
  ];
}

// A drawing bound to a container. `update(spec, analysis)` re-syncs by id, keeping the
// positions of nodes already drawn; `relayout()` recomputes them all.
// Node labels are 11 px at zoom 1: below this zoom they render under 8.5 px, too small to read.
export const LABEL_PX = 11;
export const READABLE_ZOOM = 8.5 / LABEL_PX;

export function createDrawing(container, {spec, analysis = null, editable = false} = {}) {
  const cy = window.cytoscape({container, elements: [], style: styles(), wheelSensitivity: 0.3, minZoom: 0.05, maxZoom: 3,
                               boxSelectionEnabled: editable, selectionType: "single", autoungrabify: false});
  const drawing = {cy, spec: null, analysis: null, overlay: "none", showPeers: true};

  drawing.update = function (nextSpec, nextAnalysis = drawing.analysis, {relayout = false} = {}) {
    const keep = new Map();
    if (!relayout) cy.nodes(".spec-node, .input").forEach((n) => { if (!n.isParent()) keep.set(n.id(), {...n.position()}); });
    // A compound block's own position follows its branches: keep the block's centre.
    if (!relayout) cy.nodes(".block").forEach((n) => keep.set(n.id(), {...n.position()}));
    const {positions, branches, bands, headings} = layout(nextSpec, {keep});
    const elements = elementsFor(nextSpec, nextAnalysis, positions, branches, bands, headings);
    cy.batch(() => {
      const wanted = new Set(elements.map((e) => e.data.id));
      cy.elements().forEach((el) => { if (!wanted.has(el.id())) el.remove(); });
      for (const el of elements) {
        const existing = cy.getElementById(el.data.id);
        const sameEnds = existing.nonempty() && (el.group !== "edges" || (existing.data("source") === el.data.source && existing.data("target") === el.data.target));
        const parentChanged = existing.nonempty() && el.group === "nodes" && (existing.data("parent") || null) !== (el.data.parent || null);
        if (existing.nonempty() && sameEnds && !parentChanged) {
          existing.data(el.data);
          existing.classes(el.classes);
          if (el.group === "nodes" && el.position && (relayout || /\b(band|branch|heading)\b/.test(el.classes))) existing.position(el.position);
        } else {
          if (existing.nonempty()) existing.remove();
          cy.add(el);
        }
      }
    });
    drawing.spec = nextSpec;
    drawing.analysis = nextAnalysis;
    drawing.applyOverlay();
    cy.edges(".peer").toggleClass("hidden", !drawing.showPeers);
    return drawing;
  };

  drawing.relayout = () => { drawing.update(drawing.spec, drawing.analysis, {relayout: true}); drawing.open(); };
  // Everything on screen, however small (the Fit button).
  drawing.fit = () => cy.fit(cy.elements(":visible"), 30);
  // How a drawing opens: fitted, but never so small that labels cannot be read. A graph too big
  // for that (AssembleNet-101) opens at the readable zoom on its inputs, the rest a pan away.
  drawing.open = () => {
    drawing.fit();
    if (cy.zoom() >= READABLE_ZOOM) return;
    const box = cy.elements(":visible").boundingBox();
    cy.zoom(READABLE_ZOOM);
    cy.pan({x: 30 - box.x1 * READABLE_ZOOM, y: cy.height() / 2 - ((box.y1 + box.y2) / 2) * READABLE_ZOOM});
  };
  // Bring an element into view without changing the zoom or moving what is already in view.
  drawing.reveal = (el) => {
    const view = cy.extent();
    const box = el.boundingBox();
    if (box.x1 >= view.x1 && box.x2 <= view.x2 && box.y1 >= view.y1 && box.y2 <= view.y2) return;
    cy.animate({center: {eles: el}, duration: 150});
  };

  drawing.setOverlay = (kind) => { drawing.overlay = kind; drawing.applyOverlay(); };
  drawing.applyOverlay = () => {
    const nodes = cy.nodes(".spec-node");
    const costs = drawing.analysis?.nodes || {};
    const totals = drawing.analysis?.totals;
    if (drawing.overlay === "none" || !totals) { nodes.removeClass("overlay"); return; }
    const value = (id) => {
      const c = costs[id];
      if (!c) return 0;
      if (drawing.overlay === "params") return c.params;
      if (drawing.overlay === "macs") return c.macs;
      return (c.share?.macs ?? 0) + (c.share?.params ?? 0); // share of the network's cost, both counted
    };
    const top = Math.max(1e-12, ...nodes.map((n) => value(n.id())));
    cy.batch(() => nodes.forEach((n) => { n.data("ov", value(n.id()) / top); n.addClass("overlay"); }));
  };

  drawing.setShowPeers = (show) => { drawing.showPeers = show; cy.edges(".peer").toggleClass("hidden", !show); };

  // Problems/warnings from the server, as {location, message}; returns them with `element` ids.
  drawing.markProblems = (problems, warnings = [], sentSpec = drawing.spec) => {
    cy.batch(() => { cy.elements(".problem").removeClass("problem"); cy.elements(".warning").removeClass("warning"); });
    const locate = (item) => ({...item, element: elementAt(sentSpec, item.location), label: namedLocation(sentSpec, item.location)});
    const located = problems.map(locate);
    const warned = warnings.map(locate);
    cy.batch(() => {
      for (const w of warned) if (w.element) cy.getElementById(w.element).addClass("warning");
      for (const p of located) if (p.element) cy.getElementById(p.element).addClass("problem");
    });
    return {problems: located, warnings: warned};
  };

  drawing.search = (text) => {
    cy.elements().removeClass("faded match");
    const query = (text || "").trim();
    if (!query) return cy.collection();
    let test;
    try { const re = new RegExp(query, "i"); test = (s) => re.test(s); } catch { test = (s) => s.toLowerCase().includes(query.toLowerCase()); }
    const hits = cy.nodes(".spec-node, .input, .branch").filter((n) => test(n.id()) || test(n.data("type") || "") || test(n.data("label") || ""));
    cy.elements().not(hits).not(".band").addClass("faded");
    hits.addClass("match");
    return hits;
  };

  drawing.png = () => cy.png({full: true, scale: 2, bg: "#ffffff"});

  if (spec) drawing.update(spec, analysis, {relayout: true});
  return drawing;
}

// A validator location with the element named by id rather than by its index in the arrays
// ("nodes[5].attrs.filters" -> "n5.attrs.filters", "edges[2]" -> "rgb→n4"): what a person reads.
export function namedLocation(spec, location) {
  return String(location || "").replace(/^(nodes|inputs|edges)\[(\d+)\]/, (whole, list, i) => {
    const item = (spec?.[list] || [])[Number(i)];
    if (!item) return whole;
    return list === "edges" ? `${item.source}→${item.target}` : String(item.id);
  });
}

// Which drawn element a validator location points at (in the spec that was sent).
export function elementAt(spec, location) {
  let m = /^nodes\[(\d+)\](?:\.attrs\.branches\[(\d+)\])?/.exec(location || "");
  if (m) {
    const node = spec.nodes[Number(m[1])];
    if (!node) return null;
    return m[2] !== undefined && node.type === "evanet_block" ? branchId(node.id, Number(m[2])) : node.id;
  }
  m = /^edges\[(\d+)\]/.exec(location || "");
  if (m) {
    const index = Number(m[1]);
    return index < spec.edges.length ? edgeIds(spec)[index] : null;
  }
  m = /^inputs\[(\d+)\]/.exec(location || "");
  if (m) return spec.inputs[Number(m[1])]?.id ?? null;
  return null;
}

// A stored spec is drawn even when parts are malformed (lists missing, odd ids): fill what the
// drawing needs, and let the server say what is wrong.
export function drawable(spec) {
  const base = spec && typeof spec === "object" && !Array.isArray(spec) ? spec : {};
  const list = (v) => (Array.isArray(v) ? v.filter((x) => x && typeof x === "object" && !Array.isArray(x)) : []);
  return {
    ...base,
    family: typeof base.family === "string" ? base.family : "",
    inputs: list(base.inputs).map((s) => ({...s, id: String(s.id)})),
    nodes: list(base.nodes).map((n) => ({...n, id: String(n.id), type: String(n.type),
                                          attrs: n.attrs && typeof n.attrs === "object" && !Array.isArray(n.attrs) ? n.attrs : {}})),
    edges: list(base.edges).map((e) => ({...e, source: String(e.source), target: String(e.target)})),
  };
}
