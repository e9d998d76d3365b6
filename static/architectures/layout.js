// Positions for a spec, by family: AssembleNet levels as columns, chains left to right,
// EvaNet branches stacked inside their block. Deterministic and cheap (no layout engine), and
// `keep` (positions already on screen) wins for nodes that still exist: a small edit never
// reshuffles the picture.

export const COLUMN = 190;
export const ROW = 100;
export const MAX_ROWS = 16;
export const BRANCH_COLUMN = 160;
export const EVANET_ROW = 84;
const STREAM_ORDER = {rgb: 0, flow: 1, object: 2, segmentation: 2};

// Longest path from the inputs (nodes on cycles get the column after their furthest input).
export function ranks(spec) {
  const ids = [...spec.inputs.map((s) => s.id), ...spec.nodes.map((n) => n.id)];
  const incoming = new Map(ids.map((id) => [id, []]));
  for (const e of spec.edges) if (incoming.has(e.target) && incoming.has(e.source)) incoming.get(e.target).push(e.source);
  const rank = new Map(spec.inputs.map((s) => [s.id, 0]));
  const visiting = new Set();
  const visit = (id) => {
    if (rank.has(id)) return rank.get(id);
    if (visiting.has(id)) return 0; // a cycle: the validator reports it, the drawing still places it
    visiting.add(id);
    let r = 0;
    for (const source of incoming.get(id) || []) r = Math.max(r, visit(source) + 1);
    visiting.delete(id);
    rank.set(id, Math.max(r, 1));
    return rank.get(id);
  };
  ids.forEach(visit);
  return rank;
}

function assembleNetColumn(spec, node) {
  if (node.type === "representation_flow") return 1;
  if (node.type === "asn_stem") return 2;
  if (node.type === "asn_block") return 3 + Math.max(0, Math.min(3, Number(node.attrs?.level) || 0));
  if (node.type === "classifier") return 7;
  return null;
}

function streamOf(node) {
  if (node.type === "asn_stem") return node.attrs?.modality || "rgb";
  return null;
}

// Columns of ids, each column ordered to keep edges short (mean row of the sources).
function orderColumns(spec, columnOf) {
  const columns = new Map();
  const add = (id, col) => { if (!columns.has(col)) columns.set(col, []); columns.get(col).push(id); };
  spec.inputs.forEach((s) => add(s.id, 0));
  spec.nodes.forEach((n) => add(n.id, columnOf(n)));
  const sources = new Map();
  for (const e of spec.edges) {
    if (!sources.has(e.target)) sources.set(e.target, []);
    sources.get(e.target).push(e.source);
  }
  const row = new Map();
  const kinds = new Map(spec.nodes.map((n) => [n.id, n]));
  for (const col of [...columns.keys()].sort((a, b) => a - b)) {
    const ids = columns.get(col);
    const key = (id) => {
      const node = kinds.get(id);
      const stream = node ? streamOf(node) : null;
      if (stream) return [STREAM_ORDER[stream] ?? 3, 0];
      const rows = (sources.get(id) || []).map((s) => row.get(s)).filter((r) => r !== undefined);
      return [0, rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : 0];
    };
    const index = new Map(ids.map((id, i) => [id, i]));
    ids.sort((a, b) => {
      const [ka, kb] = [key(a), key(b)];
      return ka[0] - kb[0] || ka[1] - kb[1] || index.get(a) - index.get(b);
    });
    ids.forEach((id, i) => row.set(id, i - (ids.length - 1) / 2));
  }
  return {columns, row};
}

