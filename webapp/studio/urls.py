from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("datasets/", views.datasets, name="datasets"),
    path("datasets/<int:pk>/", views.dataset_detail, name="dataset-detail"),
    path("datasets/<int:pk>/rename/", views.dataset_rename, name="dataset-rename"),
    path("datasets/<int:pk>/delete/", views.dataset_delete, name="dataset-delete"),
    path("experiments/new/", views.experiment_new, name="experiment-new"),
    path("experiments/export.csv", views.experiments_csv, name="experiments-csv"),
    path("experiments/compare/", views.experiment_compare, name="experiment-compare"),
    path("experiments/compare.csv", views.experiment_compare_csv, name="experiment-compare-csv"),
    path("experiments/<int:pk>/candidates.csv", views.experiment_candidates_csv, name="experiment-candidates-csv"),
    path("experiments/<int:pk>/rename/", views.experiment_rename, name="experiment-rename"),
    path("experiments/<int:pk>/delete/", views.experiment_delete, name="experiment-delete"),
    path("experiments/<int:pk>/", views.experiment_detail, name="experiment-detail"),
    path("experiments/<int:pk>/<str:action>/", views.experiment_action, name="experiment-action"),
    path("candidates/<int:pk>/", views.candidate_detail, name="candidate-detail"),
    path("workers/", views.workers_page, name="workers"),
]
