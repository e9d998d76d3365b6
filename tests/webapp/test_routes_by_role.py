"""Every route of the URL configuration, every method, as every kind of user: the roles matrix,
generated from django.urls rather than written by hand.

Users: alice owns team A, bob is a member of A, dave a viewer of A, charlie owns team B (an
outsider to A), erin is a viewer of A and a member of B (a role elsewhere must not count), and an
anonymous visitor. ``RULES`` says, for each route name, what each method needs; a route in the
URL configuration without a rule fails ``test_every_route_has_a_rule`` (and a rule without a route
too), so a route added later cannot skip the matrix. A method a route has no rule for must be a
405 for everyone signed in.

Each request runs inside a savepoint that is rolled back, so every one starts from the same world.
A refused request (any 4xx) must leave the database exactly as it was (every row of the teams,
studio, library, review and auth tables); an allowed request marked ``writes`` must change it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pytest
from hashed_users import create_user
from review_world import small_spec

pytestmark = pytest.mark.django_db

PUBLIC = "public"      # anyone signed in (or not): the login page, the favicon
ANY = "any"            # anyone signed in; nothing of a team in the URL (lists are filtered, not refused)
READ = "read"          # any role in the object's team; an outsider sees 404
COMMENT = "comment"    # any role in the object's team (viewers comment)
EXPORT = "export"      # any role in the object's team (viewers take copies)
MEMBER = "member"      # member or owner of the object's team: viewers 403, outsiders 404
OWNER = "owner"        # owner of the object's team: members and viewers 403, outsiders 404
CREATE = "create"      # member of the team the body names: viewers 403; an outsider names what it cannot see (400)
TOKEN = "token"        # whoever holds the invitation link
STAFF = "staff"        # the admin site: staff only (nobody here is staff: sent to the admin login)

ALLOWED_FOR = {
    PUBLIC: {"alice", "bob", "dave", "charlie", "erin", None},
    TOKEN: {"alice", "bob", "dave", "charlie", "erin", None},
    ANY: {"alice", "bob", "dave", "charlie", "erin"},
    READ: {"alice", "bob", "dave", "erin"},
    COMMENT: {"alice", "bob", "dave", "erin"},
    EXPORT: {"alice", "bob", "dave", "erin"},
    MEMBER: {"alice", "bob"},
    CREATE: {"alice", "bob"},
    OWNER: {"alice"},
    STAFF: set(),
}
USERS = ["alice", "bob", "dave", "charlie", "erin", None]


@dataclass
class Use:
    """How one method of a route is used: its rule, the body (``$name`` is world[name].pk) and whether
    an allowed user's request writes (checked: the database must change)."""

    rule: str
    body: dict | None = None
    form: bool = False
    writes: bool = False


@dataclass
class Route:
    kwargs: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)
    methods: dict = field(default_factory=dict)


def route(kwargs=None, query=None, **methods) -> Route:
    return Route(kwargs or {}, query or {}, {m.upper(): (u if isinstance(u, Use) else Use(u)) for m, u in methods.items()})


CAND = {"kind": "candidate", "pk": "$parent"}
TRAINED = {"kind": "candidate", "pk": "$child"}  # really trained: its checkpoint is in the data folder
EXPERIMENT_BODY = {"team": "$a", "family": "tvn", "dataset": "$dataset", "start": False, "population": 2, "rounds": 1}

