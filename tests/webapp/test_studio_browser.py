"""End to end: Daphne + a Celery worker + headless Chromium (Debian's, driven by Playwright).

Log in, generate the motion benchmark, launch a small search from the form, watch live
updates arrive without a reload, stop and resume it, drop the connection once, and see
it finish with every event received exactly once.
"""
from __future__ import annotations

import re

import pytest
from browsing import expect_console, log_in, wait_for_js

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(480)]

def test_launch_watch_stop_resume_and_finish_in_a_browser(teams, worker, daphne, browser, tmp_path):
    from playwright.sync_api import expect

    from webapp.studio.models import Experiment

    base = daphne.base
    page = browser.new_page()
    page.set_default_timeout(60_000)
    blocked = []  # what the Content Security Policy refused: nothing may be
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None)
    try:
        # Log in (an anonymous visit is sent to the login page first).
        page.goto(f"{base}/")
        expect(page).to_have_url(re.compile(r"/accounts/login/"))
        log_in(page, base, "alice", "alice-pass-123")

        # Generate a tiny motion benchmark; its page turns ready by itself.
        page.goto(f"{base}/datasets/")
        page.fill("#id_synthetic-name", "tiny motion")
        page.fill("#id_synthetic-clips_per_class", "4")
        page.click("#synthetic-form button[type=submit]")
        expect(page.locator("#dataset-status")).to_have_text("Ready", timeout=120_000)
        expect(page.locator("#bad-files")).to_contain_text("None")

        # Launch from the form, with one mistake first.
        page.click("text=Launch a search on it")
        for field, value in {"population": "1", "rounds": "1", "low_steps": "80", "high_steps": "0", "batch_size": "8",
                             "parallelism": "1", "num_threads": "1", "seed": "0"}.items():
            page.fill(f"#id_{field}", value)
        page.fill("#id_name", "browser search")
        expect_console(page, r"experiments/new/.*status of 400")  # the form with the mistake comes back as a 400, on purpose
        page.click("#experiment-form button[type=submit]")
        expect(page.locator("#field-population .error")).to_contain_text("Must be an integer from 2 to 1000, got 1.")
        page.fill("#id_population", "2")
        page.click("#experiment-form button[type=submit]")
        expect(page).to_have_url(re.compile(r"/experiments/\d+/$"))

        # Live updates, without a reload (the marker would vanish with one).
        page.evaluate("window.__noReload = true")
        expect(page.locator("#connection")).to_have_text("live")
        expect(page.locator("#feed tbody tr").first).to_be_visible(timeout=60_000)
        expect(page.locator("#status")).to_have_text("Running")
        expect(page.locator("#feed tbody tr.running")).to_have_count(1, timeout=60_000)

        # Stop: the candidate in training (80 steps: longer than the 2 s heartbeat that notices a stop) is
        # interrupted; the page learns it from the event stream.
        page.click("button[data-action=stop]")
        expect(page.locator("#status")).to_have_text("Stopped", timeout=60_000)
        expect(page.locator("button[data-action=resume]")).to_be_visible()
        expect(page.locator("button[data-action=stop]")).to_be_hidden()

        # Lose the connection once: the page reconnects and replays what it missed.
        page.evaluate("window.__studioTest.studio.socket.close()")
        wait_for_js(page, "window.__studioTest.studio.connections >= 2")

        # Resume and watch it finish.
        page.click("button[data-action=resume]")
        expect(page.locator("#eta")).to_have_text(re.compile(r"^ETA \d+ (s|min)$"), timeout=120_000)
        expect(page.locator("#status")).to_have_text("Finished", timeout=300_000)
        expect(page.locator("#progress-text")).to_have_text("4 / 4 candidates")
        state = page.evaluate("""() => ({
            noReload: window.__noReload === true, received: window.__studioTest.studio.received, lastSeq: window.__studioTest.studio.lastSeq,
            generations: window.__studioTest.studio.generations.size,
            fitnessPoints: Chart.getChart('fitness-chart').data.datasets[0].data.length,
            scatterPoints: Chart.getChart('scatter-chart').data.datasets[0].data.length,
            rows: document.querySelectorAll('#feed tbody tr').length,
            mutations: [...document.querySelectorAll('#feed td.mutation')].map(td => td.textContent),
        })""")
        page.screenshot(path=str(tmp_path / "experiment.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        print(f"screenshot: {tmp_path / 'failure.png'}\n----- worker -----\n{worker.output()[-3000:]}\n"
              f"----- daphne -----\n{daphne.output()[-3000:]}")
        raise

    experiment = Experiment.objects.get(name="browser search")
    assert blocked == []
    assert experiment.status == "finished"
    assert state["noReload"]
    assert state["received"] == list(range(1, experiment.last_seq + 1))  # every event exactly once, across the reconnect
    assert state["generations"] == 2 and state["fitnessPoints"] == 2
    assert state["scatterPoints"] == 4
    assert state["rows"] == experiment.candidates.count() >= 4
    assert any(m != "sampled at random" for m in state["mutations"])  # children show their mutation
    assert experiment.candidates.filter(status="evaluated").count() == 4
    assert experiment.events.filter(type="candidate_interrupted").exists()  # the stop interrupted training
