"""The team API's paths (included under /api/ by webapp/urls.py)."""
from django.urls import path

from . import api

urlpatterns = [
    path("teams/<int:pk>/members/", api.MembersView.as_view(), name="members"),
    path("teams/<int:pk>/members/<int:user>/", api.MemberView.as_view(), name="member"),
    path("teams/<int:pk>/invitations/", api.InvitationsView.as_view(), name="invitations"),
    path("teams/<int:pk>/invitations/<int:invitation>/", api.InvitationView.as_view(), name="invitation"),
]