RULES: dict[str, Route] = {
    # accounts, schema, docs
    "login": route(get=PUBLIC, post=PUBLIC, put=PUBLIC),  # FormView answers PUT like POST
    "logout": route(post=PUBLIC),
    "password-change": route(get=ANY, post=Use(ANY, {"old_password": "x", "new_password1": "y", "new_password2": "y"}, form=True)),
    "api-schema": route(get=ANY),
    "api-docs": route(get=ANY),
    # the training workers: what every signed-in user may see (other teams' work shows only as busy)
    "workers": route(get=ANY),
    "api-workers": route(get=ANY),
    "favicon.ico": route(get=PUBLIC, post=PUBLIC, put=PUBLIC, patch=PUBLIC, delete=PUBLIC),
    "api-analyze": route(post=Use(ANY, "$spec")),
    "api:api-root": route(get=ANY),
    # studio API
    "api:team-list": route(get=ANY),
    "api:team-detail": route({"pk": "$a"}, get=READ),
    "api:dataset-list": route(get=ANY, post=Use(CREATE, {"team": "$a", "name": "new", "kind": "synthetic", "clips_per_class": 2},
                                               writes=True)),
    "api:dataset-detail": route({"pk": "$dataset"}, get=READ, patch=Use(MEMBER, {"name": "renamed"}, writes=True),
                                delete=Use(MEMBER)),  # 409: experiments use it
    "api:dataset-removal": route({"pk": "$dataset"}, get=READ),
    "api:experiment-list": route(get=ANY, post=Use(CREATE, EXPERIMENT_BODY, writes=True)),
    "api:experiment-detail": route({"pk": "$experiment"}, get=READ, patch=Use(MEMBER, {"name": "renamed"}, writes=True),
                                   delete=Use(MEMBER)),  # 409: an ensemble of its candidates is queued
    "api:experiment-removal": route({"pk": "$experiment"}, get=READ),
    "api:experiment-start": route({"pk": "$experiment"}, post=Use(MEMBER, writes=True)),
    "api:experiment-stop": route({"pk": "$experiment"}, post=MEMBER),
    "api:experiment-resume": route({"pk": "$experiment"}, post=MEMBER),
    "api:experiment-cancel": route({"pk": "$experiment"}, post=Use(MEMBER, writes=True)),
    "api:experiment-inject": route({"pk": "$running"}, post=Use(MEMBER, {"version": "$v1"}, writes=True)),
    "api:candidate-list": route(get=ANY),
    "api:candidate-detail": route({"pk": "$parent"}, get=READ),
    "api:event-list": route(query={"experiment": "$experiment"}, get=READ),
    # the library's API
    "api:architecture-list": route(get=ANY, post=Use(CREATE, {"team": "$a", "preset": "tvn-small"}, writes=True)),
    "api:architecture-import-": route(post=Use(CREATE, {"team": "$a", "config": "$spec"}, writes=True)),
    "api:architecture-detail": route({"pk": "$architecture"}, get=READ, patch=Use(MEMBER, {"name": "renamed"}, writes=True),
                                     delete=Use(MEMBER)),  # 409 while its evaluation is queued
    "api:architecture-removal": route({"pk": "$architecture"}, get=READ),
    "api:architecture-versions": route({"pk": "$architecture"}, get=READ, post=Use(MEMBER, {"spec": "$spec2"}, writes=True)),
    "api:version-list": route(get=ANY),
    "api:version-detail": route({"pk": "$v1"}, get=READ, patch=Use(MEMBER, {"message": "a better note"}, writes=True)),
    "api:version-export": route({"pk": "$v1"}, get=READ),
    "api:preset-list": route(get=ANY),
    "api:preset-detail": route({"pk": "tvn-small"}, get=ANY),
    "api:family-list": route(get=ANY),
    "api:family-detail": route({"pk": "tvn"}, get=ANY),
    "api:evaluation-list": route(get=ANY, post=Use(CREATE, {"version": "$v1", "dataset": "$dataset", "steps": 2, "batch_size": 4},
                                                  writes=True)),
    "api:evaluation-detail": route({"pk": "$evaluation"}, get=READ),
    # team API: anyone in the team reads its members; owners change them and handle invitations
    "teams-api:members": route({"pk": "$a"}, get=READ),
    "teams-api:member": route({"pk": "$a", "user": "$bob"}, patch=Use(OWNER, {"role": "viewer"}, writes=True),
                              delete=Use(OWNER, writes=True)),
    "teams-api:invitations": route({"pk": "$a"}, get=OWNER, post=Use(OWNER, {"role": "viewer", "days": 3}, writes=True)),
    "teams-api:invitation": route({"pk": "$a", "invitation": "$invitation"}, delete=Use(OWNER, writes=True)),
    # review API
    "review-api:leaderboard": route(get=ANY),
    "review-api:pareto": route(get=ANY),
    "review-api:subject": route(CAND, get=READ),
    "review-api:subject-review": route(CAND, post=Use(MEMBER, {"action": "request"}, writes=True)),
    "review-api:subject-tags": route(CAND, post=Use(MEMBER, {"name": "good"}, writes=True)),
    "review-api:subject-tag": route({**CAND, "name": "seed"}, delete=Use(MEMBER, writes=True)),
    "review-api:subject-pointers": route(CAND, post=Use(MEMBER, {"name": "production"}, writes=True)),
    "review-api:subject-comments": route(CAND, get=READ, post=Use(COMMENT, {"body": "hello"}, writes=True)),
    "review-api:comment-resolve": route({"pk": "$comment"}, post=Use(MEMBER, {"resolved": True}, writes=True)),
    "review-api:team-activity": route({"pk": "$a"}, get=READ),
    "review-api:ensembles": route(post=Use(CREATE, {"members": ["$parent", "$child"]}, writes=True)),
    "review-api:ensemble": route({"pk": "$ensemble"}, get=READ),
    "review-api:subject-exports": route(TRAINED, get=READ, post=Use(EXPORT, {"format": "onnx"}, writes=True)),
    "review-api:export": route({"pk": "$export"}, get=READ),
    # pages
    "dashboard": route(get=ANY),
    "datasets": route(get=ANY, post=Use(CREATE, {"synthetic-team": "$a", "synthetic-name": "form", "synthetic-clips_per_class": 2,
                                                 "synthetic-classes": ["move_left", "move_right"], "synthetic-frames": 8,
                                                 "synthetic-size": 32, "synthetic-seed": 0}, form=True, writes=True)),
    "dataset-detail": route({"pk": "$dataset"}, get=READ),
    "dataset-rename": route({"pk": "$dataset"}, post=Use(MEMBER, {"name": "renamed"}, form=True, writes=True)),
    "dataset-delete": route({"pk": "$dataset"}, get=READ, post=Use(MEMBER, {}, form=True)),  # refused: experiments use it
    "experiment-new": route(get=ANY, post=Use(CREATE, {"team": "$a", "family": "tvn", "dataset": "$dataset", "population": 2,
                                                       "rounds": 1, "seed": 0, "low_steps": 2, "high_steps": 0, "batch_size": 4,
                                                       "parallelism": 1, "num_threads": 1}, form=True, writes=True)),
    "experiment-detail": route({"pk": "$experiment"}, get=READ),
    "experiments-csv": route(get=ANY),
    "experiment-candidates-csv": route({"pk": "$experiment"}, get=READ),
    "experiment-compare": route(query={"ids": "$experiment"}, get=READ),
    "experiment-compare-csv": route(query={"ids": "$experiment"}, get=READ),
    "experiment-rename": route({"pk": "$experiment"}, post=Use(MEMBER, {"name": "renamed"}, form=True, writes=True)),
    "experiment-delete": route({"pk": "$experiment"}, get=READ, post=Use(MEMBER, {}, form=True)),  # refused: an ensemble is queued
    "experiment-action": route({"pk": "$experiment", "action": "cancel"}, post=Use(MEMBER, {}, form=True, writes=True)),
    "experiment-inject": route({"pk": "$running"}, post=Use(MEMBER, {"version": "$v1"}, form=True, writes=True)),
    "candidate-detail": route({"pk": "$parent"}, get=READ),
    "architecture-library": route(get=ANY, post=Use(CREATE, {"team": "$a", "format": "auto", "config": "$spec_text"}, form=True,
                                                    writes=True)),
    "architecture-editor": route(get=ANY),
    "architecture-detail": route({"pk": "$architecture"}, get=READ),
    "architecture-rename": route({"pk": "$architecture"}, post=Use(MEMBER, {"name": "renamed"}, form=True, writes=True)),
    "architecture-delete": route({"pk": "$architecture"}, get=READ, post=Use(MEMBER, {}, form=True)),  # refused: evaluation queued
    "version-message": route({"pk": "$architecture", "number": 1}, post=Use(MEMBER, {"message": "a better note"}, form=True,
                                                                              writes=True)),
    "teams": route(get=ANY),
    "team-detail": route({"pk": "$a"}, get=READ, post=Use(OWNER, {"action": "invite", "invite-role": "member", "invite-days": 7},
                                                          form=True, writes=True)),
    "activity": route({"pk": "$a"}, get=READ),
    "invitation": route({"token": "$token"}, get=TOKEN, post=Use(TOKEN, {}, form=True)),
    "leaderboard-page": route(get=ANY),
    "pareto-page": route(get=ANY),
    "leaderboard-csv": route(get=ANY),
    "model-page": route(CAND, get=READ),
    "evaluation-page": route({"pk": "$evaluation"}, get=READ),
    "evaluation-report": route({"pk": "$evaluation"}, get=READ),
    "evaluation-retry": route({"pk": "$failed_evaluation"}, post=Use(MEMBER, form=True, writes=True)),
    "evaluation-export": route({"pk": "$evaluation", "what": "spec"}, get=EXPORT),
    "model-export": route({**CAND, "what": "spec"}, get=READ),
    "model-export-job": route(TRAINED, post=Use(EXPORT, {"format": "onnx"}, form=True, writes=True)),
    "export-download": route({"pk": "$export"}, get=READ),
    "ensemble-retry": route({"pk": "$failed_ensemble"}, post=Use(MEMBER, form=True, writes=True)),
    "export-retry": route({"pk": "$failed_export"}, post=Use(EXPORT, form=True, writes=True)),
    "lineage-page": route({"pk": "$parent"}, get=READ),
    "diff-page": route(query={"a": "candidate:$parent", "b": "candidate:$child"}, get=READ),
    # the admin site: staff only, but its own login and logout
    "admin:login": route(get=PUBLIC, post=PUBLIC),
    "admin:logout": route(get=PUBLIC, post=PUBLIC),
}
ADMIN_NAMESPACE = "admin"  # every other admin route: STAFF, GET and POST


