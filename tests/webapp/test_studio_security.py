"""Defaults a security reviewer expects: a strict CSP that every page passes, Secure cookies and
HSTS over HTTPS, login throttling, and a bad Host header answered without a traceback."""
from __future__ import annotations

import logging
import re
from html.parser import HTMLParser

import pytest

pytestmark = pytest.mark.django_db


class InlineFinder(HTMLParser):
    """Inline scripts, event-handler attributes and style attributes: what a strict CSP blocks."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            executable = attrs.get("type", "text/javascript") in ("text/javascript", "module", "")
            if executable and not attrs.get("src"):
                self._in_script = True
        for name in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name == "style":
                self.problems.append(f"<{tag} style=...>")
        if tag == "style":
            self.problems.append("<style> element")

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append(f"inline script: {data.strip()[:60]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


def pages(teams, ready_dataset, launch):
    from webapp.studio.models import Dataset

    experiment = launch(start=False)
    pending = Dataset.objects.create(team=teams["a"], name="pending", kind="synthetic", clips_per_class=4,
                                     synthetic_classes=["move_left", "move_right"], created_by=teams["alice"])
    return ["/", "/datasets/", f"/datasets/{ready_dataset.pk}/", f"/datasets/{pending.pk}/", "/experiments/new/",
            f"/experiments/{experiment.pk}/"]


def test_every_page_sends_a_strict_csp_and_has_nothing_inline(teams, ready_dataset, launch, client_for):
    client = client_for(teams["alice"])
    for url in pages(teams, ready_dataset, launch) + ["/accounts/login/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'", policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
        finder = InlineFinder()
        finder.feed(response.content.decode())
        assert finder.problems == [], (url, finder.problems)


def test_cookies_are_secure_and_hsts_is_sent_over_https_only(teams, client_for):
    from django.test import Client

    plain, secure = Client(), Client()
    plain_response = plain.post("/accounts/login/", {"username": "alice", "password": "alice-pass-123"})
    secure_response = secure.post("/accounts/login/", {"username": "alice", "password": "alice-pass-123"}, secure=True)
    assert plain_response.status_code == secure_response.status_code == 302
    assert not plain_response.cookies["sessionid"]["secure"]
    assert secure_response.cookies["sessionid"]["secure"] is True
    assert "Strict-Transport-Security" not in plain_response
    assert re.fullmatch(r"max-age=\d{7,}", secure_response["Strict-Transport-Security"])
    assert secure_response["X-Content-Type-Options"] == "nosniff"


def test_repeated_wrong_passwords_lock_the_login(teams, settings):
    from django.test import Client

    client = Client()
    codes = [client.post("/accounts/login/", {"username": "bob", "password": f"guess-{i}"}).status_code
             for i in range(settings.AXES_FAILURE_LIMIT)]
    assert codes[:-1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)  # the form again, with an error
    locked = client.post("/accounts/login/", {"username": "bob", "password": "bob-pass-123"})
    assert locked.status_code == 429 and b"Too many failed logins" in locked.content
    # Another user from the same address is not locked out by bob's failures.
    other = Client().post("/accounts/login/", {"username": "alice", "password": "alice-pass-123"})
    assert other.status_code == 302


def test_a_bad_host_header_is_a_400_without_traceback(teams, client_for, caplog):
    from django.test import Client

    caplog.set_level(logging.WARNING)
    response = Client(raise_request_exception=False).get("/accounts/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    host_records = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert host_records and all(r.exc_info is None for r in host_records)
    assert "Traceback" not in caplog.text
