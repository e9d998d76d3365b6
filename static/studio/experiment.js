// Live view of one experiment: a WebSocket of stored events, replayed from the last seq we have.
// The state is built from events only, so a reconnect (or a page opened late) converges on the
// same picture. Duplicates (seq <= last) are dropped; a gap asks the server for a replay.
// Until the first replay is in, the counters and progress keep what the server rendered, so
// they never flash back to 0 while the stored events stream in.
import {$, h, readJSONScript} from "../common/dom.js";
import {accuracy, count, exact, generation, ms} from "../common/format.js";
import {busy} from "../common/busy.js";
import {postJSON} from "../common/http.js";
import {themeCharts} from "../common/theme.js";
import {liveSocket} from "../common/socket.js";
import {exposeForTests} from "../common/testhook.js";
import {candidateLink, renderResult} from "./result.js";

const boot = readJSONScript("experiment-boot");
const STATUS_LABELS = {queued: "Queued", running: "Running", stopping: "Stopping", stopped: "Stopped",
                       finished: "Finished", failed: "Failed", cancelled: "Cancelled", gave_up: "Gave up"};
const ENDED = ["finished", "cancelled", "gave_up"];
const CANDIDATE_LABELS = {proposed: "Proposed", running: "Training", evaluated: "Evaluated", rejected: "Rejected",
                          failed: "Failed"};

const state = exposeForTests("studio", {
  experiment: boot.id, status: boot.status, lastSeq: 0, received: [], duplicates: 0, gaps: 0, connections: 0, replayPending: false,
  candidates: new Map(), generations: new Map(), progress: boot.progress, best: null, finished: null, socket: null,
  caughtUp: false, outcome: boot.outcome || "",
});

// ------------------------------------------------------------------ rendering
let fitnessChart = null, scatterChart = null, dirty = false;
function charts() {
  if (fitnessChart || !window.Chart) return;  // Chart.js: a vendored classic script, a global
  themeCharts(Chart);
  fitnessChart = new Chart($("fitness-chart"), {
    type: "line",
    data: {labels: [], datasets: [
      {label: "best", data: [], borderColor: "#2563eb", backgroundColor: "#2563eb", tension: 0.2},
      {label: "mean", data: [], borderColor: "#94a3b8", backgroundColor: "#94a3b8", borderDash: [5, 4], tension: 0.2},
    ]},
    options: {animation: false, maintainAspectRatio: false, scales: {
      x: {title: {display: true, text: "generation"}},
      y: {title: {display: true, text: "accuracy"}, suggestedMin: 0, suggestedMax: 1, ticks: {callback: (value) => accuracy(value)}}}},
  });
  scatterChart = new Chart($("scatter-chart"), {
    type: "scatter",
    data: {datasets: [
      {label: "candidates", data: [], backgroundColor: "rgba(37, 99, 235, 0.55)"},
      {label: "best", data: [], backgroundColor: "#f59e0b", pointRadius: 7},
    ]},
    options: {animation: false, maintainAspectRatio: false,
      plugins: {tooltip: {callbacks: {label: (ctx) => `${ctx.raw.name}: ${accuracy(ctx.raw.y)} at ${ms(ctx.raw.x)}`}}},
      scales: {x: {title: {display: true, text: `latency (ms, ${boot.latency_device === "cuda" ? "GPU" : "CPU"})`}, beginAtZero: true},
               y: {title: {display: true, text: "accuracy"}, suggestedMin: 0, suggestedMax: 1, ticks: {callback: (value) => accuracy(value)}}}},
  });
}

// The candidates table shows one page of rows, newest first (a search of 131 candidates was a 6,739 px page);
// every candidate stays in state.candidates for the charts and the result.
const FEED_PAGE = 25;
let feedPage = 1;

function rowOf(c) {
  return h("tr", {class: `cand ${c.status}`, "data-name": c.name}, [
    h("td", {}, candidateLink(c.pk, c.name)), h("td", {text: generation(c.generation)}), h("td", {text: c.parent || "–"}),
    h("td", {class: "mutation", text: c.mutation || "sampled at random"}),
    h("td", {}, h("span", {class: `badge ${c.status}`, text: CANDIDATE_LABELS[c.status] || c.status}),
      c.reason ? [" ", h("small", {class: "muted", text: c.reason})] : null),
    h("td", {text: accuracy(c.accuracy)}), h("td", {text: ms(c.latency_ms)}),
    h("td", {text: count(c.params), title: c.params == null ? null : exact(c.params)}),
  ]);
}

function renderFeed() {
  const all = [...state.candidates.values()].reverse();
  const pages = Math.max(1, Math.ceil(all.length / FEED_PAGE));
  feedPage = Math.min(Math.max(1, feedPage), pages);
  const shown = all.slice((feedPage - 1) * FEED_PAGE, feedPage * FEED_PAGE);
  $("feed").querySelector("tbody").replaceChildren(...shown.map(rowOf));
  $("feed-empty").hidden = all.length > 0;
  $("feed-pager").hidden = pages < 2;
  $("feed-position").textContent = `Page ${feedPage} of ${pages} · ${all.length} candidates`;
  $("feed-newer").disabled = feedPage <= 1;
  $("feed-older").disabled = feedPage >= pages;
}

