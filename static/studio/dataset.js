// A dataset being prepared: poll its API every 2 s and reload the page once it is ready or failed.
const url = document.querySelector("script[data-poll-url]").dataset.pollUrl;  // module scripts have no currentScript

async function poll() {
  try {
    const response = await fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}});
    const dataset = await response.json();
    if (dataset.status === "ready" || dataset.status === "failed") { location.reload(); return; }
    setTimeout(poll, 2000);
  } catch {
    setTimeout(poll, 5000);
  }
}

poll();
