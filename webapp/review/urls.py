from django.urls import path

from . import views

urlpatterns = [
    path("teams/", views.teams, name="teams"),
    path("teams/<int:pk>/", views.team_detail, name="team-detail"),
    path("join/<str:token>/", views.invitation, name="invitation"),
]