function renderRow() { renderFeed(); }

$("feed-newer").addEventListener("click", () => { feedPage -= 1; renderFeed(); });
$("feed-older").addEventListener("click", () => { feedPage += 1; renderFeed(); });

function renderStatus() {
  if (!state.caughtUp) return;
  const badge = $("status");
  badge.textContent = STATUS_LABELS[state.status] || state.status;
  badge.className = "badge " + state.status;
  const can = {start: state.status === "queued", stop: state.status === "running",
               resume: state.status === "stopped" || state.status === "failed",
               cancel: !ENDED.includes(state.status)};
  document.querySelectorAll("#actions button[data-action]").forEach((b) => { b.hidden = !can[b.dataset.action]; });
  const active = state.status === "running" || state.status === "queued";
  // "Experiment ... started" is news only while it runs; a worker shortage only matters then too.
  if (!active) document.querySelectorAll(".messages li.run-notice").forEach((li) => li.remove());
  if (!active) $("parallelism-note").hidden = true;
  $("outcome").hidden = !state.outcome;
  $("outcome-text").textContent = state.outcome ? state.outcome[0].toUpperCase() + state.outcome.slice(1) : "";
}

let etaBase = null;
function renderProgress() {
  const p = state.progress;
  if (!p || !state.caughtUp) return;
  $("progress-text").textContent = `${p.evaluated} / ${p.total} candidates`;
  $("progress-bar").style.width = `${Math.round(100 * Math.min(1, p.evaluated / p.total))}%`;
  $("generation").textContent = p.generation;  // the server's progress counts from 1 already
  etaBase = p.eta_seconds == null ? null : {seconds: p.eta_seconds, at: Date.now()};
  renderEta();
}

function renderEta() {
  const el = $("eta");
  if (ENDED.includes(state.status)) { el.textContent = state.status === "cancelled" ? "" : "done"; return; }
  if (!etaBase || state.status !== "running") { el.textContent = state.status === "running" ? "ETA: after the first candidate" : ""; return; }
  const left = Math.max(0, etaBase.seconds - (Date.now() - etaBase.at) / 1000);
  el.textContent = left >= 90 ? `ETA ${Math.round(left / 60)} min` : `ETA ${Math.round(left)} s`;
}
setInterval(renderEta, 1000);

function renderCharts() {
  dirty = false;
  charts();
  if (!fitnessChart) return;
  const gens = [...state.generations.keys()].sort((a, b) => a - b);
  fitnessChart.data.labels = gens.map(generation);
  fitnessChart.data.datasets[0].data = gens.map((g) => state.generations.get(g).best);
  fitnessChart.data.datasets[1].data = gens.map((g) => state.generations.get(g).mean);
  fitnessChart.update("none");
  const points = [];
  let best = null;
  state.candidates.forEach((c) => {
    if (c.status === "evaluated" && c.latency_ms != null) {
      const point = {x: c.latency_ms, y: c.accuracy, name: c.name};
      points.push(point);
      if (state.best && state.best.name === c.name) best = point;
    }
  });
  scatterChart.data.datasets[0].data = points;
  scatterChart.data.datasets[1].data = best ? [best] : [];
  scatterChart.update("none");
}

function scheduleCharts() {
  if (!dirty) { dirty = true; requestAnimationFrame(renderCharts); }
}

function renderCounts() {
  if (!state.caughtUp) return;
  const counts = {evaluated: 0, rejected: 0, running: 0};
  state.candidates.forEach((c) => {
    if (c.status === "evaluated") counts.evaluated++;
    else if (c.status === "rejected" || c.status === "failed") counts.rejected++;
    else if (c.status === "running") counts.running++;
  });
  $("count-evaluated").textContent = counts.evaluated;
  $("count-rejected").textContent = counts.rejected;
  $("count-running").textContent = counts.running;
}

// ------------------------------------------------------------------ events
function candidate(p) {
  let c = state.candidates.get(p.candidate_id);
  if (!c) {
    c = {name: p.candidate_id, pk: p.candidate, generation: p.generation ?? 0, parent: p.parent_id, mutation: p.mutation,
         status: "proposed", accuracy: null, latency_ms: null, params: p.params ?? null};
    state.candidates.set(p.candidate_id, c);
  }
  return c;
}

