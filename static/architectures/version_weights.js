// A version's page: draw the learned edge weights of its newest evaluation (read-only drawing of viewer.js).
import {readJSONScript} from "../common/dom.js";
import {viewer} from "./viewer.js";
import {showRecords} from "./weights.js";

const records = readJSONScript("learned-weights") || [];
if (records.length && viewer.drawing) {
  showRecords(viewer.drawing, records);
  viewer.learnedWeights = records.length;
}
