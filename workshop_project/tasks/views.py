"""The home page every variant shares: the form, the task list, and the helpers
a variant's ``form_valid`` calls so that its own module shows only what differs.
"""

import time
from pathlib import Path

from django.conf import settings
from django.shortcuts import redirect
from django.views.generic.edit import FormView

from .forms import TaskForm
from .models import Task


class SimulatedFailure(Exception):
    """Raised when the form asks the request to fail after it enqueued its job."""


class TaskFormView(FormView):
    """The article's ``TasksHomeFormView``: a form that starts a task, and the task list."""

    form_class = TaskForm
    template_name = "tasks/home.html"
    #: The file a learner should read for this page (each variant sets ``__file__``).
    source = None

    def get_success_url(self):
        return self.request.path

    def get_context_data(self, **kwargs):
        from .urls import VARIANTS  # the list of pages to link to

        context = super().get_context_data(**kwargs)
        context.update(
            tasks=Task.objects.all()[:30],
            variants=VARIANTS,
            current=self.request.resolver_match.url_name,
            source=Path(self.source).resolve().relative_to(settings.BASE_DIR) if self.source else "",
        )
        return context

    def rest_of_request(self, form):
        """Whatever the view still does after enqueueing, made visible.

        It sleeps ``hold_ms`` (the article's ``time.sleep(1)``: with
        ATOMIC_REQUESTS the transaction stays open all that time), then fails
        if the form asked it to, so the request's transaction rolls back.
        """
        hold_ms = form.cleaned_data.get("hold_ms") or 0
        if hold_ms:
            time.sleep(hold_ms / 1000)
        if form.cleaned_data.get("fail"):
            raise SimulatedFailure("this request was asked to fail after it enqueued its job")

    def started(self, task=None, job=None):
        """Redirect back to the page; the headers tell the lab which task and job to watch."""
        response = redirect(self.get_success_url())
        if task is not None:
            response["X-Task-Id"] = str(task.pk)
        if job is not None:
            response["X-Job-Id"] = job.id
        return response