const handlers = {
  status(p) {
    state.status = p.status;
    if (p.progress) state.progress = p.progress;
    if (p.status === "running") state.outcome = "";  // resumed: whatever ended it before no longer holds
    if (p.outcome) state.outcome = p.outcome;
    renderStatus(); renderProgress();
  },
  generation_started(p) { if (state.caughtUp) $("generation").textContent = generation(p.generation); },
  candidate_sampled(p) { renderRow(candidate(p)); },
  candidate_started(p) { const c = candidate(p); c.status = "running"; c.reason = ""; renderRow(c); },
  candidate_interrupted(p) { const c = candidate(p); c.status = p.status; c.reason = p.reason; renderRow(c); },
  candidate_evaluated(p) {
    const c = candidate(p);
    Object.assign(c, {status: "evaluated", accuracy: p.accuracy, latency_ms: p.latency_ms, params: p.params, reason: ""});
    if (p.progress) state.progress = p.progress;
    renderRow(c); renderProgress(); scheduleCharts();
  },
  candidate_rejected(p) {
    const c = candidate(p);
    Object.assign(c, {status: "rejected", reason: p.reason, latency_ms: p.latency_ms});
    if (p.progress) state.progress = p.progress;
    renderRow(c); renderProgress();
  },
  candidate_failed(p) { const c = candidate(p); Object.assign(c, {status: "failed", reason: p.reason}); renderRow(c); },
  new_best(p) {
    state.best = {name: p.candidate_id, pk: p.candidate, accuracy: p.accuracy};
    $("best-accuracy").textContent = accuracy(p.accuracy);
    $("best-name").replaceChildren(candidateLink(p.candidate, p.candidate_id));
    scheduleCharts();
  },
  generation_finished(p) {
    state.generations.set(p.generation, {best: p.best_accuracy, mean: p.mean_accuracy});
    scheduleCharts();
  },
  warning(p) { showWarning(p.message); },
  run_finished(p) {
    state.finished = p;
    if (p.outcome) state.outcome = p.outcome;
    if (state.caughtUp) renderResult(p, state.candidates);
  },
};

function apply(event) {
  if (event.seq <= state.lastSeq) { state.duplicates++; return; }
  if (event.seq > state.lastSeq + 1) {
    // Something was lost on the way: ask for everything after what we have.
    state.gaps++;
    if (!state.replayPending) { state.replayPending = true; live.send({type: "replay", after: state.lastSeq}); }
    return;
  }
  state.lastSeq = event.seq;
  state.received.push(event.seq);
  const handler = handlers[event.type];
  if (handler) handler(event.payload || {});
  renderCounts();
}

// A launch warning found after the page was rendered (e.g. a latency budget checked in the background).
function showWarning(message) {
  const shown = [...document.querySelectorAll(".launch-warning")].some((el) => el.textContent === message);
  if (shown || !message) return;
  $("warnings").append(h("div", {class: "card notice launch-warning", text: message}));
}

// The first replay is in: from now on the page shows the events' picture, and updates live.
function catchUp() {
  if (state.caughtUp) return;
  state.caughtUp = true;
  renderStatus(); renderProgress(); renderCounts();
  if (state.finished) renderResult(state.finished, state.candidates);
}

// ------------------------------------------------------------------ connection
function setConnection(text, kind) {
  const el = $("connection");
  el.textContent = text;
  el.className = "conn " + kind;
}

// Every (re)connection asks for the stored events after the last one we have: the replay is how
// this page re-reads the current state, so a reconnect never leaves it stale.
const live = liveSocket(`/ws/experiments/${boot.id}/`, {
  onOpen() {
    state.socket = live.socket;
    state.connections = live.connections;
    state.replayPending = true;
    live.send({type: "replay", after: state.lastSeq});
  },
  onState(connection) {
    if (connection === "live") setConnection("live", "live");
    else if (connection === "reconnecting") setConnection("reconnecting…", "down");
    else if (connection === "refused") {
      setConnection("not allowed", "down");
      if (state.connections) $("actions").hidden = true;  // access ended while watching (removed from the team)
    }
  },
  onMessage(data) {
    if (data.kind === "event") apply(data);
    else if (data.kind === "replayed") { state.replayPending = false; catchUp(); }
    else if (data.kind === "access") {  // the user's role in the team changed while watching
      $("actions").hidden = !data.can_change;
      const inject = $("inject-form");
      if (inject && !data.can_change) inject.hidden = true;
    }
  },
});
state.socket = live.socket;

// Buttons: the API, so the page stays; the status event brings the change to every viewer.
document.querySelectorAll("#actions form").forEach((form) => {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = form.querySelector("button");
    const action = button.dataset.action;
    const box = $("action-error");
    const words = {start: "Starting…", stop: "Stopping…", resume: "Resuming…", cancel: "Cancelling…"}[action];
    const indicator = busy(button, words, {status: $("action-progress")});
    try {
      await postJSON(`/api/experiments/${boot.id}/${action}/`);
      box.hidden = true;
    } catch (error) {
      box.hidden = false;
      box.textContent = error.message;
    } finally {
      indicator.done();
    }
  });
});

document.readyState === "loading" ? document.addEventListener("DOMContentLoaded", charts) : charts();
