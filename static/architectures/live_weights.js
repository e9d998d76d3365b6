// Candidate page: while the candidate trains, its drawing follows the learned edge weights its
// worker pushes over the experiment's socket (at most every couple of seconds); when its result
// arrives, the stored final weights are drawn and stay. The page's drawing is viewer.js's.
import {$} from "../common/dom.js";
import {getJSON} from "../common/http.js";
import {rereadParts} from "../common/reread.js";
import {liveSocket} from "../common/socket.js";
import {exposeForTests} from "../common/testhook.js";
import {viewer} from "./viewer.js";
import {showRecords, showVector} from "./weights.js";

const box = $("live-weights");
const live = exposeForTests("liveWeights", {updates: 0, final: false, socket: null});

// The candidate as stored: once it is done, its final weights replace whatever the socket pushed.
async function readCandidate() {
  const data = await getJSON(box.dataset.candidateUrl);
  if (!["evaluated", "failed", "rejected"].includes(data.status)) return false;
  if (viewer.drawing && Array.isArray(data.edge_weights)) showRecords(viewer.drawing, data.edge_weights);
  live.final = true;
  box.textContent = "final learned weights";
  await rereadParts(["candidate-status", "result"]).catch(() => false);  // its status and scores as recorded
  live.socket.close();
  return true;
}

function start() {
  const {experiment, candidate, after} = box.dataset;
  live.socket = liveSocket(`/ws/experiments/${experiment}/`, {
    // The replay brings the candidate's end if it came before we (re)connected.
    onOpen(socket) { socket.send({type: "replay", after: Number(after)}); },
    onReconnect() { readCandidate(); },
    onMessage(message) {
      if (message.kind === "weights" && String(message.candidate) === candidate && viewer.drawing && !live.final) {
        showVector(viewer.drawing, message.weights);
        live.updates += 1;
        box.textContent = `learning… step ${message.step}`;
      } else if (message.kind === "event" && ["candidate_evaluated", "candidate_failed"].includes(message.type)
                 && String(message.payload?.candidate) === candidate) {
        readCandidate();
      }
    },
  });
}

if (box && ["proposed", "running"].includes(box.dataset.status)) start();
