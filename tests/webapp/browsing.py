"""Helpers of the headless-Chromium tests.

The pages run under a strict Content Security Policy (no eval), so Playwright's
``wait_for_function`` with a string, which evaluates it with eval inside the page, is blocked.
``wait_for_js`` polls the same expression through the debugging protocol instead, which the
page's policy does not govern."""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

EDITOR_SHOTS = Path(os.environ["EDITOR_SCREENSHOTS"]) if os.environ.get("EDITOR_SCREENSHOTS") else None  # the editor's screenshots
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


# Runs in every page before its own scripts (injected by the debugging protocol, not governed by the
# page's policy): a Content Security Policy violation becomes a console error naming what was refused,
# whether or not Chromium logs one of its own.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber} (${e.sample})`);
});
"""


def watch_console(context) -> list[str]:
    """Record every console error, uncaught exception and CSP violation of the context's pages in ``context.console_problems``.

    The browser fixture watches every context it opens and fails the test on anything recorded
    (tests/webapp/conftest.py), so no page visit of any browser test logs an error unnoticed. A test
    that provokes an error on purpose says so with ``expect_console(page, pattern)``."""
    problems: list[str] = []
    context.console_problems = problems
    context.console_expected = []
    context.add_init_script(REPORT_CSP_VIOLATIONS)

    def on_page(page):
        page.on("console", lambda message: problems.append(f"console error on {page.url}: {message.text}") if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(f"uncaught on {page.url}: {error}"))

    context.on("page", on_page)
    return problems


def expect_console(page, pattern: str) -> None:
    """A console error matching ``pattern`` (a regular expression) is what this test provokes: not a failure."""
    page.context.console_expected.append(re.compile(pattern))


def console_problems(context) -> list[str]:
    """What the context's pages logged that no test expected."""
    expected = getattr(context, "console_expected", [])
    return [p for p in getattr(context, "console_problems", []) if not any(e.search(p) for e in expected)]


def assert_clean_console(page) -> None:
    """No console error, uncaught exception or CSP violation so far on the page's context."""
    problems = console_problems(page.context)
    assert problems == [], "\n".join(problems)


def wait_for_js(page, expression: str, timeout: float = 60.0, interval: float = 0.1):
    """Poll ``expression`` in the page until it is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(f"() => {{ try {{ return ({expression}); }} catch (e) {{ return false; }} }}")
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout:.0f} s: {expression}")
        time.sleep(interval)


def run_js(page, statements: str) -> None:
    """Run ``statements`` in the page for their effect only. ``page.evaluate`` hands back the last
    value, and Playwright serialises it: a Cytoscape collection (what ``select()`` returns) drags
    the whole graph along and took 11-19 s per call."""
    page.evaluate(f"() => {{ {statements}; }}")


def log_in(page, base: str, username: str, password: str) -> None:
    """Through the login form, as a person would; lands on the experiment list."""
    from playwright.sync_api import expect

    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Experiments")


def signed_in_page(browser, site, user):
    """A page whose session cookie is the user's (logged in by the test client, stored in the test database)."""
    from django.test import Client

    client = Client()
    client.force_login(site[user])
    context = browser.new_context(viewport={"width": 1500, "height": 950})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": site["base"]}])
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    return page