# ---------------------------------------------------------------------- the URL configuration
def url_patterns():
    """(key, pattern, the URL's argument names) for every route; the key is the route's full name (its
    pattern for an unnamed one)."""
    from django.urls import URLResolver, get_resolver

    def walk(patterns, namespaces, outer_args, prefix):
        for p in patterns:
            args = outer_args | argument_names(p.pattern)
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, namespaces + ([p.namespace] if p.namespace else []), args, prefix + str(p.pattern))
            else:
                p.full_route = prefix + str(p.pattern)  # what an unnamed route's URL is built from
                yield ":".join(namespaces + [p.name or str(p.pattern)]), p, args

    return list(walk(get_resolver().url_patterns, [], frozenset(), ""))


def argument_names(pattern) -> frozenset:
    converters = getattr(pattern, "converters", None)
    if converters:
        return frozenset(converters)
    regex = getattr(pattern, "regex", None)
    return frozenset(regex.groupindex) if regex is not None else frozenset()


def test_every_route_has_a_rule():
    keys = {key for key, _, _ in url_patterns()}
    missing = sorted(k for k in keys if k not in RULES and not k.startswith(ADMIN_NAMESPACE + ":"))
    assert missing == [], f"routes without a rule in RULES (say who may use each method): {missing}"
    stale = sorted(k for k in RULES if k not in keys)
    assert stale == [], f"rules for routes that no longer exist: {stale}"


