"""Page forms of the team page and the invitation sign-up."""
from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm

from .accounts import confusable_with, normalize_username
from .invitations import MAX_INVITATION_DAYS
from .models import Membership


class InvitationForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)
    days = forms.IntegerField(min_value=1, max_value=MAX_INVITATION_DAYS, initial=7, label="Valid for (days)")
    note = forms.CharField(max_length=200, required=False, help_text="Who it is for (a reminder for you)")


class RoleForm(forms.Form):
    membership = forms.IntegerField(min_value=1, max_value=2**62)
    role = forms.ChoiceField(choices=Membership.Role.choices)


class MemberForm(forms.Form):
    membership = forms.IntegerField(min_value=1, max_value=2**62)


class RevokeForm(forms.Form):
    invitation = forms.IntegerField(min_value=1, max_value=2**62)


class SignUpForm(UserCreationForm):
    """Username and password (Django's validators), for someone joining through an invitation.

    The username is NFKC-normalised and refused when it could pass for an existing one (accounts.skeleton)."""

    def clean_username(self):
        username = normalize_username(self.cleaned_data.get("username", ""))
        if confusable_with(username):
            raise forms.ValidationError("That username is taken, or looks too much like one that is: choose another.")
        return username
