// What a training produced, drawn: the loss curve, accuracy by epoch, per-class accuracy, the confusion
// matrix and the training settings. The model page draws it once; an evaluation's page again as it trains.
import {$, h} from "../common/dom.js";
import {cssColour, themeCharts} from "../common/theme.js";

const drawn = new Map();  // canvas id -> its chart, replaced when the page draws again (a live evaluation)
function chart(id, config) {
  const canvas = $(id);
  if (!canvas || !window.Chart) return null;  // Chart.js: a vendored classic script, a global
  drawn.get(id)?.destroy();
  themeCharts();
  const made = new window.Chart(canvas, {...config, options: {animation: false, maintainAspectRatio: false, ...(config.options || {})}});
  drawn.set(id, made);
  return made;
}
function line(label, points, colour) { return {label, data: points, borderColor: colour, backgroundColor: colour, pointRadius: 0, showLine: true}; }

export function drawEvaluation(evaluation) {
  const loss = (evaluation.loss_curve || []).map(([x, y]) => ({x, y}));
  chart("loss-chart", {type: "scatter", data: {datasets: [line("train loss", loss, "#2563eb")]},
                       options: {scales: {x: {title: {display: true, text: "step"}}}}});
  const epochs = evaluation.epochs || [];
  chart("accuracy-chart", {type: "line", data: {labels: epochs.map((e) => e.epoch), datasets: [
    {label: "train top-1", data: epochs.map((e) => e.train_top1), borderColor: "#16a34a"},
    {label: "val top-1", data: epochs.map((e) => e.val_top1), borderColor: "#dc2626"}]}, options: {scales: {y: {min: 0, max: 1}}}});
  const perClass = Object.entries(evaluation.per_class || {});
  chart("per-class-chart", {type: "bar", data: {labels: perClass.map(([k]) => k), datasets: [
    {label: "accuracy", data: perClass.map(([, v]) => v), backgroundColor: "#7c3aed"}]}, options: {indexAxis: "y", scales: {x: {min: 0, max: 1}}}});
  drawConfusion($("confusion"), evaluation.confusion, evaluation.class_names || []);
  const training = evaluation.training || {};
  $("training")?.replaceChildren(...Object.entries(training).filter(([, v]) => v !== null && typeof v !== "object")
    .flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]));
}

export function drawConfusion(canvas, matrix, names) {
  if (!canvas) return;
  const note = $("confusion-note");
  if (!Array.isArray(matrix) || !matrix.length) { if (note) note.textContent = "No confusion matrix recorded for this model."; return; }
  const n = matrix.length;
  const ctx = canvas.getContext("2d");
  const margin = 70, size = Math.min(canvas.width, canvas.height) - margin, cell = size / n;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.font = `${Math.max(8, Math.min(12, cell / 3))}px sans-serif`;
  for (let i = 0; i < n; i++) {
    const total = matrix[i].reduce((a, b) => a + b, 0) || 1;
    for (let j = 0; j < n; j++) {
      const share = matrix[i][j] / total;
      ctx.fillStyle = `rgba(37, 99, 235, ${0.08 + 0.92 * share})`;
      ctx.fillRect(margin + j * cell, margin + i * cell, cell - 1, cell - 1);
      if (cell > 18) { ctx.fillStyle = share > 0.5 ? "#fff" : cssColour("--ink", "#111"); ctx.fillText(String(matrix[i][j]), margin + j * cell + 4, margin + i * cell + cell / 2 + 4); }
    }
    ctx.fillStyle = cssColour("--ink", "#111");
    ctx.fillText(String(names[i] ?? i).slice(0, 10), 2, margin + i * cell + cell / 2 + 4);
    ctx.save(); ctx.translate(margin + i * cell + cell / 2, margin - 4); ctx.rotate(-Math.PI / 4);
    ctx.fillText(String(names[i] ?? i).slice(0, 10), 0, 0); ctx.restore();
  }
  if (note) note.textContent = "Rows: true class; columns: predicted. Darker: a larger share of the row.";
}

