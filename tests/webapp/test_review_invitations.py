"""Invitations: an owner's single-use, expiring link; a new user signs up through it, an existing
user joins; expired, reused, withdrawn and unknown links are refused; a link joins only its team."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

pytestmark = pytest.mark.django_db


def invite(client, team, role="member", days=7):
    response = client.post(f"/teams/{team.pk}/", {"action": "invite", "invite-role": role, "invite-days": days}, follow=True)
    assert response.status_code == 200
    link = re.search(r"https?://[^\s<]+/join/([^/\s<]+)/", response.content.decode())
    assert link, "the owner sees the link once"
    return link.group(1)


def test_new_user_signs_up_through_an_invitation_with_its_role(teams, client_for):
    from django.contrib.auth.models import User

    from webapp.review.models import AuditEntry
    from webapp.teams.models import Membership

    token = invite(client_for(teams["alice"]), teams["a"], role="viewer")
    visitor = client_for(None)
    page = visitor.get(f"/join/{token}/")
    assert page.status_code == 200 and "Join Team A" in page.content.decode()
    response = visitor.post(f"/join/{token}/", {"username": "erin", "password1": "erin-long-pass-42", "password2": "erin-long-pass-42"})
    assert response.status_code == 302
    erin = User.objects.get(username="erin")
    assert Membership.objects.get(user=erin).role == "viewer"
    assert Membership.objects.get(user=erin).team == teams["a"]
    assert visitor.get(f"/teams/{teams['a'].pk}/").status_code == 200  # signed in by the sign-up
    assert AuditEntry.objects.filter(team=teams["a"], action="member.joined").count() == 1


def test_a_link_works_once(teams, client_for):
    from webapp.teams.models import Membership

    token = invite(client_for(teams["alice"]), teams["a"])
    assert client_for(teams["charlie"]).post(f"/join/{token}/").status_code == 302
    assert Membership.objects.get(user=teams["charlie"], team=teams["a"]).role == "member"
    again = client_for(None).post(f"/join/{token}/", {"username": "mallory", "password1": "m-long-pass-42", "password2": "m-long-pass-42"})
    assert again.status_code == 410 and "already been used" in again.content.decode()
    from django.contrib.auth.models import User

    assert not User.objects.filter(username="mallory").exists()


def test_expired_and_withdrawn_links_are_refused(teams, client_for):
    from django.utils import timezone

    from webapp.teams import invitations
    from webapp.teams.models import Invitation, Membership

    expired, token = invitations.create_invitation(team=teams["a"], by=teams["alice"])
    Invitation.objects.filter(pk=expired.pk).update(expires=timezone.now() - timedelta(seconds=1))
    response = client_for(teams["charlie"]).post(f"/join/{token}/")
    assert response.status_code == 410 and "expired" in response.content.decode()
    withdrawn, token2 = invitations.create_invitation(team=teams["a"], by=teams["alice"])
    client_for(teams["alice"]).post(f"/teams/{teams['a'].pk}/", {"action": "revoke", "invitation": withdrawn.pk})
    assert client_for(teams["charlie"]).post(f"/join/{token2}/").status_code == 410
    assert not Membership.objects.filter(user=teams["charlie"], team=teams["a"]).exists()
    assert client_for(None).get("/join/not-a-real-token/").status_code == 404
    assert client_for(None).get("/join/" + "x" * 5000 + "/").status_code == 404


def test_a_link_joins_only_its_own_team(teams, client_for):
    """charlie's link for team B gives bob team B, never more of team A; alice cannot invite to team B."""
    from webapp.teams.models import Membership

    token = invite(client_for(teams["charlie"]), teams["b"], role="viewer")
    assert client_for(teams["bob"]).post(f"/join/{token}/").status_code == 302
    assert Membership.objects.get(user=teams["bob"], team=teams["b"]).role == "viewer"
    assert Membership.objects.get(user=teams["bob"], team=teams["a"]).role == "member"  # unchanged
    assert client_for(teams["alice"]).post(f"/teams/{teams['b'].pk}/", {"action": "invite", "invite-role": "owner",
                                                                         "invite-days": 7}).status_code == 404
    # A member already in the team cannot spend a link on it.
    token_a = invite(client_for(teams["alice"]), teams["a"])
    response = client_for(teams["bob"]).post(f"/join/{token_a}/")
    assert response.status_code == 400 and "already in Team A" in response.content.decode()


def test_owners_change_roles_and_keep_one_owner(teams, client_for):
    from webapp.teams.models import Membership

    alice = client_for(teams["alice"])
    bob_membership = Membership.objects.get(user=teams["bob"], team=teams["a"])
    assert alice.post(f"/teams/{teams['a'].pk}/", {"action": "role", "membership": bob_membership.pk, "role": "viewer"}).status_code == 302
    assert Membership.objects.get(pk=bob_membership.pk).role == "viewer"
    own = Membership.objects.get(user=teams["alice"], team=teams["a"])
    response = alice.post(f"/teams/{teams['a'].pk}/", {"action": "role", "membership": own.pk, "role": "member"})
    assert response.status_code == 400 and "at least one owner" in response.content.decode()
    assert alice.post(f"/teams/{teams['a'].pk}/", {"action": "remove", "membership": bob_membership.pk}).status_code == 302
    assert not Membership.objects.filter(pk=bob_membership.pk).exists()
    # A membership of another team is not found through this team's page.
    other = Membership.objects.get(user=teams["charlie"])
    assert alice.post(f"/teams/{teams['a'].pk}/", {"action": "remove", "membership": other.pk}).status_code == 404
    bad = alice.post(f"/teams/{teams['a'].pk}/", {"action": "role", "membership": "9" * 40, "role": "owner"})
    assert bad.status_code == 400
