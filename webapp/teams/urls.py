"""The team pages (included at the site's root by webapp/urls.py)."""
from django.urls import path

from . import views

urlpatterns = [
    path("teams/", views.teams, name="teams"),
    path("teams/<int:pk>/", views.team_detail, name="team-detail"),
    path("join/<str:token>/", views.invitation, name="invitation"),
]
