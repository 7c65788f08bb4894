# WRONG: A savepoint (nested atomic) around create + delay: it commits nothing, the request's transaction is still open.
"""Exercise 04, solved: the job is enqueued by transaction.on_commit.

Django calls the callback after the outermost transaction commits, drops it
if the transaction rolls back, and calls it at once in autocommit mode.
``partial`` binds ``task.id`` now (a lambda would look it up later).
"""

from functools import partial

from django.db import transaction

from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Task
from workshop_project.tasks.views import TaskFormView


def start_task(url):
    with transaction.atomic():
        task = Task.objects.create(url=url)
    get_url_length.delay(task.id)
    return task


class View(TaskFormView):
    source = __file__

    def form_valid(self, form):
        task = start_task(form.cleaned_data["url"])
        self.rest_of_request(form)  # may fail: then the transaction rolls back, and no job is enqueued
        return self.started(task=task)
