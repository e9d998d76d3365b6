from django.urls import path

from . import views

urlpatterns = [
    path("architectures/", views.library, name="architecture-library"),
    path("architectures/editor/", views.editor, name="architecture-editor"),
    path("architectures/<int:pk>/", views.architecture_detail, name="architecture-detail"),
]
