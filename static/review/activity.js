// The team's activity feed: the stored audit trail first, then live entries over the team's WebSocket.
// After a reconnect the trail is read again, so entries written while the socket was down show too.
import {$, h, readJSONScript} from "../common/dom.js";
import {dateTime} from "../common/format.js";
import {getJSON} from "../common/http.js";
import {liveSocket} from "../common/socket.js";
import {exposeForTests} from "../common/testhook.js";

const boot = readJSONScript("activity-boot");
const seen = new Set();
const state = exposeForTests("activity", {seen, live: false, connection: null});

// What happened, in words: the audit action's label and the detail that matters for it.
const LABELS = {
  "experiment.launched": "launched the search", "experiment.finished": "search finished",
  "experiment.failed": "search failed", "experiment.gave_up": "search gave up", "experiment.cancelled": "search cancelled",
  "version.saved": "saved", "evaluation.queued": "queued an evaluation of", "evaluation.evaluated": "evaluation finished:",
  "evaluation.failed": "evaluation failed:", "export.requested": "asked for an export of", "export.ready": "export ready:",
  "export.failed": "export failed:", "ensemble.created": "created the ensemble", "ensemble.evaluated": "ensemble evaluated:",
  "review.request": "asked for a review of", "review.approve": "approved", "review.reject": "rejected",
  "review.reopen": "reopened", "review.withdraw": "withdrew the review of", "tag.added": "tagged", "tag.removed": "untagged",
  "pointer.moved": "moved a pointer to", "comment.added": "commented on", "comment.resolved": "resolved a thread on",
  "comment.reopened": "reopened a thread on",
  "experiment.renamed": "renamed the search", "experiment.deleted": "deleted the search", "dataset.renamed": "renamed the dataset",
  "dataset.deleted": "deleted the dataset", "architecture.renamed": "renamed the architecture",
  "architecture.deleted": "deleted the architecture", "version.message": "edited the message of",
};

function what(entry) {
  const d = entry.detail || {};
  return d.tag || d.pointer || d.user || (d.new ? `${d.old} → ${d.new}` : "") || (d.model ? "" : d.name) || d.message || d.reason || "";
}

function describe(entry) {
  const d = entry.detail || {};
  const model = d.model ? (d.url ? h("a", {href: d.url, class: "model", text: d.model}) : h("span", {text: d.model})) : null;
  const extra = what(entry);
  const label = LABELS[entry.action] || entry.action;
  // A search or a job that ended on its own has no actor: the sentence starts with what happened.
  const who = entry.actor ? [h("strong", {text: entry.actor}), " "] : [];
  return [
    h("time", {class: "muted", datetime: entry.created, text: dateTime(entry.created)}), " ", ...who,
    h("span", {class: "action", title: entry.action, text: entry.actor ? label : label[0].toUpperCase() + label.slice(1)}), " ",
    model, extra ? h("span", {class: "muted", text: ` · ${extra}`}) : null,
  ];
}

function add(entry, {top = true} = {}) {
  if (seen.has(entry.id)) return;
  seen.add(entry.id);
  const item = h("li", {"data-id": entry.id, "data-action": entry.action}, ...describe(entry));
  if (top) $("feed").prepend(item); else $("feed").append(item);
  $("feed-empty").hidden = true;
}

// The trail comes newest first. On a re-read the entries we lack were written while the socket
// was down, so they go on top, oldest first, to keep the feed in order.
async function readTrail({missedOnly = false} = {}) {
  const data = await getJSON(boot.api);
  if (missedOnly) [...data.results].reverse().forEach((entry) => add(entry));
  else data.results.forEach((entry) => add(entry, {top: false}));
}

async function main() {
  await readTrail();
  $("feed-empty").hidden = seen.size > 0;
  state.connection = liveSocket(boot.ws, {
    onMessage(message) { if (message.kind === "activity") add(message); },
    onReconnect() { readTrail({missedOnly: true}); },
    onState(connection) {
      state.live = connection === "live";
      $("live-state").textContent = {live: "live", reconnecting: "reconnecting…"}[connection] || "disconnected";
    },
  });
}
main();
