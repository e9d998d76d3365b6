from django.urls import path

from . import views

urlpatterns = [
    path("architectures/", views.library, name="architecture-library"),
    path("architectures/editor/", views.editor, name="architecture-editor"),
    path("architectures/<int:pk>/", views.architecture_detail, name="architecture-detail"),
    path("architectures/<int:pk>/rename/", views.architecture_rename, name="architecture-rename"),
    path("architectures/<int:pk>/delete/", views.architecture_delete, name="architecture-delete"),
    path("architectures/<int:pk>/versions/<int:number>/message/", views.version_message, name="version-message"),
]
