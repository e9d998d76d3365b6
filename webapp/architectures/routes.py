"""The library's API routes: viewsets registered on the project's router, and paths beside them
(both under /api/ in the "api" namespace, webapp/urls.py)."""
from django.urls import path

from . import api, jobs_api


def register(router) -> None:
    router.register("architectures", api.ArchitectureViewSet, basename="architecture")
    router.register("versions", api.VersionViewSet, basename="version")
    router.register("presets", api.PresetViewSet, basename="preset")
    router.register("families", api.FamilyViewSet, basename="family")
    router.register("evaluations", jobs_api.EvaluationViewSet, basename="evaluation")


# A running search's new candidate from a saved version: the search is the studio's, the version the library's.
paths = [
    path("experiments/<int:pk>/inject/", jobs_api.InjectView.as_view(), name="experiment-inject"),
]
