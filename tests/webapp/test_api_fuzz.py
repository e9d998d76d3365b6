"""The whole API fuzzed from its own OpenAPI schema (schemathesis): valid and invalid requests
for every operation, as a team member. No answer may be a 5xx, and every answer must match the
schema (status code, content type, body). A fixed hostile corpus runs beside the generated one."""
from __future__ import annotations

import functools
import json
import urllib.parse

import pytest
from hashed_users import create_user
from hypothesis import HealthCheck, given, settings

pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.timeout(600)]

EXAMPLES = 25  # per operation and generation mode; a few minutes on two cores in all


def openapi_document() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    # Through JSON, as a client sees it (and schemathesis expects plain types).
    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))


def api_schema():
    import schemathesis
    from django.core.wsgi import get_wsgi_application

    schema = schemathesis.openapi.from_dict(openapi_document())
    schema.app = get_wsgi_application()
    return schema


@functools.cache  # the schema and its operations are the same for every test (0.3 s to build)
def operations():
    return [result.ok() for result in api_schema().get_all_operations()]


OPERATION_LABELS = [op.label for op in operations()]


@pytest.fixture
def session_cookies(teams, ready_dataset, launch):
    """alice's session, with a dataset, a finished-looking experiment and its candidates to find."""
    from django.test import Client

    experiment = launch(start=False)
    experiment.candidates.create(index=0, name="c0000", generation=0, spec={}, spec_hash="x", status="evaluated",
                                 accuracy=0.5, params=10, macs=10)
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    client = Client()
    client.force_login(teams["alice"])
    # As Django's test client does: the in-process WSGI app must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield {"sessionid": client.cookies["sessionid"].value}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def run_operation(label: str, cookies: dict, mode) -> dict:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    operation = next(op for op in operations() if op.label == label)
    counts = {"requests": 0, "5xx": 0}
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
    if mode.value == "positive":
        checks.append(status_code_conformance)

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case):
        response = case.call(cookies=cookies)
        counts["requests"] += 1
        counts["5xx"] += response.status_code >= 500
        case.validate_response(response, checks=checks)

    fuzz()
    return counts


@pytest.mark.parametrize("mode_name", ["positive", "negative"])
@pytest.mark.parametrize("label", OPERATION_LABELS)
def test_every_operation_answers_within_its_schema(session_cookies, label, mode_name):
    from schemathesis import GenerationMode

    counts = run_operation(label, session_cookies, GenerationMode(mode_name))
    assert counts["requests"] > 0 and counts["5xx"] == 0, counts


HOSTILE_VALUES = [None, True, -1, 0, 2**63, 2**64, -(2**63) - 1, 1e308, "", " ", "\u200b", "\ud800", "x" * 5000, "../../etc",
                  "1e999", "NaN", "-Infinity", [], {}, [[[[[[]]]]]], {"$gt": ""}, "' OR 1=1 --", "\x00"]


def test_hostile_values_in_every_body_field_and_query_parameter(session_cookies, teams):
    """Every documented field and parameter gets every hostile value: never a 5xx, always JSON."""
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(teams["alice"])
    document = openapi_document()
    failures = []
    components = document["components"]["schemas"]
    tried = 0
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            url = path.replace("{id}", "1")
            for parameter in spec.get("parameters", []):
                if parameter["in"] != "query":
                    continue
                for value in HOSTILE_VALUES:
                    text = value if isinstance(value, str) else json.dumps(value)
                    # Percent-encoded as raw bytes would be (a lone surrogate included).
                    query = f"{parameter['name']}={urllib.parse.quote(text, errors='surrogatepass')}"
                    response = getattr(client, method)(url, QUERY_STRING=query)
                    tried += 1
                    if response.status_code >= 500:
                        failures.append((method, url, parameter["name"], value, response.status_code))
            body = spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            ref = body.get("$ref", "").rsplit("/", 1)[-1]
            for field in components.get(ref, {}).get("properties", {}):
                for value in HOSTILE_VALUES:
                    try:
                        data = json.dumps({field: value, "family": "tvn", "kind": "synthetic"})
                    except (UnicodeEncodeError, ValueError):
                        continue
                    response = getattr(client, method)(url, data, content_type="application/json")
                    tried += 1
                    if response.status_code >= 500 or not response["Content-Type"].startswith("application/json"):
                        failures.append((method, url, field, value, response.status_code))
    print(f"hostile corpus: {tried} requests, {len(failures)} answered 5xx or not JSON")
    assert tried > 500
    assert failures == [], failures[:20]


# Bodies of every JSON type, and numbers Python's json refuses in its own ways (int() past 4,300 digits).
EVERY_JSON_TYPE = ["null", "true", "false", "0", "-1", "1.5", "1e999", '"x"', '""', "[]", "[1]", '[{"a": 1}]', "{}",
                   '{"a": {"b": [1, "x", null, true]}}', "9" * 4301, "-" + "9" * 4301, '{"name": ' + "9" * 4301 + "}",
                   '{"members": [' + "9" * 4301 + "]}", '{"body": "\\u0000"}', "\u00ff", "[" * 5000, ""]


def test_every_operation_takes_a_body_of_every_json_type_without_a_server_error(session_cookies, teams):
    """Every operation with a body (POST, PUT, PATCH, DELETE in the schema) gets each of them, as a member
    and as a viewer: a 4xx (or a success), JSON, never a 5xx."""
    from django.test import Client

    from webapp.studio.models import Candidate
    from webapp.teams.models import Membership

    candidate = Candidate.objects.first()
    viewer = create_user("dave", "dave-pass-123")
    Membership.objects.create(user=viewer, team=teams["a"], role=Membership.Role.VIEWER)
    values = {"id": candidate.experiment_id, "pk": candidate.pk, "kind": "candidate", "name": "x", "user": teams["bob"].pk,
              "invitation": 1}
    failures, tried = [], 0
    for who in (teams["alice"], viewer):
        client = Client(raise_request_exception=False)
        client.force_login(who)
        for path, methods in openapi_document()["paths"].items():
            url = path.format(**values)
            for method in methods:
                if method not in ("post", "put", "patch", "delete"):
                    continue
                for body in EVERY_JSON_TYPE:
                    response = client.generic(method.upper(), url, body.encode("utf-8", "surrogatepass"),
                                              content_type="application/json")
                    tried += 1
                    if response.status_code >= 500 or not response["Content-Type"].startswith("application/json"):
                        failures.append((who.username, method, url, body[:40], response.status_code))
    print(f"every JSON type: {tried} requests, {len(failures)} answered 5xx or not JSON")
    assert tried > 300
    assert failures == [], failures[:20]
