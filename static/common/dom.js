// Building the page: elements from plain values, text always as text (never innerHTML), so a
// name or a comment typed by a user can never become markup.

export const $ = (id) => document.getElementById(id);

// The data a template hands its script through Django's json_script (null when absent).
export function readJSONScript(id) {
  const node = $(id);
  return node ? JSON.parse(node.textContent) : null;
}

// h("a", {href, class: "x", text: "label", onclick, dataset: {id: 1}}, ...children)
// Attributes false/null/undefined are left out; true is a bare attribute (disabled, hidden).
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

// Save a URL (a data: PNG, a blob: JSON) under a file name, as a link click would.
export function download(href, filename) {
  const link = h("a", {href, download: filename});
  document.body.append(link);
  link.click();
  link.remove();
}

// Run once every classic deferred script (the vendored Chart.js) and image is in.
export function afterLoad(callback) {
  if (document.readyState === "complete") callback(); else window.addEventListener("load", callback, {once: true});
}