# ---------------------------------------------------------------------- the world
@pytest.fixture
def full_world(trained, studio_data_dir):
    """review_world (its child really trained) plus erin (viewer of A, member of B), a running search, an evaluation, an ensemble, a
    comment, a tag, an export and an invitation."""
    from archsearch.config import SearchConfig
    from webapp.architectures import jobs
    from webapp.review import ensembles, services
    from webapp.review.models import Export
    from webapp.teams import invitations
    from webapp.studio import services as studio
    from webapp.studio.models import Candidate
    from webapp.teams.models import Membership

    world = trained
    erin = create_user("erin", "erin-pass-123")
    Membership.objects.create(user=erin, team=world["a"], role=Membership.Role.VIEWER)
    Membership.objects.create(user=erin, team=world["b"], role=Membership.Role.MEMBER)
    Candidate.objects.filter(pk__in=[world["parent"].pk, world["child"].pk]).update(checkpoint="/nowhere/checkpoint.pt")
    running = studio.create_experiment(team=world["a"], user=world["alice"], name="running", dataset=world["dataset"],
                                       config=SearchConfig(family="tvn", population=2, rounds=1, low_steps=2, high_steps=0),
                                       start=True)
    evaluation = jobs.create_evaluation(user=world["bob"], version=world["v1"], dataset=world["dataset"], steps=2, batch_size=4)
    failed_evaluation = jobs.create_evaluation(user=world["bob"], version=world["v1"], dataset=world["dataset"], steps=2, batch_size=4)
    type(failed_evaluation).objects.filter(pk=failed_evaluation.pk).update(status="failed", reason="its worker stopped")
    ensemble = ensembles.create_ensemble(user=world["bob"], candidate_ids=[world["parent"].pk, world["child"].pk])
    failed_ensemble = ensembles.create_ensemble(user=world["bob"], candidate_ids=[world["parent"].pk, world["child"].pk])
    type(failed_ensemble).objects.filter(pk=failed_ensemble.pk).update(status="failed", reason="a member's checkpoint is gone")
    subject = services.subject_for_candidate(world["parent"])
    comment = services.add_comment(subject, world["dave"], "a thread")
    services.add_tag(subject, world["bob"], "seed")
    (studio_data_dir / "parent.onnx").write_bytes(b"onnx")
    export = Export.objects.create(subject=subject, created_by=world["dave"], filename="parent.onnx", status=Export.Status.READY,
                                   path=str(studio_data_dir / "parent.onnx"), size_bytes=4)
    failed_export = Export.objects.create(subject=subject, created_by=world["dave"], filename="parent.onnx", status=Export.Status.FAILED,
                                          reason="the export process exited with 1", attempt=1)
    invitation, token = invitations.create_invitation(team=world["a"], by=world["alice"], role="viewer")
    spec2 = small_spec()
    spec2["nodes"][0]["attrs"]["filters"] = 32
    return {**world, "erin": erin, "running": running, "evaluation": evaluation, "failed_evaluation": failed_evaluation, "ensemble": ensemble,
            "comment": comment, "export": export, "failed_export": failed_export, "failed_ensemble": failed_ensemble, "invitation": invitation,
            "token": token, "spec": small_spec(), "spec2": spec2, "spec_text": json.dumps(small_spec())}


