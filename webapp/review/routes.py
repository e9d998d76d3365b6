"""The review API's paths (included under /api/ by webapp/urls.py)."""
from django.urls import path

from . import api

KIND = "<str:kind>/<int:pk>"

urlpatterns = [
    path("leaderboard/", api.LeaderboardView.as_view(), name="leaderboard"),
    path("leaderboard/pareto/", api.ParetoView.as_view(), name="pareto"),
    path(f"models/{KIND}/", api.SubjectView.as_view(), name="subject"),
    path(f"models/{KIND}/review/", api.ReviewActionView.as_view(), name="subject-review"),
    path(f"models/{KIND}/tags/", api.TagsView.as_view(), name="subject-tags"),
    path(f"models/{KIND}/tags/<str:name>/", api.TagView.as_view(), name="subject-tag"),
    path(f"models/{KIND}/pointers/", api.PointersView.as_view(), name="subject-pointers"),
    path(f"models/{KIND}/comments/", api.CommentsView.as_view(), name="subject-comments"),
    path(f"models/{KIND}/exports/", api.ExportsView.as_view(), name="subject-exports"),
    path("exports/<int:pk>/", api.ExportView.as_view(), name="export"),
    path("comments/<int:pk>/resolve/", api.ResolveView.as_view(), name="comment-resolve"),
    path("teams/<int:pk>/activity/", api.ActivityView.as_view(), name="team-activity"),
    path("ensembles/", api.EnsemblesView.as_view(), name="ensembles"),
    path("ensembles/<int:pk>/", api.EnsembleView.as_view(), name="ensemble"),
]
