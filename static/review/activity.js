// The team's activity feed: the stored audit trail first, then live entries over the team's WebSocket.
import {el, getJSON} from "./api.js";

const $ = (id) => document.getElementById(id);
const boot = JSON.parse($("activity-boot").textContent);
const seen = new Set();
const state = window.activity = {seen, live: false};

function describe(entry) {
  const d = entry.detail || {};
  const what = d.tag || d.pointer || d.user || (d.new ? `${d.old} → ${d.new}` : "") || "";
  return `${new Date(entry.created).toLocaleString()} · ${entry.actor || "?"} · ${entry.action}${what ? ` ${what}` : ""}`;
}

function add(entry, {top = true} = {}) {
  if (seen.has(entry.id)) return;
  seen.add(entry.id);
  const item = el("li", {"data-id": entry.id}, describe(entry));
  if (top) $("feed").prepend(item); else $("feed").append(item);
}

async function main() {
  const data = await getJSON(boot.api);
  for (const entry of data.results) add(entry, {top: false});
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${boot.ws}`);
  socket.addEventListener("open", () => { state.live = true; $("live-state").textContent = "live"; });
  socket.addEventListener("close", () => { state.live = false; $("live-state").textContent = "disconnected"; });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.kind === "activity") add(message);
  });
}
main();
