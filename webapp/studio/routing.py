from django.urls import path

from .consumers import ExperimentConsumer
from .job_sockets import JobConsumer

websocket_urlpatterns = [
    path("ws/experiments/<int:experiment_id>/", ExperimentConsumer.as_asgi()),
    path("ws/jobs/<str:kind>/<int:job_id>/", JobConsumer.as_asgi()),
]
