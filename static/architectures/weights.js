// Learned edge weights onto a drawing: a vector aligned with the spec's edges (what the sockets
// push while a network trains) or {source, target, weight} records (what a finished run stores).
// The drawing's own spec is replaced by a copy with those weights; positions stay.

export function withVector(spec, vector) {
  if (!Array.isArray(vector) || vector.length !== spec.edges.length) return spec;
  return {...spec, edges: spec.edges.map((e, i) => (typeof vector[i] === "number" ? {...e, weight: vector[i]} : e))};
}

export function withRecords(spec, records) {
  const learned = new Map((records || []).map((r) => [`${r.source}->${r.target}`, r.weight]));
  return {...spec, edges: spec.edges.map((e) => {
    const w = learned.get(`${e.source}->${e.target}`);
    return typeof w === "number" ? {...e, weight: w} : e;
  })};
}

export function showVector(drawing, vector) {
  drawing.update(withVector(drawing.spec, vector), drawing.analysis);
}

export function showRecords(drawing, records) {
  drawing.update(withRecords(drawing.spec, records), drawing.analysis);
}
