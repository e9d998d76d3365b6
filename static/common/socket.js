// A live view over a WebSocket that outlives network trouble. It reconnects with a growing,
// jittered delay; after every reconnect it calls onReconnect so the page re-reads the current
// state (over HTTP, or a replay) before it trusts the stream again: whatever happened while the
// socket was down is never missed, so the page never shows stale state.

export function socketUrl(path) {
  return `${location.protocol === "https:" ? "wss://" : "ws://"}${location.host}${path}`;
}

// 4xxx: the server refused (4403 not allowed, 4404 no such thing for this user). Retrying cannot help.
const refused = (code) => code >= 4000 && code < 5000;

/**
 * liveSocket("/ws/teams/3/", {
 *   onMessage(message, live),  // every message, parsed
 *   onOpen(live),              // every (re)connection, before any message (e.g. ask for a replay)
 *   onReconnect(live),         // every reconnection after the first: re-read the current state
 *   onState(state, event),     // "live", "reconnecting", "refused" (event.code says why) or "closed"
 * })
 * returns {socket (the current WebSocket), connections, send(message), close()}.
 */
export function liveSocket(path, {onMessage, onOpen, onReconnect, onState, firstDelayMs = 500, maxDelayMs = 8000} = {}) {
  let failures = 0, stopped = false, timer = null;
  const live = {
    socket: null,
    connections: 0,
    send(message) {
      if (live.socket?.readyState !== WebSocket.OPEN) return false;
      live.socket.send(JSON.stringify(message));
      return true;
    },
    close() {  // on purpose: no reconnection
      stopped = true;
      clearTimeout(timer);
      live.socket?.close();
    },
  };

  function connect() {
    const socket = live.socket = new WebSocket(socketUrl(path));
    socket.addEventListener("open", () => {
      failures = 0;
      live.connections += 1;
      onState?.("live");
      onOpen?.(live);
      if (live.connections > 1) onReconnect?.(live);
    });
    socket.addEventListener("message", (event) => onMessage?.(JSON.parse(event.data), live));
    socket.addEventListener("close", (event) => {
      if (socket !== live.socket) return;  // an old socket closing late
      if (stopped) { onState?.("closed", event); return; }
      if (refused(event.code)) { onState?.("refused", event); return; }
      onState?.("reconnecting", event);
      // Many viewers dropped at once should not all come back in the same instant.
      const delay = Math.min(maxDelayMs, firstDelayMs * 2 ** failures) * (0.8 + 0.4 * Math.random());
      failures += 1;
      timer = setTimeout(connect, delay);
    });
  }

  connect();
  return live;
}
