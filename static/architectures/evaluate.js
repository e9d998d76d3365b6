// The editor's "Evaluate" panel: train the saved version on a dataset with a small budget (a job on
// the `train` queue), follow it live over /ws/evaluations/<id>/, and draw its learned edge weights.
// window.evaluation is exposed for the end-to-end tests.
import {postJSON} from "./validation.js";
import {showRecords, showVector, socketUrl} from "./weights.js";

const $ = (id) => document.getElementById(id);
const panel = $("evaluate-panel");
const state = window.evaluation = {id: null, status: null, weightUpdates: 0, result: null, error: null};

async function loadDatasets() {
  const response = await fetch(`${panel.dataset.datasetsUrl}?limit=1000`, {credentials: "same-origin", headers: {Accept: "application/json"}});
  const data = await response.json();
  const ready = (data.results || []).filter((d) => d.status === "ready");
  $("eval-dataset").replaceChildren(...ready.map((d) => Object.assign(document.createElement("option"), {
    value: d.id, textContent: `${d.name} (${d.num_classes} classes, ${d.frames}×${d.size}²${d.has_flow ? ", flow" : ""})`})));
  if (!ready.length) $("eval-status").textContent = "No ready dataset in your teams yet.";
}

function show(text) {
  $("eval-status").textContent = text;
}

function fmt(value, digits = 3) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

function render(message) {
  state.status = message.status;
  if (message.status === "queued") show(message.attempt ? "queued again (its worker stopped)" : "queued…");
  if (message.status === "running") show(`training: step ${message.step} of ${message.steps}${message.loss !== null ? `, loss ${fmt(message.loss)}` : ""}`);
  if (message.status === "failed") show(`failed: ${message.reason}`);
  if (message.status === "evaluated") {
    state.result = message;
    show(`evaluated in ${message.steps} steps`);
    $("eval-accuracy").textContent = fmt(message.accuracy);
    $("eval-latency").textContent = `${fmt(message.latency_ms, 1)} ms`;
    $("eval-params").textContent = String(message.params ?? "–");
    $("eval-macs").textContent = String(message.macs ?? "–");
    $("eval-result").hidden = false;
    if (message.edge_weights?.length && window.editor?.drawing) showRecords(window.editor.drawing, message.edge_weights);
  }
}

function follow(id) {
  const socket = new WebSocket(socketUrl(`/ws/evaluations/${id}/`));
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.kind === "evaluation") {
      render(message);
      if (["evaluated", "failed"].includes(message.status)) socket.close();
    } else if (message.kind === "weights" && window.editor?.drawing) {
      showVector(window.editor.drawing, message.weights);
      state.weightUpdates += 1;
    }
  });
  socket.addEventListener("close", (event) => { if (event.code >= 4000) show(`live view refused (${event.code})`); });
}

$("evaluate").addEventListener("click", async () => {
  const version = window.editor?.version;
  if (!version) { show("Save a version first: an evaluation trains a saved version."); return; }
  const body = {version, dataset: Number($("eval-dataset").value), steps: Number($("eval-steps").value),
                batch_size: Number($("eval-batch").value), seed: Number($("eval-seed").value)};
  $("eval-result").hidden = true;
  const response = await postJSON(panel.dataset.evaluationsUrl, body);
  if (response.status !== 201) {
    state.error = response.data;
    show(`not started: ${Object.entries(response.data || {}).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`).join("; ")}`);
    return;
  }
  state.id = response.data.id;
  show("queued…");
  follow(state.id);
});

loadDatasets();
