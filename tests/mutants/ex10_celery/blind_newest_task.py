# WRONG: check_view reads the newest Task instead of the one in the response's X-Task-Id header: another task's result (an earlier safe run's) passes it.
# BLIND: written from the docstring and lesson 13 only
"""Exercise 10: the article's view on Celery, made safe, and the test that proves it.  (Lesson: 13_every_queue)

Two things to write, both in this file.

1. ``View.form_valid`` sends ``measure_task`` with ``.delay()`` inside the
   request's transaction, then ``hold``s the transaction open until Celery's
   worker has run it: the worker misses the row every time. Send the task when
   the transaction commits instead: exactly one ``measure_task`` for the
   task's own id, and nothing at all when the request fails (the form's fail
   box: ``self.rest_of_request`` raises and the transaction rolls back).

2. ``check_view(client, page, url)`` is your test. It posts the form to
   ``page`` with ``url`` (``client`` is Django's test client), and must raise
   ``AssertionError`` unless a **real Celery worker** found the task's row and
   measured it: result ``"OK"``. No mocks, no ``task_always_eager``: a worker
   with its own database connection, as in production. Leave no worker
   running when it returns.

The grader runs your view with a real Celery worker (on a thread, with its own
database connection): the task must be measured, once, for the right id, and a
failing request must send nothing. It runs your ``check_view`` on your view,
where it must pass, and on three broken views (the article's ``.delay()``, one
that never sends the task, one that sends it for another task's id), where it
must raise ``AssertionError``.

Try it live:  /exercises/ex10_celery/ on the web app, with the Celery worker running (`make up` starts it;
              `python manage.py workshop doctor` says where the web answers and whether the worker does)
Grade it:     pytest exercises/ex10_celery
"""

import time  # noqa: F401
from functools import partial  # noqa: F401

from celery.contrib.testing.worker import start_worker  # noqa: F401
from django.db import transaction  # noqa: F401

from workshop_project.celery import app as celery_app  # noqa: F401
from workshop_project.tasks.celery_jobs import measure_task, ping  # noqa: F401
from workshop_project.tasks.enqueue_ways import hold  # noqa: F401
from workshop_project.tasks.models import Task  # noqa: F401
from workshop_project.tasks.views import TaskFormView


class View(TaskFormView):
    source = __file__

    def form_valid(self, form):
        task = Task.objects.create(url=form.cleaned_data["url"])
        result = measure_task.delay_on_commit(task.id)  # sent when the transaction commits
        hold(result)  # None: nothing to wait for
        self.rest_of_request(form)
        return self.started(task=task)


def check_view(client, page, url):
    """Post the form to ``page``; raise AssertionError unless a real Celery worker measured the task."""
    with start_worker(celery_app, pool="solo", perform_ping_check=False):
        client.post(page, {"url": url})
        assert ping.delay().get(timeout=10) == "pong", "the worker did not answer the ping"
        task = Task.objects.exclude(result=None).order_by("-id").first()
        assert task is not None, "no task was measured"
        assert task.result == "OK", f"the newest task was not measured: {task.result!r}"
