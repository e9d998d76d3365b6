from django.urls import path

from .consumers import TeamActivityConsumer

websocket_urlpatterns = [
    path("ws/teams/<int:team_id>/", TeamActivityConsumer.as_asgi()),
]
