"""The project's URLs: the app, the rq dashboard, the admin, and the learner's exercises."""

from django.contrib import admin
from django.urls import include, path

from . import exercise_registry
from .tasks.views import ExerciseIndexView

exercise_patterns = [path("", ExerciseIndexView.as_view(), name="index"), *exercise_registry.exercise_urls()]

urlpatterns = [
    path("", include("workshop_project.tasks.urls")),
    path("django-rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("exercises/", include((exercise_patterns, "exercises"))),
]