def value(raw, w):
    """``$name`` -> world[name].pk (or the value itself when it has no pk); ``text$name`` keeps the text."""
    if isinstance(raw, dict):
        return {k: value(v, w) for k, v in raw.items()}
    if isinstance(raw, list):
        return [value(v, w) for v in raw]
    if isinstance(raw, str) and "$" in raw:
        prefix, _, name = raw.partition("$")
        found = w[name]
        found = getattr(found, "pk", found)
        return found if not prefix else f"{prefix}{found}"
    return raw


def filler(name: str, w, route_kwargs: dict):
    if name in route_kwargs:
        return value(route_kwargs[name], w)
    return {"format": "json", "app_label": "studio", "object_id": "1", "content_type_id": 1, "url": "x"}.get(name, "x")


def url_of(key, pattern, args, w, rule: Route | None):
    from urllib.parse import urlencode

    from django.urls import NoReverseMatch, reverse

    kwargs = {name: filler(name, w, rule.kwargs if rule else {}) for name in args}
    if not pattern.name:  # e.g. the favicon, the admin's catch-all: its route with every argument filled
        url = "/" + re.sub(r"<[^>]+>|\(\?P<[^>]+>[^)]*\)", "1", pattern.full_route).strip("^$")
    else:
        try:
            url = reverse(key, kwargs=kwargs)
        except NoReverseMatch:
            url = reverse(key, kwargs={**kwargs, "format": ".json"})
    query = value(rule.query, w) if rule else {}
    return url + ("?" + urlencode(query) if query else "")


