"""The library's API routes, registered on the project's router (webapp/urls.py)."""
from . import api


def register(router) -> None:
    router.register("architectures", api.ArchitectureViewSet, basename="architecture")
    router.register("versions", api.VersionViewSet, basename="version")
    router.register("presets", api.PresetViewSet, basename="preset")
    router.register("families", api.FamilyViewSet, basename="family")
