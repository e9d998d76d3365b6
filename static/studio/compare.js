// The compare page's two charts: the best accuracy so far of each experiment, against running time and
// against candidates evaluated (Chart.js, vendored: a classic script, so it is a global).
import {readJSONScript} from "../common/dom.js";
import {exposeForTests} from "../common/testhook.js";

const columns = readJSONScript("compare-boot") || [];
const COLOURS = ["#2563eb", "#f59e0b", "#16a34a", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#4b5563"];
const state = exposeForTests("compare", {charts: 0});

function draw(canvasId, key, xLabel) {
  new Chart(document.getElementById(canvasId), {
    type: "line",
    data: {datasets: columns.map((c, i) => ({label: c.name, data: c[key], stepped: true, borderColor: COLOURS[i % COLOURS.length],
                                             backgroundColor: COLOURS[i % COLOURS.length], pointRadius: 2}))},
    options: {animation: false, maintainAspectRatio: false, parsing: true,
      scales: {x: {type: "linear", title: {display: true, text: xLabel}, beginAtZero: true},
               y: {title: {display: true, text: "best accuracy so far"}, suggestedMin: 0, suggestedMax: 1}}},
  });
  state.charts += 1;
}

function main() {
  if (!window.Chart || !columns.length) return;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  draw("chart-time", "by_time", "running time (s)");
  draw("chart-candidates", "by_candidates", "candidates evaluated");
}
document.readyState === "loading" ? document.addEventListener("DOMContentLoaded", main) : main();
