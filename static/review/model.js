// The model page: review status and actions, tags and pointers, comment threads (anchored to the
// drawing's selection), curves, per-class accuracy and the confusion matrix (drawn on a canvas).
import {viewer} from "../architectures/viewer.js";
import {$, afterLoad, h, readJSONScript} from "../common/dom.js";
import {drawEvaluation} from "./charts.js";
import {dateTime as when} from "../common/format.js";
import {deleteJSON, getJSON, postJSON} from "../common/http.js";
import {exposeForTests} from "../common/testhook.js";
import "./export_jobs.js";  // the export jobs of its trained weights

const boot = readJSONScript("review-boot");
const state = exposeForTests("review", {summary: boot.summary, anchor: null});

function renderSummary() {
  const s = state.summary;
  $("review-badge").textContent = s.status_label;
  $("review-badge").className = `badge review-${s.status}`;
  $("review-state").textContent = s.status === "draft" && !s.status_by ? "Draft: nobody asked for a review yet."
    : `${s.status_label} — ${s.status_by || "?"}, ${when(s.status_at)}${s.requested_by ? ` (requested by ${s.requested_by})` : ""}${s.status_comment ? `: “${s.status_comment}”` : ""}`;
  for (const button of document.querySelectorAll("#review-actions button[data-action]")) {
    const a = button.dataset.action;
    const show = {request: s.status !== "in_review", approve: s.status === "in_review" && s.requested_by !== boot.user,
                  reject: s.status === "in_review" && s.requested_by !== boot.user, withdraw: s.status === "in_review" && s.requested_by === boot.user}[a];
    button.classList.toggle("hidden", !show);
  }
  $("tags").replaceChildren(...s.tags.map((t) => h("span", {class: "tag", "data-tag": t}, t,
    s.can_change ? h("button", {class: "link remove-tag", type: "button", title: `remove ${t}`, onclick: () => removeTag(t)}, "×") : null)));
  $("pointers").replaceChildren(...(s.pointers.length ? [h("p", {}, "Pointers here: ", ...s.pointers.map((p) => h("span", {class: "tag pointer"}, p)))] : []));
  renderThreads(s.threads);
  $("audit").replaceChildren(...s.audit.map((a) => h("li", {}, `${when(a.created)} · ${a.actor || "?"} · ${a.action}`,
    a.detail.tag ? ` ${a.detail.tag}` : "", a.detail.pointer ? ` ${a.detail.pointer}` : "", a.detail.comment && typeof a.detail.comment === "string" ? ` — ${a.detail.comment}` : "")));
}

function anchorText(anchor) {
  if (!anchor) return "the whole model";
  return anchor.node ? `node ${anchor.node}` : `edge ${anchor.edge[0]} → ${anchor.edge[1]}`;
}

function renderThreads(threads) {
  $("threads").replaceChildren(...threads.map((t) => h("article", {class: `thread${t.resolved ? " resolved" : ""}${t.outdated ? " outdated" : ""}`, "data-thread": t.id},
    h("header", {}, h("strong", {}, t.author || "?"), ` on ${anchorText(t.anchor)} · ${when(t.created)}`,
      t.written_on && t.written_on.label !== boot.summary.kind ? ` · written on ${t.written_on.label}` : "",
      t.resolved ? h("span", {class: "badge"}, "resolved") : null,
      t.outdated ? h("span", {class: "badge outdated", title: t.outdated}, "outdated") : null),
    t.outdated ? h("p", {class: "muted"}, `Outdated: ${t.outdated}. Written against ${JSON.stringify(t.snapshot)}`) : null,
    h("p", {}, t.body),
    ...t.replies.map((r) => h("div", {class: "reply"}, h("strong", {}, r.author || "?"), ` ${r.body}`)),
    h("form", {class: "reply-form inline", onsubmit: (e) => reply(e, t.id)}, h("input", {placeholder: "Reply", "aria-label": "Reply"}),
      h("button", {type: "submit", class: "small"}, "Reply")),
    state.summary.can_change ? h("button", {type: "button", class: "small secondary", onclick: () => resolve(t.id, !t.resolved)},
      t.resolved ? "Reopen" : "Resolve") : null)));
}

async function act(promise) {
  $("review-error").textContent = "";
  try { return await promise; } catch (error) { $("review-error").textContent = error.message; return null; }
}

async function refresh() { state.summary = await getJSON(boot.api.subject); renderSummary(); }

async function reply(event, thread) {
  event.preventDefault();
  const input = event.target.querySelector("input");
  if (await act(postJSON(boot.api["subject-comments"], {body: input.value, parent: thread}))) await refresh();
}

async function resolve(thread, resolved) {
  if (await act(postJSON(boot.api.resolve.replace("/0/", `/${thread}/`), {resolved}))) await refresh();
}

async function removeTag(name) {
  const data = await act(deleteJSON(`${boot.api["subject-tags"]}${encodeURIComponent(name)}/`));
  if (data) { state.summary = data; renderSummary(); }
}

for (const button of document.querySelectorAll("#review-actions button[data-action]")) {
  button.addEventListener("click", async () => {
    const data = await act(postJSON(boot.api["subject-review"], {action: button.dataset.action, comment: $("review-comment").value}));
    if (data) { state.summary = data; $("review-comment").value = ""; renderSummary(); }
  });
}
$("tag-form")?.addEventListener("submit", async (e) => {
  e.preventDefault();
  const data = await act(postJSON(boot.api["subject-tags"], {name: $("tag-name").value}));
  if (data) { state.summary = data; $("tag-name").value = ""; renderSummary(); }
});
$("pointer-form")?.addEventListener("submit", async (e) => {
  e.preventDefault();
  const data = await act(postJSON(boot.api["subject-pointers"], {name: $("pointer-name").value}));
  if (data) { state.summary = data; renderSummary(); }
});
$("comment-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = {body: $("comment-body").value};
  if (state.anchor) body.anchor = state.anchor;
  if (await act(postJSON(boot.api["subject-comments"], body))) { $("comment-body").value = ""; await refresh(); }
});

function setAnchor(anchor) {
  state.anchor = anchor;
  $("anchor-note").textContent = `On ${anchorText(anchor)}.`;
  $("anchor-clear").classList.toggle("hidden", !anchor);
}
$("anchor-clear").addEventListener("click", () => setAnchor(null));

// The drawing (viewer.js, the editor's module); a selected node or edge becomes the anchor.
if (viewer.drawing) {
  viewer.drawing.cy.on("select", (event) => {
    const item = event.target;
    if (item.isEdge() && !item.hasClass("peer")) setAnchor({edge: [item.data("source"), item.data("target")]});
    else if (item.isNode() && item.hasClass("spec-node")) setAnchor({node: item.id()});
  });
}

renderSummary();
afterLoad(() => drawEvaluation(boot.evaluation || {}));


