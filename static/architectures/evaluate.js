// The editor's "Evaluate" panel: train the saved version on a dataset with a small budget (a job on
// the `train` queue), follow it live over /ws/evaluations/<id>/, and draw its learned edge weights.
// The socket sends the evaluation's whole state on every (re)connection, so a reconnect re-reads it.
import {busy} from "../common/busy.js";
import {$, h} from "../common/dom.js";
import {accuracy, count, exact, fixed, ms} from "../common/format.js";
import {getJSON, postJSON} from "../common/http.js";
import {liveSocket} from "../common/socket.js";
import {exposeForTests} from "../common/testhook.js";
import {editor} from "./editor.js";
import {showRecords, showVector} from "./weights.js";

const panel = $("evaluate-panel");
const state = exposeForTests("evaluation", {id: null, status: null, weightUpdates: 0, result: null, error: null});

async function loadDatasets() {
  const data = await getJSON(`${panel.dataset.datasetsUrl}?limit=1000`);
  const ready = (data.results || []).filter((d) => d.status === "ready");
  $("eval-dataset").replaceChildren(...ready.map((d) => h("option", {value: d.id,
    text: `${d.name} (${d.num_classes} classes, ${d.frames}×${d.size}²${d.has_flow ? ", flow" : ""})`})));
  if (!ready.length) show("No ready dataset in your teams yet.");
}

function show(text) {
  $("eval-status").textContent = text;
}

function render(message) {
  state.status = message.status;
  if (message.status === "queued") show(message.attempt ? "queued again (its worker stopped)" : "queued…");
  if (message.status === "running") show(`training: step ${message.step} of ${message.steps}${message.loss !== null ? `, loss ${fixed(message.loss, 3)}` : ""}`);
  if (message.status === "failed") show(`failed: ${message.reason}`);
  if (message.status === "evaluated") {
    state.result = message;
    show(`evaluated in ${message.steps} steps`);
    $("eval-accuracy").textContent = accuracy(message.accuracy);
    $("eval-latency").textContent = ms(message.latency_ms);
    Object.assign($("eval-params"), {textContent: count(message.params), title: exact(message.params)});
    Object.assign($("eval-macs"), {textContent: count(message.macs), title: exact(message.macs)});
    $("eval-result").hidden = false;
    if (message.edge_weights?.length) showRecords(editor.drawing, message.edge_weights);
  }
}

function follow(id) {
  const live = liveSocket(`/ws/evaluations/${id}/`, {
    onMessage(message) {
      if (message.kind === "evaluation") {
        render(message);
        if (["evaluated", "failed"].includes(message.status)) live.close();
      } else if (message.kind === "weights") {
        showVector(editor.drawing, message.weights);
        state.weightUpdates += 1;
      }
    },
    onState(connection, event) { if (connection === "refused") show(`live view refused (${event.code})`); },
  });
}

$("evaluate").addEventListener("click", async () => {
  if (!editor.version) { show("Save a version first: an evaluation trains a saved version."); return; }
  const body = {version: editor.version, dataset: Number($("eval-dataset").value), steps: Number($("eval-steps").value),
                batch_size: Number($("eval-batch").value), seed: Number($("eval-seed").value)};
  $("eval-result").hidden = true;
  const indicator = busy($("evaluate"), "queueing the evaluation…", {status: $("eval-status")});
  try {
    state.id = (await postJSON(panel.dataset.evaluationsUrl, body)).id;
  } catch (error) {
    state.error = error.data;
    indicator.fail(`not started: ${error.message}`);
    return;
  }
  indicator.done();
  show("queued…");
  Object.assign($("eval-page"), {href: panel.dataset.pageUrl.replace("/0/", `/${state.id}/`), hidden: false});
  follow(state.id);
});

loadDatasets();
