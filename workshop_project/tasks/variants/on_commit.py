"""Fix 4: enqueue from ``transaction.on_commit``.

Django runs the callback after the request's transaction commits, and never
if it rolls back. The row is always there when the worker looks, and a
request that fails enqueues nothing. ``functools.partial`` binds ``task.id``
now; a lambda would read it later (see lesson 05 for why that matters in a
loop).
"""

from functools import partial

from django.db import transaction

from ..jobs import get_url_length
from ..models import Task
from ..views import TaskFormView


class View(TaskFormView):
    source = __file__

    def form_valid(self, form):
        task = Task.objects.create(url=form.cleaned_data["url"])
        transaction.on_commit(partial(get_url_length.delay, task.id))
        self.rest_of_request(form)  # the job waits for the commit
        return self.started(task=task)