// Returns {positions: Map(id -> {x, y}), bands: [{stream, x1, x2, y1, y2}], branches: Map(childId -> {x, y})}.
export function layout(spec, {keep = new Map()} = {}) {
  const rank = ranks(spec);
  let columnOf;
  if (spec.family === "assemblenet") {
    columnOf = (node) => assembleNetColumn(spec, node) ?? Math.min(7, rank.get(node.id) ?? 1);
  } else {
    columnOf = (node) => rank.get(node.id) ?? 1;
  }
  const {columns, row} = orderColumns(spec, columnOf);
  const positions = new Map();
  // EvaNet reads top to bottom like the seed's figure: each block a row of parallel branches.
  const vertical = spec.family === "evanet";
  // A crowded level wraps into several side-by-side sub-columns, so big graphs stay readable.
  let start = 0;
  for (const col of [...columns.keys()].sort((a, b) => a - b)) {
    const ids = columns.get(col);
    const wraps = vertical ? 1 : Math.max(1, Math.ceil(ids.length / MAX_ROWS));
    const rows = Math.ceil(ids.length / wraps);
    ids.forEach((id, i) => {
      if (vertical) positions.set(id, {x: row.get(id) * BRANCH_COLUMN, y: col * EVANET_ROW});
      else positions.set(id, {x: (start + Math.floor(i / rows)) * COLUMN, y: (i % rows - (rows - 1) / 2) * ROW});
    });
    start += wraps;
  }
  const branches = new Map();
  for (const node of spec.nodes) {
    if (node.type !== "evanet_block") continue;
    const list = Array.isArray(node.attrs?.branches) ? node.attrs.branches : [];
    const center = keep.get(node.id) || positions.get(node.id);
    list.forEach((_, j) => branches.set(branchId(node.id, j), {x: center.x + (j - (list.length - 1) / 2) * BRANCH_COLUMN, y: center.y}));
  }
  for (const [id, pos] of keep) if (positions.has(id)) positions.set(id, pos);
  // A node added by an edit goes into its own column (its level's, for AssembleNet), below the
  // nodes already drawn there, and further along the column until it overlaps none: never into
  // another level's column, and nothing already on screen moves.
  if (keep.size) {
    const taken = [...keep.values()];
    const clashes = (p) => taken.some((q) => Math.abs(q.x - p.x) < COLUMN * 0.8 && Math.abs(q.y - p.y) < ROW * 0.7);
    const columnIds = new Map();
    for (const [col, ids] of columns) for (const id of ids) columnIds.set(id, col);
    for (const [id, pos] of positions) {
      if (keep.has(id)) continue;
      const neighbours = (columns.get(columnIds.get(id)) || []).filter((other) => keep.has(other)).map((other) => keep.get(other));
      const placed = {...pos};
      if (neighbours.length && !vertical) {
        placed.x = Math.min(...neighbours.map((q) => q.x));
        placed.y = Math.max(...neighbours.filter((q) => q.x === placed.x).map((q) => q.y)) + ROW;
      } else if (neighbours.length) {
        placed.y = neighbours[0].y;
        placed.x = Math.max(...neighbours.map((q) => q.x)) + BRANCH_COLUMN;
      }
      for (let step = 0; step < 400 && clashes(placed); step++) {
        if (vertical) placed.x += COLUMN; else placed.y += ROW;
      }
      positions.set(id, placed);
      taken.push(placed);
    }
  }
  const assemble = spec.family === "assemblenet";
  return {positions, bands: assemble ? streamBands(spec, positions) : [], branches, headings: assemble ? levelHeadings(spec, positions) : []};
}

// "stems", "level 0" ... above each AssembleNet column: centred over the column's span, and a
// heading that would touch the one to its left goes up a row (they never overlap).
export const HEADING_WIDTH = 120;
export const HEADING_ROW = 24;
function levelHeadings(spec, positions) {
  const names = new Map();
  for (const node of spec.nodes) {
    const p = positions.get(node.id);
    if (!p) continue;
    const name = node.type === "asn_stem" ? "stems" : node.type === "asn_block" ? `level ${node.attrs?.level}` : null;
    if (!name) continue;
    const xs = names.get(name) || [];
    xs.push(p.x);
    names.set(name, xs);
  }
  const ys = [...positions.values()].map((p) => p.y);
  const top = Math.min(...ys) - 78;
  const headings = [...names].map(([label, xs]) => ({label, x: (Math.min(...xs) + Math.max(...xs)) / 2, y: top}))
    .sort((a, b) => a.x - b.x);
  const placed = [];
  for (const heading of headings) {
    while (placed.some((o) => o.y === heading.y && Math.abs(o.x - heading.x) < HEADING_WIDTH + 8)) heading.y -= HEADING_ROW;
    placed.push(heading);
  }
  return placed;
}

export function branchId(blockId, index) {
  return `${blockId}::b${index}`;
}

// One band per stream modality, behind the inputs and stems that carry it.
function streamBands(spec, positions) {
  const byStream = new Map();
  const put = (stream, id) => {
    const p = positions.get(id);
    if (!p) return;
    if (!byStream.has(stream)) byStream.set(stream, []);
    byStream.get(stream).push(p);
  };
  for (const node of spec.nodes) {
    const stream = streamOf(node);
    if (stream) put(stream, node.id);
  }
  const bands = [];
  for (const [stream, points] of byStream) {
    const ys = points.map((p) => p.y);
    const xs = points.map((p) => p.x);
    bands.push({stream, x1: Math.min(...xs) - 95, x2: Math.max(...xs) + 95, y1: Math.min(...ys) - 52, y2: Math.max(...ys) + 40});
  }
  return bands;
}
