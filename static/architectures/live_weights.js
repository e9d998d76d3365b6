// Candidate page: while the candidate trains, its drawing follows the learned edge weights its
// worker pushes over the experiment's socket (at most every couple of seconds); when its result
// arrives, the stored final weights are drawn and stay. The page's drawing is viewer.js's.
import {showRecords, showVector, socketUrl} from "./weights.js";

const box = document.getElementById("live-weights");
const live = window.liveWeights = {updates: 0, final: false, socket: null};

function drawing() {
  return window.viewer?.drawing;
}

function start() {
  const {experiment, candidate, after, candidateUrl} = box.dataset;
  const socket = live.socket = new WebSocket(socketUrl(`/ws/experiments/${experiment}/`));
  socket.addEventListener("open", () => socket.send(JSON.stringify({type: "replay", after: Number(after)})));
  socket.addEventListener("message", async (event) => {
    const message = JSON.parse(event.data);
    if (message.kind === "weights" && String(message.candidate) === candidate && drawing()) {
      showVector(drawing(), message.weights);
      live.updates += 1;
      box.textContent = `learning… step ${message.step}`;
    } else if (message.kind === "event" && ["candidate_evaluated", "candidate_failed"].includes(message.type)
               && String(message.payload?.candidate) === candidate) {
      const response = await fetch(candidateUrl, {credentials: "same-origin", headers: {Accept: "application/json"}});
      const data = await response.json();
      if (drawing() && Array.isArray(data.edge_weights)) showRecords(drawing(), data.edge_weights);
      live.final = true;
      box.textContent = "final learned weights";
      socket.close();
    }
  });
}

if (box && ["proposed", "running"].includes(box.dataset.status)) start();