def snapshot() -> dict:
    """Every row of the teams', the studio's, the library's, review's and auth's tables. In plain SQL: it runs
    after each of some 2,400 requests, and the ORM's query building was most of the test's time."""
    from django.apps import apps
    from django.db import connection

    quote = connection.ops.quote_name
    rows = {}
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if model._meta.app_label in ("teams", "studio", "architectures", "review", "auth"):
                cursor.execute(f"SELECT * FROM {quote(model._meta.db_table)} ORDER BY {quote(model._meta.pk.column)}")
                rows[model._meta.label] = cursor.fetchall()
    return rows


def send(client, method, url, use: Use | None, w):
    from urllib.parse import urlencode

    body = value(use.body, w) if use and use.body is not None else None
    if method == "GET":
        return client.get(url)
    if use is not None and use.form:
        return client.post(url, body or {}) if method == "POST" else \
            client.generic(method, url, urlencode(body or {}, doseq=True), content_type="application/x-www-form-urlencoded")
    return client.generic(method, url, json.dumps(body if body is not None else {}), content_type="application/json")


def expected_ok(status: int) -> bool:
    """An allowed request may still be a user's mistake or a conflict (400, 409, 429); it is never
    refused for its role (401, 403, 404), never an unknown method (405), never a server error."""
    return status < 400 or status in (400, 409, 429)


def refusal_ok(rule: str, user: str | None, status: int, page: bool, response) -> bool:
    if user is None:
        login = response.get("Location", "")
        return (status == 302 and "login" in login) if page else status in (401, 403)
    if rule == STAFF:
        return status == 302 and "/admin/login/" in response["Location"]
    if rule == CREATE:  # the team or objects the body names: not theirs is "does not exist", theirs without the role 403
        return status in ((400, 404) if user == "charlie" else (403, 400) if page else (403,))
    return status == (404 if user == "charlie" else 403)


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@pytest.mark.parametrize("who", USERS, ids=lambda u: u or "anonymous")
def test_every_route_and_method_answers_by_role_and_refusals_change_nothing(full_world, who, client_for):
    from django.db import transaction

    w = full_world
    client = client_for(w[who] if who else None)
    pristine = snapshot()
    problems, checked = [], 0
    for key, pattern, args in url_patterns():
        admin = key.startswith(ADMIN_NAMESPACE + ":")
        rule = RULES.get(key)
        if rule is None and not admin:
            continue  # test_every_route_has_a_rule names it
        url = url_of(key, pattern, args, w, rule)
        page = not hasattr(pattern.callback, "cls")  # a page (login redirects), not a DRF view (401)
        for method in (("GET", "POST") if admin else METHODS):
            use = (Use(STAFF) if rule is None else rule.methods.get(method)) if admin else rule.methods.get(method)
            cookies = client.cookies.output()  # a logout must not sign the user out of the rest of the matrix
            with transaction.atomic():
                response = send(client, method, url, use, w)
                client.cookies.load(cookies.replace("Set-Cookie: ", "").replace("\r\n", ";"))
                status = response.status_code
                checked += 1
                allowed = use is not None and who in ALLOWED_FOR[use.rule]
                where = f"{method} {url} ({use.rule if use else 'no rule: 405'})"
                if status >= 500:
                    problems.append(f"{where}: {status}")
                elif use is None:
                    if who is not None and status != 405:
                        problems.append(f"{where}: {status}, expected 405")
                elif allowed:
                    if not expected_ok(status):
                        problems.append(f"{where}: {status} for an allowed user: {response.content[:200]!r}")
                    elif use.writes and status < 400 and snapshot() == pristine:
                        problems.append(f"{where}: {status} but nothing was written")
                elif not refusal_ok(use.rule, who, status, page, response):
                    problems.append(f"{where}: {status} for a refused user: {response.content[:200]!r}")
                if not allowed and status >= 400 and snapshot() != pristine:
                    changed = [m for m, rows in snapshot().items() if rows != pristine[m]]
                    problems.append(f"{where}: refused with {status} but changed {changed}")
                transaction.set_rollback(True)
    assert checked > 400
    assert problems == [], "\n".join(problems)
