// The server is the one judge: every edit sends the whole spec to /api/analyze/ (debounced).
// Only the answer to the latest request is shown; older in-flight requests are aborted.

export function csrfToken() {
  const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : (document.querySelector("[data-csrf]")?.dataset.csrf || "");
}

export async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json"},
    body: JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch { data = {detail: `HTTP ${response.status}`}; }
  return {status: response.status, ok: response.ok, data};
}

export function createValidator(url, onResult, {delay = 150, family = null} = {}) {
  let timer = null, controller = null, sequence = 0;
  const target = family ? `${url}?family=${encodeURIComponent(family)}` : url;
  const validator = {
    pending: false,
    sent: 0,
    answered: 0,
    schedule(spec, started = performance.now()) {
      clearTimeout(timer);
      validator.pending = true;
      const snapshot = structuredClone(spec);
      timer = setTimeout(() => validator.now(snapshot, started), delay);
    },
    async now(spec, started = performance.now()) {
      clearTimeout(timer);
      if (controller) controller.abort();
      controller = new AbortController();
      const mine = ++sequence;
      validator.pending = true;
      validator.sent += 1;
      try {
        const response = await fetch(target, {
          method: "POST", credentials: "same-origin", signal: controller.signal,
          headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json"},
          body: JSON.stringify(spec),
        });
        let data;
        try { data = await response.json(); } catch { data = null; }
        if (mine !== sequence) return;
        if (!data || typeof data !== "object" || !("valid" in data)) {
          // A refusal before analysis (413, parse error): still a located answer.
          data = {valid: false, problems: data?.problems || [{location: "$", message: data?.detail || `HTTP ${response.status}`}],
                  warnings: [], nodes: {}, totals: null};
        }
        validator.pending = false;
        validator.answered += 1;
        onResult(data, spec, performance.now() - started);
      } catch (error) {
        if (error.name === "AbortError" || mine !== sequence) return;
        validator.pending = false;
        onResult({valid: false, problems: [{location: "$", message: `could not reach the server: ${error.message}`}], warnings: [],
                  nodes: {}, totals: null, offline: true}, spec, performance.now() - started);
      }
    },
  };
  return validator;
}
