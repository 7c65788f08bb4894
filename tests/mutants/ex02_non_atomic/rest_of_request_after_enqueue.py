# WRONG: rest_of_request runs after the enqueue: a failing request leaves a row and a job.
"""Exercise 02, solved: the view manages its own transaction and enqueues after it.

Django no longer wraps this request in a transaction; the block below is
the transaction. Everything that must succeed or fail with the row is in
it, so a failure rolls the row back before anything was enqueued; the job
is enqueued after the block, when the row is committed and visible to the
worker.
"""

from django.db import transaction
from django.utils.decorators import method_decorator

from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Task
from workshop_project.tasks.views import TaskFormView


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class View(TaskFormView):
    source = __file__

    def form_valid(self, form):
        with transaction.atomic():
            task = Task.objects.create(url=form.cleaned_data["url"])
        job = get_url_length.delay(task.id)
        self.rest_of_request(form)
        return self.started(task=task, job=job)
