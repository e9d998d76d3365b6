"""Outcomes in a real browser (Daphne + a Celery worker + headless Chromium): an EvaNet search
launched from the form shows its Pareto front and ensemble live when it ends, the "started"
notice goes, the counters never show 0 on a reload, a search that gave up says why, and the
API docs page renders from local files only. Screenshots go to $STUDIO_SCREENSHOTS (or tmp).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from browsing import log_in, wait_for_js

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(480)]

TINY = {"population": 2, "rounds": 1, "low_steps": 2, "high_steps": 0, "batch_size": 8, "num_threads": 1, "latency_runs": 2}

# Every value the evaluated-counter shows, from the first paint on (installed before any script runs).
WATCH_COUNTER = """
window.__counterValues = [];
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("count-evaluated");
  if (!el) return;
  window.__counterValues.push(el.textContent);
  new MutationObserver(() => window.__counterValues.push(el.textContent)).observe(el, {childList: true, characterData: true, subtree: true});
});
"""


def test_outcomes_read_right_in_a_browser(teams, ready_dataset, worker, daphne, browser, tmp_path):
    from playwright.sync_api import expect

    from archsearch.config import SearchConfig
    from webapp.studio import services
    from webapp.studio.models import Experiment

    shots = Path(os.environ.get("STUDIO_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    base = daphne.base
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(WATCH_COUNTER)
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors, requests = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    try:
        log_in(page, base, "alice", "alice-pass-123")

        # An unnamed EvaNet search from the form.
        page.goto(f"{base}/experiments/new/?dataset={ready_dataset.pk}")
        page.select_option("#id_family", "evanet")
        for field, value in {"population": "2", "rounds": "1", "low_steps": "2", "high_steps": "0", "batch_size": "8",
                             "parallelism": "1", "num_threads": "1", "seed": "0"}.items():
            page.fill(f"#id_{field}", value)
        page.click("#experiment-form button[type=submit]")
        expect(page).to_have_url(re.compile(r"/experiments/\d+/$"))
        expect(page.locator("h1")).to_contain_text("evanet on motion-a #1")
        expect(page.locator("#connection")).to_have_text("live")
        expect(page.locator("#status")).to_have_text("Finished", timeout=300_000)
        # The end arrives live: the result section fills without a reload, the notice goes.
        expect(page.locator("#search-result")).to_be_visible()
        expect(page.locator("#pareto tbody tr").first).to_be_visible()
        expect(page.locator("#ensemble")).to_be_visible()
        expect(page.locator("#ensemble-members tbody tr").first).to_be_visible()
        expect(page.locator("#ensemble-accuracy")).to_have_text(re.compile(r"^\d{1,3}\.\d %$"))  # accuracies read as percentages
        expect(page.locator("#generation")).to_have_text("2")
        expect(page.locator(".messages li", has_text="started")).to_have_count(0)  # "Experiment ... started" is old news
        expect(page.locator("#feed tbody tr td:nth-child(2)").first).to_have_text("2")  # the newest row: generation 2
        page.screenshot(path=str(shots / "experiment-evanet-finished.png"), full_page=True)

        # A reload: the counters start at the server's numbers and never pass through 0.
        page.reload()
        wait_for_js(page, "window.__studioTest.studio && window.__studioTest.studio.caughtUp")
        expect(page.locator("#count-evaluated")).to_have_text("4")
        values = page.evaluate("window.__counterValues")
        assert values and "0" not in values, values
        expect(page.locator("#search-result")).to_be_visible()

        # A search whose every proposal is over its latency budget gives up, and says why.
        gave_up = services.create_experiment(team=teams["a"], user=teams["alice"], name="", dataset=ready_dataset,
                                             config=SearchConfig(family="tvn", latency_budget_ms=1e-6, max_rejections=3, **TINY),
                                             parallelism=1)
        page.goto(f"{base}/experiments/{gave_up.pk}/")
        expect(page.locator("#status")).to_have_text("Gave up", timeout=180_000)
        expect(page.locator("#outcome")).to_be_visible()
        expect(page.locator("#outcome-text")).to_contain_text(re.compile(r"Gave up after \d+ proposals over the 1e-06 ms budget"))
        expect(page.locator(".launch-warning")).to_contain_text("latency budget of 1e-06 ms is below")
        expect(page.locator("button[data-action=cancel]")).to_be_hidden()
        page.screenshot(path=str(shots / "experiment-gave-up.png"), full_page=True)
        page.goto(f"{base}/")
        expect(page.locator("#experiments tbody tr").first).to_contain_text("Gave up after")
        page.screenshot(path=str(shots / "experiments.png"), full_page=True)

        page.goto(f"{base}/datasets/{ready_dataset.pk}/")
        expect(page.locator("#accuracy-note")).to_contain_text("resolution 1/5")
        page.screenshot(path=str(shots / "dataset.png"), full_page=True)

        page.goto(f"{base}/api/docs/")
        expect(page.locator("#swagger-ui .info .title")).to_contain_text("Video architecture studio API")
        expect(page.locator("#swagger-ui .opblock-tag").first).to_be_visible()
        page.screenshot(path=str(shots / "api-docs.png"), full_page=False)
    except Exception:
        page.screenshot(path=str(shots / "failure.png"), full_page=True)
        print(f"screenshot: {shots / 'failure.png'}\n----- worker -----\n{worker.output()[-3000:]}\n"
              f"----- daphne -----\n{daphne.output()[-3000:]}")
        raise
    finally:
        context.close()
    assert errors == []
    assert [url for url in requests if not url.startswith(base)] == []  # nothing from the internet
    assert Experiment.objects.get(pk=gave_up.pk).status == "gave_up"
