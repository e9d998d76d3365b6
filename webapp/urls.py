from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from webapp.architectures import routes as architecture_routes
from webapp.architectures import views_jobs as architecture_job_views
from webapp.architectures.api import AnalyzeView
from webapp.studio import api
from webapp.studio import views as studio_views
from webapp.teams import accounts

class Router(DefaultRouter):
    include_format_suffixes = False  # no ".json" routes: the API answers JSON, and its custom actions take no format


router = Router()
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
    path("accounts/password/", accounts.PasswordChangeView.as_view(), name="password-change"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", studio_views.api_docs, name="api-docs"),
    path("favicon.ico", RedirectView.as_view(url=static("studio/favicon.svg"), permanent=True)),
    path("api/analyze/", AnalyzeView.as_view(), name="api-analyze"),
    path("api/workers/", api.WorkersView.as_view(), name="api-workers"),
    path("api/", include((router.urls + architecture_routes.paths, "api"))),
    path("experiments/<int:pk>/inject/", architecture_job_views.experiment_inject, name="experiment-inject"),
    path("api/", include(("webapp.teams.routes", "teams-api"))),
    path("api/", include(("webapp.review.routes", "review-api"))),
    path("", include("webapp.architectures.urls")),
    path("", include("webapp.teams.urls")),
    path("", include("webapp.review.urls")),
    path("", include("webapp.studio.urls")),
]


def _error_handlers():
    from django.views import defaults

    from webapp.apikit.errors import json_for_api

    views = {}
    for code, view in ((400, defaults.bad_request), (403, defaults.permission_denied), (404, defaults.page_not_found),
                       (500, defaults.server_error)):
        view.status_code = code
        views[code] = json_for_api(view)
    return views


_handlers = _error_handlers()
handler400, handler403, handler404, handler500 = (_handlers[c] for c in (400, 403, 404, 500))
