// The server is the one judge: every edit sends the whole spec to /api/analyze/ (debounced).
// Only the answer to the latest request is shown; older in-flight requests are aborted.
import {HttpError, postJSON} from "../common/http.js";

// A spec that parses always comes back 200 (valid or not: an edit in progress is not an HTTP error).
// A refusal (413, a body that is not a spec's shape) is still shown as a located answer.
function refusal(error) {
  return {valid: false, problems: error.data?.problems || [{location: "$", message: error.message}], warnings: [], nodes: {}, totals: null};
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
      let report;
      try {
        report = await postJSON(target, spec, {signal: controller.signal});
        if (!report || typeof report !== "object" || !("valid" in report)) report = refusal(new HttpError(200, report));
      } catch (error) {
        if (error.name === "AbortError" || mine !== sequence) return;
        report = error instanceof HttpError ? refusal(error)
          : {valid: false, problems: [{location: "$", message: `could not reach the server: ${error.message}`}], warnings: [],
             nodes: {}, totals: null, offline: true};
      }
      if (mine !== sequence) return;
      validator.pending = false;
      validator.answered += 1;
      onResult(report, spec, performance.now() - started);
    },
  };
  return validator;
}
