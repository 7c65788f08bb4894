"""The app's pages: one URL per variant, the sample pages, and a health check."""

from importlib import import_module

from django.urls import path
from django.views.generic import RedirectView

from . import health, samples

#: Every variant, in the order the lessons meet them.
VARIANTS = ["broken", "autocommit", "non_atomic", "in_job", "on_commit", "modern_default"]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="broken"), name="home"),
    path("samples/<int:size>/", samples.sample, name="sample"),
    path("healthz", health.health, name="health"),
] + [
    path(f"variants/{name}/", import_module(f".variants.{name}", __package__).View.as_view(), name=name)
    for name in VARIANTS
]
