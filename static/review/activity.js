// The team's activity feed: the stored audit trail first, then live entries over the team's WebSocket.
// After a reconnect the trail is read again, so entries written while the socket was down show too.
import {$, h, readJSONScript} from "../common/dom.js";
import {dateTime} from "../common/format.js";
import {getJSON} from "../common/http.js";
import {liveSocket} from "../common/socket.js";
import {exposeForTests} from "../common/testhook.js";

const boot = readJSONScript("activity-boot");
const seen = new Set();
const state = exposeForTests("activity", {seen, live: false, connection: null});

function describe(entry) {
  const d = entry.detail || {};
  const what = d.tag || d.pointer || d.user || d.name || (d.new ? `${d.old} → ${d.new}` : "") || "";
  return `${dateTime(entry.created)} · ${entry.actor || "?"} · ${entry.action}${what ? ` ${what}` : ""}`;
}

function add(entry, {top = true} = {}) {
  if (seen.has(entry.id)) return;
  seen.add(entry.id);
  const item = h("li", {"data-id": entry.id}, describe(entry));
  if (top) $("feed").prepend(item); else $("feed").append(item);
}

// The trail comes newest first. On a re-read the entries we lack were written while the socket
// was down, so they go on top, oldest first, to keep the feed in order.
async function readTrail({missedOnly = false} = {}) {
  const data = await getJSON(boot.api);
  if (missedOnly) [...data.results].reverse().forEach((entry) => add(entry));
  else data.results.forEach((entry) => add(entry, {top: false}));
}

async function main() {
  await readTrail();
  state.connection = liveSocket(boot.ws, {
    onMessage(message) { if (message.kind === "activity") add(message); },
    onReconnect() { readTrail({missedOnly: true}); },
    onState(connection) {
      state.live = connection === "live";
      $("live-state").textContent = {live: "live", reconnecting: "reconnecting…"}[connection] || "disconnected";
    },
  });
}
main();
