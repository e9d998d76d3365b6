// A dataset being prepared: poll its API every 2 s and reload the page once it is ready or failed.
import {getJSON} from "../common/http.js";

const url = document.querySelector("script[data-poll-url]").dataset.pollUrl;  // module scripts have no currentScript

async function poll() {
  try {
    const dataset = await getJSON(url);
    if (dataset.status === "ready" || dataset.status === "failed") { location.reload(); return; }
    setTimeout(poll, 2000);
  } catch {
    setTimeout(poll, 5000);
  }
}

poll();
