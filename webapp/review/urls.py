from django.urls import path

from . import ensemble_pages, evaluation_pages, exports, pages

urlpatterns = [
    path("teams/<int:pk>/activity/", pages.activity_page, name="activity"),
    path("leaderboard/", pages.leaderboard_page, name="leaderboard-page"),
    path("leaderboard/pareto/", pages.pareto_page, name="pareto-page"),
    path("leaderboard/export.csv", pages.leaderboard_csv, name="leaderboard-csv"),
    path("models/<str:kind>/<int:pk>/", pages.model_page, name="model-page"),
    path("models/<str:kind>/<int:pk>/export/<str:what>/", exports.export_view, name="model-export"),
    path("models/<str:kind>/<int:pk>/exports/", exports.export_job_page, name="model-export-job"),
    path("exports/<int:pk>/download/", exports.export_download, name="export-download"),
    path("exports/<int:pk>/retry/", exports.export_retry, name="export-retry"),
    path("evaluations/<int:pk>/", evaluation_pages.evaluation_page, name="evaluation-page"),
    path("evaluations/<int:pk>/report/", evaluation_pages.evaluation_report, name="evaluation-report"),
    path("evaluations/<int:pk>/retry/", evaluation_pages.evaluation_retry, name="evaluation-retry"),
    path("evaluations/<int:pk>/export/<str:what>/", evaluation_pages.evaluation_export, name="evaluation-export"),
    path("ensembles/<int:pk>/retry/", ensemble_pages.ensemble_retry, name="ensemble-retry"),
    path("lineage/<int:pk>/", pages.lineage_page, name="lineage-page"),
    path("diff/", pages.diff_page, name="diff-page"),
]
