"""Helpers of the headless-Chromium tests.

The pages run under a strict Content Security Policy (no eval), so Playwright's
``wait_for_function`` with a string, which evaluates it with eval inside the page, is blocked.
``wait_for_js`` polls the same expression through the debugging protocol instead, which the
page's policy does not govern."""
from __future__ import annotations

import os
import time
from pathlib import Path

EDITOR_SHOTS = Path(os.environ["EDITOR_SCREENSHOTS"]) if os.environ.get("EDITOR_SCREENSHOTS") else None  # the editor's screenshots
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


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
