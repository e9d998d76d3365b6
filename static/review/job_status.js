// A model page that is a job (an ensemble): its status live over /ws/jobs/<kind>/<id>/. Every
// (re)connection and the job's end re-read the page itself over HTTP and put its facts in place, so
// the page never shows a status older than its last connection, without a reload.
import {$} from "../common/dom.js";
import {percent} from "../common/format.js";
import {rereadParts} from "../common/reread.js";
import {liveSocket} from "../common/socket.js";
import {exposeForTests} from "../common/testhook.js";

const FINISHED = ["evaluated", "failed", "ready"];
const box = $("job-status");
const job = exposeForTests("job", {status: box.dataset.status, reads: 0, socket: null});

function show(state) {
  job.status = box.dataset.status = state.status;
  box.className = `badge ${state.status}`;
  box.textContent = state.status === "running" && state.stage
    ? `${state.status_label}: ${state.stage} (${percent(state.progress, 0)})` : state.status_label;
}

async function rereadFacts() {
  try {
    if (!(await rereadParts(["facts", "job-status"]))) return;
    job.status = box.dataset.status;
    job.reads += 1;
  } catch { /* the next connection reads again */ }
}

job.socket = liveSocket(box.dataset.ws, {
  onOpen() { rereadFacts(); },
  onMessage(message) {
    if (message?.kind !== "job") return;
    const was = job.status;
    show(message);
    if (message.status !== was && FINISHED.includes(message.status)) rereadFacts();
  },
});
