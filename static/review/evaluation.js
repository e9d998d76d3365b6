// An evaluation's page: while it trains, its step, loss curve and learned edge weights arrive over its
// socket; every (re)connection and its end re-read the whole page state over HTTP, so what shows is
// never older than the last connection (a message lost while the socket was down is not needed).
import {showRecords, showVector} from "../architectures/weights.js";
import {viewer} from "../architectures/viewer.js";
import {$, afterLoad, h, readJSONScript} from "../common/dom.js";
import {fixed} from "../common/format.js";
import {getJSON} from "../common/http.js";
import {liveSocket} from "../common/socket.js";
import {exposeForTests} from "../common/testhook.js";
import {drawEvaluation} from "./charts.js";
import {showExportJobs} from "./export_jobs.js";

const boot = readJSONScript("evaluation-boot");
const FINISHED = ["evaluated", "failed"];
const page = exposeForTests("evaluationPage", {status: boot.state.status, step: boot.state.step, reads: 0, weightUpdates: 0,
                                               curve: [...(boot.evaluation.loss_curve || [])], report: boot, socket: null});

function showState(s) {
  page.status = s.status;
  page.step = s.step;
  const badge = $("eval-status");
  badge.textContent = s.status_label || s.status;
  badge.className = `badge ${s.status}`;
  badge.dataset.status = s.status;
  $("eval-step").textContent = String(s.step);
  $("eval-progress").value = s.step;
  $("eval-line").firstChild.textContent = s.status === "failed" ? "Failed at step " : s.status === "evaluated" ? "Finished: step "
    : `${s.status === "running" ? "Training" : "Queued"}: step `;
  $("exports-note").hidden = s.status === "evaluated";
  $("eval-reason").hidden = s.status !== "failed";
  $("eval-reason").textContent = s.status === "failed" ? s.reason : "";
}

// The whole page from the server: facts, downloads, charts, the retry, the final weights.
function showReport(report) {
  page.report = report;
  page.curve = [...(report.evaluation.loss_curve || [])];
  showState(report.state);
  $("facts").replaceChildren(...report.facts.flatMap(([label, value]) => [h("dt", {}, label), h("dd", {}, value === null ? "–" : String(value))]));
  $("exports").replaceChildren(...report.exports.map((e) => h("li", {}, h("a", {href: e.url, "data-export": e.label}, e.label))));
  showExportJobs(report.export_jobs);
  $("retry-form").hidden = !report.retry_url;
  draw(report.evaluation);
  if (viewer.drawing && report.edge_weights.length) showRecords(viewer.drawing, report.edge_weights);
}

// The charts show once there is something to draw (a run that failed before its first step has none).
function draw(evaluation) {
  $("charts").hidden = !(evaluation.loss_curve || []).length;
  if (!$("charts").hidden) drawEvaluation(evaluation);
}

async function readReport() {
  try {
    showReport(await getJSON(boot.report_url));
    page.reads += 1;
  } catch (error) {
    $("live-note").textContent = `Could not read the current state: ${error.message}`;
  }
}

// A state message: the step and the newest loss; its end (or a new attempt) brings the whole page again.
function onState(s) {
  const was = page.status;
  if (s.status !== was && (FINISHED.includes(s.status) || FINISHED.includes(was))) { readReport(); return; }
  if (s.status === "queued" && page.step > s.step) page.curve = [];  // a new attempt starts from step 0
  showState(s);
  if (s.loss !== null && s.loss !== undefined && s.step > (page.curve.at(-1)?.[0] ?? -1)) {
    page.curve.push([s.step, s.loss]);
    draw({...page.report.evaluation, loss_curve: page.curve});
  }
  $("live-note").textContent = s.loss !== null && s.loss !== undefined ? `latest training loss ${fixed(s.loss, 4)}` : "";
}

page.socket = liveSocket(boot.ws, {
  onOpen() { readReport(); },  // every connection, the first too: the page may have been rendered a while ago
  onMessage(message) {
    if (message.kind === "evaluation") onState(message);
    else if (message.kind === "weights" && viewer.drawing && !FINISHED.includes(page.status)) {
      showVector(viewer.drawing, message.weights);
      page.weightUpdates += 1;
    }
  },
  onState(state) { if (state === "reconnecting") $("live-note").textContent = "Reconnecting…"; },
});

afterLoad(() => draw(boot.evaluation));
