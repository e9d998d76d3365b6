// Side panels: the selected element's attributes (fields from the family's schema), its cost,
// the problem list and the totals. Plain DOM; user-controlled text only ever goes in textContent.
import {h} from "../common/dom.js";
import {count, exact, ms, percent, tensorShape} from "../common/format.js";

// The value a field holds, typed by the schema; text the schema cannot read goes to the server as is.
export function readField(input, attr) {
  if (attr.kind === "bool") return input.checked;
  if (attr.kind === "choice") return (attr.choices || []).find((c) => String(c) === input.value) ?? input.value;
  const text = input.value.trim();
  if (attr.kind === "int") return /^-?\d+$/.test(text) ? Number(text) : text;
  if (attr.kind === "float") { const n = Number(text); return text !== "" && Number.isFinite(n) ? n : text; }
  return text;
}

function field(key, attr, value, onChange, editable) {
  const id = `attr-${key}`;
  let input;
  if (attr.kind === "bool") {
    input = h("input", {type: "checkbox", id, "data-key": key, disabled: !editable});
    input.checked = Boolean(value);
  } else if (attr.kind === "choice") {
    input = h("select", {id, "data-key": key, disabled: !editable},
              (attr.choices || []).map((c) => h("option", {value: String(c), text: String(c)})));
    input.value = String(value);
  } else {
    input = h("input", {type: "number", id, "data-key": key, disabled: !editable, step: attr.kind === "float" ? "any" : (attr.odd ? 2 : 1),
                        min: attr.min ?? undefined, max: attr.max ?? undefined});
    input.value = value ?? "";
  }
  if (editable) input.addEventListener("change", () => onChange(key, readField(input, attr)));
  const hints = [attr.min !== null && attr.min !== undefined ? `≥ ${attr.min}` : null, attr.max !== null && attr.max !== undefined ? `≤ ${attr.max}` : null,
                 attr.odd ? "odd" : null, attr.doc || null].filter(Boolean).join(" · ");
  return h("label", {class: "field", dataset: {field: key}}, h("span", {text: key}), input, hints ? h("small", {class: "muted", text: hints}) : null);
}

function costBlock(cost, totals) {
  if (!cost) return h("p", {class: "muted", text: "No cost yet (the spec has problems upstream, or is being checked)."});
  const share = totals?.macs ? `${percent(cost.macs / totals.macs)} of MACs` : "";
  return h("dl", {class: "facts compact"},
    h("dt", {text: "Output"}), h("dd", {class: "out-shape", text: tensorShape(cost.output_shape)}),
    h("dt", {text: "Inputs"}), h("dd", {text: (cost.input_shapes || []).map(tensorShape).join(", ") || "–"}),
    h("dt", {text: "Parameters"}), h("dd", {class: "node-params", text: `${count(cost.params)} (${exact(cost.params)})`}),
    h("dt", {text: "Multiply-adds"}), h("dd", {class: "node-macs", text: `${count(cost.macs)} ${share ? "· " + share : ""}`}));
}

function problemsFor(ids, located) {
  const mine = located.filter((p) => ids.includes(p.element));
  if (!mine.length) return null;
  return h("ul", {class: "problems inline"}, mine.map((p) => h("li", {class: p.severity, text: `${p.label || p.location}: ${p.message}`})));
}

