// Export jobs of trained weights (a candidate's or an evaluation's page): start an ONNX or a checkpoint
// export without leaving the page, then follow each unfinished one over its own socket
// (/ws/jobs/export/<id>/): its stage and progress as they come; when it ends, and on every reconnection,
// the list is read again over HTTP (the size and the link of a ready file, the reason of a failed one),
// so the section never shows a state older than its last connection.
import {$, h, readJSONScript} from "../common/dom.js";
import {percent} from "../common/format.js";
import {whileBusy} from "../common/busy.js";
import {getJSON, postJSON} from "../common/http.js";
import {liveSocket} from "../common/socket.js";
import {exposeForTests} from "../common/testhook.js";

const UNDER_WAY = ["queued", "running"];
const root = $("export-jobs");
const state = exposeForTests("exportJobs", {jobs: readJSONScript("export-jobs-boot"), reads: 0, messages: 0, sockets: new Map()});

function detail(e) {
  if (e.status === "ready") {
    const how = [e.size, e.opset ? `opset ${e.opset}` : null, e.verified ? `verified by ${e.verified}` : null].filter(Boolean).join(", ");
    return [h("a", {href: e.download_url, "data-export": e.format_label}, e.filename), ` (${how})`];
  }
  if (e.status === "failed") return [e.reason, " ", retryButton(e)];
  return [`${e.stage} (${percent(e.progress, 0)})`];
}

function row(e) {
  return h("tr", {"data-export-id": String(e.id), "data-status": e.status, "data-format": e.format},
    h("td", {}, e.format_label), h("td", {}, e.status_label), h("td", {}, ...detail(e)));
}

// A failed export runs again as its next attempt; the table follows it like a new one.
function retryButton(e) {
  return h("button", {type: "button", class: "small secondary", "data-retry-export": String(e.id),
                      onclick: async (event) => {
                        if ((await whileBusy(event.currentTarget, "Queueing it again…", () => postJSON(e.retry_url, {}))).ok) await reread();
                      }}, "Run again");
}

function startButton(f, jobs) {
  return h("button", {type: "button", class: "small", id: `${f.format}-start`, "data-export-format": f.format, onclick: async (event) => {
    if ((await whileBusy(event.currentTarget, "Queueing the export…", () => postJSON(jobs.api, {format: f.format}))).ok) await reread();
  }}, `Export ${f.label}`);
}

// One socket per unfinished export; a finished one's socket closes.
function follow(rows) {
  const open = new Set(rows.filter((e) => UNDER_WAY.includes(e.status)).map((e) => e.id));
  for (const [id, live] of state.sockets) if (!open.has(id)) { live.close(); state.sockets.delete(id); }
  for (const e of rows) {
    if (!open.has(e.id) || state.sockets.has(e.id)) continue;
    state.sockets.set(e.id, liveSocket(e.ws, {
      onReconnect() { reread(); },
      onMessage(message) {
        if (message?.kind !== "job" || message.id !== e.id) return;
        state.messages += 1;
        const tr = root.querySelector(`tr[data-export-id="${e.id}"]`);
        if (UNDER_WAY.includes(message.status) && tr) {
          tr.dataset.status = message.status;
          tr.children[1].textContent = message.status_label;
          tr.children[2].textContent = `${message.stage} (${percent(message.progress, 0)})`;
        } else {
          reread();  // ready or failed: its size and link, or its reason, come from the server
        }
      },
    }));
  }
}

// The section from its data (null: this model has no trained weights to export).
export function showExportJobs(jobs) {
  state.jobs = jobs;
  root.hidden = !jobs;
  if (!jobs) { follow([]); root.replaceChildren(); return; }
  const start = jobs.refused ? h("p", {class: "muted", id: "export-refused"}, jobs.refused)
    : h("div", {class: "inline", id: "export-form"}, ...jobs.formats.flatMap((f) => [startButton(f, jobs), " "]),
        h("small", {class: "muted"}, " jobs: ONNX verified in onnxruntime, the checkpoint loaded again with weights_only=True; "
          + "the size shows here before you download"));
  root.replaceChildren(start, h("table", {class: "table", id: "export-jobs-table"}, h("tbody", {}, ...jobs.rows.map(row))));
  follow(jobs.rows);
}

async function reread() {
  if (!state.jobs) return;
  try {
    const {results} = await getJSON(state.jobs.api);
    state.reads += 1;
    showExportJobs({...state.jobs, rows: results});
  } catch (error) {
    $("export-error").textContent = `Could not read the exports: ${error.message}`;
  }
}

if (state.jobs) showExportJobs(state.jobs);
