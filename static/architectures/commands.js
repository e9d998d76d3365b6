// Editing is a stack of commands on the spec held in the page. A command changes the spec in
// place; the stack keeps what the spec was before and after it, so undo pops a command (no
// reload, nothing asked of the server) and redo re-applies it.

const clone = (value) => structuredClone(value);

export class CommandStack {
  constructor(spec, onChange = () => {}) {
    this.spec = clone(spec);
    this.done = [];
    this.undone = [];
    this.onChange = onChange;
  }

  get canUndo() { return this.done.length > 0; }
  get canRedo() { return this.undone.length > 0; }

  // `change(spec)` edits the spec in place; returns false (or throws) to cancel the command.
  run(label, change) {
    const before = clone(this.spec);
    const draft = clone(this.spec);
    if (change(draft) === false) return false;
    if (JSON.stringify(draft) === JSON.stringify(before)) return false; // a no-op is not a command
    this.spec = draft;
    this.done.push({label, before, after: clone(draft)});
    this.undone = [];
    this.onChange({kind: "do", label});
    return true;
  }

  undo() {
    const command = this.done.pop();
    if (!command) return false;
    this.spec = clone(command.before);
    this.undone.push(command);
    this.onChange({kind: "undo", label: command.label});
    return true;
  }

  redo() {
    const command = this.undone.pop();
    if (!command) return false;
    this.spec = clone(command.after);
    this.done.push(command);
    this.onChange({kind: "redo", label: command.label});
    return true;
  }
}

// ---------------------------------------------------------------------- spec edits
export function freshId(spec, prefix) {
  const used = new Set([...spec.inputs.map((s) => s.id), ...spec.nodes.map((n) => n.id)]);
  let k = 0;
  for (const id of used) {
    const m = new RegExp(`^${prefix}(\\d+)$`).exec(id);
    if (m) k = Math.max(k, Number(m[1]) + 1);
  }
  while (used.has(`${prefix}${k}`)) k += 1;
  return `${prefix}${k}`;
}

const PREFIX = {asn_block: "n", asn_stem: "n", tvn_block: "b", evanet_block: "res", pool3d: "pool", classifier: "head",
                evanet_stem: "stem", representation_flow: "flow"};

// A value for every required attribute with no default: the smallest legal one.
export function defaultAttrs(nodeType) {
  const attrs = {};
  for (const [key, attr] of Object.entries(nodeType.attrs)) {
    if (!attr.required) continue;
    if (attr.kind === "choice") attrs[key] = attr.choices[0];
    else if (attr.kind === "bool") attrs[key] = false;
    else if (attr.kind === "list") attrs[key] = [];
    else {
      let value = Math.max(attr.min ?? 1, key === "filters" ? 16 : 1);
      if (attr.odd && value % 2 === 0) value += 1;
      attrs[key] = value;
    }
  }
  return attrs;
}

export function addNode(spec, nodeType, attrs = defaultAttrs(nodeType)) {
  const id = freshId(spec, PREFIX[nodeType.name] || `${nodeType.name}_`);
  // Before the classifier, so node order stays roughly topological.
  const head = spec.nodes.findIndex((n) => n.type === "classifier");
  const node = {id, type: nodeType.name, attrs};
  if (head >= 0 && nodeType.name !== "classifier") spec.nodes.splice(head, 0, node);
  else spec.nodes.push(node);
  return id;
}

export function removeElements(spec, {nodes = [], edges = [], inputs = []}) {
  const goneNodes = new Set([...nodes, ...inputs]);
  const goneEdges = new Set(edges);
  spec.nodes = spec.nodes.filter((n) => !goneNodes.has(n.id));
  spec.inputs = spec.inputs.filter((s) => !goneNodes.has(s.id));
  spec.edges = spec.edges.filter((e, i) => !goneEdges.has(i) && !goneNodes.has(e.source) && !goneNodes.has(e.target));
}

export function addEdge(spec, source, target) {
  if (spec.edges.some((e) => e.source === source && e.target === target)) return false;
  spec.edges.push({source, target, weight: null, learnable: true});
  return true;
}

export function setEdge(spec, index, changes) {
  const edge = spec.edges[index];
  if (!edge) return false;
  Object.assign(edge, changes);
  return true;
}

export function setAttr(spec, nodeId, key, value) {
  const node = spec.nodes.find((n) => n.id === nodeId);
  if (!node) return false;
  node.attrs = {...node.attrs, [key]: value};
  return true;
}

export function setInput(spec, inputId, key, value) {
  const stream = spec.inputs.find((s) => s.id === inputId);
  if (!stream) return false;
  stream[key] = value;
  return true;
}

export function addInput(spec, modality = "rgb") {
  const id = freshId(spec, modality);
  const like = spec.inputs[0] || {frames: 8, frame_stride: 1, size: 32};
  spec.inputs.push({id, modality, channels: modality === "flow" ? 2 : 3, frames: like.frames, frame_stride: like.frame_stride, size: like.size});
  return id;
}

export function setBranch(spec, blockId, index, key, value) {
  const node = spec.nodes.find((n) => n.id === blockId);
  if (!node || !Array.isArray(node.attrs.branches) || !node.attrs.branches[index]) return false;
  const branches = node.attrs.branches.map((b) => ({...b}));
  branches[index][key] = value;
  node.attrs = {...node.attrs, branches};
  return true;
}

export function addBranch(spec, blockId, branch = {kind: "1x1", conv_type: "conv3d", temporal_kernel: 1, conv_type2: "conv3d", temporal_kernel2: 1}) {
  const node = spec.nodes.find((n) => n.id === blockId);
  if (!node) return false;
  node.attrs = {...node.attrs, branches: [...(node.attrs.branches || []), {...branch}]};
  return true;
}

export function removeBranch(spec, blockId, index) {
  const node = spec.nodes.find((n) => n.id === blockId);
  if (!node || !Array.isArray(node.attrs.branches)) return false;
  node.attrs = {...node.attrs, branches: node.attrs.branches.filter((_, i) => i !== index)};
  return true;
}