export function renderInspector(root, ctx) {
  const {selection, spec, analysis, family, editable, located = []} = ctx;
  root.replaceChildren();
  if (!selection) {
    root.append(h("p", {class: "muted", text: editable
      ? "Select a node or edge to see and edit it. Drag from node to node in “Draw edges” mode to connect; Delete removes the selection."
      : "Select a node or edge to see its attributes and cost."}));
    return;
  }
  if (selection.kind === "node") {
    const node = spec.nodes.find((n) => n.id === selection.id);
    if (!node) return;
    const type = family?.node_types.find((t) => t.name === node.type);
    root.append(h("h3", {text: `${node.id} · ${node.type}`}), type?.doc ? h("p", {class: "muted small", text: type.doc}) : null);
    root.append(problemsFor([node.id], located) || "");
    root.append(costBlock(analysis?.nodes?.[node.id], analysis?.totals));
    if (type) {
      const form = h("div", {class: "attrs"});
      for (const [key, attr] of Object.entries(type.attrs)) {
        if (attr.kind === "list") continue;
        form.append(field(key, attr, node.attrs?.[key] ?? attr.default, (k, v) => ctx.onAttr(node.id, k, v), editable));
      }
      root.append(form);
      const branches = type.attrs.branches;
      if (branches) root.append(branchEditor(node, branches, ctx));
    }
    return;
  }
  if (selection.kind === "branch") {
    const node = spec.nodes.find((n) => n.id === selection.block);
    const type = family?.node_types.find((t) => t.name === node?.type);
    const branch = node?.attrs?.branches?.[selection.branch];
    if (!branch || !type) return;
    root.append(h("h3", {text: `${node.id} · branch ${selection.branch + 1}`}), problemsFor([selection.id], located) || "");
    const form = h("div", {class: "attrs"});
    for (const [key, attr] of Object.entries(type.attrs.branches.item)) {
      form.append(field(key, attr, branch[key] ?? attr.default, (k, v) => ctx.onBranch(node.id, selection.branch, k, v), editable));
    }
    root.append(form);
    if (editable) root.append(h("button", {class: "secondary small", id: "remove-branch", text: "Remove this branch",
                                           onclick: () => ctx.onRemoveBranch(node.id, selection.branch)}));
    return;
  }
  if (selection.kind === "edge") {
    const edge = spec.edges[selection.index];
    if (!edge) return;
    const fanIn = spec.edges.filter((e) => e.target === edge.target).length;
    root.append(h("h3", {text: `${edge.source} → ${edge.target}`}), problemsFor([selection.id], located) || "");
    root.append(h("p", {class: "muted small", text: fanIn > 1
      ? `One of ${fanIn} inputs fused at ${edge.target}: the weight (post-sigmoid, 0–1) scales this input. Wider and darker is stronger.`
      : `The only input of ${edge.target}: its weight has no effect until another input joins.`}));
    const weight = h("input", {type: "number", id: "edge-weight", step: "0.01", min: "0.001", max: "0.999", disabled: !editable});
    weight.value = edge.weight ?? "";
    weight.placeholder = "not learned yet (0.5)";
    const learnable = h("input", {type: "checkbox", id: "edge-learnable", disabled: !editable});
    learnable.checked = edge.learnable !== false;
    if (editable) {
      weight.addEventListener("change", () => {
        const text = weight.value.trim();
        const n = Number(text);
        ctx.onEdge(selection.index, {weight: text === "" ? null : (Number.isFinite(n) ? n : text)});
      });
      learnable.addEventListener("change", () => ctx.onEdge(selection.index, {learnable: learnable.checked}));
    }
    root.append(h("div", {class: "attrs"},
      h("label", {class: "field"}, h("span", {text: "weight"}), weight, h("small", {class: "muted", text: "empty: starts at 0.5"})),
      h("label", {class: "field check"}, learnable, h("span", {text: "learnable (dashed) — else frozen (solid)"}))));
    return;
  }
  if (selection.kind === "input") {
    const stream = spec.inputs.find((s) => s.id === selection.id);
    if (!stream) return;
    root.append(h("h3", {text: `${stream.id} · input stream`}), problemsFor([stream.id], located) || "");
    const form = h("div", {class: "attrs"});
    for (const [key, attr] of Object.entries(family?.input_attrs || {})) {
      form.append(field(key, attr, stream[key], (k, v) => ctx.onInput(stream.id, k, v), editable));
    }
    root.append(form);
  }
}

function branchEditor(node, schema, ctx) {
  const list = Array.isArray(node.attrs?.branches) ? node.attrs.branches : [];
  const box = h("div", {class: "branches"}, h("h4", {text: `Parallel branches (${list.length})`}));
  list.forEach((branch, i) => box.append(h("button", {class: "link branch-link", text: `${i + 1}. ${branch.kind}${branch.kind !== "1x1" ? " t" + (branch.temporal_kernel ?? 1) : ""}`,
                                                      onclick: () => ctx.onSelectBranch(node.id, i)})));
  if (ctx.editable) box.append(h("button", {class: "secondary small", id: "add-branch", text: "Add a branch", onclick: () => ctx.onAddBranch(node.id)}));
  return box;
}

export function renderProblems(root, {problems = [], warnings = []}, onPick) {
  root.replaceChildren();
  const item = (p, severity) => h("li", {class: severity, dataset: {location: p.location, element: p.element || ""}},
    h("button", {class: "link", text: p.label || p.location, onclick: () => p.element && onPick(p.element)}), h("span", {text: " " + p.message}));
  root.append(problems.length ? h("ul", {class: "problems", id: "problem-list"}, problems.map((p) => item(p, "error")))
                              : h("p", {class: "ok", text: "No problems: it can be saved and trained."}));
  // Published networks lie outside the scaled-down search spaces on purpose: warnings stay folded.
  if (warnings.length) {
    root.append(h("details", {class: "warnings"}, h("summary", {text: `${warnings.length} outside the search space (mutations never produce these)`}),
                  h("ul", {class: "problems"}, warnings.map((w) => item(w, "warning")))));
  }
}

// "≈ 12.0 ms ± 30 %" when calibrated on measured networks; "≈ 1.0 ms" beside an "uncalibrated" label otherwise.
export function latencyEstimate(totals) {
  const estimate = `≈ ${ms(totals.latency_ms_estimate)}`;
  return totals.latency_calibrated && totals.latency_error != null ? `${estimate} ± ${percent(totals.latency_error, 0)}` : estimate;
}

export function renderTotals(root, report, {stale = false} = {}) {
  const t = report?.totals;
  const set = (name, text) => { const el = root.querySelector(`[data-total=${name}]`); if (el) el.textContent = text; };
  set("params", t ? count(t.params) : "–");
  set("macs", t ? count(t.macs) : "–");
  set("latency", t ? latencyEstimate(t) : "–");
  set("latency-source", t ? (t.latency_calibrated ? `calibrated on ${t.latency_networks} measured networks` : "uncalibrated") : "");
  set("output", t ? t.output_shape.join("×") : "–");
  const status = root.querySelector("[data-total=status]");
  if (status) {
    const errors = report?.problems?.length || 0, warns = report?.warnings?.length || 0;
    status.textContent = report ? (report.valid ? (warns ? `valid · ${warns} warning${warns > 1 ? "s" : ""}` : "valid") : `${errors} problem${errors === 1 ? "" : "s"}`) : "checking…";
    status.className = "badge " + (report ? (report.valid ? "ok" : "bad") : "");
  }
  const latency = root.querySelector("[data-total=latency]");
  if (latency && t) latency.title = t.latency_note;
  root.classList.toggle("stale", stale);
}
