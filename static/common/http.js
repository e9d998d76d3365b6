// JSON over HTTP with the session cookie and the CSRF token. A refusal (4xx/5xx) is thrown as an
// HttpError carrying the server's own message, so a page shows why, never just "HTTP 400".

export function csrfToken() {
  const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  // No cookie readable (e.g. CSRF_COOKIE_HTTPONLY): the token the page rendered in a form.
  return document.querySelector("input[name=csrfmiddlewaretoken]")?.value
    || document.querySelector("[data-csrf-token]")?.dataset.csrfToken || "";
}

export class HttpError extends Error {
  constructor(status, data) {
    super(messageOf(status, data));
    this.name = "HttpError";
    this.status = status;
    this.data = data;  // the parsed body (problems, field errors), null when there was none
  }
}

// DRF answers {"detail": "..."} or {"field": ["error", ...]}; both read as one sentence.
function messageOf(status, data) {
  if (data && typeof data === "object") {
    if (typeof data.detail === "string") return data.detail;
    const fields = Object.entries(data).map(([key, value]) => `${key}: ${[].concat(value).map(String).join(" ")}`);
    if (fields.length) return fields.join("; ");
  }
  return `HTTP ${status}`;
}

export async function requestJSON(method, url, body, {signal} = {}) {
  const headers = {"Accept": "application/json"};
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {method, credentials: "same-origin", signal, headers,
                                     body: body === undefined ? undefined : JSON.stringify(body)});
  let data = null;
  try { data = await response.json(); } catch { data = null; }  // 204, or an HTML error page
  if (!response.ok) throw new HttpError(response.status, data);
  return data;
}

export const getJSON = (url, options) => requestJSON("GET", url, undefined, options);
export const postJSON = (url, body, options) => requestJSON("POST", url, body, options);
export const deleteJSON = (url, options) => requestJSON("DELETE", url, undefined, options);
