"""The project's URLs: the app, the rq dashboard, the admin, and the learner's exercises."""

from django.contrib import admin
from django.urls import include, path

from . import exercise_registry

urlpatterns = [
    path("", include("workshop_project.tasks.urls")),
    path("django-rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("exercises/", include(exercise_registry.exercise_urls())),
]
