// A version's page: draw the learned edge weights of its newest evaluation (read-only drawing of viewer.js).
import {showRecords} from "./weights.js";

const records = JSON.parse(document.getElementById("learned-weights")?.textContent || "[]");
if (records.length && window.viewer?.drawing) {
  showRecords(window.viewer.drawing, records);
  window.viewer.learnedWeights = records.length;
}
