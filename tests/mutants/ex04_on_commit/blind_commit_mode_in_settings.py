# WRONG: Changes django-rq's COMMIT_MODE in the settings at import instead of using on_commit: every queue of the
# WRONG: process now defers its enqueues (a global side effect the rest of the workshop relies on not having).
# BLIND: written by helper rt1 from the docstring and lesson only, before reading the grader.
"""Exercise 04: enqueue from transaction.on_commit.  (Lesson: 05_fix_on_commit)

``start_task(url)`` creates a task and enqueues its job; the view calls it
inside the request's transaction. As written, the job is in Redis before the
transaction commits. Make ``start_task`` enqueue the job when the
transaction commits instead: never if it rolls back, and at once when there
is no transaction at all.

The grader checks, under the race amplifier (a worker that runs each job the
instant it is enqueued), that the job finds its row; that a request failing
after the create enqueues nothing; that ``start_task`` enqueues at the
commit inside a transaction and at once outside one; and that a task
created in a savepoint that rolls back gets no job.

Try it live:  http://127.0.0.1:8000/exercises/ex04_on_commit/
Grade it:     pytest exercises/ex04_on_commit
"""

from functools import partial

from django.conf import settings
from django.db import transaction

from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Task
from workshop_project.tasks.views import TaskFormView

settings.RQ["COMMIT_MODE"] = "on_db_commit"  # django-rq 4 waits for the commit itself


def start_task(url):
    task = Task.objects.create(url=url)
    get_url_length.delay(task.id)
    return task


class View(TaskFormView):
    source = __file__

    def form_valid(self, form):
        task = start_task(form.cleaned_data["url"])
        self.rest_of_request(form)  # may fail: then the transaction rolls back
        return self.started(task=task)
