"""The app's pages: one URL per variant, each task's row, the sample pages, and a health check."""

from importlib import import_module

from django.urls import path
from django.views.generic import RedirectView

from . import enqueue_ways, health, samples, views
from .variants import VARIANTS, celery

app_name = "tasks"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="tasks:broken"), name="home"),
    path("tasks/<int:pk>/row/", views.task_row, name="row"),
    path("jobs/<str:job_id>/row/", views.job_row, name="job_row"),
    path("samples/<int:size>/", samples.sample, name="sample"),
    path("healthz", health.health, name="health"),
    path("queues/<slug:way>/", enqueue_ways.enqueue_view, name="queue"),  # lesson 13: every queue, the same race
    path("variants/celery/", celery.View.as_view(), name="celery"),
] + [
    path(f"variants/{name}/", import_module(f".variants.{name}", __package__).View.as_view(), name=name)
    for name in VARIANTS
]
