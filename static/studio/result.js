// The end of a search, drawn live from the run_finished event: the Pareto front (from the
// candidates the page already knows) and EvaNet's ensemble. The server renders the same
// section for a page opened after the end.
import {$, h} from "../common/dom.js";
import {accuracy, count, exact, ms} from "../common/format.js";

export function candidateLink(pk, name) {
  return pk ? h("a", {href: `/candidates/${pk}/`, text: name}) : name;
}

export function renderResult(finished, candidates) {
  const section = $("search-result");
  if (!section || !finished) return;
  const front = (finished.pareto_ids || []).map((name) => ({name, c: candidates.get(name)}))
    .sort((a, b) => (a.c?.latency_ms ?? Infinity) - (b.c?.latency_ms ?? Infinity));
  $("pareto").querySelector("tbody").replaceChildren(...front.map(({name, c}) => h("tr", {"data-name": name},
    h("td", {}, candidateLink(c?.pk, name)), h("td", {text: accuracy(c?.accuracy)}), h("td", {text: ms(c?.latency_ms)}),
    h("td", {text: count(c?.params), title: c?.params == null ? null : exact(c.params)}))));
  $("pareto-empty").hidden = front.length > 0;
  const ensemble = finished.ensemble;
  $("ensemble").hidden = !ensemble;
  if (ensemble) {
    $("ensemble-accuracy").textContent = accuracy(ensemble.ensemble_accuracy);
    $("ensemble-best-single").textContent = accuracy(ensemble.best_single_accuracy);
    $("ensemble-val-clips").textContent = ensemble.val_clips ?? "–";
    $("ensemble-error").hidden = !ensemble.error;
    $("ensemble-error").textContent = ensemble.error || "";
    $("ensemble-note").hidden = !ensemble.note;
    $("ensemble-note").textContent = ensemble.note || "";
    const accuracies = ensemble.member_accuracy || [];
    $("ensemble-members").querySelector("tbody").replaceChildren(...(ensemble.members || []).map((name, i) => h("tr", {"data-name": name},
      h("td", {}, candidateLink(candidates.get(name)?.pk, name)), h("td", {text: accuracy(accuracies[i])}))));
  }
  section.hidden = false;
}
