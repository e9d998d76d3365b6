"""Accounts and the text users send: passwords pass Django's validators (sign-up and password change),
usernames are NFKC-normalised and refused when they could pass for an existing one, booleans are
parsed (true/false), a NUL is refused wherever text comes in, a body that is not an object is a 400
that says so, and user text in a downloaded model card is never a live link, image or HTML."""
from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.django_db
STRONG = "violet-kettle-harbour-91"


@pytest.fixture
def token(teams):
    from webapp.teams import invitations

    return invitations.create_invitation(team=teams["a"], by=teams["alice"], role="viewer")[1]


def sign_up(client, token, username, password=STRONG):
    return client.post(f"/join/{token}/", {"username": username, "password1": password, "password2": password})


@pytest.mark.parametrize("password", ["1", "password1", "12345678901234", "newcomer-1", "short"])
def test_sign_up_refuses_weak_passwords(teams, token, client_for, password):
    from django.contrib.auth.models import User

    response = sign_up(client_for(None), token, "newcomer", password)
    assert response.status_code == 400 and 'id="field-password2"' in response.content.decode()
    assert not User.objects.filter(username="newcomer").exists()


def test_the_service_refuses_a_weak_password_too(teams, token):
    from webapp.teams import invitations
    from webapp.teams.errors import TeamError

    with pytest.raises(TeamError) as refused:
        invitations.sign_up_with_invitation(token, username="newcomer", password="1")
    assert refused.value.field == "password2"


@pytest.mark.parametrize("username", ["\u0430lice", "alic\u00e9", "ALICE", "\uff41\uff4c\uff49\uff43\uff45", "\u0391lice",
                                      "b\u043eb", "Charl\u0131e"])
def test_sign_up_refuses_names_that_pass_for_existing_ones(teams, token, client_for, username):
    from django.contrib.auth.models import User

    from webapp.teams import invitations
    from webapp.teams.errors import TeamError

    before = User.objects.count()
    response = sign_up(client_for(None), token, username)
    assert response.status_code == 400 and "looks too much like" in response.content.decode()
    with pytest.raises(TeamError):
        invitations.sign_up_with_invitation(token, username=username, password=STRONG)
    assert User.objects.count() == before


def test_a_new_name_is_stored_nfkc_normalised(teams, token, client_for):
    from django.contrib.auth.models import User

    response = sign_up(client_for(None), token, "\uff42\uff45\uff54\uff48")  # full-width "beth"
    assert response.status_code == 302
    assert User.objects.filter(username="beth").exists()


def test_password_change_runs_the_validators(teams, client_for):
    client = client_for(teams["bob"])
    assert client.get("/accounts/password/").status_code == 200
    weak = client.post("/accounts/password/", {"old_password": "bob-pass-123", "new_password1": "1", "new_password2": "1"})
    assert weak.status_code == 200 and "too short" in weak.content.decode()
    teams["bob"].refresh_from_db()
    assert teams["bob"].check_password("bob-pass-123")
    done = client.post("/accounts/password/", {"old_password": "bob-pass-123", "new_password1": STRONG, "new_password2": STRONG})
    assert done.status_code == 302
    teams["bob"].refresh_from_db()
    assert teams["bob"].check_password(STRONG)


# ---------------------------------------------------------------------- booleans
def test_resolved_takes_true_or_false_not_a_string(world, client_for):
    from webapp.review import services
    from webapp.review.models import Comment

    subject = services.subject_for_candidate(world["parent"])
    thread = services.add_comment(subject, world["bob"], "look")
    client = client_for(world["bob"])
    url = f"/api/comments/{thread.pk}/resolve/"
    for wrong in ("false", "true", 0, 1, None, "no"):
        response = client.post(url, json.dumps({"resolved": wrong}), content_type="application/json")
        assert response.status_code == 400 and "resolved" in response.json(), wrong
    assert Comment.objects.get(pk=thread.pk).resolved is False  # "false" never resolved it
    assert client.post(url, json.dumps({"resolved": True}), content_type="application/json").status_code == 200
    assert Comment.objects.get(pk=thread.pk).resolved is True
    assert client.post(url, {"resolved": "false"}).status_code == 200  # a form says "false" in words
    assert Comment.objects.get(pk=thread.pk).resolved is False
    assert client.post(url, {"resolved": "off"}).status_code == 400


