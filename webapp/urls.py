from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from webapp.architectures import routes as architecture_routes
from webapp.architectures.api import AnalyzeView
from webapp.studio import api

router = DefaultRouter()
router.register("teams", api.TeamViewSet, basename="team")
router.register("datasets", api.DatasetViewSet, basename="dataset")
router.register("experiments", api.ExperimentViewSet, basename="experiment")
router.register("candidates", api.CandidateViewSet, basename="candidate")
router.register("events", api.EventViewSet, basename="event")
architecture_routes.register(router)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/analyze/", AnalyzeView.as_view(), name="api-analyze"),
    path("api/", include((router.urls, "api"))),
    path("", include("webapp.architectures.urls")),
    path("", include("webapp.studio.urls")),
]
