// The end of a search, drawn live from the run_finished event: the Pareto front (from the
// candidates the page already knows) and EvaNet's ensemble. The server renders the same
// section for a page opened after the end.
import {escapeHtml, fmt, ms} from "./format.js";

const $ = (id) => document.getElementById(id);

function link(c, name) {
  return c && c.pk ? `<a href="/candidates/${c.pk}/">${escapeHtml(name)}</a>` : escapeHtml(name);
}

export function renderResult(finished, candidates) {
  const section = $("search-result");
  if (!section || !finished) return;
  const front = (finished.pareto_ids || []).map((name) => ({name, c: candidates.get(name)}))
    .sort((a, b) => (a.c?.latency_ms ?? Infinity) - (b.c?.latency_ms ?? Infinity));
  $("pareto").querySelector("tbody").innerHTML = front.map(({name, c}) =>
    `<tr data-name="${escapeHtml(name)}"><td>${link(c, name)}</td><td>${fmt(c?.accuracy, 3)}</td>` +
    `<td>${ms(c?.latency_ms)}</td><td>${c?.params == null ? "–" : Number(c.params).toLocaleString()}</td></tr>`).join("");
  $("pareto-empty").hidden = front.length > 0;
  const ensemble = finished.ensemble;
  $("ensemble").hidden = !ensemble;
  if (ensemble) {
    $("ensemble-accuracy").textContent = fmt(ensemble.ensemble_accuracy, 3);
    $("ensemble-best-single").textContent = fmt(ensemble.best_single_accuracy, 3);
    $("ensemble-val-clips").textContent = ensemble.val_clips ?? "–";
    $("ensemble-error").hidden = !ensemble.error;
    $("ensemble-error").textContent = ensemble.error || "";
    $("ensemble-note").hidden = !ensemble.note;
    $("ensemble-note").textContent = ensemble.note || "";
    const accuracies = ensemble.member_accuracy || [];
    $("ensemble-members").querySelector("tbody").innerHTML = (ensemble.members || []).map((name, i) =>
      `<tr data-name="${escapeHtml(name)}"><td>${link(candidates.get(name), name)}</td><td>${fmt(accuracies[i], 3)}</td></tr>`).join("");
  }
  section.hidden = false;
}