@pytest.mark.parametrize("url,body", [
    ("/api/experiments/", {"family": "tvn", "start": "false"}),
    ("/api/datasets/", {"name": "x", "kind": "synthetic", "flow": "yes"}),
    ("/api/architectures/import/", {"config": {}, "save": 0}),
])
def test_booleans_in_the_api_are_json_booleans(world, client_for, url, body):
    from webapp.studio.models import Dataset, Experiment

    before = (Experiment.objects.count(), Dataset.objects.count())
    body = {"team": world["a"].pk, "dataset": world["dataset"].pk, **body}
    response = client_for(world["bob"]).post(url, json.dumps(body), content_type="application/json")
    field = next(k for k in ("start", "flow", "save") if k in body)
    assert response.status_code == 400 and "true or false" in response.json()[field][0]
    assert (Experiment.objects.count(), Dataset.objects.count()) == before


# ---------------------------------------------------------------------- NUL, and bodies that are not objects
def test_a_nul_is_refused_wherever_text_comes_in(world, client_for):
    from webapp.review.models import Comment
    from webapp.studio.models import Dataset

    client = client_for(world["bob"])
    url = f"/api/models/candidate/{world['parent'].pk}/comments/"
    response = client.post(url, json.dumps({"body": "a\u0000b"}), content_type="application/json")
    assert response.status_code == 400 and "NUL" in json.dumps(response.json()) and "body" in response.json()
    assert client.post(url, {"body": "a\x00b"}).status_code == 400  # multipart
    assert client.post(url, "body=a%00b", content_type="application/x-www-form-urlencoded").status_code == 400
    assert client.get("/api/leaderboard/?tag=a%00b").status_code == 400
    assert client.get("/leaderboard/?tag=%00").status_code == 400
    form = client.post("/datasets/", {"synthetic-team": world["a"].pk, "synthetic-name": "bad\x00name", "synthetic-clips_per_class": 2,
                                      "synthetic-classes": ["move_left"], "synthetic-frames": 8, "synthetic-size": 32,
                                      "synthetic-seed": 0})
    assert form.status_code == 400
    assert Comment.objects.count() == 0 and not Dataset.objects.filter(name__startswith="bad").exists()


@pytest.mark.parametrize("body", ["[1]", '"x"', "1", "true", "null", "1.5"])
def test_a_view_that_needs_an_object_says_so(world, client_for, body):
    client = client_for(world["bob"])
    c = world["parent"].pk
    for url in (f"/api/models/candidate/{c}/tags/", f"/api/models/candidate/{c}/pointers/", f"/api/models/candidate/{c}/review/",
                f"/api/models/candidate/{c}/comments/", "/api/ensembles/", f"/api/models/candidate/{c}/exports/"):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 400, (url, body, response.status_code)
        assert "JSON object" in json.dumps(response.json()), (url, response.json())


def test_an_integer_past_the_digit_limit_is_a_400_on_every_parser(world, client_for):
    client = client_for(world["bob"])
    huge = "9" * 4301
    for url in ("/api/experiments/", f"/api/models/candidate/{world['parent'].pk}/tags/", "/api/analyze/", "/api/architectures/"):
        response = client.post(url, '{"x": ' + huge + "}", content_type="application/json")
        assert response.status_code == 400, (url, response.status_code)
        assert "4300" in json.dumps(response.json()), response.json()


# ---------------------------------------------------------------------- model cards
def test_user_text_in_a_model_card_is_never_a_live_link_image_or_html(world, client_for):
    from webapp.review import services
    from webapp.studio.models import Dataset, Experiment

    Dataset.objects.filter(pk=world["dataset"].pk).update(
        class_names=["![px](https://evil.example/p.png)", "<img src=x onerror=alert(1)>", "www.evil.example", "a@evil.example"])
    Experiment.objects.filter(pk=world["experiment"].pk).update(name="[click](javascript:alert(1))")
    subject = services.subject_for_candidate(world["child"])
    services.change_status(subject, world["bob"], "request", "see [here](http://evil.example) and <script>x</script>")
    card = client_for(world["dave"]).get(f"/models/candidate/{world['child'].pk}/export/card/").content.decode()
    body = card.split("\n---\n", 1)[1]  # the Markdown after the YAML header
    assert not re.search(r"(?<!\\)\]\(", body), body  # no link or image: every "](" has its bracket escaped
    for live in ("![", "<img", "<script", "http://", "https://", "javascript:", "www.evil", "a@evil"):
        assert live not in body, (live, body)
    assert "\\[here\\](http\\://evil.example)" in body  # still readable, as written
