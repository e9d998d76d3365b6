// Progress on anything that takes more than a moment (launching a search, preparing a dataset,
// saving, evaluating, exporting, computing a diff): the control that started it is disabled and
// marked aria-busy, a spinner and the stage in words show beside it, and on an error the control
// comes back with the server's message. One module for every page's buttons, forms and links.
import {h} from "./dom.js";

const spinner = () => h("span", {class: "spinner", "aria-hidden": "true"});

// Where a control's progress shows: the element its data-busy-status names, else a status span
// made once right after it (inside a form: after its submit button).
function statusFor(control) {
  const named = control.dataset.busyStatus && document.getElementById(control.dataset.busyStatus);
  if (named) return named;
  let out = control.nextElementSibling;
  if (!out || !out.classList.contains("busy-status")) {
    out = h("span", {class: "busy-status", role: "status", "aria-live": "polite"});
    control.after(out);
  }
  return out;
}

function setDisabled(control, disabled) {
  if (control.tagName === "A") {
    control.classList.toggle("is-disabled", disabled);
    if (disabled) control.setAttribute("aria-disabled", "true"); else control.removeAttribute("aria-disabled");
  } else {
    control.disabled = disabled;
  }
}

// busy(button, "Saving…") -> {stage(text), done(text), fail(message)}. Every busy control counts in
// busyCount(), so a test (or a page) can tell whether something is still under way.
let running = 0;
export const busyCount = () => running;

export function busy(control, text = "Working…", {status} = {}) {
  const out = status ?? statusFor(control);
  const wasDisabled = control.tagName === "A" ? false : control.disabled;
  let over = false;
  running += 1;
  setDisabled(control, true);
  control.setAttribute("aria-busy", "true");
  control.classList.add("is-busy");
  out.hidden = false;
  out.classList.remove("error");
  out.replaceChildren(spinner(), " ", text);
  const end = () => {
    if (over) return;
    over = true;
    running -= 1;
    setDisabled(control, wasDisabled);
    control.removeAttribute("aria-busy");
    control.classList.remove("is-busy");
  };
  return {
    stage(next) { if (!over) out.replaceChildren(spinner(), " ", next); },
    done(message = "") { end(); out.replaceChildren(message); },
    fail(message) { end(); out.classList.add("error"); out.replaceChildren(message || "Failed."); },
  };
}

// Run ``task(indicator)`` with ``control`` busy: {ok: true, value} when it succeeds; on an error the
// control comes back with the message beside it and the answer is {ok: false, error} (never thrown),
// so a page decides what else to do.
export async function whileBusy(control, text, task, options = {}) {
  const indicator = busy(control, text, options);
  try {
    const value = await task(indicator);
    indicator.done(options.doneText ?? "");
    return {ok: true, value};
  } catch (error) {
    indicator.fail(error?.message || String(error));
    return {ok: false, error};
  }
}

// Forms and links that load a page the server takes a while to make (a launch, a registration, a
// diff): <form data-busy="Launching…"> and <a data-busy="Computing the diff…"> show the spinner
// until the next page comes. A page restored from the back/forward cache gets its controls back.
export function busyOnNavigation(root = document) {
  const shown = [];
  root.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.busy || event.defaultPrevented) return;
    const button = event.submitter || form.querySelector("button[type=submit], button:not([type])");
    // After the browser has read the form (a disabled submitter would drop its name and value).
    if (button) setTimeout(() => shown.push(busy(button, form.dataset.busy)), 0);
  });
  root.addEventListener("click", (event) => {
    const link = event.target.closest?.("a[data-busy]");
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    if (link.classList.contains("is-disabled")) { event.preventDefault(); return; }
    shown.push(busy(link, link.dataset.busy));
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) shown.splice(0).forEach((indicator) => indicator.done());
  });
}
