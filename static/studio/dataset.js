// A dataset being prepared: poll its API every 2 s, show the preparation's stage and progress, and
// reload the page once it is ready or failed.
import {getJSON} from "../common/http.js";

const $ = (id) => document.getElementById(id);
const url = document.querySelector("script[data-poll-url]").dataset.pollUrl;  // module scripts have no currentScript

async function poll() {
  try {
    const dataset = await getJSON(url);
    if (dataset.status === "ready" || dataset.status === "failed") { location.reload(); return; }
    const job = dataset.preparation;
    if (job && job.stage && !["queued", "starting"].includes(job.stage)) {
      $("preparation-stage").textContent = job.stage.charAt(0).toUpperCase() + job.stage.slice(1);
      $("preparation-progress").value = job.progress;
    }
    setTimeout(poll, 2000);
  } catch {
    setTimeout(poll, 5000);
  }
}

poll();
