// Reload the dataset page once its preparation is over (polls the API every 2 s).
const script = document.getElementById("dataset-poll");

async function poll() {
  try {
    const response = await fetch(script.dataset.api, { credentials: "same-origin" });
    const dataset = await response.json();
    if (dataset.status === "ready" || dataset.status === "failed") {
      location.reload();
      return;
    }
    setTimeout(poll, 2000);
  } catch {
    setTimeout(poll, 5000);
  }
}

poll();
