// A model page that is a job (an ensemble): its status live over /ws/jobs/<kind>/<id>/. Every
// (re)connection and the job's end re-read the page itself over HTTP and put its facts in place, so
// the page never shows a status older than its last connection, without a reload.
import {$} from "../common/dom.js";
import {percent} from "../common/format.js";
import {liveSocket} from "../common/socket.js";
import {exposeForTests} from "../common/testhook.js";

const FINISHED = ["evaluated", "failed", "ready"];
const box = $("job-status");
const job = exposeForTests("job", {status: box.dataset.status, reads: 0, socket: null});

function show(state) {
  job.status = box.dataset.status = state.status;
  box.textContent = state.status === "running" && state.stage
    ? `${state.status_label}: ${state.stage} (${percent(state.progress, 0)})` : state.status_label;
}

// The facts as the server renders them now (the same template as the first load).
async function rereadFacts() {
  try {
    const response = await fetch(location.href, {credentials: "same-origin", headers: {Accept: "text/html"}});
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const id of ["facts", "job-status"]) {
      const from = fresh.getElementById(id);
      if (from && $(id)) { $(id).replaceChildren(...from.childNodes); Object.assign($(id).dataset, from.dataset); }
    }
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
