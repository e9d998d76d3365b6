// The Pareto chart: the server's front (joined) over a thin sample of the other points.
// Click a point: open the model. Shift-click: add it to the comparison (diff the first two).
import {whileBusy} from "../common/busy.js";
import {$, afterLoad, h, readJSONScript} from "../common/dom.js";
import {accuracy, count, ms} from "../common/format.js";
import {getJSON, postJSON} from "../common/http.js";
import {themeCharts} from "../common/theme.js";
import {exposeForTests} from "../common/testhook.js";

const boot = readJSONScript("pareto-boot");
const compared = [];
const state = exposeForTests("pareto", {compared, data: null, chart: null});
const cost = (value) => (boot.cost === "macs" ? `${count(value)} multiply-adds` : ms(value));

const modelUrl = (id) => boot.model_url.replace("/0/", `/${id}/`);

// A point as people know it: "c0013 (evanet, search-3 on motion-8)", never a database id alone.
function label(id) {
  const known = state.data?.labels?.[String(id)];
  return known ? {name: known.name, context: `${known.family}, ${known.experiment} on ${known.dataset}`} : {name: `model ${id}`, context: ""};
}

function renderComparison() {
  $("comparison").replaceChildren(...compared.map((p) => {
    const {name, context} = label(p.id);
    return h("li", {"data-id": p.id}, h("a", {href: modelUrl(p.id), text: name}), context ? ` (${context})` : "",
      ` accuracy ${accuracy(p.accuracy)}, ${cost(p.cost)}`);
  }));
  const link = $("compare-diff");
  link.classList.toggle("hidden", compared.length < 2);
  if (compared.length >= 2) link.href = `${boot.diff_url}?a=candidate:${compared[0].id}&b=candidate:${compared[1].id}`;
  $("compare-ensemble").classList.toggle("hidden", compared.length < 2);
}

// The compared models' averaged-logit ensemble, evaluated as a job; its page follows it.
async function evaluateEnsemble() {
  const asked = await whileBusy($("compare-ensemble"), "queueing the ensemble's evaluation…", async (indicator) => {
    try {
      const ensemble = await postJSON(boot.ensembles_api, {members: compared.map((p) => p.id)});
      indicator.stage("opening its page…");
      return ensemble;
    } catch (error) {
      throw new Error(`Not evaluated: ${error.message}`);
    }
  }, {status: $("ensemble-status"), doneText: "opening its page…"});
  if (asked.ok) {
    state.ensemble = asked.value;
    window.location.href = boot.ensemble_url.replace("/0/", `/${asked.value.id}/`);
  }
}

async function main() {
  const data = state.data = await getJSON(boot.api);
  const devices = (data.latency_devices || []).map((d) => (d === "cuda" ? "GPU" : "CPU"));
  const where = devices.length ? `, ${devices.join(" and ")}` : "";
  $("pareto-count").textContent = `${data.front.length} models on the front of ${data.count} (the chart shows the front and a sample of the rest).` +
    (devices.length > 1 ? " Latencies measured on the CPU and on a GPU do not compare: choose one device in the leaderboard's filters." : "");
  const toPoint = ([id, accuracy, cost]) => ({x: cost, y: accuracy, id});
  // Chart.js: a vendored classic script, so a global.
  themeCharts();
  state.chart = new window.Chart($("pareto-chart"), {
    type: "scatter",
    data: {datasets: [
      {label: "Pareto front", data: data.front.map(toPoint), showLine: true, borderColor: "#dc2626", backgroundColor: "#dc2626", pointRadius: 5},
      {label: "other models", data: data.others.map(toPoint), borderColor: "#94a3b8", backgroundColor: "rgba(148,163,184,0.5)", pointRadius: 2},
    ]},
    options: {animation: false, maintainAspectRatio: false,
      scales: {x: {title: {display: true, text: boot.cost === "macs" ? "multiply-adds" : `latency (ms, batch 1${where})`}, type: boot.cost === "macs" ? "logarithmic" : "linear"},
               y: {title: {display: true, text: "accuracy"}, ticks: {callback: (value) => accuracy(value)}}},
      plugins: {tooltip: {callbacks: {label: (ctx) => {
        const {name, context} = label(ctx.raw.id);
        return `${name}${context ? ` (${context})` : ""}: ${accuracy(ctx.raw.y)} at ${cost(ctx.raw.x)}`;
      }}}},
      onClick: (event, elements, chart) => {
        if (!elements.length) return;
        const {datasetIndex, index} = elements[0];
        const point = chart.data.datasets[datasetIndex].data[index];
        if (event.native && event.native.shiftKey) {
          if (!compared.some((p) => p.id === point.id)) compared.push({id: point.id, accuracy: point.y, cost: point.x});
          renderComparison();
        } else {
          window.location.href = modelUrl(point.id);
        }
      }},
  });
}

$("compare-ensemble").addEventListener("click", evaluateEnsemble);
afterLoad(main);
